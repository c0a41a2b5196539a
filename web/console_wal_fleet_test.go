package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// fleetSample is one stored sample of a fleet fixture.
type fleetSample struct {
	ago      time.Duration
	retained int64 // MiB
	active   bool
	status   string
	safe     *int64 // MiB
}

// fleetFixture registers sources with a threshold (MiB) and stores their samples.
func fleetFixture(t *testing.T, a *webtest.App, name string, thresholdMiB int64, samples ...fleetSample) int64 {
	t.Helper()
	id := walSource(t, a, name)
	th := thresholdMiB << 20
	if _, err := a.Catalog.UpdateSource(a.Ctx(), id, catalog.SourcePatch{WALAlertThresholdBytes: &th}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, s := range samples {
		retained, active, status := s.retained<<20, s.active, s.status
		in := catalog.NewWALSample{SourceID: id, SizeBytes: 100 << 30, RetainedBytes: &retained, SlotActive: &active,
			WALStatus: &status, RecordedAt: now.Add(-s.ago)}
		if s.safe != nil {
			safe := *s.safe << 20
			in.SafeWALSize = &safe
		}
		if _, err := a.Catalog.RecordWALSample(a.Ctx(), in); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

func mib(n int64) *int64 { return &n }

// The fleet: a row per situation the overview must tell apart. Growth is 1 MiB/s over
// the hour (3600 MiB between samples an hour apart) where a source grows.
func fleet(t *testing.T, a *webtest.App) map[string]int64 {
	t.Helper()
	ids := map[string]int64{}
	// 1 MiB/s with 7200 MiB left before the threshold: two hours.
	ids["growing"] = fleetFixture(t, a, "growing", 4600+7200,
		fleetSample{ago: 61 * time.Minute, retained: 1000, active: true, status: "reserved"},
		fleetSample{ago: time.Minute, retained: 4600, active: true, status: "reserved"})
	// 1 MiB/s with a slot limit of 3600 MiB left: one hour, whatever the threshold.
	ids["limited"] = fleetFixture(t, a, "limited", 1<<20,
		fleetSample{ago: 61 * time.Minute, retained: 1000, active: true, status: "extended", safe: mib(7200)},
		fleetSample{ago: time.Minute, retained: 4600, active: true, status: "extended", safe: mib(3600)})
	ids["calm"] = fleetFixture(t, a, "calm", 10240,
		fleetSample{ago: 30 * time.Minute, retained: 1024, active: true, status: "reserved"},
		fleetSample{ago: time.Minute, retained: 1024, active: true, status: "reserved"})
	ids["inactive"] = fleetFixture(t, a, "inactive", 10240,
		fleetSample{ago: 30 * time.Minute, retained: 3072, active: false, status: "reserved"},
		fleetSample{ago: time.Minute, retained: 3072, active: false, status: "reserved"})
	ids["lost"] = fleetFixture(t, a, "lost", 10240,
		fleetSample{ago: time.Minute, retained: 2048, active: true, status: "lost"})
	ids["over"] = fleetFixture(t, a, "over", 1024,
		fleetSample{ago: time.Minute, retained: 1536, active: true, status: "reserved"})
	ids["failing"] = walSource(t, a, "failing")
	msg := "connection refused"
	if err := db.New(a.Pool).RecordSourceProbeError(a.Ctx(), db.RecordSourceProbeErrorParams{ID: ids["failing"], LastProbeError: &msg}); err != nil {
		t.Fatal(err)
	}
	ids["fresh"] = walSource(t, a, "fresh")
	return ids
}

func fleetRows(doc *goquery.Document) (names []string, byName map[string]*goquery.Selection) {
	byName = map[string]*goquery.Selection{}
	doc.Find(`[data-testid="wal-row"]`).Each(func(_ int, s *goquery.Selection) {
		n := text(s.Find("th a"))
		names = append(names, n)
		byName[n] = s
	})
	return names, byName
}

func TestWALFleetFlagsForecastsAndPutsTheWorstOnTop(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	ids := fleet(t, a)

	r := a.Browser(auth.Viewer).Get("/wal")
	if r.Code != http.StatusOK {
		t.Fatalf("viewer GET /wal: %d %s", r.Code, r.Body)
	}
	doc := r.Doc(t)
	names, rows := fleetRows(doc)
	// flagged first (over: its headroom is gone, so forecast 0; then by retained), then
	// the shortest forecast, then the most retained, the source without samples last
	want := "over,inactive,lost,failing,limited,growing,calm,fresh"
	if strings.Join(names, ",") != want {
		t.Fatalf("default order %v, want %s", names, want)
	}
	flags := func(name string) string {
		var fs []string
		rows[name].Find("[data-flag]").Each(func(_ int, s *goquery.Selection) { fs = append(fs, s.AttrOr("data-flag", "")) })
		return strings.Join(fs, ",")
	}
	for name, want := range map[string]string{"over": "over_threshold", "inactive": "slot_inactive", "lost": "wal_lost",
		"failing": "probe_failing", "limited": "", "growing": "", "calm": "", "fresh": ""} {
		if got := flags(name); got != want {
			t.Errorf("%s flags %q, want %q", name, got, want)
		}
		if got, flagged := rows[name].AttrOr("data-flagged", ""), want != ""; got != fmt.Sprint(flagged) {
			t.Errorf("%s data-flagged=%q", name, got)
		}
		if href := rows[name].Find("th a").AttrOr("href", ""); href != fmt.Sprintf("/sources/%d/wal", ids[name]) {
			t.Errorf("%s links to %q", name, href)
		}
	}
	if got := text(rows["lost"].Find(`[data-flag]`)); got != "slot lost" {
		t.Errorf("lost flag reads %q", got)
	}
	forecast := func(name string) string { return text(rows[name].Find(`[data-testid="wal-forecast"]`)) }
	for name, want := range map[string]string{
		"growing": "threshold (11.5 GiB) reached in 2 hours",
		"limited": "safe_wal_size reached in 1 hour",
		"calm":    "not growing",
		"over":    "over the threshold (1.0 GiB)",
		"lost":    "not enough samples",
		"fresh":   "—",
	} {
		if got := forecast(name); got != want {
			t.Errorf("%s forecast %q, want %q", name, got, want)
		}
	}
	if got := text(rows["growing"].Find(`[data-testid="wal-growth"]`)); got != "1.0 MiB/s" {
		t.Errorf("growing growth %q", got)
	}
	if got := text(rows["growing"].Find(`[data-testid="wal-retained"]`)); got != "4.5 GiB" {
		t.Errorf("growing retained %q", got)
	}
	if got := text(rows["inactive"].Find(`[data-testid="wal-slot"]`)); got != "inactive, reserved" {
		t.Errorf("inactive slot %q", got)
	}
	if rows["growing"].Find("time[datetime]").Length() != 1 {
		t.Error("the last sample's time is not a <time datetime>")
	}
	if !strings.Contains(text(rows["fresh"]), "no sample yet") {
		t.Errorf("fresh row %q", text(rows["fresh"]))
	}
	// The page works without JavaScript: a plain table, every order a plain link.
	if doc.Find(`section#wal-list table tbody tr`).Length() != 8 {
		t.Error("no plain table of 8 rows")
	}
	if href := doc.Find(`thead a.sort`).FilterFunction(func(_ int, s *goquery.Selection) bool { return text(s) == "Forecast" }).AttrOr("href", ""); href != "/wal?sort=forecast" {
		t.Errorf("forecast header links to %q", href)
	}
}

func TestWALFleetSortsPagesAndSearches(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	fleet(t, a)
	for sort, want := range map[string]string{
		"name":      "calm,failing,fresh,growing,inactive,limited,lost,over",
		"-name":     "over,lost,limited,inactive,growing,fresh,failing,calm",
		"-retained": "growing,limited,inactive,lost,over,calm,failing,fresh",
		"forecast":  "over,limited,growing,calm,failing,fresh,inactive,lost",
	} {
		doc, _ := get(t, a, "/wal?sort="+sort, http.StatusOK)
		if names, _ := fleetRows(doc); strings.Join(names, ",") != want {
			t.Errorf("sort=%s: %v, want %s", sort, names, want)
		}
		if got := doc.Find(`select[name="sort"] option[selected]`).AttrOr("value", ""); got != sort {
			t.Errorf("sort=%s selects %q", sort, got)
		}
	}
	// the second page of three, worst first: the page continues the ranking
	doc, _ := get(t, a, "/wal?limit=3&offset=3", http.StatusOK)
	if names, _ := fleetRows(doc); strings.Join(names, ",") != "failing,limited,growing" {
		t.Errorf("page 2: %v", names)
	}
	// an htmx search answers the list section alone
	r := a.Do(http.MethodGet, "/wal?q=row", nil, htmx)
	expectFragment(t, r)
	if names, _ := fleetRows(parse(t, r)); strings.Join(names, ",") != "growing" {
		t.Errorf("q=row: %v", names)
	}
	// an unknown order falls back to the default rather than failing the page
	doc, _ = get(t, a, "/wal?sort=bogus", http.StatusOK)
	if names, _ := fleetRows(doc); len(names) == 0 || names[0] != "over" {
		t.Errorf("sort=bogus: %v", names)
	}
}

// The dashboard counts the flagged sources and links to the overview; a source's page
// links to its live chart.
func TestWALFleetOnTheDashboardAndTheSourcePage(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	walSource(t, a, "quiet")
	doc, _ := get(t, a, "/", http.StatusOK)
	if got := text(doc.Find(`[data-testid="dashboard-flagged"]`)); got != "No source flagged" {
		t.Errorf("no flag: %q", got)
	}
	ids := fleet(t, a)
	doc, _ = get(t, a, "/", http.StatusOK)
	flagged := doc.Find(`[data-testid="dashboard-flagged"]`)
	if got := text(flagged); got != "4 sources flagged" || flagged.Find(`a[href="/wal"]`).Length() != 1 {
		t.Errorf("dashboard flagged %q", got)
	}
	doc, _ = get(t, a, fmt.Sprintf("/sources/%d", ids["growing"]), http.StatusOK)
	if href := doc.Find(`[data-testid="wal-chart-link"]`).AttrOr("href", ""); href != fmt.Sprintf("/sources/%d/wal", ids["growing"]) {
		t.Errorf("source page WAL link %q", href)
	}
}

func TestWALFleetAccess(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	walSource(t, a, "orders")
	if r := a.As(auth.Viewer).Do(http.MethodGet, "/wal", nil); r.Code != http.StatusOK || !strings.Contains(text(r.Doc(t).Find("main")), "orders") {
		t.Errorf("viewer: %d", r.Code)
	}
	r := a.Anonymous().Do(http.MethodGet, "/wal", nil)
	if r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Errorf("anonymous: %d to %q, want a redirect to the sign-in page", r.Code, r.Header.Get("Location"))
	}
}
