package config

import (
	"strings"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	c, err := LoadFrom(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if c.DBPoolSize != 20 || c.DBMaxOverflow != 10 || c.DBPoolTimeout.D() != 30*time.Second ||
		c.DBPoolRecycle.D() != time.Hour || c.WALMonitorInterval.D() != 300*time.Second {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	if c.MaxConns() != 30 {
		t.Fatalf("MaxConns = %d, want 30", c.MaxConns())
	}
	if !c.IsDevelopment() {
		t.Fatal("default env is not development")
	}
	if c.APIRateLimit != 20 || c.APIRateBurst != 100 || c.APITokenCacheTTL.D() != 5*time.Second {
		t.Fatalf("API defaults: limit %g, burst %d, token cache %s", c.APIRateLimit, c.APIRateBurst, c.APITokenCacheTTL.D())
	}
}

// API_RATE_LIMIT=0 turns the limit off, whatever the burst; the cache may be off too.
func TestAPIRateLimitOff(t *testing.T) {
	c, err := LoadFrom(map[string]string{"API_RATE_LIMIT": "0", "API_RATE_BURST": "0", "API_TOKEN_CACHE_TTL": "0"})
	if err != nil {
		t.Fatal(err)
	}
	if c.APIRateLimit != 0 || c.APITokenCacheTTL.D() != 0 {
		t.Fatalf("limit %g, cache %s", c.APIRateLimit, c.APITokenCacheTTL.D())
	}
}

func TestBadValuesNameTheVariable(t *testing.T) {
	cases := map[string]map[string]string{
		"DB_POOL_SIZE":                  {"DB_POOL_SIZE": "lots"},
		"DB_MAX_OVERFLOW":               {"DB_MAX_OVERFLOW": "-1"},
		"DB_POOL_TIMEOUT":               {"DB_POOL_TIMEOUT": "soon"},
		"APP_ENV":                       {"APP_ENV": "staging"},
		"LOG_LEVEL":                     {"LOG_LEVEL": "loud"},
		"HTTP_ADDR":                     {"HTTP_ADDR": "8080"},
		"METRICS_ADDR":                  {"METRICS_ADDR": "9100"},
		"WAL_MONITOR_INTERVAL_SECONDS":  {"WAL_MONITOR_INTERVAL_SECONDS": "0"},
		"DATABASE_URL":                  {"DATABASE_URL": "mysql://u:hunter2@h/db"},
		"WAL_MONITOR_FAILURES_TO_ERROR": {"WAL_MONITOR_FAILURES_TO_ERROR": "0"},
		"WAL_MONITOR_MAX_CONNECTIONS":   {"WAL_MONITOR_CONCURRENCY": "20", "WAL_MONITOR_MAX_CONNECTIONS": "10"},
		"WAL_RETENTION":                 {"WAL_RETENTION": "3600"},
		"WAL_RETENTION_ALERT_BYTES":     {"WAL_RETENTION_ALERT_BYTES": "-5"},
		"WAL_LISTEN_RECONNECT_SECONDS":  {"WAL_LISTEN_RECONNECT_SECONDS": "0"},
		"WAL_MONITOR_ENABLED":           {"WAL_MONITOR_ENABLED": "perhaps"},
		"CORS_ALLOWED_ORIGINS":          {"CORS_ALLOWED_ORIGINS": "not an origin"},
		"TRUSTED_PROXIES":               {"TRUSTED_PROXIES": "10.0.0.0/8,the-proxy"},
		"API_RATE_LIMIT":                {"API_RATE_LIMIT": "-1"},
		"API_RATE_BURST":                {"API_RATE_LIMIT": "5", "API_RATE_BURST": "0"},
		"API_TOKEN_CACHE_TTL":           {"API_TOKEN_CACHE_TTL": "5m"},
		"SESSION_CACHE_TTL":             {"SESSION_CACHE_TTL": "5m"},
		"PPROF_ADDR":                    {"PPROF_ADDR": "6060"},
	}
	for name, environ := range map[string]map[string]string{
		"API_RATE_LIMIT": {"API_RATE_LIMIT": "fast"},
		"API_RATE_BURST": {"API_RATE_BURST": "big"},
	} {
		if _, err := LoadFrom(environ); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v, want it to name the variable", name, err)
		}
	}
	for name, environ := range cases {
		_, err := LoadFrom(environ)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v, want it to name the variable", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error leaks a password: %v", name, err)
		}
	}
}

func TestProductionRequiresSecretAndDatabase(t *testing.T) {
	_, err := LoadFrom(map[string]string{"APP_ENV": "production"})
	if err == nil || !strings.Contains(err.Error(), "SECRET_KEY") || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Fatalf("err = %v", err)
	}
	c, err := LoadFrom(map[string]string{"APP_ENV": "production", "SECRET_KEY": strings.Repeat("k", 32), "DATABASE_URL": "postgres://h/db"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureDevSecret(); err != nil {
		t.Fatal(err)
	}
}

func TestDevSecretIsGeneratedOnceAndKept(t *testing.T) {
	dir := t.TempDir()
	c1, _ := LoadFrom(map[string]string{"DATA_DIR": dir})
	if err := c1.EnsureDevSecret(); err != nil || !c1.SecretKeyGenerated || len(c1.SecretKey) < 32 {
		t.Fatalf("first: %v %+v", err, c1)
	}
	c2, _ := LoadFrom(map[string]string{"DATA_DIR": dir})
	if err := c2.EnsureDevSecret(); err != nil || c2.SecretKeyGenerated || c2.SecretKey != c1.SecretKey {
		t.Fatalf("second run did not reuse the key: %v", err)
	}
}

// The profiler has no authentication: only a loopback address is accepted, and it is
// off unless set.
func TestPprofAddrIsLoopbackOnly(t *testing.T) {
	c, err := LoadFrom(map[string]string{})
	if err != nil || c.PprofAddr != "" {
		t.Fatalf("default PPROF_ADDR = %q, %v; want none", c.PprofAddr, err)
	}
	for _, ok := range []string{"127.0.0.1:6060", "[::1]:6060", "localhost:6060"} {
		if c, err := LoadFrom(map[string]string{"PPROF_ADDR": ok}); err != nil || c.PprofAddr != ok {
			t.Errorf("PPROF_ADDR=%s: %q, %v", ok, c.PprofAddr, err)
		}
	}
	for _, bad := range []string{":6060", "0.0.0.0:6060", "10.0.0.5:6060", "example.com:6060", "127.0.0.1:8080"} {
		if _, err := LoadFrom(map[string]string{"PPROF_ADDR": bad}); err == nil || !strings.Contains(err.Error(), "PPROF_ADDR") {
			t.Errorf("PPROF_ADDR=%s: err = %v, want it refused naming the variable", bad, err)
		}
	}
}

func TestMetricsAddr(t *testing.T) {
	c, err := LoadFrom(map[string]string{})
	if err != nil || c.MetricsAddr != "" {
		t.Fatalf("default METRICS_ADDR = %q, %v; want none", c.MetricsAddr, err)
	}
	c, err = LoadFrom(map[string]string{"METRICS_ADDR": "10.0.0.5:9100"})
	if err != nil || c.MetricsAddr != "10.0.0.5:9100" {
		t.Fatalf("METRICS_ADDR = %q, %v", c.MetricsAddr, err)
	}
	_, err = LoadFrom(map[string]string{"METRICS_ADDR": "127.0.0.1:8080"})
	if err == nil || !strings.Contains(err.Error(), "METRICS_ADDR") || !strings.Contains(err.Error(), "HTTP_ADDR") {
		t.Fatalf("METRICS_ADDR equal to HTTP_ADDR: err = %v", err)
	}
}

// A cap set below the default concurrency lowers the default with it, so a deployment
// configured before the default rose keeps starting; a concurrency set above the cap is
// still refused (TestBadValuesNameTheVariable).
func TestMonitorConcurrencyDefaultFollowsALowerCap(t *testing.T) {
	c, err := LoadFrom(map[string]string{"WAL_MONITOR_MAX_CONNECTIONS": "10"})
	if err != nil {
		t.Fatal(err)
	}
	if c.WALMonitorConcurrency != 10 || c.WALMonitorMaxConnections != 10 {
		t.Fatalf("concurrency %d, cap %d: want 10 and 10", c.WALMonitorConcurrency, c.WALMonitorMaxConnections)
	}
	c, err = LoadFrom(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if c.WALMonitorConcurrency != 32 || c.WALMonitorMaxConnections != 64 {
		t.Fatalf("defaults: concurrency %d, cap %d: want 32 and 64", c.WALMonitorConcurrency, c.WALMonitorMaxConnections)
	}
}
