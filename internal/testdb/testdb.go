// Package testdb is the test harness: real PostgreSQL, never a mock. Each test binary gets
// one throwaway cluster (or the server named by TEST_DATABASE_URL) holding a migrated
// template database; every test clones its own database from it, so tests run in parallel
// without seeing each other's rows.
//
//	func TestMain(m *testing.M) { testdb.Main(m) }
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/pgcluster"
)

// workDirPattern names every directory this package creates under os.TempDir, so a later
// run can find clusters left behind by a test binary that was killed (go test -timeout,
// SIGKILL) before its cleanup ran.
const workDirPattern = "rosetta-testdb-*"

// ownerFile inside a work directory holds the pid of the test binary that owns it.
const ownerFile = "owner.pid"

// clusterSettings make the shared cluster fast and roomy: durability is pointless for
// throwaway data, and parallel tests need connections, slots and WAL senders.
var clusterSettings = map[string]string{
	"wal_level":             "logical",
	"fsync":                 "off",
	"synchronous_commit":    "off",
	"full_page_writes":      "off",
	"max_replication_slots": "20",
	"max_wal_senders":       "20",
	"max_connections":       "300",
}

// outageClusterSettings are for NewCluster: a second server a test stops and starts, so it
// should cost as little memory and start-up time as possible.
var outageClusterSettings = map[string]string{
	"wal_level":             "logical",
	"fsync":                 "off",
	"synchronous_commit":    "off",
	"full_page_writes":      "off",
	"shared_buffers":        "16MB",
	"max_connections":       "30",
	"max_replication_slots": "4",
	"max_wal_senders":       "4",
	"max_worker_processes":  "4",
}

// server is what Main set up for this test binary.
type server struct {
	cluster  *pgcluster.Cluster // nil when TEST_DATABASE_URL names the server
	workDir  string
	base     *url.URL // superuser URL; the path is replaced per database
	host     string
	port     int
	admin    *pgxpool.Pool
	template string
}

var (
	current *server

	// live tracks every cluster this binary started so an interrupt can stop them all;
	// test cleanups never run when the binary is killed by a signal.
	liveMu sync.Mutex
	live   = map[*pgcluster.Cluster]string{} // cluster → work directory
)

// Main runs the tests against a fresh cluster (or TEST_DATABASE_URL) and exits. Call it
// from TestMain.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	sweepOrphans(ctx)
	s, err := setup(ctx)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "testdb: %v\n", err)
		return 1
	}
	current = s
	stopSignals := destroyOnSignal()
	code := m.Run()
	stopSignals()
	if err := s.teardown(); err != nil {
		fmt.Fprintf(os.Stderr, "testdb: teardown: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

func setup(ctx context.Context) (s *server, err error) {
	s = &server{}
	defer func() {
		if err != nil {
			_ = s.teardown()
		}
	}()
	if raw := os.Getenv("TEST_DATABASE_URL"); raw != "" {
		s.base, err = url.Parse(raw)
		if err != nil || (s.base.Scheme != "postgres" && s.base.Scheme != "postgresql") {
			return s, errors.New("TEST_DATABASE_URL must be a postgres:// URL of a superuser")
		}
	} else {
		s.workDir, err = newWorkDir()
		if err != nil {
			return s, err
		}
		s.cluster, err = startCluster(ctx, s.workDir, clusterSettings)
		if err != nil {
			// The error already carries the tail of the server log.
			return s, err
		}
		s.base, _ = url.Parse(s.cluster.URL("postgres"))
	}
	cfg, err := pgxpool.ParseConfig(s.base.String())
	if err != nil {
		return s, fmt.Errorf("parse server URL: %w", err)
	}
	cfg.MaxConns = 8
	s.host, s.port = cfg.ConnConfig.Host, int(cfg.ConnConfig.Port)
	if s.admin, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return s, fmt.Errorf("connect to test server: %w", err)
	}
	if err := s.createTemplate(ctx); err != nil {
		return s, err
	}
	return s, nil
}

// createTemplate builds the migrated database every test clones. Migrating once per binary
// instead of once per test is what makes a fresh database per test affordable.
func (s *server) createTemplate(ctx context.Context) error {
	name := uniqueName("template", "")
	if _, err := s.admin.Exec(ctx, "CREATE DATABASE "+ident(name)); err != nil {
		return fmt.Errorf("create template database: %w", err)
	}
	s.template = name
	pool, err := pgxpool.New(ctx, s.url(name))
	if err != nil {
		return err
	}
	err = db.MigrateUp(ctx, pool)
	pool.Close()
	if err != nil {
		return fmt.Errorf("migrate template database: %w", err)
	}
	// CREATE DATABASE … TEMPLATE fails while anyone is connected to the template; refusing
	// connections outright keeps a stray test from breaking every later clone.
	if _, err := s.admin.Exec(ctx, "ALTER DATABASE "+ident(name)+" WITH ALLOW_CONNECTIONS false"); err != nil {
		return fmt.Errorf("seal template database: %w", err)
	}
	return nil
}

func (s *server) teardown() error {
	var errs []error
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if s.admin != nil {
		// Only a shared server outlives us; our own cluster is deleted wholesale below.
		if s.cluster == nil && s.template != "" {
			if _, err := s.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(s.template)+" WITH (FORCE)"); err != nil {
				errs = append(errs, fmt.Errorf("drop template database: %w", err))
			}
		}
		s.admin.Close()
	}
	if s.cluster != nil {
		errs = append(errs, destroyCluster(ctx, s.cluster))
	}
	if s.workDir != "" {
		errs = append(errs, os.RemoveAll(s.workDir))
	}
	return errors.Join(errs...)
}

// url is the superuser URL of database name on the test server.
func (s *server) url(name string) string {
	u := *s.base
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

func mustServer(t testing.TB) *server {
	t.Helper()
	if current == nil {
		t.Fatal("testdb: the package's TestMain must call testdb.Main(m)")
	}
	return current
}

// DB is a test's own database, migrated and empty. URL connects as the superuser.
type DB struct {
	Pool *pgxpool.Pool
	URL  string
	Name string
}

// New clones a fresh database from the migrated template. It is dropped when the test ends.
func New(t testing.TB) *DB {
	t.Helper()
	s := mustServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := uniqueName("t", t.Name())
	if _, err := s.admin.Exec(ctx, "CREATE DATABASE "+ident(name)+" TEMPLATE "+ident(s.template)); err != nil {
		t.Fatalf("testdb: create database: %v", err)
	}
	d := &DB{URL: s.url(name), Name: name}
	t.Cleanup(func() {
		if d.Pool != nil {
			d.Pool.Close()
		}
		dropDatabase(t, s.admin, name)
	})
	pool, err := pgxpool.New(ctx, d.URL)
	if err != nil {
		t.Fatalf("testdb: connect to %s: %v", name, err)
	}
	d.Pool = pool
	return d
}

// Admin is a superuser pool on the test server's postgres database, shared by the whole
// binary: use it for roles and other cluster-wide objects, and do not close it.
func Admin(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return mustServer(t).admin
}

func dropDatabase(t testing.TB, admin *pgxpool.Pool, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// FORCE ends sessions a test leaked, which would otherwise keep the database alive.
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
		t.Errorf("testdb: drop database %s: %v", name, err)
	}
}

// NewCluster starts a second, private cluster a test may stop and start (Stop, Start) to
// simulate an outage; it keeps its port across restarts. Cleanup destroys it.
func NewCluster(t testing.TB) *pgcluster.Cluster {
	t.Helper()
	return NewClusterWithSettings(t, nil)
}

// NewClusterWithSettings is NewCluster with extra or overriding server settings, e.g.
// wal_level=replica to exercise a misconfigured source.
func NewClusterWithSettings(t testing.TB, settings map[string]string) *pgcluster.Cluster {
	t.Helper()
	merged := make(map[string]string, len(outageClusterSettings)+len(settings))
	for k, v := range outageClusterSettings {
		merged[k] = v
	}
	for k, v := range settings {
		merged[k] = v
	}
	dir, err := newWorkDir()
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := startCluster(ctx, dir, merged)
	if err != nil {
		_ = os.RemoveAll(dir)
		t.Fatalf("testdb: start cluster: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := destroyCluster(ctx, c); err != nil {
			t.Errorf("testdb: %v", err)
		}
	})
	return c
}

func startCluster(ctx context.Context, dir string, settings map[string]string) (*pgcluster.Cluster, error) {
	c, err := pgcluster.Start(ctx, pgcluster.Options{
		DataDir:  filepath.Join(dir, "data"),
		Settings: settings,
	})
	if err != nil {
		return nil, err
	}
	liveMu.Lock()
	live[c] = dir
	liveMu.Unlock()
	return c, nil
}

func destroyCluster(ctx context.Context, c *pgcluster.Cluster) error {
	liveMu.Lock()
	dir, ok := live[c]
	delete(live, c)
	liveMu.Unlock()
	if err := c.Destroy(ctx); err != nil {
		return fmt.Errorf("destroy cluster %s: %w", c.DataDir(), err)
	}
	if ok {
		return os.RemoveAll(dir)
	}
	return nil
}

// destroyOnSignal stops every cluster when the binary is interrupted (Ctrl-C during go
// test), since neither t.Cleanup nor the end of Main would run.
func destroyOnSignal() (stop func()) {
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigc:
			fmt.Fprintf(os.Stderr, "testdb: %v: stopping test clusters\n", sig)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			liveMu.Lock()
			clusters := make([]*pgcluster.Cluster, 0, len(live))
			for c := range live {
				clusters = append(clusters, c)
			}
			liveMu.Unlock()
			for _, c := range clusters {
				_ = destroyCluster(ctx, c)
			}
			cancel()
			os.Exit(1)
		case <-done:
		}
	}()
	return func() {
		signal.Stop(sigc)
		close(done)
	}
}

// newWorkDir creates a directory for one cluster and records this process as its owner.
func newWorkDir() (string, error) {
	dir, err := os.MkdirTemp("", workDirPattern)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// sweepOrphans stops and deletes clusters whose test binary died without cleaning up, so
// killed runs do not accumulate servers on the machine. Work directories of live binaries
// (other packages testing in parallel) and directories without an owner file yet are left
// alone.
func sweepOrphans(ctx context.Context) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), workDirPattern))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || processAlive(pid) {
			continue
		}
		pidFiles, _ := filepath.Glob(filepath.Join(dir, "*", "postmaster.pid"))
		for _, pf := range pidFiles {
			_ = pgcluster.StopDataDir(ctx, filepath.Dir(pf))
		}
		if err := os.RemoveAll(dir); err == nil {
			fmt.Fprintf(os.Stderr, "testdb: removed test cluster left behind by dead process %d (%s)\n", pid, dir)
		}
	}
}

func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// uniqueName builds an identifier from prefix, a readable fragment of hint (the test
// name, so a leaked object says who made it) and a random suffix. The result is lower-case
// letters, digits and underscores, well under PostgreSQL's 63-byte limit.
func uniqueName(prefix, hint string) string {
	var b strings.Builder
	b.WriteString(prefix)
	underscore := true
	b.WriteByte('_')
	for _, r := range strings.ToLower(hint) {
		if b.Len() >= len(prefix)+1+30 {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			underscore = false
		} else if !underscore {
			b.WriteByte('_')
			underscore = true
		}
	}
	if !underscore {
		b.WriteByte('_')
	}
	b.WriteString(randomHex(4))
	return b.String()
}

func randomHex(n int) string {
	buf := make([]byte, n)
	_, _ = rand.Read(buf)
	return hex.EncodeToString(buf)
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }
