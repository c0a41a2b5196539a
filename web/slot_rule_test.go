package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/pgsource"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// A logical slot feeds one consumer: the second start on a slot is refused, naming the
// pipeline that holds it, whichever source row names the slot.
func TestAPIOneSlotOneConsumer(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	src := testdb.NewSource(t, testdb.SourceOptions{})
	s1 := a.Do("POST", "/api/v1/sources", sourceFor("orders", src)).Expect(t, http.StatusCreated).Map(t)
	if w, ok := s1["warnings"]; ok {
		t.Errorf("the first source on a slot is warned about: %v", w)
	}
	// the same host, port, database and slot under another name: saved, with a warning
	// naming the first
	s2 := a.Do("POST", "/api/v1/sources", sourceFor("orders-again", src)).Expect(t, http.StatusCreated).Map(t)
	ws, _ := s2["warnings"].([]any)
	if len(ws) != 1 {
		t.Fatalf("warnings %v, want one", s2["warnings"])
	}
	w := ws[0].(map[string]any)
	rel, _ := w["related"].([]any)
	if w["code"] != catalog.WarningSharedSlot || !strings.Contains(w["message"].(string), `"orders"`) || len(rel) != 1 ||
		rel[0].(map[string]any)["id"] != s1["id"] {
		t.Errorf("shared-slot warning %v", w)
	}
	// an edit that keeps the shared slot warns again; one that leaves it does not
	patched := a.Do("PATCH", fmt.Sprintf("/api/v1/sources/%v", s2["id"]), map[string]any{"name": "orders-2"}).Expect(t, 200).Map(t)
	if ws, _ := patched["warnings"].([]any); len(ws) != 1 {
		t.Errorf("edit keeping the shared slot: warnings %v", patched["warnings"])
	}
	d := a.Do("POST", "/api/v1/destinations", startableDestBody("dw")).Expect(t, http.StatusCreated).Map(t)
	mk := func(name string, sid any) string {
		p := a.Do("POST", "/api/v1/pipelines", map[string]any{"name": name, "source_id": sid, "destination_id": d["id"]}).
			Expect(t, http.StatusCreated).Map(t)
		return fmt.Sprintf("/api/v1/pipelines/%v", p["id"])
	}
	first, second, sameSource := mk("first", s1["id"]), mk("second", s2["id"]), mk("same-source", s1["id"])
	a.Do("POST", first+"/start", nil).Expect(t, 200)

	for _, path := range []string{second + "/start", second + "/refresh", sameSource + "/start"} {
		pr := expectProblem(t, a.Do("POST", path, nil), http.StatusConflict)
		if !strings.Contains(pr.Detail, `pipeline "first"`) || len(pr.Related) != 1 || pr.Related[0].Name != "first" ||
			fmt.Sprint(pr.Related[0].ID) != strings.TrimPrefix(first, "/api/v1/pipelines/") {
			t.Errorf("%s: problem %+v does not name the holder", path, pr)
		}
	}
	// nothing changed on the refused one
	if p := a.Do("GET", second, nil).Expect(t, 200).Map(t); p["status"] != "PAUSE" || metadata(p)["status"] != "PAUSED" {
		t.Errorf("refused start changed the pipeline: %v", p)
	}
	// refreshing the holder itself is not a second consumer
	a.Do("POST", first+"/refresh", nil).Expect(t, 200)
	// once the holder pauses, the slot is free
	a.Do("POST", first+"/pause", nil).Expect(t, 200)
	a.Do("POST", second+"/start", nil).Expect(t, 200)
	expectProblem(t, a.Do("POST", first+"/start", nil), http.StatusConflict)
}

// A pipeline in ERROR whose desired status is still START keeps its slot: the monitor
// would resume it when the source heals.
func TestErrorPipelineAskedToStartHoldsTheSlot(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	ctx := context.Background()
	src := mkSource(t, a, "unreachable") // db.internal: the preflight fails
	dst := mkDestination(t, a, "dw")
	p1 := mkPipeline(t, a, "p1", src.ID, dst.ID)
	p2 := mkPipeline(t, a, "p2", src.ID, dst.ID)
	res, err := a.Catalog.Start(ctx, p1.ID)
	if err != nil || res.Pipeline.Metadata.Status != catalog.RuntimeError || res.Pipeline.Status != catalog.DesiredStart {
		t.Fatalf("failed start: %+v %v", res.Pipeline, err)
	}
	if _, err := a.Catalog.Start(ctx, p2.ID); apperr.CodeOf(err) != apperr.Conflict || !strings.Contains(err.Error(), `"p1"`) {
		t.Fatalf("second start while p1 is START/ERROR: %v", err)
	}
	// and an ERROR pipeline asked to run cannot carry its claim onto a taken slot
	other := mkSource(t, a, "same-slot-elsewhere")
	p3 := mkPipeline(t, a, "p3", other.ID, dst.ID)
	if _, err := a.Catalog.Pause(ctx, p1.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Catalog.Start(ctx, p3.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Catalog.Start(ctx, p2.ID); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("start while p3 holds the slot: %v", err)
	}
}

// Two pipelines on one source started at the same moment, many times over: exactly one
// ends up holding the slot. The check and the status change are serialised on the
// slot's lock, so neither can miss the other's commit.
func TestConcurrentStartsOnOneSlotExactlyOneWins(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	ctx := context.Background()
	src := mkRealSource(t, a, "orders", testdb.NewSource(t, testdb.SourceOptions{}))
	dst := mkDestination(t, a, "dw")
	const rounds = 5
	for round := range rounds {
		var ids []int64
		for i := range 4 {
			ids = append(ids, mkPipeline(t, a, fmt.Sprintf("r%d-p%d", round, i), src.ID, dst.ID).ID)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, len(ids))
		for i, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = a.Catalog.Start(ctx, id)
			}()
		}
		close(start)
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case apperr.CodeOf(err) != apperr.Conflict:
				t.Fatalf("round %d, pipeline %d: %v", round, i, err)
			}
		}
		holding := 0
		for _, id := range ids {
			p, err := a.Catalog.GetPipeline(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if catalog.HoldsSlot(p.Status) {
				holding++
				if _, err := a.Catalog.Pause(ctx, id); err != nil { // free it for the next round
					t.Fatal(err)
				}
			}
		}
		if won != 1 || holding != 1 {
			t.Fatalf("round %d: %d starts succeeded and %d pipelines hold the slot, want exactly 1", round, won, holding)
		}
	}
}

// The console says the same: the refused start's flash names and links the holder, in
// place (htmx) and after the redirect (no JavaScript); a source saved onto another's slot
// gets a warning naming that source.
func TestConsoleOneSlotOneConsumer(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	ctx := context.Background()
	real := testdb.NewSource(t, testdb.SourceOptions{})
	src := mkRealSource(t, a, "orders", real)
	dst := mkDestination(t, a, "dw")
	holder := mkPipeline(t, a, "holder", src.ID, dst.ID)
	other := mkPipeline(t, a, "other", src.ID, dst.ID)
	if _, err := a.Catalog.Start(ctx, holder.ID); err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/pipelines/%d", other.ID)
	holderLink := fmt.Sprintf(`a[href="/pipelines/%d"]`, holder.ID)

	r := post(a, path+"/start", nil, htmx, fmt.Sprintf("HX-Target: pipeline-%d", other.ID))
	frag := parseRows(t, r)
	fl := frag.Find("#flash .flash-error")
	if r.Code != http.StatusConflict || !strings.Contains(text(fl), `used by pipeline "holder"`) || text(fl.Find(holderLink)) != "holder" {
		t.Errorf("htmx refused start: %d, flash %q", r.Code, text(fl))
	}
	if row := frag.Find("tr"); row.AttrOr("data-status", "") != "PAUSED" {
		t.Errorf("the refused row shows %q", row.AttrOr("data-status", ""))
	}
	r = post(a, path+"/start", url.Values{"next": {path}})
	if got := redirectTo(t, r); got != path {
		t.Fatalf("refused start redirects to %q", got)
	}
	doc, _ := followFlash(t, a, r, path)
	if fl := doc.Find("#flash .flash-error"); text(fl.Find(holderLink)) != "holder" || !strings.Contains(text(fl), "pause that pipeline first") {
		t.Errorf("no-JS refused start flash %q", text(fl))
	}

	// a second source on the same slot: saved, then a warning naming (and linking) the first
	v := url.Values{"name": {"orders-twin"}, "pg_host": {real.Host}, "pg_port": {fmt.Sprint(real.Port)},
		"pg_database": {real.Database}, "pg_username": {real.User}, "pg_password": {real.Password},
		"publication_name": {real.Publication}, "replication_id": {real.Slot}, "tls_mode": {"prefer"}}
	r = post(a, "/sources", v)
	loc := r.Header.Get("Location")
	if r.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/sources/") {
		t.Fatalf("create: %d %q", r.Code, loc)
	}
	doc, _ = followFlash(t, a, r, loc)
	warn := doc.Find("#flash .flash-warning")
	if !strings.Contains(text(warn), `"orders"`) || warn.Find(fmt.Sprintf(`a[href="/sources/%d"]`, src.ID)).Length() != 1 {
		t.Errorf("shared-slot warning %q", text(warn))
	}
	// editing it (still on the slot) warns again
	v.Del("pg_password")
	r = post(a, loc, v)
	if doc, _ := followFlash(t, a, r, loc); !strings.Contains(text(doc.Find("#flash .flash-warning")), "one consumer") {
		t.Errorf("edit on a shared slot: flashes %q", texts(doc.Find("#flash [data-testid=flash]")))
	}
}

// Who creates slots is said once (pgsource.SlotCreation) and quoted everywhere it is
// told: the source form's help, the API's description of replication_id, the README.
func TestSlotCreationIsSaidOneWayEverywhere(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	doc, _ := get(t, a, "/sources/new", http.StatusOK)
	if help := text(doc.Find(`[data-testid="field-replication_id"] .field-help`)); !strings.Contains(help, pgsource.SlotCreation) {
		t.Errorf("form help %q", help)
	}
	spec := string(a.Do("GET", "/api/v1/openapi.json", nil).Expect(t, http.StatusOK).Body)
	if n := strings.Count(spec, pgsource.SlotCreation); n < 2 {
		t.Errorf("the OpenAPI document quotes the slot sentence %d times, want it on the input and the patch at least", n)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(strings.Fields(string(readme)), " "), pgsource.SlotCreation) {
		t.Error("README does not say who creates slots in the same words")
	}
	for _, old := range []string{"Created by the replication worker if missing", "Rosetta never creates slots or publications (", "the replication worker creates it when"} {
		if strings.Contains(spec+string(readme)+doc.Text(), old) {
			t.Errorf("an older wording survives: %q", old)
		}
	}
}
