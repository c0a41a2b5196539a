package app

import (
	"context"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/config"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/demo"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
)

// A newcomer's `make run` (development, the embedded cluster, no
// WAL_MONITOR_INTERVAL_SECONDS) probes every demo.MonitorInterval so the demo moves
// within the first minute; an interval the operator sets is kept; production keeps the
// documented 300 s.
func TestMakeRunMonitorsTheDemoEverySeconds(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	interval := func(env map[string]string) time.Duration {
		t.Helper()
		environ := map[string]string{"DATA_DIR": dataDir, "HTTP_ADDR": "127.0.0.1:0"} // as `make run`, on a free port
		for k, v := range env {
			environ[k] = v
		}
		cfg, err := config.LoadFrom(environ)
		if err != nil {
			t.Fatal(err)
		}
		if !cfg.IsDevelopment() || cfg.DatabaseURL != "" {
			t.Fatalf("not make run's configuration: %+v", cfg)
		}
		a, err := New(context.Background(), cfg, Options{What: Everything, Logger: quiet(), Cluster: OwnCluster, Migrate: true})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		if a.embedded == nil || a.Monitor == nil {
			t.Fatalf("make run without the embedded cluster (%v) or the monitor (%v)", a.embedded, a.Monitor)
		}
		return a.Monitor.Status().Interval
	}
	if got := interval(nil); got != demo.MonitorInterval {
		t.Errorf("make run: the monitor runs every %s, want %s", got, demo.MonitorInterval)
	}
	if got := interval(map[string]string{"WAL_MONITOR_INTERVAL_SECONDS": "300"}); got != 300*time.Second {
		t.Errorf("make run with WAL_MONITOR_INTERVAL_SECONDS=300: every %s, want the operator's 300 s", got)
	}

	d := testdb.New(t)
	cfg := testConfig(t, map[string]string{"APP_ENV": "production", "DATABASE_URL": "postgres://unused.invalid/rosetta"})
	a, err := New(context.Background(), cfg, Options{What: Everything, Logger: quiet(), Pool: db.Wrap(d.Pool, 5*time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if got := a.Monitor.Status().Interval; got != 300*time.Second {
		t.Errorf("production: the monitor runs every %s, want the default 300 s", got)
	}
}
