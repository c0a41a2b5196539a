package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
)

// onePool is a pool of one connection, warmed so that connection is idle in it.
func onePool(t *testing.T, timeout time.Duration) *db.Pool {
	t.Helper()
	d := testdb.New(t)
	p, err := db.NewPool(context.Background(), d.URL, db.PoolOptions{MaxConns: 1, AcquireTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	// Connected through pgxpool's own Acquire, without the timeout: opening a
	// connection on a loaded machine can take longer than the timeouts under test.
	c, err := p.Pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c.Release()
	return p
}

// hold takes the pool's only connection until the test ends or release is called.
func hold(t *testing.T, p *db.Pool) (release func()) {
	t.Helper()
	c, err := p.Pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	done := false
	release = func() {
		if !done {
			done = true
			c.Release()
		}
	}
	t.Cleanup(release)
	return release
}

// With every connection held, each way of running a statement answers ErrPoolTimeout
// once DB_POOL_TIMEOUT has passed, instead of waiting for as long as the caller would.
func TestPoolTimeoutWhenEveryConnectionIsHeld(t *testing.T) {
	t.Parallel()
	p := onePool(t, 200*time.Millisecond)
	hold(t, p)
	// A backstop far past the pool timeout: if the timeout stopped applying, the test
	// fails here instead of hanging (the caller's deadline is not ErrPoolTimeout).
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var one int
	if err := p.QueryRow(ctx, "SELECT 1").Scan(&one); !errors.Is(err, db.ErrPoolTimeout) {
		t.Errorf("QueryRow: %v, want ErrPoolTimeout", err)
	}
	if _, err := p.Exec(ctx, "SELECT 1"); !errors.Is(err, db.ErrPoolTimeout) {
		t.Errorf("Exec: %v, want ErrPoolTimeout", err)
	}
	if rows, err := p.Query(ctx, "SELECT 1"); !errors.Is(err, db.ErrPoolTimeout) {
		if err == nil {
			rows.Close()
		}
		t.Errorf("Query: %v, want ErrPoolTimeout", err)
	}
}

// A caller's own end (its cancellation, or a deadline sooner than the pool timeout) ends
// the wait with the caller's error: it is not the pool's timeout.
func TestPoolTimeoutLeavesTheCallersOwnEnd(t *testing.T) {
	t.Parallel()
	p := onePool(t, time.Minute)
	hold(t, p)
	var one int

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := p.QueryRow(ctx, "SELECT 1").Scan(&one)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, db.ErrPoolTimeout) {
		t.Errorf("caller's deadline: %v, want the caller's DeadlineExceeded", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	go func() {
		// Most likely mid-wait; cancelled before the wait starts is answered the same.
		time.Sleep(100 * time.Millisecond)
		cancel()
	}()
	err = p.QueryRow(ctx, "SELECT 1").Scan(&one)
	if !errors.Is(err, context.Canceled) || errors.Is(err, db.ErrPoolTimeout) {
		t.Errorf("caller cancelled: %v, want context.Canceled", err)
	}
}

// An acquire that finds an idle connection arms no timer (the point of acquireCtx); one
// that has to wait for a connection does, and gets the connection once it is released.
func TestAcquireArmsNoTimerForAnIdleConnection(t *testing.T) {
	t.Parallel()
	p := onePool(t, time.Minute)
	ctx := context.Background()
	for range 3 {
		armed, err := db.AcquireArmsTimer(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if armed {
			t.Fatal("an acquire that found an idle connection armed its timeout timer")
		}
	}
	release := hold(t, p)
	go func() {
		time.Sleep(100 * time.Millisecond)
		release()
	}()
	armed, err := db.AcquireArmsTimer(ctx, p)
	if err != nil {
		t.Fatalf("acquire after the connection was released: %v", err)
	}
	if !armed {
		t.Error("an acquire that waited for a connection armed no timeout timer")
	}
}
