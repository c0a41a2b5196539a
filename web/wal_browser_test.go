package web_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rosetta-cdc/rosetta/internal/walhub/walhubtest"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// In Chromium: the WAL chart draws the stored series, a sample stored while the page is
// open appears without a reload, a zoom the user made survives it, and the range switch
// changes the URL.
func TestBrowserWALChartAppendsLiveSamplesAndKeepsTheZoom(t *testing.T) {
	b := newBrowserWith(t, webtest.WithLiveWAL())
	a := b.app
	hub := a.WALHub
	src := walSource(t, a, "alpha")
	now := time.Now()
	for i := range 10 {
		walhubtest.StoreAt(t, a.Pool, src, now.Add(time.Duration(i-10)*time.Minute), int64(1<<30+i*64<<20))
	}

	b.nav(fmt.Sprintf("/sources/%d/wal", src))
	b.waitFor("the chart is drawn", `document.querySelector("#wal-chart canvas") && document.querySelector("#wal-chart").dataset.points === "10"`)
	b.waitFor("the stream is open", `document.querySelector("#wal-chart").dataset.live === "open"`)
	waitSubscribers(t, hub, 1)

	// Not zoomed: a new sample is appended and the chart follows it.
	live := walhubtest.Store(t, a.Pool, src, 2<<30)
	b.waitFor("the live sample is on the chart", `document.querySelector("#wal-chart").dataset.points === "11" && document.querySelector("#wal-chart").dataset.lastId === "`+strconv.FormatInt(live[0].ID, 10)+`"`)

	// Zoom in on the middle of the data: a drag ends in the same setScale call (synthetic
	// mouse events proved unreliable headless, so the test zooms through the chart's API).
	evalJS[bool](b, `(() => {
		const u = document.querySelector("#wal-chart").uplot, t = u.data[0];
		u.setScale("x", {min: t[2], max: t[6]});
		return true;
	})()`)
	b.waitFor("zoomed in", `Number(document.querySelector("#wal-chart").dataset.xMin) > `+strconv.FormatInt(now.Add(-9*time.Minute).Unix(), 10))
	zoom := evalJS[string](b, `document.querySelector("#wal-chart").dataset.xMin + "/" + document.querySelector("#wal-chart").dataset.xMax`)

	next := walhubtest.Store(t, a.Pool, src, 3<<30)
	b.waitFor("the next live sample is on the chart", `document.querySelector("#wal-chart").dataset.lastId === "`+strconv.FormatInt(next[0].ID, 10)+`"`)
	if got := evalJS[string](b, `document.querySelector("#wal-chart").dataset.xMin + "/" + document.querySelector("#wal-chart").dataset.xMax`); got != zoom {
		t.Fatalf("the zoom changed with a live sample: %s → %s", zoom, got)
	}
	if got := evalJS[string](b, `document.querySelector("#wal-chart").dataset.points`); got != "12" {
		t.Fatalf("points %s, want 12", got)
	}
	b.screenshot("wal-source")

	// The range switch is a link: the range lands in the URL and the page follows it.
	b.click(`[data-testid="wal-ranges"] a[data-range="1h"]`)
	b.waitFor("the 1h range", `location.search === "?range=1h" && document.querySelector('[data-testid="wal-ranges"] [aria-current="page"]').dataset.range === "1h" && !!document.querySelector("#wal-chart canvas")`)
}

// In Chromium: the range switch reloads the chart with that range's samples, and the
// range lives in the URL (so it survives a reload and the back button).
func TestBrowserWALRangeSwitchIsInTheURL(t *testing.T) {
	b := newBrowserWith(t, webtest.WithLiveWAL())
	a := b.app
	src := walSource(t, a, "alpha")
	now := time.Now()
	// One sample in each range's reach: 5 minutes, 3 hours, 3 days and 20 days ago.
	for _, ago := range []time.Duration{20 * 24 * time.Hour, 3 * 24 * time.Hour, 3 * time.Hour, 5 * time.Minute} {
		walhubtest.StoreAt(t, a.Pool, src, now.Add(-ago), 1<<30)
	}
	points := func(rng, want string) {
		t.Helper()
		b.waitFor("the "+rng+" range with "+want+" points", `document.querySelector("#wal-chart").dataset.points === "`+want+`" && `+
			`document.querySelector('[data-testid="wal-ranges"] [aria-current="page"]').dataset.range === "`+rng+`"`)
	}
	b.nav(fmt.Sprintf("/sources/%d/wal", src))
	points("24h", "2")
	for _, r := range []struct{ key, points string }{{"7d", "3"}, {"30d", "4"}, {"1h", "1"}} {
		b.click(`[data-testid="wal-ranges"] a[data-range="` + r.key + `"]`)
		b.waitFor("the URL carries "+r.key, `location.search === "?range=`+r.key+`"`)
		points(r.key, r.points)
	}
	evalJS[chromedp.Void](b, `history.back()`)
	b.waitFor("back to 30d", `location.search === "?range=30d"`)
	points("30d", "4")
	evalJS[chromedp.Void](b, `location.reload()`)
	points("30d", "4")
}

// In Chromium: the overview flags the source over its threshold and ranks it first
// (though its name sorts last), draws every row's sparkline; the WAL pages and the
// pipeline page with its chart (uPlot over the server's drawing) pass axe.
func TestBrowserWALOverviewFlagsTheSourceOverItsThresholdOnTopAndThePagesPassAxe(t *testing.T) {
	b := newBrowserWith(t, webtest.WithLiveWAL())
	a := b.app
	calm := fleetFixture(t, a, "calm", 10240,
		fleetSample{ago: 2 * time.Hour, retained: 512, active: true, status: "reserved"},
		fleetSample{ago: time.Minute, retained: 600, active: true, status: "reserved"})
	over := fleetFixture(t, a, "zz_over", 1024,
		fleetSample{ago: 3 * time.Hour, retained: 700, active: true, status: "reserved"},
		fleetSample{ago: 2 * time.Hour, retained: 1200, active: true, status: "reserved"},
		fleetSample{ago: time.Minute, retained: 1536, active: true, status: "reserved"})
	dst := mkDestination(t, a, "analytics")
	p := mkPipeline(t, a, "over-to-analytics", over, dst.ID)

	b.nav("/wal")
	b.waitFor("the overview", `document.querySelectorAll('[data-testid="wal-row"]').length === 2`)
	first := evalJS[string](b, `(() => { const r = document.querySelector('[data-testid="wal-row"]');
		return r.dataset.id + "|" + r.dataset.flagged + "|" + [...r.querySelectorAll("[data-flag]")].map(f => f.textContent.trim()).join(",") })()`)
	if want := fmt.Sprintf("%d|true|over threshold", over); first != want {
		t.Fatalf("first row %q, want %q (the source over its threshold, flagged)", first, want)
	}
	if got := evalJS[string](b, `document.querySelectorAll('[data-testid="wal-row"]')[1].dataset.id`); got != strconv.FormatInt(calm, 10) {
		t.Fatalf("second row is source %s, want calm (%d)", got, calm)
	}
	if n := evalJS[int](b, `[...document.querySelectorAll('svg[data-testid="wal-sparkline"]')].filter(s => s.getBoundingClientRect().width > 0).length`); n != 2 {
		t.Fatalf("%d visible sparklines, want 2", n)
	}
	b.checkAxe("/wal")

	// Sorting by name in place (htmx) puts it last; the default order brings it back on top.
	b.click(`thead a.sort[href*="sort=-name"], thead a.sort[href*="sort=name"]`)
	b.waitFor("sorted by name", `location.search.includes("sort=") && document.querySelector('[data-testid="wal-row"]').dataset.id === "`+strconv.FormatInt(calm, 10)+`"`)
	b.nav("/wal")
	b.waitFor("worst first again", `document.querySelector('[data-testid="wal-row"]').dataset.id === "`+strconv.FormatInt(over, 10)+`"`)

	b.nav(fmt.Sprintf("/sources/%d/wal", over))
	b.waitFor("the chart is drawn", `!!document.querySelector("#wal-chart canvas") && document.querySelector("#wal-chart").dataset.live === "open"`)
	b.checkAxe("/sources/{id}/wal")

	b.nav(fmt.Sprintf("/pipelines/%d", p.ID))
	b.waitFor("the pipeline's WAL chart is drawn by uPlot", `!!document.querySelector("#wal-mini-chart canvas") && !document.querySelector("#wal-mini-chart svg.sparkline") && document.querySelector("#wal-mini-chart").dataset.points === "3"`)
	b.waitFor("and is live", `document.querySelector("#wal-mini-chart").dataset.live === "open"`)
	waitSubscribers(t, a.WALHub, 1)
	live := walhubtest.Store(t, a.Pool, over, 4<<30)
	b.waitFor("a live sample reaches the pipeline's chart", `document.querySelector("#wal-mini-chart").dataset.lastId === "`+strconv.FormatInt(live[0].ID, 10)+`"`)
	b.screenshot("pipeline-wal")
	b.checkAxe("/pipelines/{id}")
	b.click(`[data-testid="pipeline-wal-link"]`)
	b.waitFor("the source's WAL page", fmt.Sprintf(`location.pathname === "/sources/%d/wal" && location.search === "?range=24h"`, over))
}
