package main

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/app"
	"github.com/rosetta-cdc/rosetta/internal/pgcluster"
)

// An operator adds a user while `make run` is up: the command must use the running
// server's embedded cluster rather than stop at its lock, while serve-like commands
// still refuse to start a second one.
func TestUserCommandBesideRunningServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	dataDir := t.TempDir()
	t.Setenv("DATABASE_URL", "")
	t.Setenv("DATA_DIR", dataDir)
	t.Setenv("APP_ENV", "development")

	// Stand in for the running server: hold its lock and run its cluster.
	release, err := pgcluster.AcquireLock(filepath.Join(dataDir, "rosetta.lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	cl, err := pgcluster.Start(ctx, pgcluster.Options{DataDir: filepath.Join(dataDir, "pg"),
		Settings: map[string]string{"fsync": "off", "shared_buffers": "16MB", "max_connections": "20"}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Stop(context.Background()) //nolint:errcheck // test cleanup
	if err := app.EnsureDatabase(ctx, cl.URL("postgres"), app.EmbeddedDatabase); err != nil {
		t.Fatal(err)
	}

	out, _, err := cli(t, "a-sufficiently-long-password\n", "user", "create", "--email", "beside@example.com", "--role", "viewer")
	if err != nil || !strings.Contains(out, "created beside@example.com") {
		t.Fatalf("user create beside a running server: %q %v", out, err)
	}
	out, _, err = cli(t, "", "user", "list")
	if err != nil || !strings.Contains(out, "beside@example.com") {
		t.Fatalf("user list: %q %v", out, err)
	}
	if !cl.Running() {
		t.Fatal("the command stopped the server's cluster")
	}

	_, _, err = cli(t, "", "migrate", "up")
	if !errors.Is(err, pgcluster.ErrLocked) {
		t.Fatalf("migrate up beside a running server: err = %v, want a refusal", err)
	}
}
