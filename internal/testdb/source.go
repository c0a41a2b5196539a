package testdb

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rosetta-cdc/rosetta/internal/pgcluster"
)

// Source is an operator's source database as Rosetta sees it: where it is, who to log in
// as, and the publication and slot names a pipeline would use. Publication and Slot are
// always set, whether or not the objects were created, so a test can point a check at a
// name that does not exist.
type Source struct {
	Host        string
	Port        int
	Database    string
	User        string
	Password    string
	Publication string
	Slot        string
	// Table is the schema-qualified table the publication covers.
	Table string
}

// SourceOptions picks which parts of a correctly configured source to leave out.
type SourceOptions struct {
	// NoReplication creates the login role without the REPLICATION attribute.
	NoReplication bool
	// NoPublication skips CREATE PUBLICATION.
	NoPublication bool
	// CreateSlot creates a logical replication slot named Slot, as a running pipeline would.
	CreateSlot bool
	// SlotPlugin is the slot's output plugin; default "pgoutput".
	SlotPlugin string
	// Cluster places the source on this cluster (from NewCluster) instead of the shared
	// test server, for tests that take the source down.
	Cluster *pgcluster.Cluster
}

// NewSource creates a fresh database, login role, table, publication and optionally a
// slot, as an operator would for Rosetta. Everything is dropped when the test ends; the
// slot first, because an abandoned slot retains WAL forever.
func NewSource(t testing.TB, opts SourceOptions) Source {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var (
		host   string
		port   int
		urlFor func(database string) string
		// adminPool yields a superuser pool and its release. A cluster the test restarts
		// kills every session, so cleanup must not reuse a pool opened before the outage.
		adminPool func(ctx context.Context) (*pgxpool.Pool, func(), error)
	)
	if c := opts.Cluster; c != nil {
		host, port, urlFor = c.Host(), c.Port(), c.URL
		adminPool = func(ctx context.Context) (*pgxpool.Pool, func(), error) {
			pool, err := pgxpool.New(ctx, c.URL("postgres"))
			if err != nil {
				return nil, nil, err
			}
			return pool, pool.Close, nil
		}
	} else {
		s := mustServer(t)
		host, port, urlFor = s.host, s.port, s.url
		adminPool = func(context.Context) (*pgxpool.Pool, func(), error) { return s.admin, func() {}, nil }
	}
	admin, release, err := adminPool(ctx)
	if err != nil {
		t.Fatalf("testdb: connect to the source server: %v", err)
	}
	defer release()
	// cleanup runs fn with a fresh admin pool, unless the test left the source's cluster
	// stopped: then the cluster's own cleanup deletes everything wholesale.
	cleanup := func(fn func(ctx context.Context, admin *pgxpool.Pool)) {
		t.Cleanup(func() {
			if opts.Cluster != nil && !opts.Cluster.Running() {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			admin, release, err := adminPool(ctx)
			if err != nil {
				t.Errorf("testdb: connect for source cleanup: %v", err)
				return
			}
			defer release()
			fn(ctx, admin)
		})
	}

	suffix := uniqueName("", t.Name()) // "_<test>_<random>"
	src := Source{
		Host:        host,
		Port:        port,
		Database:    "src" + suffix,
		User:        "role" + suffix,
		Password:    randomHex(16),
		Publication: "pub" + suffix,
		Slot:        "slot" + suffix,
		Table:       "public.orders",
	}
	plugin := opts.SlotPlugin
	if plugin == "" {
		plugin = "pgoutput"
	}

	replication := "NOREPLICATION"
	if !opts.NoReplication {
		replication = "REPLICATION"
	}
	// The password is hex, so embedding it in the literal is safe; DDL takes no parameters.
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE ROLE %s LOGIN %s PASSWORD '%s'",
		ident(src.User), replication, src.Password)); err != nil {
		t.Fatalf("testdb: create source role: %v", err)
	}
	cleanup(func(ctx context.Context, admin *pgxpool.Pool) {
		if _, err := admin.Exec(ctx, "DROP ROLE IF EXISTS "+ident(src.User)); err != nil {
			// Typically a grant the test made in another database that still exists;
			// harmless on a throwaway cluster, so not a test failure.
			t.Logf("testdb: drop source role %s: %v", src.User, err)
		}
	})

	if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident(src.Database)+" OWNER "+ident(src.User)); err != nil {
		t.Fatalf("testdb: create source database: %v", err)
	}
	cleanup(func(ctx context.Context, admin *pgxpool.Pool) {
		dropSourceDatabase(ctx, t, admin, src.Database)
	})

	conn, err := pgx.Connect(ctx, urlFor(src.Database))
	if err != nil {
		t.Fatalf("testdb: connect to source database: %v", err)
	}
	defer conn.Close(context.Background())
	stmts := []string{
		"CREATE TABLE public.orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text, created_at timestamptz NOT NULL DEFAULT now())",
		"ALTER TABLE public.orders OWNER TO " + ident(src.User),
	}
	if !opts.NoPublication {
		stmts = append(stmts, "CREATE PUBLICATION "+ident(src.Publication)+" FOR TABLE public.orders")
	}
	for _, stmt := range stmts {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatalf("testdb: %s: %v", stmt, err)
		}
	}
	if opts.CreateSlot {
		// Slots belong to the database of the session that creates them, hence this
		// connection and not the admin pool.
		if _, err := conn.Exec(ctx, "SELECT pg_create_logical_replication_slot($1, $2)", src.Slot, plugin); err != nil {
			t.Fatalf("testdb: create replication slot: %v", err)
		}
	}
	return src
}

// dropSourceDatabase drops every slot of the database (including ones the code under test
// created), then the database. DROP DATABASE refuses while a logical slot refers to it.
func dropSourceDatabase(ctx context.Context, t testing.TB, admin *pgxpool.Pool, name string) {
	// An active slot cannot be dropped; ending its walsender frees it.
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots
		WHERE database = $1 AND active_pid IS NOT NULL`, name); err != nil {
		t.Errorf("testdb: end replication sessions of %s: %v", name, err)
	}
	var dropErr error
	for attempt := 0; attempt < 50; attempt++ {
		// The terminated walsender releases its slot a moment after it is signalled.
		_, dropErr = admin.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
			WHERE database = $1`, name)
		if dropErr == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if dropErr != nil {
		t.Errorf("testdb: drop replication slots of %s (they retain WAL!): %v", name, dropErr)
	}
	dropDatabase(t, admin, name)
}

// ConnURL is a URL for logging in to the source as its own role (not the superuser).
func (s Source) ConnURL() string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(s.User, s.Password),
		Host:     net.JoinHostPort(s.Host, strconv.Itoa(s.Port)),
		Path:     "/" + s.Database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}
