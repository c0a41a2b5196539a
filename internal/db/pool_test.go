package db_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
)

// Rosetta's own pool runs without JIT (see NewPool), unless the URL asks for it.
func TestPoolRunsWithoutJIT(t *testing.T) {
	t.Parallel()
	d := testdb.New(t)
	ctx := context.Background()
	show := func(rawURL string) string {
		t.Helper()
		p, err := db.NewPool(ctx, rawURL, db.PoolOptions{MaxConns: 1, AcquireTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		var v string
		if err := p.QueryRow(ctx, "SHOW jit").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	// the server's own default is on: the pool is what turns it off
	var server string
	if err := d.Pool.QueryRow(ctx, "SHOW jit").Scan(&server); err != nil || server != "on" {
		t.Fatalf("test server's jit = %q (%v); the test needs the default, on", server, err)
	}
	if got := show(d.URL); got != "off" {
		t.Errorf("pool jit = %q, want off", got)
	}
	u, err := url.Parse(d.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("jit", "on")
	u.RawQuery = q.Encode()
	if got := show(u.String()); got != "on" {
		t.Errorf("pool with jit=on in the URL: jit = %q", got)
	}
}
