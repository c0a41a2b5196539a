package demo_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/audit"
	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/demo"
	"github.com/rosetta-cdc/rosetta/internal/pgsource"
	"github.com/rosetta-cdc/rosetta/internal/secrets"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

type fixture struct {
	d    *testdb.DB
	cat  *catalog.Service
	opts demo.Options
}

// setup gives a test its own catalog database and demo names unique on the shared test
// cluster, and drops whatever the demo created (slot first: it retains WAL) at the end.
func setup(t *testing.T) fixture {
	t.Helper()
	d := testdb.New(t)
	box, err := secrets.NewBox("test-secret-key-0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.New(db.Wrap(d.Pool, 5*time.Second), box, audit.ForCatalog())
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	sfx := hex.EncodeToString(b)
	o := demo.Options{ClusterURL: d.URL, Catalog: cat, SourceName: "demo-" + sfx,
		Database: "demo_" + sfx, Role: "demo_" + sfx, Publication: "demo_pub_" + sfx, Slot: "demo_slot_" + sfx}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		admin := testdb.Admin(t)
		if _, err := admin.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, o.Slot); err != nil {
			t.Errorf("drop demo slot: %v", err)
		}
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{o.Database}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop demo database: %v", err)
		}
		if _, err := admin.Exec(ctx, "DROP ROLE IF EXISTS "+pgx.Identifier{o.Role}.Sanitize()); err != nil {
			t.Errorf("drop demo role: %v", err)
		}
	})
	return fixture{d: d, cat: cat, opts: o}
}

func ctxAsAdmin() context.Context {
	return auth.WithPrincipal(context.Background(), auth.Principal{Email: "test@localhost", Role: auth.Admin})
}

// requireChecksPass runs the catalog's test-connection checks on the source, as the
// console's Test button does, and fails unless every one is ok.
func requireChecksPass(t *testing.T, cat *catalog.Service, id int64) {
	t.Helper()
	checks, err := cat.TestSource(ctxAsAdmin(), id)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range checks {
		seen[c.Name] = true
		if c.Status != pgsource.StatusOK {
			t.Errorf("check %s: %s: %s", c.Name, c.Status, c.Message)
		}
	}
	for _, name := range []string{pgsource.CheckConnection, pgsource.CheckWALLevel, pgsource.CheckPublication,
		pgsource.CheckReplicationRole, pgsource.CheckReplicationSlot} {
		if !seen[name] {
			t.Errorf("check %s did not run (got %v)", name, checks)
		}
	}
}

func TestEnsureRegistersTheDemoOnceAndItPassesTheChecks(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()

	src, err := demo.Ensure(ctx, f.opts)
	if err != nil {
		t.Fatal(err)
	}
	if src == nil || src.Name != f.opts.SourceName || !src.PgPasswordSet || src.PgDatabase != f.opts.Database ||
		src.PublicationName != f.opts.Publication || src.ReplicationID != f.opts.Slot {
		t.Fatalf("Ensure registered %+v", src)
	}
	requireChecksPass(t, f.cat, src.ID)

	// the slot is the logical pgoutput slot of the demo database
	var plugin, slotType, database string
	if err := f.d.Pool.QueryRow(ctx, `SELECT plugin, slot_type, database FROM pg_replication_slots WHERE slot_name = $1`, f.opts.Slot).
		Scan(&plugin, &slotType, &database); err != nil {
		t.Fatal(err)
	}
	if plugin != "pgoutput" || slotType != "logical" || database != f.opts.Database {
		t.Errorf("slot: plugin %s, type %s, database %s", plugin, slotType, database)
	}

	// registered through the catalog, so audited, with the demo as the actor
	var actor string
	if err := f.d.Pool.QueryRow(ctx, `SELECT actor_email FROM audit_events WHERE entity_kind = 'source' AND action = 'create' AND entity_id = $1`, src.ID).
		Scan(&actor); err != nil {
		t.Fatalf("no audit event for the demo source: %v", err)
	}
	if actor != demo.Actor {
		t.Errorf("audit actor = %q, want %q", actor, demo.Actor)
	}

	// a second start changes nothing
	again, err := demo.Ensure(ctx, f.opts)
	if err != nil || again != nil {
		t.Fatalf("second Ensure = %+v, %v; want nothing done", again, err)
	}
	var n int
	if err := f.d.Pool.QueryRow(ctx, `SELECT count(*) FROM sources`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("sources after a second Ensure: %d, %v", n, err)
	}

	// the embedded cluster picks a free port at every start: the next start follows it,
	// with a fresh password for the new endpoint, audited as the demo's update
	// (a changed endpoint takes a password with it; the stale one is never used)
	stale, name, stalePassword := 1, "renamed by the operator", "stale-password-for-port-1"
	if _, err := f.cat.UpdateSource(ctxAsAdmin(), src.ID, catalog.SourcePatch{Name: &name, PgPort: &stale, PgPassword: &stalePassword}); err != nil {
		t.Fatal(err)
	}
	moved, err := demo.Ensure(ctx, f.opts)
	if err != nil || moved == nil {
		t.Fatalf("Ensure after a port change = %+v, %v", moved, err)
	}
	if moved.ID != src.ID || moved.PgPort != src.PgPort || moved.Name != name {
		t.Fatalf("Ensure after a port change: %+v, want source %d back on port %d under its new name", moved, src.ID, src.PgPort)
	}
	requireChecksPass(t, f.cat, src.ID)
	if err := f.d.Pool.QueryRow(ctx, `SELECT actor_email FROM audit_events WHERE entity_kind = 'source' AND action = 'update' AND entity_id = $1 ORDER BY id DESC LIMIT 1`, src.ID).
		Scan(&actor); err != nil || actor != demo.Actor {
		t.Errorf("port change audited as %q (%v), want %q", actor, err, demo.Actor)
	}

	// deleted by the operator: the next start registers it again on the objects that
	// are still there, with a fresh password that works
	if err := f.cat.DeleteSource(ctxAsAdmin(), src.ID); err != nil {
		t.Fatal(err)
	}
	back, err := demo.Ensure(ctx, f.opts)
	if err != nil || back == nil {
		t.Fatalf("Ensure after delete = %+v, %v", back, err)
	}
	requireChecksPass(t, f.cat, back.ID)
}

func TestEnsureLeavesACatalogWithSourcesAlone(t *testing.T) {
	t.Parallel()
	f := setup(t)
	real := testdb.NewSource(t, testdb.SourceOptions{})
	port := real.Port
	if _, err := f.cat.CreateSource(ctxAsAdmin(), catalog.SourceInput{Name: "orders", PgHost: real.Host, PgPort: &port,
		PgDatabase: real.Database, PgUsername: real.User, PgPassword: real.Password, PublicationName: real.Publication,
		ReplicationID: real.Slot}); err != nil {
		t.Fatal(err)
	}
	src, err := demo.Ensure(context.Background(), f.opts)
	if err != nil || src != nil {
		t.Fatalf("Ensure = %+v, %v; want nothing done", src, err)
	}
	var exists bool
	if err := f.d.Pool.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, f.opts.Database).
		Scan(&exists); err != nil || exists {
		t.Fatalf("demo database created anyway (%v, %v)", exists, err)
	}
}

func TestTrafficAdvancesTheWALAndKeepsTheSlotFromRetainingIt(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	if _, err := demo.Ensure(ctx, f.opts); err != nil {
		t.Fatal(err)
	}
	var lsn0, flushed0 string
	if err := f.d.Pool.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text, confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1`, f.opts.Slot).
		Scan(&lsn0, &flushed0); err != nil {
		t.Fatal(err)
	}

	o := f.opts
	o.Interval = 20 * time.Millisecond
	o.RetainLimit = 1 // advance at every write
	tctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- demo.Traffic(tctx, o) }()

	dbCfg, err := pgx.ParseConfig(f.d.URL)
	if err != nil {
		t.Fatal(err)
	}
	dbCfg.Database = f.opts.Database
	conn, err := pgx.ConnectConfig(ctx, dbCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// Wait (bounded, for a hung test only) until rows arrived and the slot moved on.
	deadline := time.Now().Add(time.Minute)
	for {
		var rows int
		var walGrew, slotMoved bool
		if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM public.demo_events),
			pg_current_wal_lsn() > $1::pg_lsn,
			(SELECT confirmed_flush_lsn > $2::pg_lsn FROM pg_replication_slots WHERE slot_name = $3)`, lsn0, flushed0, f.opts.Slot).
			Scan(&rows, &walGrew, &slotMoved); err != nil {
			t.Fatal(err)
		}
		if rows >= 2*o.Rows+3 && walGrew && slotMoved {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a minute of traffic: %d rows, WAL grew %v, slot advanced %v", rows, walGrew, slotMoved)
		}
		time.Sleep(50 * time.Millisecond)
	}

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Traffic returned %v after its context ended", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Traffic did not stop with its context")
	}
}

// An operator who drops the demo database (slot first) stops the writer with it.
func TestTrafficStopsWhenTheDemoDatabaseIsDropped(t *testing.T) {
	t.Parallel()
	f := setup(t)
	if _, err := demo.Ensure(context.Background(), f.opts); err != nil {
		t.Fatal(err)
	}
	o := f.opts
	o.Interval = 20 * time.Millisecond
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { done <- demo.Traffic(ctx, o) }()

	admin := testdb.Admin(t)
	if _, err := admin.Exec(ctx, `SELECT pg_drop_replication_slot($1)`, o.Slot); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "DROP DATABASE "+pgx.Identifier{o.Database}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Traffic = %v, want nil once the database is gone", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Traffic kept running after the demo database was dropped")
	}
}

func TestTrafficWithoutTheDemoDatabaseDoesNothing(t *testing.T) {
	t.Parallel()
	f := setup(t) // Ensure never ran: no demo database
	if err := demo.Traffic(context.Background(), f.opts); err != nil {
		t.Fatalf("Traffic = %v, want nil at once", err)
	}
}
