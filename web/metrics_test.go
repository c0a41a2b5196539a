package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/web/api"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// /metrics is behind sign-in like everything else, readable by a viewer's token (what
// Prometheus sends), and counts requests by route template, refused ones included.
func TestMetricsNeedsAViewerAndCountsByRouteTemplate(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	// Three times, and the route once with another status: each series is looked up once
	// and then kept, and every request must still count in its own.
	for range 3 {
		a.Do("GET", "/api/v1/sources/424242", nil).Expect(t, http.StatusNotFound)
	}
	a.Do("GET", "/api/v1/sources/0", nil).Expect(t, http.StatusUnprocessableEntity)
	a.Anonymous().Do("GET", "/api/v1/sources", nil).Expect(t, http.StatusUnauthorized)

	// a scraper without a token gets 401, not a redirect to the sign-in page
	if r := a.Anonymous().Do("GET", "/metrics", nil); r.Code != http.StatusUnauthorized {
		t.Fatalf("anonymous GET /metrics = %d, want 401: %.200s", r.Code, r.Body)
	}
	a.Anonymous().Do("GET", "/metrics", nil, "Authorization: Bearer rst_not-a-token").Expect(t, http.StatusUnauthorized)

	r := a.As(auth.Viewer).Do("GET", "/metrics", nil).Expect(t, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type = %q", ct)
	}
	body := string(r.Body)
	for _, want := range []string{
		`rosetta_http_requests_total{method="GET",route="/api/v1/sources/:id",status="404"} 3`,
		`rosetta_http_request_duration_seconds_count{method="GET",route="/api/v1/sources/:id",status="404"} 3`,
		`rosetta_http_requests_total{method="GET",route="/api/v1/sources/:id",status="422"} 1`,
		`rosetta_http_requests_total{method="GET",route="/api/v1/sources",status="401"} 1`,
		`rosetta_db_pool_max_connections `,
		`rosetta_walmon_leader 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, "424242") {
		t.Error("/metrics carries a raw URL")
	}
}

func TestHealthReportsTheMonitor(t *testing.T) {
	t.Parallel()
	monitor := func(h map[string]any) map[string]any {
		t.Helper()
		m, ok := h["monitor"].(map[string]any)
		if !ok {
			t.Fatalf("no monitor in %v", h)
		}
		return m
	}

	// not wired, or wired but disabled: off
	off := webtest.New(t)
	if m := monitor(off.Anonymous().Do("GET", "/api/v1/health", nil).Expect(t, 200).Map(t)); m["status"] != "off" || len(m) != 1 {
		t.Errorf("no monitor: %v", m)
	}
	disabled := webtest.New(t, webtest.WithMonitor(func() api.MonitorStatus { return api.MonitorStatus{Leader: true} }))
	if m := monitor(disabled.Anonymous().Do("GET", "/api/v1/health", nil).Expect(t, 200).Map(t)); m["status"] != "off" {
		t.Errorf("disabled monitor: %v", m)
	}

	// a follower that never ran a cycle
	follower := webtest.New(t, webtest.WithMonitor(func() api.MonitorStatus { return api.MonitorStatus{Running: true} }))
	m := monitor(follower.Anonymous().Do("GET", "/api/v1/health", nil).Expect(t, 200).Map(t))
	if m["status"] != "follower" || m["last_cycle_outcome"] != "none" || m["last_cycle_at"] != nil {
		t.Errorf("follower: %v", m)
	}

	// a leader whose last cycle failed: readiness stays 200, the outcome says failed,
	// and the error text (which can name hosts) stays out of this public answer
	at := time.Date(2026, 11, 29, 16, 0, 0, 0, time.FixedZone("CET", 3600))
	leader := webtest.New(t, webtest.WithMonitor(func() api.MonitorStatus {
		return api.MonitorStatus{Running: true, Leader: true, LastCycleAt: at, LastCycleDuration: 1500 * time.Millisecond,
			LastCycleErr: "list sources: dial tcp db.internal:5432: connection refused"}
	}))
	r := leader.Anonymous().Do("GET", "/api/v1/health", nil).Expect(t, 200)
	m = monitor(r.Map(t))
	if m["status"] != "leader" || m["last_cycle_outcome"] != "failed" || m["last_cycle_at"] != "2026-11-29T15:00:00Z" || m["last_cycle_duration_ms"] != 1500.0 {
		t.Errorf("leader: %v", m)
	}
	if strings.Contains(string(r.Body), "db.internal") {
		t.Errorf("health leaks the cycle error: %s", r.Body)
	}

	ok := webtest.New(t, webtest.WithMonitor(func() api.MonitorStatus {
		return api.MonitorStatus{Running: true, LastCycleAt: at, LastCycleDuration: time.Second}
	}))
	if m := monitor(ok.Anonymous().Do("GET", "/api/v1/health", nil).Expect(t, 200).Map(t)); m["status"] != "follower" || m["last_cycle_outcome"] != "ok" {
		t.Errorf("follower with a cycle: %v", m)
	}
}
