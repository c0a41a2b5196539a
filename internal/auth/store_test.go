package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/audit"
	"github.com/rosetta-cdc/rosetta/internal/auth"
)

// Two instances' session stores on one database, with SESSION_CACHE_TTL=2s on a clock the
// test steps: a session deleted on one (signed out) is answered from the other's cache
// for at most the TTL, a fresh read sees it gone at once, and a renewal on the other
// instance does not bring the deleted row back.
func TestSessionStoreCacheAndRenewalAcrossInstances(t *testing.T) {
	t.Parallel()
	now := time.Now()
	clock := func() time.Time { return now }
	svc, pool := newService(t, auth.WithSessionCacheTTL(2*time.Second), auth.WithClock(clock))
	otherSvc := auth.New(pool, audit.ForAuth(), cheap, auth.WithSessionCacheTTL(2*time.Second), auth.WithClock(clock))
	here, other := svc.NewSessionStore(time.Minute), otherSvc.NewSessionStore(time.Minute)
	ctx := context.Background()
	expiry := time.Now().Add(time.Hour)
	if err := here.CommitCtx(ctx, "tok", []byte("data"), expiry); err != nil {
		t.Fatal(err)
	}
	if _, found, err := other.FindCtx(ctx, "tok"); err != nil || !found {
		t.Fatalf("other instance reads the session: found=%v err=%v", found, err)
	}

	if err := here.DeleteCtx(ctx, "tok"); err != nil { // signed out here
		t.Fatal(err)
	}
	if _, found, _ := here.FindCtx(ctx, "tok"); found {
		t.Error("this instance still finds the session it deleted")
	}
	if _, found, _ := other.FindCtx(ctx, "tok"); !found {
		t.Error("other instance within the TTL: want the cached session")
	}
	// The other instance renews what it believes is a live session: no row comes back.
	if err := other.CommitCtx(ctx, "tok", []byte("data"), expiry.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM sessions WHERE token = 'tok'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("a renewal on another instance brought a deleted session back (%d rows)", n)
	}
	now = now.Add(2 * time.Second)
	if _, found, _ := other.FindCtx(ctx, "tok"); found {
		t.Error("other instance after the TTL still finds the deleted session")
	}
	// A new session (a token this store never saw) is inserted as before; a fresh read
	// bypasses the cache.
	if err := other.CommitCtx(ctx, "tok2", []byte("data"), expiry); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := here.FindCtx(ctx, "tok2"); !found {
		t.Fatal("a new session committed on one instance is not found on the other")
	}
	if err := other.DeleteCtx(ctx, "tok2"); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := here.FindCtx(ctx, "tok2"); !found {
		t.Error("within the TTL: want the cached session")
	}
	if _, found, _ := here.FindCtx(auth.FreshSession(ctx), "tok2"); found {
		t.Error("a fresh read still finds the deleted session")
	}
}
