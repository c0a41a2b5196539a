package web_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

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
