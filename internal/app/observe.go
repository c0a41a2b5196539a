package app

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/demo"
	"github.com/rosetta-cdc/rosetta/internal/metrics"
	"github.com/rosetta-cdc/rosetta/web/api"
)

// monitorStatus is the WAL monitor's state for /api/v1/health ("off" without one).
// a.Monitor is set in New, before any request can be served.
func (a *App) monitorStatus() api.MonitorStatus {
	if a.Monitor == nil {
		return api.MonitorStatus{}
	}
	s := a.Monitor.Status()
	return api.MonitorStatus{Leader: s.Leader, LastCycleAt: s.LastCycleAt, LastCycleDuration: s.LastCycleDuration,
		LastCycleErr: s.LastCycleErr, Running: s.Running}
}

// buildMetrics makes the process's one registry: the web server serves it at /metrics
// and the WAL monitor reports into it as its Observer.
func (a *App) buildMetrics() {
	a.Metrics = metrics.New()
	a.Metrics.WatchPool(a.Pool.Pool)
}

// addDemo registers development's demo part: on the embedded cluster (never with
// DATABASE_URL, never in production), when no source exists yet, the cluster registers
// itself as a source and gets a little write traffic, so a newcomer's dashboard moves
// within the first minute (internal/demo). It stops with the scheduler stage, before
// the pool and the cluster close.
func (a *App) addDemo() {
	if !a.demoWanted() {
		return
	}
	o := demo.Options{ClusterURL: a.embedded.URL("postgres"), Catalog: a.Catalog, Logger: a.Log}
	a.Add(Scheduler, PartFunc("development demo", func(ctx context.Context) error {
		// The demo is a convenience: a failure is logged, and never stops Rosetta.
		if _, err := demo.Ensure(ctx, o); err != nil {
			a.Log.Warn("could not set up the demo source", "err", err)
		}
		if err := demo.Traffic(ctx, o); err != nil {
			a.Log.Warn("demo traffic stopped", "err", err)
		}
		return nil
	}))
}

// demoWanted: development on the embedded cluster this process started, where the demo
// runs and the monitor's defaulted interval is shortened to demo.MonitorInterval.
func (a *App) demoWanted() bool { return a.Config.IsDevelopment() && a.embedded != nil }

// listenMetrics opens METRICS_ADDR, when set: a second listener serving /metrics and
// nothing else, without authentication, for a Prometheus on a private network. It stops
// with the HTTP stage. It returns the URL to scrape ("" when not configured).
func (a *App) listenMetrics() (string, error) {
	if a.Config.MetricsAddr == "" {
		return "", nil
	}
	ln, err := net.Listen("tcp", a.Config.MetricsAddr)
	if err != nil {
		return "", fmt.Errorf("METRICS_ADDR %s: %w", a.Config.MetricsAddr, err)
	}
	srv := &http.Server{Handler: a.Metrics.ListenerHandler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: a.HTTP.ErrorLog}
	a.Add(HTTP, &httpPart{name: "metrics listener", srv: srv, ln: ln, timeout: a.Config.ShutdownTimeout.D(), log: a.Log})
	url := "http://" + displayAddr(ln.Addr()) + "/metrics"
	a.Log.Info("serving /metrics without authentication (METRICS_ADDR)", "url", url)
	return url, nil
}

// listenPprof opens PPROF_ADDR (loopback only, checked by config), when set: Go's
// profiler for measuring a running server (cmd/rosetta-bench -cpuprofile). It stops with
// the HTTP stage.
func (a *App) listenPprof() error {
	if a.Config.PprofAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", a.Config.PprofAddr)
	if err != nil {
		return fmt.Errorf("PPROF_ADDR %s: %w", a.Config.PprofAddr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: a.HTTP.ErrorLog}
	a.Add(HTTP, &httpPart{name: "pprof listener", srv: srv, ln: ln, timeout: a.Config.ShutdownTimeout.D(), log: a.Log})
	a.Log.Warn("serving Go's profiler without authentication, on loopback only (PPROF_ADDR)", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	return nil
}
