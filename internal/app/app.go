// Package app is Rosetta's composition root. New builds every service once, from the
// configuration: the secrets box, the pool, audit, catalog, auth and the web server.
// Run starts the long-lived parts under one errgroup and stops them in a stated order.
// `rosetta serve`, the CLI commands and the test harness (web/webtest) all build
// through it, so they are wired the same way and none of them can leave a service out.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/audit"
	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/config"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/demo"
	"github.com/rosetta-cdc/rosetta/internal/metrics"
	"github.com/rosetta-cdc/rosetta/internal/pgcluster"
	"github.com/rosetta-cdc/rosetta/internal/secrets"
	"github.com/rosetta-cdc/rosetta/internal/tlsfiles"
	"github.com/rosetta-cdc/rosetta/internal/walhub"
	"github.com/rosetta-cdc/rosetta/internal/walmon"
	"github.com/rosetta-cdc/rosetta/web"
	"github.com/rosetta-cdc/rosetta/web/api"
)

// What says how much of Rosetta a command builds: the CLI's commands need the database
// and some services, never HTTP.
type What int

const (
	// Database is the pool alone (migrate).
	Database What = iota
	// Services adds audit and auth (user, token); they need no secret key.
	Services
	// Secrets adds the secrets box and the catalog (rotate-key).
	Secrets
	// Everything adds the web server and the parts serve runs (serve, the test harness).
	Everything
)

// Options are what differs between serve, the CLI and the tests.
type Options struct {
	What    What
	Logger  *slog.Logger // required
	Version string       // shown in the API document and the footer; "dev" when empty
	// Pool, when set, is used instead of opening DATABASE_URL (or the embedded cluster);
	// the App does not close it. Tests pass their own database's pool.
	Pool *db.Pool
	// Cluster says whether a command may start the embedded cluster or use a running
	// Rosetta's (only when DATABASE_URL is unset and Pool is nil).
	Cluster ClusterUse
	// Migrate applies pending migrations after connecting.
	Migrate bool
	// Auth and Catalog tune the services (tests: cheap password hashes, a fake preflight).
	Auth    []auth.Option
	Catalog []catalog.Option
	// Access tunes sessions and API rate limits.
	Access web.AccessOptions
	// Monitor reports the WAL monitor's state in /api/v1/health (nil: "off").
	Monitor api.MonitorStatusFunc
}

// App is Rosetta, built. Fields are nil for what Options.What did not ask for.
type App struct {
	Config  *config.Config
	Log     *slog.Logger
	Pool    *db.Pool
	Box     *secrets.Box
	Audit   *audit.Service
	Auth    *auth.Service
	Catalog *catalog.Service
	Server  *web.Server
	// Monitor is the WAL monitor (nil when WAL_MONITOR_ENABLED=false); its Status feeds
	// the health check and metrics.
	Monitor *walmon.Monitor
	// WALHub fans stored WAL samples out to this instance's SSE streams.
	WALHub *walhub.Hub
	// HTTP is the server Run serves Server on, once Listen has opened its socket.
	HTTP *http.Server
	// Metrics is the process's Prometheus registry (Everything only).
	Metrics *metrics.Metrics
	// MetricsURL is where the METRICS_ADDR listener serves, once Listen opened it.
	MetricsURL string

	embedded *pgcluster.Cluster // the cluster this process started, if any

	parts     []staged
	closeOnce sync.Once
	closers   []func() // run in reverse by Close: the pool, then the embedded cluster
}

// New builds Rosetta from cfg. On error nothing is left open.
func New(ctx context.Context, cfg *config.Config, o Options) (*App, error) {
	if cfg == nil || o.Logger == nil {
		return nil, errors.New("app.New: a configuration and a logger are required")
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	a := &App{Config: cfg, Log: o.Logger}
	if o.What >= Secrets {
		if err := a.buildBox(); err != nil {
			return nil, err
		}
	}
	if err := a.openPool(ctx, o); err != nil {
		return nil, err
	}
	if o.What >= Services {
		a.Audit = audit.New(a.Pool)
		authOpts := append([]auth.Option{auth.WithTokenCacheTTL(cfg.APITokenCacheTTL.D()),
			auth.WithSessionCacheTTL(cfg.SessionCacheTTL.D())}, o.Auth...)
		a.Auth = auth.New(a.Pool, audit.ForAuth(), authOpts...)
	}
	if o.What >= Secrets {
		monitorRules := catalog.WithMonitorSettings(catalog.MonitorSettings{
			FailuresToError: cfg.WALMonitorFailuresToError, AlertBytes: cfg.WALRetentionAlertBytes})
		a.Catalog = catalog.New(a.Pool, a.Box, audit.ForCatalog(), append([]catalog.Option{monitorRules}, o.Catalog...)...)
	}
	if o.What >= Everything {
		// Live WAL updates: one LISTEN connection fanning samples out to this
		// instance's streams (internal/walhub).
		a.WALHub = walhub.New(a.Pool, walhub.Options{Logger: a.Log, ReconnectDelay: cfg.WALListenReconnectDelay.D()})
		a.buildMetrics()
		a.Metrics.WatchSSE(a.WALHub)
		monitor := o.Monitor
		if monitor == nil {
			monitor = a.monitorStatus
		}
		srv, err := web.New(web.Deps{Config: cfg, Logger: a.Log, Pool: a.Pool, Catalog: a.Catalog, Version: o.Version,
			Auth: a.Auth, Audit: a.Audit, Access: o.Access, WALHub: a.WALHub, Monitor: monitor, Metrics: a.Metrics})
		if err != nil {
			a.Close()
			return nil, err
		}
		a.Server = srv
		a.HTTP = &http.Server{
			Handler:           srv.Handler(),
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			// No WriteTimeout: server-sent event streams stay open; handlers bound their
			// own work with contexts instead.
			ErrorLog: slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
		}
		// Streams end first (so HTTP's Shutdown is not held up by them, and a stream
		// opened after that ends at once); the LISTEN connection goes after HTTP.
		a.HTTP.RegisterOnShutdown(srv.CloseStreams)
		a.Add(Streams, PartFunc("SSE streams", func(ctx context.Context) error {
			<-ctx.Done()
			srv.CloseStreams()
			return nil
		}))
		a.Add(Listen, PartFunc("WAL LISTEN", a.WALHub.Run))
		a.Add(Scheduler, Every("purge expired sessions", 10*time.Minute, a.purgeAccess))
		if cfg.WALMonitorEnabled {
			mo := walmon.FromConfig(cfg)
			if a.demoWanted() && !cfg.WALMonitorIntervalSet {
				mo.Interval = demo.MonitorInterval
				a.Log.Info("development with the embedded cluster: the WAL monitor probes every "+demo.MonitorInterval.String()+
					" so the demo source moves at once (WAL_MONITOR_INTERVAL_SECONDS overrides it; the default elsewhere is 300 s)",
					"interval", mo.Interval)
			}
			mo.Logger = a.Log
			mo.Observer = a.Metrics
			a.Monitor = walmon.New(a.Pool, a.Catalog, mo)
			// One part in the scheduler stage: its Run stops the scheduler and then
			// releases the leader lock, the order the Elector stage stands for.
			a.Add(Scheduler, PartFunc("WAL monitor", a.Monitor.Run))
		} else {
			a.Log.Info("WAL monitor disabled (WAL_MONITOR_ENABLED=false)")
		}
		a.addDemo()
	}
	return a, nil
}

// buildBox seals credentials under SECRET_KEY and still opens those sealed under
// SECRET_KEY_OLD during a rotation. Development without a key gets a generated one.
func (a *App) buildBox() error {
	if err := a.Config.EnsureDevSecret(); err != nil {
		return err
	}
	if a.Config.SecretKeyGenerated {
		a.Log.Warn("SECRET_KEY not set: generated one for development and stored it in DATA_DIR", "data_dir", a.Config.DataDir)
	}
	box, err := secrets.NewBox(a.Config.SecretKey, a.Config.SecretKeyOld)
	if err != nil {
		return fmt.Errorf("SECRET_KEY: %w", err)
	}
	a.Box = box
	return nil
}

func (a *App) openPool(ctx context.Context, o Options) error {
	if o.Pool != nil {
		a.Pool = o.Pool
	} else {
		d, err := openDatabase(ctx, a.Config, a.Log, o.Cluster)
		if err != nil {
			return err
		}
		a.Pool, a.embedded = d.Pool, d.Embedded
		a.closers = append(a.closers, d.Close)
	}
	if o.Migrate {
		if err := db.MigrateUp(ctx, a.Pool.Pool); err != nil {
			a.Close()
			return err
		}
	}
	return nil
}

// purgeAccess deletes expired sessions and old failed sign-ins. Every instance runs it;
// the deletes are idempotent, so no leader is needed.
func (a *App) purgeAccess(ctx context.Context) error {
	if s, f, err := a.Auth.Purge(ctx); err != nil {
		// A database outage must not stop the server: the next round tries again.
		a.Log.Warn("purge expired sessions", "err", err)
	} else if s+f > 0 {
		a.Log.Debug("purged expired sessions and sign-in failures", "sessions", s, "failures", f)
	}
	return nil
}

// Listen opens HTTP_ADDR, HTTPS when TLS_CERT_FILE and TLS_KEY_FILE are set (renewed
// files are picked up, internal/tlsfiles), and registers the HTTP part that serves on
// it. It returns the URL a person can open (HTTP_ADDR may ask for port 0).
func (a *App) Listen() (string, error) {
	if a.HTTP == nil {
		return "", errors.New("app: Listen needs an App built with Everything")
	}
	ln, err := net.Listen("tcp", a.Config.HTTPAddr)
	if err != nil {
		return "", fmt.Errorf("HTTP_ADDR %s: %w", a.Config.HTTPAddr, err)
	}
	tln, scheme, err := tlsfiles.Wrap(ln, a.Config.TLSCertFile, a.Config.TLSKeyFile, a.Log)
	if err != nil {
		ln.Close()
		return "", err
	}
	if a.MetricsURL, err = a.listenMetrics(); err != nil {
		tln.Close()
		return "", err
	}
	if err := a.listenPprof(); err != nil {
		tln.Close()
		return "", err
	}
	a.Add(HTTP, &httpPart{srv: a.HTTP, ln: tln, timeout: a.Config.ShutdownTimeout.D(), log: a.Log})
	return scheme + "://" + displayAddr(ln.Addr()), nil
}

// displayAddr shows a wildcard listener as localhost, the address a person can click.
func displayAddr(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		return fmt.Sprintf("localhost:%d", tcp.Port)
	}
	return a.String()
}

// Close releases what New opened, in reverse: the pool, then the embedded cluster and
// its lock. Run calls it after every part has stopped; commands that never Run call it
// themselves. A pool passed in Options is left open for its owner.
func (a *App) Close() {
	a.closeOnce.Do(func() {
		for i := len(a.closers) - 1; i >= 0; i-- {
			a.closers[i]()
		}
	})
}
