package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rosetta-cdc/rosetta/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// The lean client reads each framing the server may use (Content-Length, chunked with
// several chunks, an empty 204) to its end, so the next request on the same kept-alive
// connection gets its own answer.
func TestLeanClientReadsEveryFramingOnOneConnection(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/length":
			w.Header().Set("Content-Length", "5")
			fmt.Fprint(w, "hello")
		case "/chunked":
			for i := range 3 {
				fmt.Fprint(w, strings.Repeat("x", 5000*(i+1)))
				w.(http.Flusher).Flush()
			}
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		default:
			http.NotFound(w, r)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	c := &httpConn{addr: addr}
	defer c.close()
	for _, tc := range []struct {
		path   string
		status int
	}{{"/length", 200}, {"/chunked", 200}, {"/empty", 204}, {"/missing", 404}, {"/chunked", 200}, {"/length", 200}} {
		status, err := c.roundTrip(buildRequest(addr, tc.path))
		if err != nil || status != tc.status {
			t.Fatalf("GET %s: status %d, err %v; want %d", tc.path, status, err, tc.status)
		}
	}
	if n := conns.Load(); n > 1 {
		t.Errorf("%d connections for six requests; want one kept alive", n)
	}
}

// The recorder keeps a pgx.Batch's statements together and the replay sends them as one
// batch again, so a handler that batches its reads is compared with the same round trips.
func TestRecorderKeepsBatchesAndReplaysThem(t *testing.T) {
	d := testdb.New(t)
	ctx := context.Background()
	rec := &recorder{}
	pc, err := pgxpool.ParseConfig(d.URL)
	if err != nil {
		t.Fatal(err)
	}
	pc.ConnConfig.Tracer = rec
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	rec.on.Store(true)
	var one int
	if err := pool.QueryRow(ctx, "SELECT $1::int", 1).Scan(&one); err != nil {
		t.Fatal(err)
	}
	var batch pgx.Batch
	batch.Queue("SELECT generate_series(1, $1::int)", 3)
	batch.Queue("SELECT $1::text", "two")
	if err := pool.SendBatch(ctx, &batch).Close(); err != nil {
		t.Fatal(err)
	}
	rec.on.Store(false)

	var got []string
	for _, st := range rec.stmts {
		got = append(got, fmt.Sprintf("%d:%s", st.batch, st.sql))
	}
	want := []string{"0:SELECT $1::int", "1:SELECT generate_series(1, $1::int)", "1:SELECT $1::text"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("recorded %q, want %q", got, want)
	}
	b := &bench{raw: pool}
	w, done := b.replay(rec.stmts).worker(0)
	defer done()
	if err := w(ctx, 0); err != nil {
		t.Fatalf("replay: %v", err)
	}
	// A statement that fails inside a batch fails the replay: nothing is skipped quietly.
	bad := append(rec.stmts[:1:1], statement{sql: "SELECT 1/0", batch: 2})
	w, done = b.replay(bad).worker(0)
	defer done()
	if err := w(ctx, 0); err == nil {
		t.Error("replaying a failing batch statement succeeded")
	}
}

// The bare server never repeats an unparsable DATABASE_URL's parse error, which pgx can
// word with the URL and so the password in it.
func TestBareServerHidesUnparsableURL(t *testing.T) {
	const pw = "s3cret-bare-pw"
	for _, u := range []string{"postgres://rosetta:" + pw + "@localhost:notaport/db", "postgres://rosetta:" + pw + "@[::1/db"} {
		t.Setenv("DATABASE_URL", u)
		err := bareServe()
		if err == nil || strings.Contains(err.Error(), pw) || !strings.Contains(err.Error(), "DATABASE_URL") {
			t.Errorf("%s: error %v, want one naming DATABASE_URL without the password", u, err)
		}
	}
}
