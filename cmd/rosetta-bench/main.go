// Command rosetta-bench is the load driver behind `make bench`: it starts its own
// PostgreSQL cluster (internal/pgcluster, as `make run` does), builds Rosetta in-process
// through internal/app to migrate, seed a fleet (1,000 sources, 100 destinations, 5,000
// pipelines) with SQL, sign in, and record the statements each measured request runs;
// then it stops that and runs the real binary (`rosetta serve`, CGO_ENABLED=0) as its own
// process, drives it over keep-alive connections with a lean wrk-like client, and runs the
// recorded statements straight through pgxpool at the same concurrency, in alternating
// slices of the same run. The same binary gives the footprint figures. It prints one table
// and writes it into BENCHMARKS.md between generated markers.
//
// Absolute figures depend on the machine; the ratio to raw pgxpool, measured in one run on
// one machine, is what the budgets are stated in.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rosetta-cdc/rosetta/internal/app"
	"github.com/rosetta-cdc/rosetta/internal/config"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/logs"
	"github.com/rosetta-cdc/rosetta/internal/pgcluster"
)

type options struct {
	duration time.Duration
	conns    int
	out      string
	label    string
	skipFoot bool
	keepLogs bool
	cpuProf  string
	explain  bool
	only     string
}

func main() {
	// The bare reference server (bare.go) is this binary started again by the driver;
	// dispatched before flag parsing, so the driver's flags stay its own.
	if len(os.Args) > 1 && os.Args[1] == bareCommand {
		if err := bareServe(); err != nil {
			fmt.Fprintf(os.Stderr, "rosetta-bench %s: %v\n", bareCommand, err)
			os.Exit(1)
		}
		return
	}
	var o options
	def := 3 * time.Second
	if v := os.Getenv("BENCH_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			fmt.Fprintf(os.Stderr, "rosetta-bench: BENCH_DURATION: %q is not a duration like 3s\n", v)
			os.Exit(2)
		}
		def = d
	}
	flag.DurationVar(&o.duration, "duration", def, "how long each measurement runs (env BENCH_DURATION)")
	flag.IntVar(&o.conns, "conns", 32, "keep-alive connections (and raw pgxpool workers)")
	flag.StringVar(&o.out, "out", "BENCHMARKS.md", "file to write the table into, between the generated markers (empty: print only)")
	flag.StringVar(&o.label, "label", "", "a note printed with the table (e.g. what changed)")
	flag.BoolVar(&o.skipFoot, "skip-footprint", false, "skip building and starting the real binary")
	flag.BoolVar(&o.keepLogs, "v", false, "print the server's log lines and the statements each request ran (the log lines are written either way: to /dev/null without -v)")
	flag.BoolVar(&o.explain, "explain", false, "print EXPLAIN (ANALYZE, BUFFERS) of every statement the measured requests ran")
	flag.StringVar(&o.cpuProf, "cpuprofile", "", "write CPU profiles of the server process (rosetta serve, via PPROF_ADDR on loopback) under the single read, the default list and the console page, as NAME-single.EXT, NAME-list.EXT, NAME-console.EXT, and of the bare reference server under the single read, as NAME-single-bare.EXT")
	flag.StringVar(&o.only, "only", "", "measure only these groups, comma-separated: single, list, console (the table is then printed, not written)")
	flag.Parse()
	if o.only != "" {
		o.out = ""
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "rosetta-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	progress := func(format string, args ...any) { fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...) }
	work, err := os.MkdirTemp("", "rosetta-bench-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	// The cluster: the same package and settings as the embedded development server.
	progress("starting PostgreSQL under %s", work)
	cl, err := pgcluster.Start(ctx, pgcluster.Options{
		DataDir:  filepath.Join(work, "pg"),
		Settings: map[string]string{"wal_level": "logical", "max_connections": "200"},
	})
	if err != nil {
		return fmt.Errorf("PostgreSQL: %w", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = cl.Stop(sctx)
	}()
	if err := app.EnsureDatabase(ctx, cl.URL("postgres"), app.EmbeddedDatabase); err != nil {
		return err
	}
	url := cl.URL(app.EmbeddedDatabase)

	env := map[string]string{
		"APP_ENV": "development", "DATABASE_URL": url, "DATA_DIR": filepath.Join(work, "data"),
		"SECRET_KEY": "bench-secret-key-0123456789abcdef", "HTTP_ADDR": "127.0.0.1:0",
		// The seeded sources are made-up hosts: probing them would measure timeouts.
		"WAL_MONITOR_ENABLED": "false",
		// A load test is exactly the runaway script the per-token limit guards against.
		"API_RATE_LIMIT": "0",
	}
	// API_TOKEN_CACHE_TTL=0 from the environment measures the single read as it was
	// before the token cache (a lookup per request), for a before/after in one build.
	if v, ok := os.LookupEnv("API_TOKEN_CACHE_TTL"); ok {
		env["API_TOKEN_CACHE_TTL"] = v
	}
	cfg, err := config.LoadFrom(env)
	if err != nil {
		return err
	}
	// The app's pool is NewPool's, plus a tracer that records the SQL of one request so
	// the raw side runs exactly those statements.
	rec := &recorder{}
	pool, err := tracedPool(ctx, url, cfg, rec)
	if err != nil {
		return err
	}
	defer pool.Close()
	// Request log lines are formatted as in production, but not written to the terminal.
	logOut := io.Discard
	if o.keepLogs {
		logOut = os.Stderr
	}
	log := logs.New(logOut, logs.Options{Level: slog.LevelInfo})
	a, err := app.New(ctx, cfg, app.Options{What: app.Everything, Logger: log, Version: "bench", Pool: pool, Migrate: true})
	if err != nil {
		return err
	}
	base, err := a.Listen()
	if err != nil {
		return err
	}
	runCtx, cancelRun := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	// stopApp stops the in-process app once: after recording, or on an early return.
	var stopErr error
	var stopOnce sync.Once
	stopApp := func() error {
		stopOnce.Do(func() { cancelRun(); stopErr = <-done })
		return stopErr
	}
	defer stopApp()

	if cfg.APITokenCacheTTL == 0 {
		o.label = strings.TrimSpace(o.label + " API_TOKEN_CACHE_TTL=0 (token looked up on every request)")
	}
	progress("seeding 1,000 sources, 100 destinations, 5,000 pipelines")
	fleet, err := seed(ctx, a, pool)
	if err != nil {
		return err
	}
	creds, err := signIn(ctx, a, base)
	if err != nil {
		return err
	}

	raw, err := pgxpool.New(ctx, url+"&pool_max_conns="+fmt.Sprint(max(o.conns, consoleConns)))
	if err != nil {
		return err
	}
	defer raw.Close()

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	b := &bench{o: o, client: client, raw: raw, base: base, rec: rec, creds: creds, fleet: fleet, progress: progress}
	// Warm the in-process app, then record what each measured request runs.
	for i := range 50 {
		if _, err := b.do(ctx, target{path: func(int) string { return fmt.Sprintf("/api/v1/sources/%d", fleet.sourceIDs[i]) }}, 0); err != nil {
			return err
		}
	}
	progress("recording the statements of each request")
	p, err := b.recordAll(ctx)
	if err != nil {
		return err
	}
	// The in-process app has done its part (schema, seed, sign-in, recording); the load
	// goes to the real binary in its own process, as wrk would drive it.
	if err := stopApp(); err != nil {
		return fmt.Errorf("in-process app: %w", err)
	}
	pool.Close()

	progress("building rosetta with CGO_ENABLED=0")
	bin, err := buildBinary(ctx, work)
	if err != nil {
		return err
	}
	srvEnv := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + work, "LOG_FORMAT=text", "MIGRATE_ON_START=false"}
	for k, v := range env {
		if k != "HTTP_ADDR" {
			srvEnv = append(srvEnv, k+"="+v)
		}
	}
	// Runtime and pool knobs pass through, to measure their effect on the server.
	for _, k := range []string{"GOGC", "GOMEMLIMIT", "GOMAXPROCS", "DB_POOL_SIZE", "DB_MAX_OVERFLOW", "LOG_LEVEL", "SESSION_CACHE_TTL"} {
		if v, ok := os.LookupEnv(k); ok {
			srvEnv = append(srvEnv, k+"="+v)
		}
	}
	progress("starting rosetta serve as its own process")
	b.srv, err = startServer(ctx, bin, []string{"serve"}, srvEnv, o.cpuProf != "", o.keepLogs)
	if err != nil {
		return err
	}
	if b.wants("single") {
		// The single read's reference: this binary again, as a bare net/http + pgxpool
		// server with the same pool size (bare.go).
		self, err := os.Executable()
		if err != nil {
			b.srv.stop()
			return err
		}
		bareEnv := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + work, "DATABASE_URL=" + url,
			"BARE_TOKEN=" + creds.token, "BARE_POOL_SIZE=" + fmt.Sprint(cfg.MaxConns())}
		for _, k := range []string{"GOGC", "GOMEMLIMIT", "GOMAXPROCS"} {
			if v, ok := os.LookupEnv(k); ok {
				bareEnv = append(bareEnv, k+"="+v)
			}
		}
		progress("starting the bare reference server as its own process")
		if b.bare, err = startServer(ctx, self, []string{bareCommand}, bareEnv, o.cpuProf != "", o.keepLogs); err != nil {
			b.srv.stop()
			return err
		}
	}
	rows, err := b.measureAll(ctx, p)
	b.srv.stop()
	if b.bare != nil {
		b.bare.stop()
	}
	if err != nil {
		return err
	}
	var foot []row
	if !o.skipFoot {
		progress("footprint: starting the binary on a database of its own")
		foot, err = footprint(ctx, work, bin, cl, progress)
		if err != nil {
			return err
		}
	}
	m := machineInfo(ctx, raw)
	table := render(m, o, rows, foot)
	fmt.Println(table)
	if o.out != "" {
		if err := writeMarkers(o.out, table); err != nil {
			return err
		}
		progress("wrote %s", o.out)
	}
	return nil
}

// tracedPool opens the pool as db.NewPool does, with the recorder as pgx's tracer.
func tracedPool(ctx context.Context, url string, cfg *config.Config, rec *recorder) (*db.Pool, error) {
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	pc.MaxConns = cfg.MaxConns()
	pc.MaxConnLifetime = cfg.DBPoolRecycle.D()
	pc.ConnConfig.RuntimeParams["application_name"] = "rosetta"
	pc.ConnConfig.Tracer = rec
	p, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, err
	}
	return db.Wrap(p, cfg.DBPoolTimeout.D()), nil
}
