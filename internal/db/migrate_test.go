package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func tables(t *testing.T, d *testdb.DB) map[string]bool {
	t.Helper()
	rows, err := d.Pool.Query(context.Background(),
		`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'goose_db_version'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[n] = true
	}
	return out
}

// TestMigrationsUpDownUp proves every down migration works and that up after a full
// down rebuilds the same schema.
func TestMigrationsUpDownUp(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d := testdb.New(t) // already migrated from the template
	m, err := db.NewMigrator(d.Pool)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	top, err := m.Version(ctx)
	if err != nil || top < 1 {
		t.Fatalf("version = %d, %v", top, err)
	}
	before := tables(t, d)
	for _, want := range []string{"sources", "destinations", "pipelines", "pipeline_metadata", "wal_metrics"} {
		if !before[want] {
			t.Errorf("table %s missing after up", want)
		}
	}
	// one step at a time, so every individual down runs
	for v := top; v > 0; v, _ = m.Version(ctx) {
		if _, err := m.Down(ctx); err != nil {
			t.Fatalf("down from %d: %v", v, err)
		}
	}
	if left := tables(t, d); len(left) != 0 {
		t.Fatalf("tables left after full down: %v", left)
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	after := tables(t, d)
	if len(after) != len(before) {
		t.Fatalf("schema differs after up/down/up: %v vs %v", before, after)
	}
	if v, _ := m.Version(ctx); v != top {
		t.Fatalf("version after up = %d, want %d", v, top)
	}
}

// migratedDownTo is a fresh database migrated down to version, and its migrator (closed
// with the test), for the tests of one migration's up and down steps on existing rows.
func migratedDownTo(ctx context.Context, t *testing.T, version int64) (*testdb.DB, *db.Migrator) {
	t.Helper()
	d := testdb.New(t)
	m, err := db.NewMigrator(d.Pool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if _, err := m.DownTo(ctx, version); err != nil {
		t.Fatal(err)
	}
	return d, m
}

// execFatal runs statements on d for a migration test's setup, failing the test on error.
func execFatal(ctx context.Context, t *testing.T, d *testdb.DB) func(sql string, args ...any) {
	return func(sql string, args ...any) {
		t.Helper()
		if _, err := d.Pool.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
}

// countFatal reads one number from d (a count, for a migration test's checks), failing
// the test on error.
func countFatal(ctx context.Context, t *testing.T, d *testdb.DB) func(sql string, args ...any) int {
	return func(sql string, args ...any) int {
		t.Helper()
		var n int
		if err := d.Pool.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
}
