package testdb

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

func TestNewDatabasesAreMigratedAndIsolated(t *testing.T) {
	t.Parallel()
	names := make(chan string, 2)
	t.Run("group", func(t *testing.T) {
		for _, label := range []string{"first", "second"} {
			t.Run(label, func(t *testing.T) {
				t.Parallel()
				ctx := t.Context()
				d := New(t)
				names <- d.Name
				var reg *string
				if err := d.Pool.QueryRow(ctx, "SELECT to_regclass('public.sources')::text").Scan(&reg); err != nil {
					t.Fatal(err)
				}
				if reg == nil {
					t.Fatal("table sources missing: the clone is not migrated")
				}
				// Each test inserts under its own name; seeing any other row would mean the
				// databases are shared.
				if _, err := d.Pool.Exec(ctx, `INSERT INTO sources (name, pg_host, pg_database, pg_username,
					pg_password, publication_name, replication_id) VALUES ($1, 'h', 'd', 'u', '\x00', 'p', 'r')`, label); err != nil {
					t.Fatal(err)
				}
				var others int
				if err := d.Pool.QueryRow(ctx, "SELECT count(*) FROM sources WHERE name <> $1", label).Scan(&others); err != nil {
					t.Fatal(err)
				}
				if others != 0 {
					t.Fatalf("database %s sees %d rows of another test", d.Name, others)
				}
			})
		}
	})
	close(names)
	a, b := <-names, <-names
	if a == b {
		t.Fatalf("both tests got database %s", a)
	}
	// After the subtests' cleanups the databases must be gone.
	for _, name := range []string{a, b} {
		var exists bool
		if err := Admin(t).QueryRow(t.Context(), "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).
			Scan(&exists); err != nil {
			t.Fatal(err)
		}
		if exists {
			t.Errorf("database %s survived its test", name)
		}
	}
}

func TestNewSourceCreatesAndCleansUp(t *testing.T) {
	t.Parallel()
	var src Source
	t.Run("source", func(t *testing.T) {
		ctx := t.Context()
		src = NewSource(t, SourceOptions{CreateSlot: true})
		conn, err := pgx.Connect(ctx, src.ConnURL())
		if err != nil {
			t.Fatalf("log in as the source role: %v", err)
		}
		defer conn.Close(ctx)
		var canReplicate, pubExists bool
		var plugin, slotDB string
		if err := conn.QueryRow(ctx, `SELECT
				(SELECT rolreplication FROM pg_roles WHERE rolname = current_user),
				EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1),
				(SELECT plugin FROM pg_replication_slots WHERE slot_name = $2),
				(SELECT database FROM pg_replication_slots WHERE slot_name = $2)`,
			src.Publication, src.Slot).Scan(&canReplicate, &pubExists, &plugin, &slotDB); err != nil {
			t.Fatal(err)
		}
		if !canReplicate || !pubExists || plugin != "pgoutput" || slotDB != src.Database {
			t.Fatalf("replication=%v publication=%v plugin=%q slot database=%q", canReplicate, pubExists, plugin, slotDB)
		}
		if _, err := conn.Exec(ctx, "INSERT INTO public.orders (note) VALUES ('x')"); err != nil {
			t.Fatalf("the role cannot write its own table: %v", err)
		}
	})
	for _, tc := range []struct{ what, query, name string }{
		{"slot", "SELECT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)", src.Slot},
		{"database", "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", src.Database},
		{"role", "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", src.User},
	} {
		var exists bool
		if err := Admin(t).QueryRow(t.Context(), tc.query, tc.name).Scan(&exists); err != nil {
			t.Fatal(err)
		}
		if exists {
			t.Errorf("source %s %s survived its test", tc.what, tc.name)
		}
	}
}

func TestNewSourceOptions(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	src := NewSource(t, SourceOptions{NoReplication: true, NoPublication: true, CreateSlot: true, SlotPlugin: "test_decoding"})
	var canReplicate, pubExists bool
	var plugin string
	if err := Admin(t).QueryRow(ctx, `SELECT
			(SELECT rolreplication FROM pg_roles WHERE rolname = $1),
			EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $2),
			(SELECT plugin FROM pg_replication_slots WHERE slot_name = $3)`,
		src.User, src.Publication, src.Slot).Scan(&canReplicate, &pubExists, &plugin); err != nil {
		t.Fatal(err)
	}
	// pg_publication is per database: looking from postgres must not find it either way,
	// so ask the source database too.
	conn, err := pgx.Connect(ctx, src.ConnURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)", src.Publication).
		Scan(&pubExists); err != nil {
		t.Fatal(err)
	}
	if canReplicate || pubExists || plugin != "test_decoding" {
		t.Fatalf("replication=%v publication=%v plugin=%q", canReplicate, pubExists, plugin)
	}
}

func TestNewClusterSurvivesRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := NewCluster(t)
	src := NewSource(t, SourceOptions{Cluster: c, CreateSlot: true})
	if src.Port != c.Port() {
		t.Fatalf("source port %d, cluster port %d", src.Port, c.Port())
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if conn, err := pgx.Connect(ctx, src.ConnURL()); err == nil {
		conn.Close(ctx)
		t.Fatal("connected to a stopped cluster")
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, src.ConnURL())
	if err != nil {
		t.Fatalf("reconnect after restart: %v", err)
	}
	conn.Close(ctx)
}

func TestUniqueName(t *testing.T) {
	t.Parallel()
	valid := regexp.MustCompile(`^[a-z0-9_]{1,63}$`)
	long := fmt.Sprintf("%0100d", 0)
	for _, hint := range []string{"TestFoo/sub-test#01", "", long, "Ünïcode/Ä"} {
		a, b := uniqueName("t", hint), uniqueName("t", hint)
		if !valid.MatchString(a) || a == b {
			t.Errorf("uniqueName(%q) = %q, %q", hint, a, b)
		}
	}
}
