package app

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
)

// METRICS_ADDR serves /metrics without authentication and nothing else, stops with the
// App, and a listener that cannot open stops start-up naming the variable.
func TestMetricsListener(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	d := testdb.New(t)
	pool := db.Wrap(d.Pool, 5*time.Second)
	a, err := New(context.Background(), testConfig(t, map[string]string{"METRICS_ADDR": addr}), Options{What: Everything, Logger: quiet(), Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Listen(); err != nil {
		t.Fatal(err)
	}
	if a.MetricsURL != "http://"+addr+"/metrics" {
		t.Fatalf("MetricsURL = %q", a.MetricsURL)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()

	get := func(path string) (int, string, error) {
		res, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, "", err
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), nil
	}
	code, body, err := get("/metrics")
	if err != nil || code != http.StatusOK || !strings.Contains(body, "rosetta_walmon_leader") || !strings.Contains(body, "rosetta_db_pool_max_connections") {
		t.Fatalf("GET /metrics = %d %v: %.300s", code, err, body)
	}
	for _, p := range []string{"/", "/health", "/api/v1/health", "/api/v1/sources", "/login"} {
		if code, _, err := get(p); err != nil || code != http.StatusNotFound {
			t.Errorf("GET %s on the metrics listener = %d %v, want 404", p, code, err)
		}
	}

	// the port is taken now: a second App cannot open it
	b, err := New(context.Background(), testConfig(t, map[string]string{"METRICS_ADDR": addr}), Options{What: Everything, Logger: quiet(), Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Listen(); err == nil || !strings.Contains(err.Error(), "METRICS_ADDR") {
		t.Errorf("METRICS_ADDR in use: err = %v, want one naming METRICS_ADDR", err)
	}
	b.Close()

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if _, _, err := get("/metrics"); err == nil {
		t.Error("the metrics listener still answers after Run returned")
	}
}
