package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// failPipeline puts a pipeline in ERROR as a failed start does (desired START, the
// failed check's sentence); monitor says the WAL monitor put it there instead.
func failPipeline(t *testing.T, a *webtest.App, id int64, msg string, detail *string, monitor bool) {
	t.Helper()
	ctx := context.Background()
	q := db.New(a.Pool)
	if err := q.SetPipelineStatus(ctx, db.SetPipelineStatusParams{ID: id, Status: catalog.DesiredStart}); err != nil {
		t.Fatal(err)
	}
	var err error
	if monitor {
		err = q.SetPipelineMonitorError(ctx, db.SetPipelineMonitorErrorParams{PipelineID: id, LastError: &msg, LastErrorDetail: detail})
	} else {
		err = q.SetPipelineError(ctx, db.SetPipelineErrorParams{PipelineID: id, LastError: &msg, LastErrorDetail: detail})
	}
	if err != nil {
		t.Fatal(err)
	}
}

func probeFails(t *testing.T, a *webtest.App, sourceID int64, msg string) {
	t.Helper()
	if err := db.New(a.Pool).RecordSourceProbeError(context.Background(), db.RecordSourceProbeErrorParams{ID: sourceID, LastProbeError: &msg}); err != nil {
		t.Fatal(err)
	}
}

type cause struct{ kind, entity, entityHref, count, countHref, fix, fixHref, message string }

func causesOf(doc *goquery.Document) []cause {
	var out []cause
	doc.Find(`[data-testid="dashboard-causes"] [data-testid="error-cause"]`).Each(func(_ int, li *goquery.Selection) {
		e, n, f := li.Find(`[data-testid="cause-entity"]`), li.Find(`[data-testid="cause-pipelines"]`), li.Find(`[data-testid="cause-fix"]`)
		msg := li.Find(".error-full")
		if msg.Length() == 0 {
			msg = li.Find(".error-text")
		}
		out = append(out, cause{kind: li.AttrOr("data-kind", ""), entity: text(e), entityHref: e.AttrOr("href", ""),
			count: text(n), countHref: n.Find("a").AttrOr("href", ""), fix: text(f), fixHref: f.AttrOr("href", ""), message: text(msg)})
	})
	return out
}

// TestConsoleDashboardGroupsErrorsByCause: ten pipelines broken by three causes read as
// three lines, each naming where it is fixed and linking there, the biggest first;
// probe failures join the same list; a viewer is sent to pages, not to edit forms, and
// never sees network detail; past the cap the page says how many causes are left.
func TestConsoleDashboardGroupsErrorsByCause(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	shop, billing, crm, ok := mkSource(t, a, "shop-replica"), mkSource(t, a, "billing"), mkSource(t, a, "crm"), mkSource(t, a, "orders")
	dst, fine := mkDestination(t, a, "analytics"), mkDestination(t, a, "finance")

	authMsg := `preflight check "connect" failed: password authentication failed for user "rosetta"`
	authDetail := `preflight check "connect" failed: password authentication failed for user "rosetta" at shop.db.internal:5432`
	for i := range 4 {
		p := mkPipeline(t, a, fmt.Sprintf("shop-%d", i), shop.ID, fine.ID)
		failPipeline(t, a, p.ID, authMsg, &authDetail, false)
	}
	// the same source failing another check is another cause
	pub := mkPipeline(t, a, "shop-pub", shop.ID, fine.ID)
	failPipeline(t, a, pub.ID, `preflight check "publication" failed: publication "rosetta_pub" does not exist`, nil, false)
	// the WAL monitor's errors are the probe's cause, told with the probe's own words
	probeFails(t, a, billing.ID, "could not connect: connection refused")
	for i := range 3 {
		p := mkPipeline(t, a, fmt.Sprintf("billing-%d", i), billing.ID, fine.ID)
		failPipeline(t, a, p.ID, `the WAL monitor could not probe source "billing" 3 times in a row: could not connect: connection refused`, nil, true)
	}
	// a destination's rejected sign-in is fixed on the destination, whatever the source
	for i := range 2 {
		p := mkPipeline(t, a, fmt.Sprintf("orders-%d", i), ok.ID, dst.ID)
		failPipeline(t, a, p.ID, `destination check "sign-in" failed: Snowflake rejected the key pair`, nil, false)
	}
	// a failing probe without a pipeline affected is still a cause
	probeFails(t, a, crm.ID, "dial tcp: lookup crm.db.internl: no such host")
	// healthy and paused pipelines are no cause
	mkPipeline(t, a, "orders-paused", ok.ID, fine.ID)

	doc, _ := get(t, a, "/", http.StatusOK)
	got := causesOf(doc)
	src := func(s catalog.Source) string { return fmt.Sprintf("/sources/%d", s.ID) }
	want := []cause{
		{catalog.CauseSource, "shop-replica", src(shop), "4 pipelines", "/pipelines?runtime_status=ERROR&source_id=" + fmt.Sprint(shop.ID),
			"Edit source", src(shop) + "/edit", authDetail},
		{catalog.CauseProbe, "billing", src(billing), "3 pipelines", "/pipelines?runtime_status=ERROR&source_id=" + fmt.Sprint(billing.ID),
			"Probe state", src(billing) + "#source-wal-" + fmt.Sprint(billing.ID), "could not connect: connection refused"},
		{catalog.CauseDestination, "analytics", fmt.Sprintf("/destinations/%d", dst.ID), "2 pipelines",
			"/pipelines?runtime_status=ERROR&destination_id=" + fmt.Sprint(dst.ID), "Edit destination",
			fmt.Sprintf("/destinations/%d/edit", dst.ID), `destination check "sign-in" failed: Snowflake rejected the key pair`},
		{catalog.CauseSource, "shop-replica", src(shop), "1 pipeline", "/pipelines?runtime_status=ERROR&source_id=" + fmt.Sprint(shop.ID),
			"Edit source", src(shop) + "/edit", `preflight check "publication" failed: publication "rosetta_pub" does not exist`},
		{catalog.CauseProbe, "crm", src(crm), "no pipeline in ERROR", "", "Probe state", src(crm) + "#source-wal-" + fmt.Sprint(crm.ID),
			"dial tcp: lookup crm.db.internl: no such host"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d causes, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("cause %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	if doc.Find(`[data-testid="more-causes"]`).Length() != 0 {
		t.Error("five causes, all shown, yet the page says there are more")
	}
	// every fix link leads to a page that exists
	for _, c := range got {
		path, _, _ := strings.Cut(c.fixHref, "#")
		if r := a.Do(http.MethodGet, path, nil); r.Code != http.StatusOK {
			t.Errorf("%s → %s answers %d", c.fix, path, r.Code)
		}
	}
	// one line for the probe failures too: the probes panel points to the causes
	if f := doc.Find(`[data-testid="probes-failing"]`); !strings.Contains(text(f), "2 sources could not be probed") {
		t.Errorf("probes panel %q", text(doc.Find(`[data-testid="dashboard-probes"]`)))
	}

	// a viewer: the public sentence, and pages rather than edit forms
	vdoc := parse(t, a.Browser(auth.Viewer).Get("/").Expect(t, http.StatusOK))
	vgot := causesOf(vdoc)
	if len(vgot) != len(want) || vgot[0].message != authMsg || vgot[0].fix != "See source" || vgot[0].fixHref != src(shop) ||
		vgot[2].fix != "See destination" {
		t.Errorf("viewer's causes %+v", vgot)
	}

	// bounded: past the cap, the rest is counted, not listed
	for i := range catalog.DashboardLimit {
		probeFails(t, a, mkSource(t, a, fmt.Sprintf("down-%02d", i)).ID, "connection timed out")
	}
	doc, _ = get(t, a, "/", http.StatusOK)
	if n := len(causesOf(doc)); n != catalog.DashboardLimit {
		t.Errorf("%d causes listed, want the cap (%d)", n, catalog.DashboardLimit)
	}
	if more := text(doc.Find(`[data-testid="more-causes"]`)); more != "and 5 more causes" {
		t.Errorf("more causes: %q", more)
	}
	// the biggest causes stay on top
	if got := causesOf(doc); got[0].entity != "shop-replica" || got[0].count != "4 pipelines" {
		t.Errorf("first cause past the cap %+v", got[0])
	}
}

// TestConsoleListsShowOneStatusWord: an ERROR pipeline whose operator asked to start it
// wears one badge, ERROR, in every list that shows pipelines (no green START beside it
// reading as a second status); its page says what was asked, in words.
func TestConsoleListsShowOneStatusWord(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	src, dst := mkSource(t, a, "shop-replica"), mkDestination(t, a, "analytics")
	p := mkPipeline(t, a, "shop-orders", src.ID, dst.ID)
	failPipeline(t, a, p.ID, `preflight check "connect" failed: password authentication failed`, nil, false)
	refreshing := mkPipeline(t, a, "shop-history", src.ID, dst.ID)
	q := db.New(a.Pool)
	ctx := context.Background()
	if err := q.SetPipelineStatus(ctx, db.SetPipelineStatusParams{ID: refreshing.ID, Status: catalog.DesiredRefresh}); err != nil {
		t.Fatal(err)
	}
	if err := q.SetPipelineRunning(ctx, refreshing.ID); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"shop-orders": "ERROR", "shop-history": "RUNNING"}
	for _, page := range []struct{ path, rows string }{
		{"/", `[data-testid="dashboard-pipeline"]`},
		{"/pipelines", `[data-testid="pipeline-row"]`},
		{fmt.Sprintf("/sources/%d", src.ID), `[data-testid="using-row"]`},
		{fmt.Sprintf("/destinations/%d", dst.ID), `[data-testid="using-row"]`},
	} {
		doc, _ := get(t, a, page.path, http.StatusOK)
		rows := doc.Find(page.rows)
		if rows.Length() != 2 {
			t.Errorf("%s: %d pipeline rows, want 2", page.path, rows.Length())
		}
		rows.Each(func(_ int, row *goquery.Selection) {
			name := text(row.Find("th a"))
			badges := texts(row.Find(`[data-testid="status-badge"]`))
			if len(badges) != 1 || badges[0] != want[name] {
				t.Errorf("%s: %s wears %v, want the one word %s", page.path, name, badges, want[name])
			}
			if cell := text(row.Find(`[data-label="Status"]`)); cell != want[name] {
				t.Errorf("%s: %s's status cell reads %q, want %s alone", page.path, name, cell, want[name])
			}
		})
	}
	doc, _ := get(t, a, fmt.Sprintf("/pipelines/%d", p.ID), http.StatusOK)
	panel := doc.Find(`[data-testid="pipeline-status"]`)
	if b := texts(panel.Find(`[data-testid="status-badge"]`)); len(b) != 1 || b[0] != "ERROR" {
		t.Errorf("pipeline page badges %v, want ERROR alone", b)
	}
	if got := text(panel.Find(`[data-testid="desired-status"]`)); !strings.HasPrefix(got, "asked: start") {
		t.Errorf("pipeline page says %q for the desired status, want \"asked: start\"", got)
	}
}
