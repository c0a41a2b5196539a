package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestWALMetrics(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	ctx := context.Background()
	s1 := a.Do("POST", "/api/v1/sources", sourceBody("one")).Expect(t, 201).Map(t)
	s2 := a.Do("POST", "/api/v1/sources", sourceBody("two")).Expect(t, 201).Map(t)
	id1, id2 := int64(s1["id"].(float64)), int64(s2["id"].(float64))
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	retained := int64(4096)
	for i := range 300 {
		for _, id := range []int64{id1, id2} {
			in := catalog.NewWALSample{SourceID: id, SizeBytes: int64(1000 + i), RecordedAt: base.Add(time.Duration(i) * time.Minute)}
			if i == 150 {
				in.SizeBytes = 999999 // a spike downsampling must keep
				in.RetainedBytes = &retained
			}
			if _, err := a.Catalog.RecordWALSample(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
	}

	r := a.Do("GET", fmt.Sprintf("/api/v1/metrics/wal?source_id=%d&limit=10", id1), nil).Expect(t, 200).Map(t)
	items := r["items"].([]any)
	if r["matched"] != float64(300) || r["downsampled"] != true || len(items) == 0 || len(items) > 10 {
		t.Fatalf("downsampled: matched=%v downsampled=%v n=%d", r["matched"], r["downsampled"], len(items))
	}
	var peak bool
	prev := ""
	for _, it := range items {
		m := it.(map[string]any)
		if m["source_id"] != float64(id1) {
			t.Fatalf("other source's sample: %v", m)
		}
		if m["size_bytes"] == float64(999999) {
			peak = true
		}
		if ts := m["recorded_at"].(string); prev != "" && ts > prev {
			t.Fatalf("not newest first: %s after %s", ts, prev)
		} else {
			prev = ts
		}
	}
	if !peak {
		t.Error("downsampling lost the spike")
	}

	// a range with fewer samples than limit comes back raw, newest first, end inclusive
	start, end := base.Add(10*time.Minute).Format(time.RFC3339), base.Add(19*time.Minute).Format(time.RFC3339)
	r = a.Do("GET", fmt.Sprintf("/api/v1/metrics/wal?source_id=%d&start=%s&end=%s", id2, start, end), nil).Expect(t, 200).Map(t)
	items = r["items"].([]any)
	if r["downsampled"] != false || len(items) != 10 || items[0].(map[string]any)["size_bytes"] != float64(1019) {
		t.Fatalf("raw range: %v", r)
	}
	// no filter: both sources
	r = a.Do("GET", "/api/v1/metrics/wal?limit=10000", nil).Expect(t, 200).Map(t)
	if len(r["items"].([]any)) != 600 {
		t.Errorf("all samples: %d", len(r["items"].([]any)))
	}
	// the source shows its latest sample
	src := a.Do("GET", fmt.Sprintf("/api/v1/sources/%d", id1), nil).Expect(t, 200).Map(t)
	if lw, _ := src["latest_wal"].(map[string]any); lw == nil || lw["size_bytes"] != float64(1299) {
		t.Errorf("latest_wal = %v", src["latest_wal"])
	}

	expectProblem(t, a.Do("GET", "/api/v1/metrics/wal?limit=10001", nil), http.StatusUnprocessableEntity)
	expectProblem(t, a.Do("GET", "/api/v1/metrics/wal?start=yesterday", nil), http.StatusBadRequest)
	p := expectProblem(t, a.Do("GET", fmt.Sprintf("/api/v1/metrics/wal?start=%s&end=%s", end, start), nil), http.StatusUnprocessableEntity)
	if fieldsOf(p)["end"] == "" {
		t.Errorf("end before start: %v", p.Errors)
	}
	expectProblem(t, a.Do("GET", "/api/v1/metrics/wal?source_id=4242", nil), http.StatusUnprocessableEntity)

	// deleting a source deletes its samples
	a.Do("DELETE", fmt.Sprintf("/api/v1/sources/%d", id1), nil).Expect(t, 204)
	var n int
	if err := a.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM wal_metrics WHERE source_id = $1`, id1).Scan(&n); err != nil || n != 0 {
		t.Errorf("samples left after delete: %d %v", n, err)
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	r := a.Do("GET", "/health", nil).Expect(t, 200).Map(t)
	if r["status"] != "ok" {
		t.Errorf("/health = %v", r)
	}
	h := a.Do("GET", "/api/v1/health", nil).Expect(t, 200).Map(t)
	d := h["database"].(map[string]any)
	if h["status"] != "healthy" || d["status"] != "up" || h["migration_version"].(float64) < 1 || d["pool"].(map[string]any)["max"].(float64) < 1 {
		t.Errorf("/api/v1/health = %v", h)
	}
}

// TestDatabaseOutage stops the database under a running server: requests get 503 problem
// JSON quickly, readiness says unhealthy, and service resumes alone once it is back.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	cl := testdb.NewCluster(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, cl.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE rosetta"); err != nil {
		t.Fatal(err)
	}
	admin.Close(ctx)
	a := webtest.New(t, webtest.WithPool(func(t testing.TB) *db.Pool {
		p, err := db.NewPool(ctx, cl.URL("rosetta"), db.PoolOptions{MaxConns: 4, AcquireTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		if err := db.MigrateUp(ctx, p.Pool); err != nil {
			t.Fatal(err)
		}
		return p
	}))
	a.Do("POST", "/api/v1/sources", sourceBody("before")).Expect(t, 201)

	if err := cl.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	p := expectProblem(t, a.Do("GET", "/api/v1/sources", nil), http.StatusServiceUnavailable)
	if p.Code != "unavailable" || strings.Contains(p.Detail, "127.0.0.1") {
		t.Errorf("outage problem: %+v", p)
	}
	expectProblem(t, a.Do("POST", "/api/v1/sources", sourceBody("during")), http.StatusServiceUnavailable)
	h := a.Do("GET", "/api/v1/health", nil)
	if h.Code != http.StatusServiceUnavailable || h.Map(t)["status"] != "unhealthy" {
		t.Errorf("health during outage: %d %s", h.Code, h.Body)
	}
	if el := time.Since(start); el > 15*time.Second {
		t.Errorf("outage answers took %s: they must not hang", el)
	}

	if err := cl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := a.Do("GET", "/api/v1/sources", nil)
		if r.Code == 200 {
			if r.Map(t)["total"] != float64(1) {
				t.Errorf("after recovery: %s", r.Body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("service did not resume: %d %s", r.Code, r.Body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	a.Do("GET", "/api/v1/health", nil).Expect(t, 200)
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	r := a.Do("GET", "/api/v1/openapi.json", nil).Expect(t, 200)
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}
	n := 0
	for _, rt := range a.Server.Echo.Routes() {
		rest, ok := strings.CutPrefix(rt.Path, "/api/v1")
		if !ok || rest == "/openapi.json" || rest == "/openapi.yaml" || rest == "/openapi-3.0.json" || rest == "/openapi-3.0.yaml" || rt.Method == "echo_route_not_found" {
			continue
		}
		path := rest
		for _, seg := range strings.Split(rest, "/") {
			if strings.HasPrefix(seg, ":") {
				path = strings.Replace(path, seg, "{"+seg[1:]+"}", 1)
			}
		}
		ops, ok := doc.Paths[path]
		if !ok || ops[strings.ToLower(rt.Method)] == nil {
			t.Errorf("%s %s is served but not documented", rt.Method, rt.Path)
		}
		n++
	}
	if n < 20 {
		t.Errorf("only %d API routes found", n)
	}
	// every documented operation lists its problem responses
	for path, ops := range doc.Paths {
		for method, o := range ops {
			resp := o.(map[string]any)["responses"].(map[string]any)
			if _, ok := resp["500"]; !ok {
				t.Errorf("%s %s documents no 500 problem", method, path)
			}
		}
	}
	// the docs page is served by the binary
	a.Do("GET", "/api/v1/openapi.yaml", nil).Expect(t, 200)
}

// Query and path parameters are refused in the same plain words as bodies, naming the
// parameter — never a Go time layout or a validator's jargon.
func TestParameterMessages(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	for _, c := range []struct {
		path, field, want string
		status            int
	}{
		{"/api/v1/metrics/wal?start=yesterday", "start", "must be an RFC 3339 date-time such as 2026-01-31T00:00:00Z", 400},
		{"/api/v1/sources/abc", "id", "must be a whole number", 400},
		{"/api/v1/sources/0", "id", "must be at least 1", 422},
		{"/api/v1/sources?limit=9999", "limit", "must be at most 500", 422},
		{"/api/v1/pipelines?status=FOO", "status", "must be one of START, PAUSE, REFRESH", 422},
	} {
		var p struct {
			Detail string
			Errors []struct{ Field, Message string }
		}
		a.Do("GET", c.path, nil).Expect(t, c.status).Decode(t, &p)
		if len(p.Errors) != 1 || p.Errors[0].Field != c.field || p.Errors[0].Message != c.want {
			t.Errorf("GET %s: errors %+v, want %s %q", c.path, p.Errors, c.field, c.want)
		}
	}
}
