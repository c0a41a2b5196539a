package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

func TestConsoleDashboardEmpty(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	doc, r := get(t, a, "/", http.StatusOK)
	expectFullPage(t, r)
	welcome := doc.Find(`[data-testid="empty-state"]`)
	for _, href := range []string{"/sources/new", "/destinations/new", "/pipelines/new"} {
		if welcome.Find(`a[href="`+href+`"]`).Length() != 1 {
			t.Errorf("the empty dashboard does not point to %s", href)
		}
	}
	// A viewer is not invited to create what the server would refuse them.
	r = a.As(auth.Viewer).Do(http.MethodGet, "/", nil)
	if r.Code != http.StatusOK {
		t.Fatalf("viewer GET /: %d", r.Code)
	}
	main := r.Doc(t).Find("main")
	if n := main.Find(`a[href$="/new"]`).Length(); n != 0 || main.Find(`[data-testid="empty-state"]`).Length() != 1 {
		t.Errorf("viewer's empty dashboard: %d create links, empty state %d", n, main.Find(`[data-testid="empty-state"]`).Length())
	}
}

func TestConsoleDashboard(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	ctx := context.Background()
	good := mkRealSource(t, a, "orders", testdb.NewSource(t, testdb.SourceOptions{}))
	bad := mkRealSource(t, a, "billing", testdb.NewSource(t, testdb.SourceOptions{NoPublication: true}))
	idle := mkSource(t, a, "crm")
	dst := mkDestination(t, a, "analytics")
	mkDestination(t, a, "finance")
	run := mkPipeline(t, a, "a-running", good.ID, dst.ID)
	fail := mkPipeline(t, a, "z-failing", bad.ID, dst.ID)
	mkPipeline(t, a, "m-paused", good.ID, dst.ID)
	for _, id := range []int64{run.ID, fail.ID} {
		if _, err := a.Catalog.Start(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	retained := int64(3) << 30
	for _, s := range []catalog.NewWALSample{
		{SourceID: good.ID, SizeBytes: 5 << 30, RetainedBytes: &retained, RecordedAt: time.Now().Add(-10 * time.Minute)},
		{SourceID: good.ID, SizeBytes: 1536 << 20, RetainedBytes: &retained, RecordedAt: time.Now().Add(-time.Minute)}, // newest
		{SourceID: idle.ID, SizeBytes: 900, RecordedAt: time.Now().Add(-2 * time.Hour)},
	} {
		if _, err := a.Catalog.RecordWALSample(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	msg := "connection refused"
	if err := db.New(a.Pool).RecordSourceProbeError(ctx, db.RecordSourceProbeErrorParams{ID: bad.ID, LastProbeError: &msg}); err != nil {
		t.Fatal(err)
	}

	doc, r := get(t, a, "/", http.StatusOK)
	expectFullPage(t, r)
	for id, want := range map[string]string{"count-sources": "3", "count-destinations": "2", "count-pipelines": "3",
		"count-running": "1", "count-paused": "1", "count-error": "1"} {
		if got := text(doc.Find(`[data-testid="` + id + `"] .stat-value`)); got != want {
			t.Errorf("%s = %q, want %s", id, got, want)
		}
	}
	if href := doc.Find(`[data-testid="count-error"]`).AttrOr("href", ""); href != "/pipelines?runtime_status=ERROR" {
		t.Errorf("error count links to %q", href)
	}
	// pipelines, the failing one first with its error
	rows := doc.Find(`[data-testid="dashboard-pipeline"]`)
	if got := texts(rows.Find("th a")); strings.Join(got, ",") != "z-failing,a-running,m-paused" {
		t.Errorf("dashboard pipelines %v, want ERROR first", got)
	}
	// one status word per row; the error itself is told once, grouped by cause
	if first := rows.First(); first.AttrOr("data-status", "") != "ERROR" || text(first.Find(`[data-testid="status-badge"]`)) != "ERROR" {
		t.Errorf("first row %q", text(first))
	}
	causes := doc.Find(`[data-testid="error-cause"]`)
	if got := texts(causes.Find(`[data-testid="cause-entity"]`)); strings.Join(got, ",") != "billing,billing" ||
		!strings.Contains(text(causes), `preflight check "publication" failed`) || !strings.Contains(text(causes), "connection refused") {
		t.Errorf("causes %q: want billing's failed start and its failing probe", text(causes))
	}
	// the latest WAL per source, most retained first, sizes in words
	wal := doc.Find(`[data-testid="dashboard-wal-row"]`)
	if got := texts(wal.Find("th a")); strings.Join(got, ",") != "orders,crm,billing" {
		t.Errorf("WAL rows %v", got)
	}
	if first := text(wal.First()); !strings.Contains(first, "1.5 GiB") || !strings.Contains(first, "3.0 GiB") || !strings.Contains(first, "1 minute ago") {
		t.Errorf("orders WAL row %q: want its newest sample", first)
	}
	if !strings.Contains(text(wal.Eq(1)), "900 B") || !strings.Contains(text(wal.Eq(2)), "no sample yet") {
		t.Errorf("WAL rows %q / %q", text(wal.Eq(1)), text(wal.Eq(2)))
	}
	if doc.Find(`[data-testid="dashboard-wal-row"] time[datetime]`).Length() != 2 {
		t.Error("sample times are not <time datetime> elements")
	}

	// /wal: every source with its newest sample and probe state
	doc, r = get(t, a, "/wal?sort=name", http.StatusOK)
	expectFullPage(t, r)
	walRows := doc.Find(`[data-testid="wal-row"]`)
	if got := texts(walRows.Find("th a")); strings.Join(got, ",") != "billing,crm,orders" {
		t.Errorf("/wal rows %v", got)
	}
	byName := map[string]string{}
	walRows.Each(func(_ int, s *goquery.Selection) { byName[text(s.Find("th a"))] = text(s) })
	if !strings.Contains(byName["orders"], "3.0 GiB") {
		t.Errorf("orders on /wal: %q", byName["orders"])
	}
	if !strings.Contains(byName["billing"], "probe failing") {
		t.Errorf("billing on /wal: %q", byName["billing"])
	}
	r = a.Do(http.MethodGet, "/wal?q=ord", nil, htmx)
	expectFragment(t, r)
	if n := parse(t, r).Find(`section#wal-list [data-testid="wal-row"]`).Length(); n != 1 {
		t.Errorf("/wal search fragment: %d rows", n)
	}
	if href := doc.Find(`nav [aria-current="page"]`).AttrOr("href", ""); href != "" && href != "/wal" {
		t.Errorf("active nav %q", href)
	}
}
