package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
	"github.com/rosetta-cdc/rosetta/views/components"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// setupPipeline registers src as a source, a destination, and a pipeline between them.
func setupPipeline(t *testing.T, a *webtest.App, src testdb.Source) (pipelineID, sourceID float64) {
	t.Helper()
	s := a.Do("POST", "/api/v1/sources", sourceFor("src-"+src.Database, src)).Expect(t, 201).Map(t)
	d := a.Do("POST", "/api/v1/destinations", startableDestBody("dst-"+src.Database)).Expect(t, 201).Map(t)
	p := a.Do("POST", "/api/v1/pipelines", map[string]any{"name": "pipe-" + src.Database, "source_id": s["id"], "destination_id": d["id"]}).
		Expect(t, 201).Map(t)
	return p["id"].(float64), s["id"].(float64)
}

func metadata(p map[string]any) map[string]any { return p["metadata"].(map[string]any) }

func TestPipelineLifecycleAgainstARealSource(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	src := testdb.NewSource(t, testdb.SourceOptions{})
	id, sid := setupPipeline(t, a, src)
	path := fmt.Sprintf("/api/v1/pipelines/%v", id)

	p := a.Do("GET", path, nil).Expect(t, 200).Map(t)
	if p["status"] != "PAUSE" || metadata(p)["status"] != "PAUSED" {
		t.Fatalf("new pipeline: %v", p)
	}
	if p["source"].(map[string]any)["id"] != sid || p["destination"].(map[string]any)["name"] == "" {
		t.Errorf("summaries: %v", p)
	}

	r := a.Do("POST", path+"/start", nil).Expect(t, 200).Map(t)
	pl := r["pipeline"].(map[string]any)
	if pl["status"] != "START" || metadata(pl)["status"] != "RUNNING" || metadata(pl)["last_start_at"] == nil || r["changed"] != true {
		t.Fatalf("after start: %v", r)
	}
	if len(r["preflight"].([]any)) < 4 {
		t.Errorf("preflight checks missing: %v", r["preflight"])
	}
	// starting a running pipeline is a no-op, not an error
	r = a.Do("POST", path+"/start", nil).Expect(t, 200).Map(t)
	if r["changed"] != false || metadata(r["pipeline"].(map[string]any))["status"] != "RUNNING" {
		t.Errorf("second start: %v", r)
	}
	// a running pipeline cannot be deleted or re-pointed
	expectProblem(t, a.Do("DELETE", path, nil), http.StatusConflict)
	d2 := a.Do("POST", "/api/v1/destinations", destBody("other")).Expect(t, 201).Map(t)
	expectProblem(t, a.Do("PUT", path, map[string]any{"destination_id": d2["id"]}), http.StatusConflict)

	r = a.Do("POST", path+"/refresh", nil).Expect(t, 200).Map(t)
	if pl := r["pipeline"].(map[string]any); pl["status"] != "REFRESH" || metadata(pl)["status"] != "RUNNING" {
		t.Errorf("after refresh: %v", r)
	}
	expectProblem(t, a.Do("POST", path+"/refresh", nil), http.StatusConflict)

	r = a.Do("POST", path+"/pause", nil).Expect(t, 200).Map(t)
	if pl := r["pipeline"].(map[string]any); pl["status"] != "PAUSE" || metadata(pl)["status"] != "PAUSED" {
		t.Errorf("after pause: %v", r)
	}
	// the source is in use: refused, naming the pipeline
	pr := expectProblem(t, a.Do("DELETE", fmt.Sprintf("/api/v1/sources/%v", sid), nil), http.StatusConflict)
	if !strings.Contains(pr.Detail, "pipe-"+src.Database) || len(pr.Related) != 1 || pr.Related[0].Kind != "pipeline" {
		t.Errorf("in-use problem: %+v", pr)
	}
	a.Do("PUT", path, map[string]any{"name": "renamed", "destination_id": d2["id"]}).Expect(t, 200)
	a.Do("DELETE", path, nil).Expect(t, http.StatusNoContent)
	a.Do("DELETE", fmt.Sprintf("/api/v1/sources/%v", sid), nil).Expect(t, http.StatusNoContent)
}

func TestStartWithFailingPreflightRecordsTheError(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	src := testdb.NewSource(t, testdb.SourceOptions{NoPublication: true})
	id, _ := setupPipeline(t, a, src)
	r := a.Do("POST", fmt.Sprintf("/api/v1/pipelines/%v/start", id), nil).Expect(t, 200).Map(t)
	pl := r["pipeline"].(map[string]any)
	md := metadata(pl)
	if pl["status"] != "START" || md["status"] != "ERROR" || md["last_error_at"] == nil {
		t.Fatalf("after failed start: %v", pl)
	}
	if le, _ := md["last_error"].(string); !strings.Contains(le, "publication") {
		t.Errorf("last_error %q does not name the failed check", le)
	}
	// the error shows up in the filtered list
	l := a.Do("GET", "/api/v1/pipelines?runtime_status=ERROR", nil).Expect(t, 200).Map(t)
	if l["total"] != float64(1) {
		t.Errorf("ERROR filter: %v", l)
	}
	expectProblem(t, a.Do("GET", "/api/v1/pipelines?status=BOGUS", nil), http.StatusUnprocessableEntity)
}

func TestPipelineValidation(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	p := expectProblem(t, a.Do("POST", "/api/v1/pipelines", map[string]any{"name": "", "source_id": 424242, "destination_id": 0}),
		http.StatusUnprocessableEntity)
	f := fieldsOf(p)
	if f["name"] == "" || !strings.Contains(f["source_id"], "424242") || f["destination_id"] == "" {
		t.Errorf("errors: %v", f)
	}
	expectProblem(t, a.Do("POST", "/api/v1/pipelines/77/start", nil), http.StatusNotFound)
}

// TestConcurrentStartPauseLeavesStatusAndMetadataAgreeing fires starts and pauses at one
// pipeline at once. Status and metadata are written in one transaction, so they agree
// whatever the locking; what the row lock (FOR UPDATE) and the re-check under it add is
// that every transition is decided on the state it really changes: the audited
// transitions form one chain, each starting where the previous one ended, and none is
// a no-op recorded as a change. Without the lock, two calls read the same state and
// both record leaving it; without the re-check, a start that lost the race records
// START → START.
func TestConcurrentStartPauseLeavesStatusAndMetadataAgreeing(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	src := testdb.NewSource(t, testdb.SourceOptions{})
	id, _ := setupPipeline(t, a, src)
	// Workers alternate start and pause, half of them out of step, so the calls keep
	// overtaking each other: a start spends its preflight outside the transaction.
	const workers, rounds = 8, 8
	var wg sync.WaitGroup
	errs := make(chan string, workers*rounds)
	var changed atomic.Int64
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range rounds {
				action := "start"
				if (w+k)%2 == 1 {
					action = "pause"
				}
				r := a.Do("POST", fmt.Sprintf("/api/v1/pipelines/%v/%s", id, action), nil)
				if r.Code != 200 {
					errs <- fmt.Sprintf("%s: %d %s", action, r.Code, r.Body)
					continue
				}
				if r.Map(t)["changed"] == true {
					changed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	ctx := context.Background()
	var desired, runtime string
	err := a.DB.Pool.QueryRow(ctx,
		`SELECT p.status, m.status FROM pipelines p JOIN pipeline_metadata m ON m.pipeline_id = p.id WHERE p.id = $1`, int64(id)).Scan(&desired, &runtime)
	if err != nil {
		t.Fatal(err)
	}
	if !(desired == "START" && runtime == "RUNNING") && !(desired == "PAUSE" && runtime == "PAUSED") {
		t.Fatalf("status %s with runtime %s disagree", desired, runtime)
	}

	rows, err := a.DB.Pool.Query(ctx, `SELECT changes->'status'->>'from', changes->'status'->>'to' FROM audit_events
		WHERE entity_kind = 'pipeline' AND entity_id = $1 AND action IN ('start', 'pause') ORDER BY id`, int64(id))
	if err != nil {
		t.Fatal(err)
	}
	type step struct{ From, To string }
	steps, err := pgx.CollectRows(rows, pgx.RowToStructByPos[step])
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(steps)) != changed.Load() || len(steps) < 2 {
		t.Errorf("%d audited transitions for %d answers saying changed", len(steps), changed.Load())
	}
	at := "PAUSE" // a new pipeline
	for i, s := range steps {
		if s.From != at || s.From == s.To {
			t.Errorf("transition %d: %s → %s, but the pipeline was %s: decided on a stale state", i, s.From, s.To, at)
		}
		at = s.To
	}
	if at != desired {
		t.Errorf("the audited transitions end at %s, the pipeline is %s", at, desired)
	}
}

func TestSourceTestEndpoint(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)

	good := testdb.NewSource(t, testdb.SourceOptions{CreateSlot: true})
	s := a.Do("POST", "/api/v1/sources", sourceFor("good", good)).Expect(t, 201).Map(t)
	r := a.Do("POST", fmt.Sprintf("/api/v1/sources/%v/test", s["id"]), nil).Expect(t, 200).Map(t)
	if r["ok"] != true {
		t.Fatalf("good source: %v", r)
	}
	for _, c := range r["checks"].([]any) {
		if c.(map[string]any)["status"] != "ok" {
			t.Errorf("check not ok on a fully configured source: %v", c)
		}
	}

	bad := good
	bad.Password = "wrong-password"
	s = a.Do("POST", "/api/v1/sources", sourceFor("wrong-pw", bad)).Expect(t, 201).Map(t)
	r = a.Do("POST", fmt.Sprintf("/api/v1/sources/%v/test", s["id"]), nil).Expect(t, 200).Map(t)
	checks := r["checks"].([]any)
	first := checks[0].(map[string]any)
	if r["ok"] != false || first["status"] != "fail" || !strings.Contains(strings.ToLower(first["message"].(string)), "authentication") {
		t.Errorf("wrong password: %v", r)
	}

	closed := good
	closed.Port = freePort(t)
	s = a.Do("POST", "/api/v1/sources", sourceFor("closed", closed)).Expect(t, 201).Map(t)
	r = a.Do("POST", fmt.Sprintf("/api/v1/sources/%v/test", s["id"]), nil).Expect(t, 200).Map(t)
	if r["ok"] != false || r["checks"].([]any)[0].(map[string]any)["status"] != "fail" {
		t.Errorf("closed port: %v", r)
	}
	expectProblem(t, a.Do("POST", "/api/v1/sources/987654/test", nil), http.StatusNotFound)
}

// Every list answers whether its total is exact, and the OpenAPI document describes it
// for every paged schema, with the cap the catalog applies.
func TestAPIListTotalIsEstimate(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	for _, path := range []string{"/api/v1/pipelines", "/api/v1/sources", "/api/v1/destinations", "/api/v1/audit"} {
		l := a.Do("GET", path+"?limit=1", nil).Expect(t, 200).Map(t)
		if v, ok := l["total_is_estimate"]; !ok || v != false {
			t.Errorf("GET %s: total_is_estimate = %v (present %v), want false for a small list", path, v, ok)
		}
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Type        any    `json:"type"`
					Description string `json:"description"`
				} `json:"properties"`
				Required []string `json:"required"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(a.Do("GET", "/api/v1/openapi.json", nil).Expect(t, 200).Body, &doc); err != nil {
		t.Fatal(err)
	}
	cap := components.Count(catalog.DefaultExactTotalCap, false)
	pages := 0
	for name, s := range doc.Components.Schemas {
		if _, paged := s.Properties["items"]; !paged {
			continue
		}
		if _, ok := s.Properties["total"]; !ok {
			continue
		}
		pages++
		est, ok := s.Properties["total_is_estimate"]
		if !ok || est.Type != "boolean" || !slices.Contains(s.Required, "total_is_estimate") {
			t.Errorf("schema %s: total_is_estimate missing, not boolean or not required: %+v", name, est)
		}
		if d := s.Properties["total"].Description; !strings.Contains(d, cap) || !strings.Contains(est.Description, cap) {
			t.Errorf("schema %s: total and total_is_estimate should name the cap %s: %q / %q", name, cap, d, est.Description)
		}
	}
	if pages < 4 {
		t.Errorf("found %d paged schemas in the OpenAPI document, want at least 4", pages)
	}
}
