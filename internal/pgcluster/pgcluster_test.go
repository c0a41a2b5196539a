package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// lightSettings keep test clusters cheap on a small machine.
var lightSettings = map[string]string{
	"fsync":           "off",
	"shared_buffers":  "16MB",
	"max_connections": "10",
}

func startTest(t *testing.T, opts Options) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("start cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(context.Background()); err != nil {
			t.Errorf("stop cluster: %v", err)
		}
	})
	return c
}

func connect(ctx context.Context, t *testing.T, c *Cluster) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatalf("connect: %v\n%s", err, c.LogTail())
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestStartStopStartKeepsPortAndData(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dataDir := filepath.Join(t.TempDir(), "pg")
	c := startTest(t, Options{DataDir: dataDir, Settings: lightSettings})

	if c.Port() == 0 || c.Host() != "127.0.0.1" || c.Superuser() != "postgres" {
		t.Fatalf("unexpected address %s:%d user %s", c.Host(), c.Port(), c.Superuser())
	}
	st, err := os.Stat(dataDir + ".password")
	if err != nil {
		t.Fatalf("generated password was not persisted: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("password file mode = %v, want 0600", st.Mode().Perm())
	}

	conn := connect(ctx, t, c)
	var listen, sockets string
	if err := conn.QueryRow(ctx, "SELECT current_setting('listen_addresses'), current_setting('unix_socket_directories')").
		Scan(&listen, &sockets); err != nil {
		t.Fatal(err)
	}
	if listen != "127.0.0.1" || sockets != "" {
		t.Errorf("listen_addresses=%q unix_socket_directories=%q, want loopback only and no socket", listen, sockets)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE survivor (v text); INSERT INTO survivor VALUES ('still here')"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	port := c.Port()
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if c.Running() {
		t.Fatal("Running() after Stop")
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("second stop must be a no-op: %v", err)
	}
	if _, err := pgx.Connect(ctx, c.URL("postgres")); err == nil {
		t.Fatal("connected to a stopped cluster")
	}

	if err := c.Start(ctx); err != nil {
		t.Fatalf("restart: %v", err)
	}
	if c.Port() != port {
		t.Fatalf("restart moved the port from %d to %d", port, c.Port())
	}
	assertSurvivor(ctx, t, c)

	// A new process (a later `make run`) finds the cluster and its saved password.
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	again := startTest(t, Options{DataDir: dataDir, Settings: lightSettings})
	if again.Password() != c.Password() {
		t.Fatal("second Start did not read back the saved password")
	}
	assertSurvivor(ctx, t, again)

	// Starting over a running cluster must refuse instead of corrupting it.
	_, err = Start(ctx, Options{DataDir: dataDir, Settings: lightSettings})
	if err == nil || !strings.Contains(err.Error(), "already running") {
		t.Fatalf("Start on a running data directory: err = %v, want 'already running'", err)
	}
	assertSurvivor(ctx, t, again)

	// Another process (a `rosetta user` command beside `make run`) can use it instead.
	att, err := Attach(dataDir, "")
	if err != nil {
		t.Fatalf("Attach to a running cluster: %v", err)
	}
	if att.Port() != again.Port() || att.URL("postgres") != again.URL("postgres") {
		t.Fatalf("Attach found %s, want %s", att.URL("postgres"), again.URL("postgres"))
	}
	assertSurvivor(ctx, t, att)
	if err := again.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := Attach(dataDir, ""); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Attach to a stopped cluster: err = %v, want ErrNotRunning", err)
	}
}

func assertSurvivor(ctx context.Context, t *testing.T, c *Cluster) {
	t.Helper()
	conn := connect(ctx, t, c)
	defer conn.Close(ctx)
	var v string
	if err := conn.QueryRow(ctx, "SELECT v FROM survivor").Scan(&v); err != nil || v != "still here" {
		t.Fatalf("data did not survive the restart: %q, %v", v, err)
	}
}

func TestStartFailureShowsServerLog(t *testing.T) {
	t.Parallel()
	settings := map[string]string{"fsync": "off", "shared_buffers": "not-a-size"}
	_, err := Start(t.Context(), Options{DataDir: filepath.Join(t.TempDir(), "pg"), Settings: settings})
	if err == nil {
		t.Fatal("start with an invalid setting succeeded")
	}
	if !strings.Contains(err.Error(), `invalid value for parameter "shared_buffers"`) {
		t.Fatalf("error lacks the server log's reason:\n%v", err)
	}
}

func TestStartRefusesForeignDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Start(t.Context(), Options{DataDir: dir})
	if err == nil || !strings.Contains(err.Error(), "holds no PostgreSQL cluster") {
		t.Fatalf("err = %v, want refusal of a non-empty non-cluster directory", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "notes.txt")); string(b) != "mine" {
		t.Fatal("the foreign directory was modified")
	}
}

func TestStartRejectsReservedSetting(t *testing.T) {
	t.Parallel()
	_, err := Start(t.Context(), Options{DataDir: t.TempDir(), Settings: map[string]string{"port": "5432"}})
	if err == nil || !strings.Contains(err.Error(), "managed by pgcluster") {
		t.Fatalf("err = %v", err)
	}
}

func TestAcquireLock(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sub", "rosetta.lock")
	release, err := AcquireLock(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = AcquireLock(path)
	want := fmt.Sprintf("another Rosetta is already running with this data directory (pid %d", os.Getpid())
	if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock: err = %v, want it to contain %q", err, want)
	}
	release()
	release() // idempotent
	release2, err := AcquireLock(path)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	release2()
}

func TestURLEscapesPassword(t *testing.T) {
	t.Parallel()
	c := &Cluster{superuser: "postgres", password: "p@ss/w:rd?#%", port: 5999}
	u, err := url.Parse(c.URL("my db"))
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	if pw != c.password || u.Port() != "5999" || u.Path != "/my db" || u.Query().Get("sslmode") != "disable" {
		t.Fatalf("URL round trip: %s → password %q port %s path %q", c.URL("my db"), pw, u.Port(), u.Path)
	}
	cfg, err := pgx.ParseConfig(c.URL("app"))
	if err != nil || cfg.Password != c.password || cfg.Database != "app" {
		t.Fatalf("pgx reads %v / %v", cfg, err)
	}
}

func TestVersionLess(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		less bool
	}{{"9.6", "10", true}, {"15", "16", true}, {"16", "15", false}, {"10", "9.6", false}} {
		if got := versionLess(tc.a, tc.b); got != tc.less {
			t.Errorf("versionLess(%s, %s) = %v", tc.a, tc.b, got)
		}
	}
}

func TestExplicitPasswordWithAwkwardCharacters(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "pg")
	c := startTest(t, Options{DataDir: dataDir, Superuser: "admin", Password: `p@ss/w:rd?#% 'x"`, Settings: lightSettings})
	conn := connect(t.Context(), t, c)
	var user string
	if err := conn.QueryRow(t.Context(), "SELECT current_user").Scan(&user); err != nil || user != "admin" {
		t.Fatalf("current_user = %q, %v", user, err)
	}
	if _, err := os.Stat(dataDir + ".password"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a caller-supplied password was written to disk (stat: %v)", err)
	}
}

// Not parallel: t.Setenv.
func TestBinDirHonoursPGBIN(t *testing.T) {
	dir, err := BinDir()
	if err != nil {
		t.Fatalf("no server binaries on this machine: %v", err)
	}
	t.Setenv("PG_BIN", dir)
	if got, err := BinDir(); err != nil || got != dir {
		t.Fatalf("BinDir with PG_BIN=%s: %q, %v", dir, got, err)
	}
	empty := t.TempDir()
	t.Setenv("PG_BIN", empty)
	if _, err := BinDir(); err == nil || !strings.Contains(err.Error(), "PG_BIN="+empty) {
		t.Fatalf("BinDir with a PG_BIN lacking initdb: err = %v", err)
	}
}
