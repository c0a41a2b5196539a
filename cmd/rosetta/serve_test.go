package main

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/rosetta-cdc/rosetta/internal/metrics"
)

// METRICS_ADDR serves /metrics without authentication and nothing else, and closes with
// the server.
func TestMetricsListener(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	stop, err := serveMetrics(addr, metrics.New(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
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
	if err != nil || code != http.StatusOK || !strings.Contains(body, "rosetta_walmon_leader") {
		t.Fatalf("GET /metrics = %d %v: %.200s", code, err, body)
	}
	for _, p := range []string{"/", "/api/v1/health", "/api/v1/sources", "/login"} {
		if code, _, err := get(p); err != nil || code != http.StatusNotFound {
			t.Errorf("GET %s on the metrics listener = %d %v, want 404", p, code, err)
		}
	}
	stop()
	if _, _, err := get("/metrics"); err == nil {
		t.Error("the metrics listener still answers after stop")
	}

	if _, err := serveMetrics("not-an-address", metrics.New(), slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "METRICS_ADDR") {
		t.Errorf("bad address: err = %v, want one naming METRICS_ADDR", err)
	}
}
