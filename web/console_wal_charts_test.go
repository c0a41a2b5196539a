package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// inBucket is how long ago a moment offset into the bucket back buckets before the
// current one was: fixtures placed this way fall in the buckets the test means whatever
// the clock says (buckets start at multiples of their width, as the catalog's do).
func inBucket(width time.Duration, back int, offset time.Duration) time.Duration {
	start := time.Now().Truncate(width).Add(-time.Duration(back) * width)
	return time.Since(start.Add(offset))
}

// pts are the x,y pairs a sparkline draws.
func pts(svg *goquery.Selection) []string {
	return strings.Fields(svg.Find("polyline").AttrOr("points", ""))
}

// polylinePoints is the number of x,y pairs a sparkline draws.
func polylinePoints(svg *goquery.Selection) int { return len(pts(svg)) }

// /wal: every row with samples in the last day carries a server-drawn sparkline of its
// retained WAL (one point per half-hour bucket, each the bucket's peak), readable
// without JavaScript; rows without recent samples show a dash.
func TestWALFleetDrawsASparklinePerSource(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	// Four half-hour buckets; two samples share the newest one, whose peak (3 GiB) counts.
	half := 30 * time.Minute
	rising := fleetFixture(t, a, "rising", 2500,
		fleetSample{ago: inBucket(half, 4, 5*time.Minute), retained: 1024, active: true, status: "reserved"},
		fleetSample{ago: inBucket(half, 3, 5*time.Minute), retained: 1536, active: true, status: "reserved"},
		fleetSample{ago: inBucket(half, 2, 5*time.Minute), retained: 2048, active: true, status: "reserved"},
		fleetSample{ago: inBucket(half, 1, 5*time.Minute), retained: 2560, active: true, status: "reserved"},
		fleetSample{ago: inBucket(half, 1, 20*time.Minute), retained: 3072, active: true, status: "reserved"})
	old := fleetFixture(t, a, "stale", 10240,
		fleetSample{ago: 30 * time.Hour, retained: 1024, active: true, status: "reserved"})
	walSource(t, a, "fresh")
	if rising == old {
		t.Fatal("fixtures share an id")
	}

	doc := parse(t, a.Browser(auth.Viewer).Get("/wal").Expect(t, http.StatusOK))
	_, rows := fleetRows(doc)
	if got := text(doc.Find("thead th").Eq(2)); got != "Last 24 hours" {
		t.Errorf("third column %q", got)
	}
	svg := rows["rising"].Find(`svg[data-testid="wal-sparkline"]`)
	if svg.Length() != 1 {
		t.Fatalf("rising has no sparkline: %s", text(rows["rising"]))
	}
	if n := svg.AttrOr("data-points", ""); n != "4" || polylinePoints(svg) != 4 {
		t.Errorf("rising sparkline: %s buckets, %d points drawn; want 4 and 4", n, polylinePoints(svg))
	}
	label := svg.AttrOr("aria-label", "")
	if svg.AttrOr("role", "") != "img" || label != "Retained WAL, last 24 hours: low 1.0 GiB, peak 3.0 GiB, last 3.0 GiB" ||
		text(svg.Find("title")) != label {
		t.Errorf("sparkline role %q label %q title %q", svg.AttrOr("role", ""), label, text(svg.Find("title")))
	}
	// The newest point is marked, at the right end of the line.
	if c := svg.Find("circle"); c.Length() != 1 || c.AttrOr("cx", "") != strings.Split(pts(svg)[len(pts(svg))-1], ",")[0] {
		t.Errorf("end dot %v", c.AttrOr("cx", ""))
	}
	// The threshold (2500 MiB) lies inside the drawn range: a dashed line marks it.
	if svg.Find("line.sparkline-threshold").Length() != 1 {
		t.Error("no threshold line in the sparkline")
	}
	// The line rises: the last point is higher (a smaller y) than the first.
	line := pts(svg)
	var x0, y0, x1, y1 float64
	fmt.Sscanf(line[0], "%f,%f", &x0, &y0)
	fmt.Sscanf(line[len(line)-1], "%f,%f", &x1, &y1)
	if !(x1 > x0 && y1 < y0) {
		t.Errorf("points %v do not rise left to right", line)
	}
	if rows["stale"].Find("svg").Length() != 0 || !strings.Contains(text(rows["stale"].Find(`td[data-label="Last 24 hours"]`)), "—") {
		t.Errorf("a source without samples in the last day: %q", text(rows["stale"]))
	}
	if rows["fresh"].Find("svg").Length() != 0 || !strings.Contains(text(rows["fresh"]), "no sample yet") {
		t.Errorf("a source without samples: %q", text(rows["fresh"]))
	}

	// The htmx list section (sorting, paging) carries them too.
	frag := parse(t, a.Browser(auth.Viewer).HTMX(http.MethodGet, "/wal?sort=name", nil).Expect(t, http.StatusOK))
	if frag.Find(`svg[data-testid="wal-sparkline"]`).Length() != 1 {
		t.Error("the htmx list section has no sparkline")
	}
}

// The catalog folds any number of sources into buckets in one call, keeps each bucket's
// peak, and names a bad argument.
func TestWALSparklinesPeakPerBucketForManySources(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	one := fleetFixture(t, a, "one", 10240,
		fleetSample{ago: inBucket(time.Hour, 5, 10*time.Minute), retained: 10, active: true, status: "reserved"},
		fleetSample{ago: inBucket(time.Hour, 5, 20*time.Minute), retained: 30, active: true, status: "reserved"},
		fleetSample{ago: inBucket(time.Hour, 1, 10*time.Minute), retained: 20, active: true, status: "reserved"})
	two := fleetFixture(t, a, "two", 10240,
		fleetSample{ago: inBucket(time.Hour, 2, 0), retained: 7, active: true, status: "reserved"})
	got, err := a.Catalog.WALSparklines(a.Ctx(), []int64{one, two}, 24*time.Hour, 24)
	if err != nil {
		t.Fatal(err)
	}
	peaks := func(id int64) (out []int64) {
		for _, p := range got[id] {
			out = append(out, p.RetainedBytes>>20)
		}
		return out
	}
	if fmt.Sprint(peaks(one)) != "[30 20]" || fmt.Sprint(peaks(two)) != "[7]" {
		t.Errorf("peaks one %v two %v; want [30 20] and [7]", peaks(one), peaks(two))
	}
	if _, err := a.Catalog.WALSparklines(a.Ctx(), []int64{one}, 24*time.Hour, 1); err == nil || !strings.Contains(err.Error(), "points") {
		t.Errorf("1 point: %v", err)
	}
	if _, err := a.Catalog.WALSparklines(a.Ctx(), []int64{one}, time.Second, 10); err == nil || !strings.Contains(err.Error(), "span") {
		t.Errorf("1 s span: %v", err)
	}
}

// The pipeline page charts its source's last 24 hours: an SVG line and the values
// (usable without JavaScript), the series uPlot draws over it, and a link to the
// source's WAL page.
func TestPipelinePageChartsItsSourcesLastDay(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	src := fleetFixture(t, a, "orders", 2048,
		fleetSample{ago: 30 * time.Hour, retained: 9000, active: true, status: "reserved"}, // before the day: left out
		fleetSample{ago: 20 * time.Hour, retained: 1024, active: true, status: "reserved"},
		fleetSample{ago: 10 * time.Hour, retained: 3072, active: true, status: "reserved"},
		fleetSample{ago: time.Hour, retained: 1536, active: true, status: "reserved"})
	dst := mkDestination(t, a, "analytics")
	p := mkPipeline(t, a, "orders-to-analytics", src, dst.ID)
	quiet := mkSource(t, a, "quiet")
	q := mkPipeline(t, a, "quiet-to-analytics", quiet.ID, dst.ID)

	doc := parse(t, a.Browser(auth.Viewer).Get(fmt.Sprintf("/pipelines/%d", p.ID)).Expect(t, http.StatusOK))
	panel := doc.Find(`[data-testid="pipeline-wal"]`)
	if panel.Length() != 1 {
		t.Fatal("no WAL chart on the pipeline page")
	}
	if href := panel.Find(`[data-testid="pipeline-wal-link"]`).AttrOr("href", ""); href != fmt.Sprintf("/sources/%d/wal?range=24h", src) {
		t.Errorf("chart links to %q", href)
	}
	for id, want := range map[string]string{"pipeline-wal-latest": "1.5 GiB", "pipeline-wal-low": "1.0 GiB", "pipeline-wal-peak": "3.0 GiB"} {
		if got := text(panel.Find(`[data-testid="` + id + `"]`)); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	svg := panel.Find(`svg[data-testid="pipeline-wal-sparkline"]`)
	if polylinePoints(svg) != 3 || svg.Find("line.sparkline-threshold").Length() != 1 {
		t.Errorf("sparkline: %d points, %d threshold lines; want 3 and 1", polylinePoints(svg), svg.Find("line.sparkline-threshold").Length())
	}
	chart := panel.Find(`#wal-mini-chart`)
	var series struct {
		T        []int64  `json:"t"`
		Retained []*int64 `json:"retained"`
	}
	if err := json.Unmarshal([]byte(chart.AttrOr("data-series", "")), &series); err != nil {
		t.Fatalf("data-series: %v", err)
	}
	if len(series.T) != 3 || *series.Retained[0] != 1024<<20 || *series.Retained[2] != 1536<<20 {
		t.Errorf("series %d points, retained %v", len(series.T), series.Retained)
	}
	if chart.AttrOr("data-stream-url", "") != fmt.Sprintf("/sources/%d/wal/stream", src) || chart.AttrOr("data-threshold", "") != fmt.Sprint(2048<<20) {
		t.Errorf("stream %q threshold %q", chart.AttrOr("data-stream-url", ""), chart.AttrOr("data-threshold", ""))
	}
	var scripts []string
	doc.Find("script[src]").Each(func(_ int, s *goquery.Selection) { scripts = append(scripts, s.AttrOr("src", "")) })
	if j := strings.Join(scripts, " "); !strings.Contains(j, "/uPlot.iife.min.") || !strings.Contains(j, "/js/wal.") {
		t.Errorf("scripts %v", scripts)
	}

	// A source without samples: the panel says so and still links to the WAL page.
	doc = parse(t, a.Browser(auth.Viewer).Get(fmt.Sprintf("/pipelines/%d", q.ID)).Expect(t, http.StatusOK))
	if doc.Find(`[data-testid="pipeline-wal-none"]`).Length() != 1 || doc.Find(`#wal-mini-chart`).Length() != 0 {
		t.Error("a pipeline whose source has no sample shows a chart")
	}
	if doc.Find(`[data-testid="pipeline-wal-link"]`).AttrOr("href", "") != fmt.Sprintf("/sources/%d/wal?range=24h", quiet.ID) {
		t.Error("no link to the source's WAL page")
	}
}
