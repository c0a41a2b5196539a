package metrics_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/rosetta-cdc/rosetta/internal/metrics"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// scrape fetches /metrics from the listener handler, checks it is the text format that
// promtool's `check metrics` accepts (the same parser and promlint rules), and returns
// the parsed families.
func scrape(t *testing.T, m *metrics.Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	m.ListenerHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type = %q, want the text exposition format", ct)
	}
	body := rec.Body.Bytes()
	problems, err := promlint.New(bytes.NewReader(body)).Lint()
	if err != nil {
		t.Fatalf("promlint cannot parse the scrape: %v\n%s", err, body)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse scrape: %v", err)
	}
	return fams
}

// value is the value of the series of family name whose labels include want; ok is
// false when there is none.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

func expect(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string, want float64) {
	t.Helper()
	got, ok := value(fams, name, labels)
	if !ok {
		t.Errorf("%s%v: missing", name, labels)
		return
	}
	if got != want {
		t.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
}

func expectAbsent(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) {
	t.Helper()
	if v, ok := value(fams, name, labels); ok {
		t.Errorf("%s%v = %v, want no such series", name, labels, v)
	}
}

func TestScrapeCarriesEverythingAndPassesPromlint(t *testing.T) {
	d := testdb.New(t)
	m := metrics.New()
	m.WatchPool(d.Pool)
	if _, err := d.Pool.Exec(context.Background(), "SELECT 1"); err != nil {
		t.Fatal(err)
	}

	e := echo.New()
	e.Pre(m.Middleware())
	e.GET("/sources/:id", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.GET("/forbidden", func(c echo.Context) error { return echo.NewHTTPError(http.StatusForbidden) })
	for _, r := range []struct{ method, path string }{
		{"GET", "/sources/42"}, {"GET", "/sources/43"}, {"GET", "/forbidden"},
		{"GET", "/no/such/page"}, {"BREW", "/sources/1"},
	} {
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(r.method, r.path, nil))
	}

	retained := int64(4096)
	m.LeaderChanged(true)
	m.ProbeDone(1, "orders", 150*time.Millisecond, nil)
	m.SourceWAL(1, "orders", 123456, &retained)
	m.ProbeDone(2, "billing", 2*time.Second, errors.New("connection refused"))
	m.ProbeDone(3, "noslot", 10*time.Millisecond, nil)
	m.SourceWAL(3, "noslot", 777, nil)
	m.CycleDone(3*time.Second, 3, 1, 2, nil)

	fams := scrape(t, m)

	// HTTP: the route template, never the URL a client typed
	expect(t, fams, "rosetta_http_requests_total", map[string]string{"method": "GET", "route": "/sources/:id", "status": "200"}, 2)
	expect(t, fams, "rosetta_http_requests_total", map[string]string{"route": "/forbidden", "status": "403"}, 1)
	expect(t, fams, "rosetta_http_requests_total", map[string]string{"route": "unmatched", "status": "404"}, 1)
	expect(t, fams, "rosetta_http_requests_total", map[string]string{"method": "other"}, 1)
	expect(t, fams, "rosetta_http_request_duration_seconds", map[string]string{"route": "/sources/:id", "status": "200"}, 2)
	for _, f := range []string{"rosetta_http_requests_total", "rosetta_http_request_duration_seconds"} {
		for _, s := range fams[f].GetMetric() {
			for _, l := range s.GetLabel() {
				if strings.Contains(l.GetValue(), "42") || strings.Contains(l.GetValue(), "no/such") || l.GetValue() == "BREW" {
					t.Errorf("%s has a label from the raw request: %s=%q", f, l.GetName(), l.GetValue())
				}
			}
		}
	}

	// the pool, read at scrape time
	expect(t, fams, "rosetta_db_pool_max_connections", nil, float64(d.Pool.Stat().MaxConns()))
	if v, ok := value(fams, "rosetta_db_pool_acquires_total", nil); !ok || v < 1 {
		t.Errorf("rosetta_db_pool_acquires_total = %v (present %v), want ≥ 1 after a query", v, ok)
	}

	// the monitor
	expect(t, fams, "rosetta_walmon_leader", nil, 1)
	expect(t, fams, "rosetta_walmon_probe_duration_seconds", map[string]string{"source_id": "1", "source": "orders"}, 1)
	expect(t, fams, "rosetta_walmon_probe_failures_total", map[string]string{"source_id": "1", "source": "orders"}, 0)
	expect(t, fams, "rosetta_walmon_probe_failures_total", map[string]string{"source_id": "2", "source": "billing"}, 1)
	expect(t, fams, "rosetta_walmon_last_cycle_duration_seconds", nil, 3)
	expect(t, fams, "rosetta_walmon_last_cycle_success", nil, 1)
	expect(t, fams, "rosetta_walmon_last_cycle_sources", nil, 3)
	expect(t, fams, "rosetta_walmon_last_cycle_failed_sources", nil, 1)
	expect(t, fams, "rosetta_walmon_cycles_total", map[string]string{"outcome": "ok"}, 1)
	expect(t, fams, "rosetta_walmon_samples_written_total", nil, 2)
	if v, _ := value(fams, "rosetta_walmon_last_cycle_timestamp_seconds", nil); v < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("rosetta_walmon_last_cycle_timestamp_seconds = %v, want about now", v)
	}
	expect(t, fams, "rosetta_source_wal_size_bytes", map[string]string{"source_id": "1", "source": "orders"}, 123456)
	expect(t, fams, "rosetta_source_slot_retained_wal_bytes", map[string]string{"source_id": "1", "source": "orders"}, 4096)
	expect(t, fams, "rosetta_source_wal_size_bytes", map[string]string{"source_id": "3"}, 777)
	expectAbsent(t, fams, "rosetta_source_slot_retained_wal_bytes", map[string]string{"source_id": "3"})
	expectAbsent(t, fams, "rosetta_source_wal_size_bytes", map[string]string{"source_id": "2"})

	// the runtime, for memory and goroutines
	if _, ok := fams["go_goroutines"]; !ok {
		t.Error("go_goroutines missing")
	}

	// a failed cycle and a lost leadership show
	m.LeaderChanged(false)
	m.CycleDone(time.Second, 0, 0, 0, errors.New("list sources: database unavailable"))
	fams = scrape(t, m)
	expect(t, fams, "rosetta_walmon_leader", nil, 0)
	expect(t, fams, "rosetta_walmon_last_cycle_success", nil, 0)
	expect(t, fams, "rosetta_walmon_cycles_total", map[string]string{"outcome": "error"}, 1)
}

// A deleted or renamed source must not linger in the scrape, but a cycle that failed as
// a whole (it saw no source at all) must not wipe every source either.
func TestCycleDropsSourcesNoLongerProbed(t *testing.T) {
	m := metrics.New()
	r := int64(1)
	m.ProbeDone(1, "a", time.Millisecond, nil)
	m.SourceWAL(1, "a", 10, &r)
	m.ProbeDone(2, "b", time.Millisecond, errors.New("down"))
	m.CycleDone(time.Second, 2, 1, 1, nil)
	fams := scrape(t, m)
	expect(t, fams, "rosetta_source_wal_size_bytes", map[string]string{"source_id": "1", "source": "a"}, 10)
	expect(t, fams, "rosetta_walmon_probe_failures_total", map[string]string{"source_id": "2", "source": "b"}, 1)

	// source 1 renamed to a2, source 2 deleted
	m.ProbeDone(1, "a2", time.Millisecond, nil)
	m.SourceWAL(1, "a2", 20, &r)
	m.CycleDone(time.Second, 1, 0, 1, nil)
	fams = scrape(t, m)
	expect(t, fams, "rosetta_source_wal_size_bytes", map[string]string{"source_id": "1", "source": "a2"}, 20)
	expectAbsent(t, fams, "rosetta_source_wal_size_bytes", map[string]string{"source": "a"})
	expectAbsent(t, fams, "rosetta_source_slot_retained_wal_bytes", map[string]string{"source": "a"})
	expectAbsent(t, fams, "rosetta_walmon_probe_duration_seconds", map[string]string{"source": "a"})
	expectAbsent(t, fams, "rosetta_walmon_probe_failures_total", map[string]string{"source_id": "2"})

	m.CycleDone(time.Second, 0, 0, 0, errors.New("list sources: database unavailable"))
	fams = scrape(t, m)
	expect(t, fams, "rosetta_source_wal_size_bytes", map[string]string{"source_id": "1", "source": "a2"}, 20)
}

// The METRICS_ADDR listener is unauthenticated, so it must serve /metrics and nothing
// else.
func TestListenerServesOnlyMetrics(t *testing.T) {
	srv := httptest.NewServer(metrics.New().ListenerHandler())
	defer srv.Close()
	for path, want := range map[string]int{"/metrics": 200, "/": 404, "/health": 404, "/api/v1/sources": 404, "/metrics/x": 404} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, res.StatusCode, want)
		}
	}
	res, err := http.Post(srv.URL+"/metrics", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics = %d, want 405", res.StatusCode)
	}
}

// Two Metrics in one process (two servers in a test) must not collide, and each shows
// only its own counts.
func TestPrivateRegistries(t *testing.T) {
	a, b := metrics.New(), metrics.New()
	a.LeaderChanged(true)
	expect(t, scrape(t, a), "rosetta_walmon_leader", nil, 1)
	expect(t, scrape(t, b), "rosetta_walmon_leader", nil, 0)
}

// hubCounts stands in for the live-update hub's two counters: the collector only reads
// them (internal/walhub's tests count subscribers and drops on a real database).
type hubCounts struct {
	subscribers int
	dropped     int64
}

func (h *hubCounts) Subscribers() int    { return h.subscribers }
func (h *hubCounts) DroppedTotal() int64 { return h.dropped }

// The SSE series are read from the hub at each scrape, so they follow it without anyone
// updating them, and pass promlint (a counter named _total, a gauge without).
func TestSSESubscribersAndDroppedClientsAreReadAtScrape(t *testing.T) {
	m := metrics.New()
	h := &hubCounts{}
	m.WatchSSE(h)
	fams := scrape(t, m)
	expect(t, fams, "rosetta_sse_subscribers", nil, 0)
	expect(t, fams, "rosetta_sse_dropped_clients_total", nil, 0)

	h.subscribers, h.dropped = 1000, 3
	fams = scrape(t, m)
	expect(t, fams, "rosetta_sse_subscribers", nil, 1000)
	expect(t, fams, "rosetta_sse_dropped_clients_total", nil, 3)
	if got := fams["rosetta_sse_dropped_clients_total"].GetType(); got != dto.MetricType_COUNTER {
		t.Errorf("rosetta_sse_dropped_clients_total is a %v, want a counter", got)
	}
	if got := fams["rosetta_sse_subscribers"].GetType(); got != dto.MetricType_GAUGE {
		t.Errorf("rosetta_sse_subscribers is a %v, want a gauge", got)
	}
}
