package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/pgsource"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// recordProbes stores probe outcomes through the monitor's own catalog path, so the
// stored health and alert state is exactly what a cycle would leave.
func recordProbes(t *testing.T, a *webtest.App, rs ...catalog.ProbeResult) {
	t.Helper()
	if _, err := a.Catalog.RecordProbes(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
}

// sourceRow is a source's row in the source list.
func sourceRow(doc *goquery.Document, id int64) *goquery.Selection {
	return doc.Find(fmt.Sprintf(`[data-testid="source-row"][data-id="%d"]`, id))
}

func alertsOf(sel *goquery.Selection) []string {
	var out []string
	sel.Find(`[data-testid="alert-flag"]`).Each(func(_ int, f *goquery.Selection) { out = append(out, f.AttrOr("data-alert", "")) })
	return out
}

// TestConsoleSourceHealth: healthy, failing (since when, why) and never checked (grey,
// never "OK") in the source list, on the source page and on the dashboard, with the
// monitor's alert flags; another browser sees the same, because it is stored.
func TestConsoleSourceHealth(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	never := mkSource(t, a, "idle")

	// Only never-checked sources: the dashboard must not say all is well.
	doc, _ := get(t, a, "/", http.StatusOK)
	if doc.Find(`[data-testid="probes-ok"]`).Length() != 0 || doc.Find(`[data-testid="dashboard-probes"] .badge-ok:not([data-testid="health-healthy"])`).Length() != 0 {
		t.Errorf("never-probed sources shown as OK: %q", text(doc.Find(`[data-testid="dashboard-probes"]`)))
	}
	if got := text(doc.Find(`[data-testid="health-never"]`)); got != "1 never checked" {
		t.Errorf("never-checked count %q", got)
	}
	if !strings.Contains(text(doc.Find(`[data-testid="probes-unknown"]`)), "1 source not checked yet") {
		t.Errorf("dashboard probes %q", text(doc.Find(`[data-testid="dashboard-probes"]`)))
	}

	healthy := mkSource(t, a, "orders")
	failing := mkSource(t, a, "billing")
	alerting := mkSource(t, a, "events")
	threshold := int64(1000)
	if _, err := a.Catalog.UpdateSource(context.Background(), alerting.ID, catalog.SourcePatch{WALAlertThresholdBytes: &threshold}); err != nil {
		t.Fatal(err)
	}
	first := time.Now().Add(-20 * time.Minute).UTC().Truncate(time.Second)
	refused := errors.New("dial tcp 10.0.0.9:5432: connect: connection refused")
	recordProbes(t, a,
		catalog.ProbeResult{SourceID: healthy.ID, SourceName: "orders", At: first, Sample: &pgsource.WALSample{SizeBytes: 4096}},
		catalog.ProbeResult{SourceID: failing.ID, SourceName: "billing", At: first, Err: refused, Attempts: 3},
	)
	recordProbes(t, a,
		catalog.ProbeResult{SourceID: failing.ID, SourceName: "billing", At: first.Add(5 * time.Minute), Err: refused, Attempts: 3},
		catalog.ProbeResult{SourceID: alerting.ID, SourceName: "events", At: first.Add(5 * time.Minute), Sample: &pgsource.WALSample{
			SizeBytes: 1 << 20, RetainedBytes: ptr(int64(5000)), SlotActive: ptr(false), WALStatus: ptr("reserved")}},
	)

	// the source list: one column, three truthful states, and flags
	doc, _ = get(t, a, "/sources", http.StatusOK)
	for id, want := range map[int64]string{never.ID: "never", healthy.ID: "healthy", failing.ID: "failing", alerting.ID: "healthy"} {
		row := sourceRow(doc, id)
		if got := row.Find(`[data-health]`).AttrOr("data-health", ""); got != want {
			t.Errorf("source %d: health %q, want %q (%q)", id, got, want, text(row))
		}
	}
	neverRow := sourceRow(doc, never.ID)
	if neverRow.Find(".badge-ok").Length() != 0 || !strings.Contains(text(neverRow), "Never checked") || neverRow.Find(".badge-never").Length() != 1 {
		t.Errorf("never-checked row %q", text(neverRow))
	}
	if row := sourceRow(doc, healthy.ID); row.Find(".badge-ok").Length() != 1 || !strings.Contains(text(row), "Healthy") || len(alertsOf(row)) != 0 {
		t.Errorf("healthy row %q", text(row))
	}
	failRow := sourceRow(doc, failing.ID)
	since := failRow.Find(`[data-testid="failing-since"] time`)
	if since.AttrOr("datetime", "") != first.Format(time.RFC3339) || !strings.Contains(text(failRow.Find(`[data-testid="failing-why"]`)), "connection refused") {
		t.Errorf("failing row: since %q, why %q", since.AttrOr("datetime", ""), text(failRow.Find(`[data-testid="failing-why"]`)))
	}
	if got := alertsOf(failRow); strings.Join(got, ",") != catalog.AlertFailing {
		t.Errorf("failing row flags %v", got)
	}
	if got := alertsOf(sourceRow(doc, alerting.ID)); strings.Join(got, ",") != "slot_inactive,retention" {
		t.Errorf("alerting row flags %v", got)
	}

	// the source page, read by another browser (a viewer): the same stored state, without
	// the network detail that only those who may edit the source see
	vdoc := parse(t, a.Browser(auth.Viewer).Get(fmt.Sprintf("/sources/%d", failing.ID)).Expect(t, http.StatusOK))
	panel := vdoc.Find(`[data-testid="source-wal"]`)
	if panel.Find(`[data-health="failing"]`).Length() != 1 || strings.Contains(text(panel), "connection refused") ||
		!strings.Contains(text(panel), "operators and admins can see why") ||
		!strings.Contains(text(panel), "Probe failing") || !strings.Contains(text(panel), "2 probes in a row") {
		t.Errorf("failing source page %q", text(panel))
	}
	vdoc = parse(t, a.Browser(auth.Viewer).Get(fmt.Sprintf("/sources/%d", never.ID)).Expect(t, http.StatusOK))
	if p := vdoc.Find(`[data-testid="source-wal"]`); p.Find(`[data-health="never"]`).Length() != 1 || p.Find(".badge-ok").Length() != 0 {
		t.Errorf("never-checked source page %q", text(p))
	}

	// the dashboard counts each state and lists the flags
	doc, _ = get(t, a, "/", http.StatusOK)
	for testid, want := range map[string]string{"health-healthy": "2 healthy", "health-failing": "1 failing", "health-never": "1 never checked"} {
		if got := text(doc.Find(`[data-testid="` + testid + `"]`)); got != want {
			t.Errorf("dashboard %s = %q, want %q", testid, got, want)
		}
	}
	if doc.Find(`[data-testid="probes-ok"]`).Length() != 0 {
		t.Error("dashboard says OK with a failing and a never-checked source")
	}
	if f := doc.Find(`[data-testid="error-cause"][data-kind="probe"]`); f.Length() != 1 || !strings.Contains(text(f), "billing") || !strings.Contains(text(f), "connection refused") {
		t.Errorf("failing sources %q", text(f))
	}
	got := map[string]string{}
	doc.Find(`[data-testid="alert-source"]`).Each(func(_ int, li *goquery.Selection) {
		got[text(li.Find("a").First())] = strings.Join(alertsOf(li), ",")
	})
	if len(got) != 2 || got["billing"] != "failing" || got["events"] != "slot_inactive,retention" {
		t.Errorf("dashboard alerts %v", got)
	}

	// once every source is probed and healthy, and no alert stands, it is OK
	now := time.Now().UTC()
	recordProbes(t, a,
		catalog.ProbeResult{SourceID: never.ID, SourceName: "idle", At: now, Sample: &pgsource.WALSample{SizeBytes: 1}},
		catalog.ProbeResult{SourceID: failing.ID, SourceName: "billing", At: now, Sample: &pgsource.WALSample{SizeBytes: 1}},
		catalog.ProbeResult{SourceID: alerting.ID, SourceName: "events", At: now, Sample: &pgsource.WALSample{SizeBytes: 2 << 20,
			RetainedBytes: ptr(int64(10)), SlotActive: ptr(true), WALStatus: ptr("reserved")}},
		catalog.ProbeResult{SourceID: healthy.ID, SourceName: "orders", At: now, Sample: &pgsource.WALSample{SizeBytes: 8192}},
	)
	doc, _ = get(t, a, "/", http.StatusOK)
	if doc.Find(`[data-testid="probes-ok"]`).Length() != 1 || doc.Find(`[data-testid="alert-source"]`).Length() != 0 ||
		text(doc.Find(`[data-testid="health-healthy"]`)) != "4 healthy" {
		t.Errorf("all healthy: %q", text(doc.Find(`[data-testid="dashboard-probes"]`)))
	}
}

// TestConsoleSlotPanel: the source page and the pipeline page show the slot from the
// newest sample and the last 20 samples, newest first.
func TestConsoleSlotPanel(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	ctx := context.Background()
	src := mkSource(t, a, "orders")
	p := mkPipeline(t, a, "orders-to-raw", src.ID, mkDestination(t, a, "raw").ID)

	for _, path := range []string{fmt.Sprintf("/sources/%d", src.ID), fmt.Sprintf("/pipelines/%d", p.ID)} {
		doc, _ := get(t, a, path, http.StatusOK)
		panel := doc.Find(`[data-testid="slot-panel"]`)
		if panel.Length() != 1 || panel.Find(`[data-testid="slot-no-sample"]`).Length() != 1 || panel.Find(`[data-testid="recent-sample"]`).Length() != 0 {
			t.Errorf("%s before any sample: %q", path, text(panel))
		}
	}

	base := time.Now().Add(-3 * time.Hour).UTC().Truncate(time.Second)
	for i := range 25 {
		retained := int64(i+1) << 20
		_, err := a.Catalog.RecordWALSample(ctx, catalog.NewWALSample{SourceID: src.ID, SizeBytes: int64(i+100) << 20,
			RetainedBytes: &retained, SlotActive: ptr(i%2 == 0), WALStatus: ptr("extended"), SafeWALSize: ptr(int64(2) << 30),
			RecordedAt: base.Add(time.Duration(i) * 5 * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
	}
	newest := base.Add(24 * 5 * time.Minute)
	for _, path := range []string{fmt.Sprintf("/sources/%d", src.ID), fmt.Sprintf("/pipelines/%d", p.ID)} {
		doc, _ := get(t, a, path, http.StatusOK)
		panel := doc.Find(`[data-testid="slot-panel"]`)
		for testid, want := range map[string]string{"slot-retained": "25.0 MiB", "slot-active": "yes", "slot-wal-status": "extended", "slot-safe-wal-size": "2.0 GiB"} {
			if got := text(panel.Find(`[data-testid="` + testid + `"]`)); got != want {
				t.Errorf("%s: %s = %q, want %q", path, testid, got, want)
			}
		}
		if got := panel.Find(`[data-testid="slot-sampled"] time`).AttrOr("datetime", ""); got != newest.Format(time.RFC3339) {
			t.Errorf("%s: last sample time %q, want %s", path, got, newest.Format(time.RFC3339))
		}
		rows := panel.Find(`[data-testid="recent-sample"]`)
		if rows.Length() != catalog.RecentWALLimit {
			t.Fatalf("%s: %d recent samples, want %d", path, rows.Length(), catalog.RecentWALLimit)
		}
		prev := ""
		rows.Each(func(i int, r *goquery.Selection) {
			at := r.AttrOr("data-recorded-at", "")
			if i == 0 && at != newest.Format(time.RFC3339) {
				t.Errorf("%s: first row %s, want the newest %s", path, at, newest.Format(time.RFC3339))
			}
			if prev != "" && at >= prev {
				t.Errorf("%s: row %d (%s) not older than the one above (%s)", path, i, at, prev)
			}
			prev = at
		})
		if first := text(rows.First()); !strings.Contains(first, "124 MiB") || !strings.Contains(first, "25.0 MiB") || !strings.Contains(first, "extended") {
			t.Errorf("%s: newest row %q", path, first)
		}
	}
}

// TestConsoleSourceThresholdField: the retention threshold is a form field with the
// configured default as placeholder; it round-trips through create and edit, a bad value
// gets a message beside the field, and clearing it returns to the default.
func TestConsoleSourceThresholdField(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	def := a.Catalog.DefaultWALAlertBytes()

	doc, _ := get(t, a, "/sources/new", http.StatusOK)
	in := doc.Find(`[data-testid="field-wal_alert_threshold_bytes"] input[name="wal_alert_threshold_bytes"]`)
	if in.AttrOr("placeholder", "") != fmt.Sprint(def) || in.AttrOr("type", "") != "number" ||
		!strings.Contains(text(doc.Find(`[data-testid="field-wal_alert_threshold_bytes"]`)), "10.0 GiB") {
		t.Errorf("threshold field %q placeholder %q", text(doc.Find(`[data-testid="field-wal_alert_threshold_bytes"]`)), in.AttrOr("placeholder", ""))
	}

	for bad, want := range map[string]string{"ten gigs": "must be a positive number of bytes", "-5": "must be a positive number of bytes"} {
		v := validSource("orders")
		v.Set("wal_alert_threshold_bytes", bad)
		r := post(a, "/sources", v)
		if r.Code != http.StatusUnprocessableEntity {
			t.Fatalf("threshold %q: status %d", bad, r.Code)
		}
		form := parse(t, r).Selection
		if msg := fieldErrors(form)["wal_alert_threshold_bytes"]; !strings.Contains(msg, want) || !strings.HasPrefix(msg, "WAL retention alert") {
			t.Errorf("threshold %q: message %q", bad, msg)
		}
		if got, _ := inputValue(form, "wal_alert_threshold_bytes"); got != bad {
			t.Errorf("threshold %q echoed as %q", bad, got)
		}
	}
	if n, err := a.Catalog.Counts(context.Background()); err != nil || n.Sources != 0 {
		t.Fatalf("a refused form created a source: %v %v", n.Sources, err)
	}

	v := validSource("orders")
	v.Set("wal_alert_threshold_bytes", "2048")
	var id int64
	if _, err := fmt.Sscanf(redirectTo(t, post(a, "/sources", v)), "/sources/%d", &id); err != nil {
		t.Fatal(err)
	}
	if s, err := a.Catalog.GetSource(context.Background(), id); err != nil || s.WALAlertThresholdBytes == nil || *s.WALAlertThresholdBytes != 2048 {
		t.Fatalf("stored threshold %v (%v)", s.WALAlertThresholdBytes, err)
	}
	edit := fmt.Sprintf("/sources/%d/edit", id)
	doc, _ = get(t, a, edit, http.StatusOK)
	if got, _ := inputValue(doc.Selection, "wal_alert_threshold_bytes"); got != "2048" {
		t.Errorf("edit form threshold %q", got)
	}
	v.Set("wal_alert_threshold_bytes", "1e9")
	r := post(a, fmt.Sprintf("/sources/%d", id), v)
	if r.Code != http.StatusUnprocessableEntity || !strings.Contains(fieldErrors(parse(t, r).Selection)["wal_alert_threshold_bytes"], "positive number") {
		t.Errorf("bad edit: %d %v", r.Code, fieldErrors(parse(t, r).Selection))
	}
	v.Set("wal_alert_threshold_bytes", "")
	redirectTo(t, post(a, fmt.Sprintf("/sources/%d", id), v))
	if s, err := a.Catalog.GetSource(context.Background(), id); err != nil || s.WALAlertThresholdBytes != nil {
		t.Errorf("cleared threshold stored as %v (%v)", s.WALAlertThresholdBytes, err)
	}
}
