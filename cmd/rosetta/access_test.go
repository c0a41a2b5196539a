package main

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/audit"
	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/config"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/secrets"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// cli runs the binary's entry point with the given standard input.
func cli(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

func useDatabase(t *testing.T) *db.Pool {
	t.Helper()
	d := testdb.New(t)
	t.Setenv("DATABASE_URL", d.URL)
	t.Setenv("APP_ENV", "test")
	t.Setenv("LOG_LEVEL", "debug")
	return db.Wrap(d.Pool, 5*time.Second)
}

func TestUserAndTokenCommands(t *testing.T) {
	pool := useDatabase(t)
	const pw = "a-sufficiently-long-password"
	out, logs, err := cli(t, pw+"\n", "user", "create", "--email", "ops@example.com", "--role", "admin")
	if err != nil || !strings.Contains(out, "created ops@example.com (admin)") {
		t.Fatalf("user create: %q %v", out, err)
	}
	// never a password argument; never a short one
	if _, _, err := cli(t, "", "user", "create", "--email", "x@example.com", "--role", "viewer", "hunter2hunter2"); err == nil ||
		!strings.Contains(err.Error(), "never arguments") {
		t.Errorf("password as an argument: %v", err)
	}
	if _, _, err := cli(t, "short\n", "user", "create", "--email", "x@example.com", "--role", "viewer"); err == nil ||
		!strings.Contains(err.Error(), "at least 12") {
		t.Errorf("short password: %v", err)
	}
	if _, _, err := cli(t, pw+"\n", "user", "create", "--email", "y@example.com", "--role", "root"); err == nil ||
		!strings.Contains(err.Error(), "--role") {
		t.Errorf("bad role: %v", err)
	}
	if _, _, err := cli(t, pw+"\n", "user", "create", "--email", "v@example.com", "--role", "viewer"); err != nil {
		t.Fatal(err)
	}
	out, _, err = cli(t, "", "user", "list")
	if err != nil || !strings.Contains(out, "ops@example.com") || !strings.Contains(out, "viewer") || strings.Contains(out, "argon2") {
		t.Errorf("user list: %q %v", out, err)
	}

	// the password works
	svc := auth.New(pool, audit.ForAuth())
	ctx := auth.WithRemoteAddr(context.Background(), "127.0.0.1")
	if p, err := svc.Login(ctx, "ops@example.com", pw); err != nil || p.Role != auth.Admin {
		t.Fatalf("sign in with the CLI's password: %v", err)
	}

	out, tokLogs, err := cli(t, "", "token", "create", "--email", "v@example.com", "--name", "ci", "--expires", "30d")
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSuffix(out, "\n")
	if strings.Count(out, "\n") != 1 || !auth.LooksLikeToken(token) {
		t.Fatalf("token create printed %q: want the token alone", out)
	}
	p, err := svc.AuthenticateToken(ctx, token)
	if err != nil || p.Email != "v@example.com" || p.Role != auth.Viewer {
		t.Fatalf("the token: %+v %v", p, err)
	}
	if _, _, err := cli(t, "", "token", "create", "--email", "v@example.com", "--name", "x", "--expires", "tomorrow"); err == nil {
		t.Error("a bad --expires was accepted")
	}
	out, _, err = cli(t, "", "token", "list", "--email", "v@example.com")
	if err != nil || !strings.Contains(out, "ci") || strings.Contains(out, token) {
		t.Fatalf("token list: %q %v", out, err)
	}
	if _, _, err := cli(t, "", "token", "revoke", "--id", strconv.FormatInt(*p.TokenID, 10)); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AuthenticateToken(ctx, token); apperr.CodeOf(err) != apperr.Unauthorized {
		t.Errorf("revoked token still works: %v", err)
	}
	if _, _, err := cli(t, "", "user", "disable", "--email", "V@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Login(ctx, "v@example.com", pw); apperr.CodeOf(err) != apperr.Unauthorized {
		t.Errorf("disabled user signs in: %v", err)
	}
	// the last admin stays
	if _, _, err := cli(t, "", "user", "disable", "--email", "ops@example.com"); err == nil || !strings.Contains(err.Error(), "only active admin") {
		t.Errorf("disabling the last admin: %v", err)
	}

	// audited as the command line, and no secret in any log
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE actor_email LIKE 'cli:%'`).Scan(&n); err != nil || n < 5 {
		t.Errorf("CLI audit rows: %d %v", n, err)
	}
	for _, l := range []string{logs, tokLogs} {
		if strings.Contains(l, pw) || strings.Contains(l, token) {
			t.Error("a secret reached the log")
		}
	}
}

func TestRotateKeyCommand(t *testing.T) {
	pool := useDatabase(t)
	const oldKey, newKey = "the-old-secret-key-01234", "the-new-secret-key-56789"
	oldBox, _ := secrets.NewBox(oldKey)
	ctx := context.Background()
	s, err := catalog.New(pool, oldBox, audit.ForCatalog()).CreateSource(ctx, catalog.SourceInput{Name: "orders", PgHost: "db.internal", PgDatabase: "d",
		PgUsername: "u", PgPassword: "the-password", PublicationName: "pub", ReplicationID: "slot"})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("SECRET_KEY", newKey)
	if _, _, err := cli(t, "", "rotate-key"); err == nil || !strings.Contains(err.Error(), "SECRET_KEY_OLD") {
		t.Errorf("without SECRET_KEY_OLD: %v", err)
	}
	t.Setenv("SECRET_KEY_OLD", oldKey)
	out, _, err := cli(t, "", "rotate-key")
	if err != nil || !strings.Contains(out, "1 re-sealed") || !strings.Contains(out, "SECRET_KEY_OLD may now be removed") {
		t.Fatalf("rotate-key: %q %v", out, err)
	}
	var sealed []byte
	if err := pool.QueryRow(ctx, `SELECT pg_password FROM sources WHERE id = $1`, s.ID).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	newBox, _ := secrets.NewBox(newKey)
	if pt, err := newBox.Open(sealed); err != nil || pt != "the-password" {
		t.Fatalf("after rotate-key: %q %v", pt, err)
	}
	out, _, err = cli(t, "", "rotate-key")
	if err != nil || !strings.Contains(out, "0 re-sealed, 1 already under the new key") {
		t.Errorf("second run: %q %v", out, err)
	}
}

func TestFirstRun(t *testing.T) {
	pool := useDatabase(t)
	ctx := context.Background()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	prod, err := config.LoadFrom(map[string]string{"APP_ENV": "production", "DATABASE_URL": "postgres://x/y", "SECRET_KEY": "0123456789abcdef0123"})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	svc := auth.New(pool, audit.ForAuth())
	firstRun(ctx, prod, svc, "https://rosetta.example.com", &out, log)
	if n, _ := svc.CountUsers(ctx); n != 0 || out.Len() != 0 {
		t.Errorf("production created %d users, printed %q", n, out.String())
	}
	if !strings.Contains(logs.String(), "rosetta user create") {
		t.Errorf("production does not say how to create the first admin: %s", logs.String())
	}

	dev, err := config.LoadFrom(map[string]string{"APP_ENV": "development"})
	if err != nil {
		t.Fatal(err)
	}
	firstRun(ctx, dev, svc, "http://localhost:8080", &out, log)
	text := out.String()
	if !strings.Contains(text, "http://localhost:8080/login") || !strings.Contains(text, auth.FirstAdminEmail) {
		t.Fatalf("first run printed %q", text)
	}
	var password string
	for _, line := range strings.Split(text, "\n") {
		if _, after, ok := strings.Cut(line, "Password"); ok {
			password = strings.TrimSpace(after)
		}
	}
	p, err := svc.Login(auth.WithRemoteAddr(ctx, "127.0.0.1"), auth.FirstAdminEmail, password)
	if err != nil || p.Role != auth.Admin {
		t.Fatalf("sign in with the printed password %q: %v", password, err)
	}
	if strings.Contains(logs.String(), password) {
		t.Error("the generated password went to the log")
	}
	out.Reset()
	firstRun(ctx, dev, svc, "http://localhost:8080", &out, log)
	if out.Len() != 0 {
		t.Errorf("a second start printed %q", out.String())
	}
}
