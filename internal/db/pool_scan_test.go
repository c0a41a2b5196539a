package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
)

// The pool's QueryRow scans with plans kept across statements (releasingRow.Scan); it
// must answer exactly as pgx's QueryRow does: the values (NULLs, arrays, times), no
// row, the statement's own error, a value that does not fit its destination, the same
// columns into other destination types on the same connection, and the connection
// given back every time.
func TestQueryRowScansAsPgxDoes(t *testing.T) {
	t.Parallel()
	d := testdb.New(t)
	ctx := context.Background()
	p, err := db.NewPool(ctx, d.URL, db.PoolOptions{MaxConns: 1, AcquireTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const row = `SELECT 7::bigint, 'seven'::text, NULL::text, '2026-11-30 01:02:03.456+00'::timestamptz, NULL::timestamptz,
		ARRAY['a','b']::text[], true, NULL::bigint, '\x0102'::bytea WHERE $1`
	type values struct {
		id       int64
		name     string
		none     *string
		at       time.Time
		never    *time.Time
		tags     []string
		ok       bool
		nullable *int64
		raw      []byte
	}
	// Each round uses the one connection, so the second and third reuse its plans.
	for round := range 3 {
		var v values
		if err := p.QueryRow(ctx, row, true).Scan(&v.id, &v.name, &v.none, &v.at, &v.never, &v.tags, &v.ok, &v.nullable, &v.raw); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		want := time.Date(2026, 11, 30, 1, 2, 3, 456000000, time.UTC)
		if v.id != 7 || v.name != "seven" || v.none != nil || !v.at.Equal(want) || v.never != nil || len(v.tags) != 2 ||
			v.tags[1] != "b" || !v.ok || v.nullable != nil || string(v.raw) != "\x01\x02" {
			t.Errorf("round %d: %+v", round, v)
		}
		// The same columns into other types: a plan made for one type is not used for another.
		var id, nullable any
		var name, none, never, tags, ok, raw any
		var at any
		if err := p.QueryRow(ctx, row, true).Scan(&id, &name, &none, &at, &never, &tags, &ok, &nullable, &raw); err != nil {
			t.Fatalf("round %d, into any: %v", round, err)
		}
		if id != int64(7) || name != "seven" || none != nil || nullable != nil || ok != true {
			t.Errorf("round %d, into any: %v %v %v %v %v", round, id, name, none, nullable, ok)
		}
		// No row.
		if err := p.QueryRow(ctx, row, false).Scan(&v.id, &v.name, &v.none, &v.at, &v.never, &v.tags, &v.ok, &v.nullable, &v.raw); !errors.Is(err, pgx.ErrNoRows) {
			t.Errorf("round %d, no row: %v, want pgx.ErrNoRows", round, err)
		}
		// The statement's error.
		var pgErr *pgconn.PgError
		if err := p.QueryRow(ctx, `SELECT 1, 2, 3, 1/0`).Scan(&v.id, &v.id, &v.id, &v.id); !errors.As(err, &pgErr) || pgErr.Code != "22012" {
			t.Errorf("round %d, division by zero: %v", round, err)
		}
		// A NULL into a non-nullable destination is the column's scan error.
		var argErr pgx.ScanArgError
		if err := p.QueryRow(ctx, `SELECT 1::bigint, 2::bigint, 3::bigint, NULL::bigint`).Scan(&v.id, &v.id, &v.id, &v.id); !errors.As(err, &argErr) || argErr.ColumnIndex != 3 {
			t.Errorf("round %d, NULL into int64: %v", round, err)
		}
		// DriverBytes cannot outlive the row: refused before reading, as pgx refuses it,
		// whether the row is short (pgx's Scan) or long (the cached plans).
		var dbytes pgtype.DriverBytes
		for _, dest := range [][]any{{&dbytes}, {&v.id, &v.id, &v.id, &dbytes}} {
			sql := `SELECT '\x01'::bytea`
			if len(dest) > 1 {
				sql = `SELECT 1::bigint, 2::bigint, 3::bigint, '\x01'::bytea`
			}
			if err := p.QueryRow(ctx, sql).Scan(dest...); err == nil || err.Error() != "cannot scan into *pgtype.DriverBytes from QueryRow" {
				t.Errorf("round %d, %d columns into DriverBytes: %v", round, len(dest), err)
			}
		}
		// One-shot statements are described on every run into one buffer of the
		// connection's: two of them with other column types, one after the other, must
		// each be scanned by plans for their own columns.
		var n1, n2, n3 int64
		var s4 string
		var t1, t2, t3 string
		var i4 int64
		for range 2 {
			if err := p.QueryRow(ctx, `SELECT 1::bigint, 2::bigint, 3::bigint, 'four'::text`, pgx.QueryExecModeExec).Scan(&n1, &n2, &n3, &s4); err != nil ||
				n1 != 1 || n3 != 3 || s4 != "four" {
				t.Errorf("round %d, one-shot bigints then text: %d %d %q %v", round, n1, n3, s4, err)
			}
			if err := p.QueryRow(ctx, `SELECT 'a'::text, 'b'::text, 'c'::text, 4::bigint`, pgx.QueryExecModeExec).Scan(&t1, &t2, &t3, &i4); err != nil ||
				t1 != "a" || t3 != "c" || i4 != 4 {
				t.Errorf("round %d, one-shot texts then bigint: %q %q %d %v", round, t1, t3, i4, err)
			}
			// The same destinations (any) for other column types.
			var a1, a2, a3, a4 any
			if err := p.QueryRow(ctx, `SELECT 1::bigint, 2::bigint, 3::bigint, 4::bigint`, pgx.QueryExecModeExec).Scan(&a1, &a2, &a3, &a4); err != nil ||
				a1 != int64(1) || a4 != int64(4) {
				t.Errorf("round %d, one-shot bigints into any: %#v %#v %v", round, a1, a4, err)
			}
			if err := p.QueryRow(ctx, `SELECT 'a'::text, 'b'::text, 'c'::text, 'd'::text`, pgx.QueryExecModeExec).Scan(&a1, &a2, &a3, &a4); err != nil ||
				a1 != "a" || a4 != "d" {
				t.Errorf("round %d, one-shot texts into any: %#v %#v %v", round, a1, a4, err)
			}
		}
		// Too few destinations.
		if err := p.QueryRow(ctx, `SELECT 1, 2, 3, 4, 5`).Scan(&v.id, &v.id, &v.id, &v.id); err == nil {
			t.Errorf("round %d: four destinations for five columns scanned", round)
		}
	}
	// Every connection went back: a pool of one still serves.
	var one int
	if err := p.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil || one != 1 {
		t.Errorf("after the rounds: %d %v", one, err)
	}
	// The connection's plans are kept while it lives and dropped when it closes.
	c, err := p.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m := c.Conn().TypeMap()
	c.Release()
	if n := db.CachedScanPlans(m); n == 0 {
		t.Errorf("no scan plans kept for the open connection")
	}
	p.Close()
	if n := db.CachedScanPlans(m); n != 0 {
		t.Errorf("%d scan plans kept for a closed connection", n)
	}
}
