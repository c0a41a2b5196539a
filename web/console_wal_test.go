package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/walhub/walhubtest"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

type chartSeries struct {
	T        []int64  `json:"t"`
	Size     []int64  `json:"size"`
	Retained []*int64 `json:"retained"`
	IDs      []int64  `json:"ids"`
}

func TestSourceWALPageShowsTheChartDataLatestValuesAndRecentSamplesWithoutJavaScript(t *testing.T) {
	a := webtest.New(t)
	src := walSource(t, a, "alpha")
	now := time.Now()
	old := walhubtest.StoreAt(t, a.Pool, src, now.Add(-3*time.Hour), 1<<30)
	recent := walhubtest.StoreAt(t, a.Pool, src, now.Add(-20*time.Minute), 2<<30)
	newest := walhubtest.StoreAt(t, a.Pool, src, now.Add(-10*time.Minute), 2<<30+600*1024*1024)
	other := walSource(t, a, "beta")
	walhubtest.StoreAt(t, a.Pool, other, now.Add(-5*time.Minute), 7<<30)

	b := a.Browser(auth.Viewer)
	url := fmt.Sprintf("/sources/%d/wal", src)
	r := b.Get(url)
	if r.Code != http.StatusOK {
		t.Fatalf("status %d: %s", r.Code, r.Body)
	}
	doc := r.Doc(t)
	chart := doc.Find("#wal-chart")
	if got := chart.AttrOr("data-stream-url", ""); got != url+"/stream" {
		t.Fatalf("stream url %q", got)
	}
	if got := chart.AttrOr("data-threshold", ""); got != strconv.FormatInt(a.Config.WALRetentionAlertBytes, 10) {
		t.Fatalf("threshold %q, want the configured default %d", got, a.Config.WALRetentionAlertBytes)
	}
	var s chartSeries
	if err := json.Unmarshal([]byte(chart.AttrOr("data-series", "")), &s); err != nil {
		t.Fatalf("data-series: %v", err)
	}
	// 24h by default, oldest first, this source's samples only.
	want := []int64{old[0].ID, recent[0].ID, newest[0].ID}
	if !slices.Equal(s.IDs, want) || len(s.T) != 3 || s.Size[2] != newest[0].SizeBytes {
		t.Fatalf("series %+v, want ids %v", s, want)
	}
	var scripts []string
	doc.Find("script[src]").Each(func(_ int, sel *goquery.Selection) { scripts = append(scripts, sel.AttrOr("src", "")) })
	if !anyContains(scripts, "/static/vendor/uPlot") || !anyContains(scripts, "/static/js/wal") {
		t.Fatalf("scripts %v: uPlot and wal.js expected", scripts)
	}

	// Without JavaScript: the latest values and the recent samples, newest first.
	if got := strings.TrimSpace(doc.Find(`[data-testid="latest-size"]`).Text()); got != "2.6 GiB" {
		t.Fatalf("latest size %q", got)
	}
	if got := strings.TrimSpace(doc.Find(`[data-testid="latest-retained"]`).Text()); got != "1.3 GiB" {
		t.Fatalf("latest retained %q", got)
	}
	// 600 MiB in 10 minutes = 1 MiB/s.
	if got := strings.TrimSpace(doc.Find(`[data-testid="latest-growth"]`).Text()); got != "1.0 MiB/s" {
		t.Fatalf("growth %q", got)
	}
	var rows []string
	doc.Find(`[data-testid="wal-samples"] tbody tr`).Each(func(_ int, sel *goquery.Selection) {
		rows = append(rows, sel.AttrOr("data-sample-id", ""))
	})
	if !slices.Equal(rows, []string{idStr(newest[0].ID), idStr(recent[0].ID), idStr(old[0].ID)}) {
		t.Fatalf("table rows %v", rows)
	}
	if cur := doc.Find(`[data-testid="wal-ranges"] [aria-current="page"]`).AttrOr("data-range", ""); cur != "24h" {
		t.Fatalf("current range %q", cur)
	}
}

func TestSourceWALPageRangeIsInTheURLAndValidated(t *testing.T) {
	a := webtest.New(t)
	src := walSource(t, a, "alpha")
	now := time.Now()
	walhubtest.StoreAt(t, a.Pool, src, now.Add(-3*time.Hour), 1)
	inHour := walhubtest.StoreAt(t, a.Pool, src, now.Add(-30*time.Minute), 2)
	b := a.Browser(auth.Viewer)

	doc := b.Get(fmt.Sprintf("/sources/%d/wal?range=1h", src)).Doc(t)
	var s chartSeries
	if err := json.Unmarshal([]byte(doc.Find("#wal-chart").AttrOr("data-series", "")), &s); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.IDs, []int64{inHour[0].ID}) {
		t.Fatalf("1h series %v, want only %d", s.IDs, inHour[0].ID)
	}
	var links []string
	doc.Find(`[data-testid="wal-ranges"] a`).Each(func(_ int, sel *goquery.Selection) { links = append(links, sel.AttrOr("href", "")) })
	base := fmt.Sprintf("/sources/%d/wal?range=", src)
	if !slices.Equal(links, []string{base + "1h", base + "24h", base + "7d", base + "30d"}) {
		t.Fatalf("range links %v", links)
	}
	if cur := doc.Find(`[aria-current="page"][data-range]`).AttrOr("data-range", ""); cur != "1h" {
		t.Fatalf("current range %q", cur)
	}

	r := b.Get(fmt.Sprintf("/sources/%d/wal?range=2w", src))
	if r.Code != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "range") {
		t.Fatalf("bad range: %d %s", r.Code, r.Body)
	}
	if r := b.Get("/sources/999999/wal"); r.Code != http.StatusNotFound {
		t.Fatalf("unknown source: %d", r.Code)
	}
	// A source without samples says so.
	empty := walSource(t, a, "empty")
	if doc := b.Get(fmt.Sprintf("/sources/%d/wal", empty)).Doc(t); doc.Find(`[data-testid="wal-none"]`).Length() != 1 {
		t.Fatal("no 'no sample yet' message")
	}
}

func anyContains(list []string, sub string) bool {
	return slices.ContainsFunc(list, func(s string) bool { return strings.Contains(s, sub) })
}

func idStr(id int64) string { return strconv.FormatInt(id, 10) }
