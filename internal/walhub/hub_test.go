package walhub_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rosetta-cdc/rosetta/internal/audit"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/secrets"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
	"github.com/rosetta-cdc/rosetta/internal/walhub"
	"github.com/rosetta-cdc/rosetta/internal/walhub/walhubtest"
)

func TestMain(m *testing.M) { testdb.Main(m) }

type env struct {
	t    *testing.T
	d    *testdb.DB
	pool *db.Pool
	cat  *catalog.Service
}

func newEnv(t *testing.T) *env {
	t.Helper()
	d := testdb.New(t)
	box, err := secrets.NewBox("test-secret-key-0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	pool := db.Wrap(d.Pool, 5*time.Second)
	return &env{t: t, d: d, pool: pool, cat: catalog.New(pool, box, audit.ForCatalog())}
}

// source registers a source (never connected to: the hub only needs its id).
func (e *env) source(name string) int64 {
	e.t.Helper()
	port := 5432
	s, err := e.cat.CreateSource(context.Background(), catalog.SourceInput{Name: name, PgHost: "127.0.0.1", PgPort: &port,
		PgDatabase: "app", PgUsername: "app", PgPassword: "secret", PublicationName: "pub_" + name, ReplicationID: "slot_" + name})
	if err != nil {
		e.t.Fatalf("register %s: %v", name, err)
	}
	return s.ID
}

// receive reads n samples from sub, failing on a closed channel or a hang.
func receive(t *testing.T, sub *walhub.Subscription, n int) []int64 {
	t.Helper()
	var ids []int64
	timer := time.NewTimer(walhubtest.WaitFor)
	defer timer.Stop()
	for len(ids) < n {
		select {
		case s, ok := <-sub.C():
			if !ok {
				t.Fatalf("subscription closed after %d of %d samples", len(ids), n)
			}
			ids = append(ids, s.ID)
		case <-timer.C:
			t.Fatalf("received %d of %d samples: %v", len(ids), n, ids)
		}
	}
	return ids
}

func TestSubscriberReceivesSamplesOfItsSourceStoredAfterItSubscribed(t *testing.T) {
	e := newEnv(t)
	a, b := e.source("alpha"), e.source("beta")
	before := walhubtest.Store(t, e.pool, a, 100) // stored before anyone listened: not replayed
	h := walhubtest.Start(t, e.pool, walhub.Options{})
	onlyA, err := h.Subscribe(&a)
	if err != nil {
		t.Fatal(err)
	}
	defer onlyA.Close()
	all, err := h.Subscribe(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	if got := h.Subscribers(); got != 2 {
		t.Fatalf("subscribers = %d, want 2", got)
	}

	sb := walhubtest.Store(t, e.pool, b, 200)
	sa := walhubtest.Store(t, e.pool, a, 300, 400)

	if got, want := receive(t, onlyA, 2), walhubtest.IDs(sa); !slices.Equal(got, want) {
		t.Fatalf("source subscriber got %v, want %v", got, want)
	}
	if got, want := receive(t, all, 3), append(walhubtest.IDs(sb), walhubtest.IDs(sa)...); !slices.Equal(got, want) {
		t.Fatalf("all-sources subscriber got %v, want %v", got, want)
	}
	for _, got := range append(walhubtest.IDs(sa), walhubtest.IDs(sb)...) {
		if got == before[0].ID {
			t.Fatal("a sample stored before the hub started was published")
		}
	}
	onlyA.Close()
	onlyA.Close() // idempotent
	if got := h.Subscribers(); got != 1 {
		t.Fatalf("subscribers after close = %d, want 1", got)
	}
}

func TestSlowSubscriberIsDroppedWhileOthersKeepReceiving(t *testing.T) {
	e := newEnv(t)
	src := e.source("alpha")
	h := walhubtest.Start(t, e.pool, walhub.Options{Buffer: 2})
	slow, err := h.Subscribe(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fast, err := h.Subscribe(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()

	// The fast subscriber takes each batch before the next is stored; the slow one
	// never reads, so its buffer of two is full after the first batch.
	var want []int64
	for i := range 3 {
		batch := walhubtest.IDs(walhubtest.Store(t, e.pool, src, int64(i*2), int64(i*2+1)))
		want = append(want, batch...)
		if got := receive(t, fast, 2); !slices.Equal(got, batch) {
			t.Fatalf("fast subscriber got %v, want %v", got, batch)
		}
	}
	// The slow one holds the first two samples, then its channel is closed.
	if got := receive(t, slow, 2); !slices.Equal(got, want[:2]) {
		t.Fatalf("slow subscriber's buffer = %v, want %v", got, want[:2])
	}
	if _, ok := <-slow.C(); ok {
		t.Fatal("the slow subscriber was not dropped")
	}
	if !slow.Dropped() || fast.Dropped() {
		t.Fatalf("dropped: slow %v, fast %v", slow.Dropped(), fast.Dropped())
	}
	if h.DroppedTotal() != 1 || h.Subscribers() != 1 {
		t.Fatalf("dropped total %d, subscribers %d; want 1 and 1", h.DroppedTotal(), h.Subscribers())
	}
}

func TestTwoHubsOnOneDatabaseEachSeeWhatTheOtherInstanceStored(t *testing.T) {
	e := newEnv(t)
	src := e.source("alpha")
	// The second instance: its own pool, its own hub.
	other, err := pgxpool.New(context.Background(), e.d.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	otherPool := db.Wrap(other, 5*time.Second)

	follower := walhubtest.Start(t, e.pool, walhub.Options{})
	leader := walhubtest.Start(t, otherPool, walhub.Options{})
	onFollower, _ := follower.Subscribe(&src)
	defer onFollower.Close()
	onLeader, _ := leader.Subscribe(&src)
	defer onLeader.Close()

	stored := walhubtest.IDs(walhubtest.Store(t, otherPool, src, 1, 2, 3)) // written by the "leader"
	if got := receive(t, onFollower, 3); !slices.Equal(got, stored) {
		t.Fatalf("follower got %v, want %v", got, stored)
	}
	if got := receive(t, onLeader, 3); !slices.Equal(got, stored) {
		t.Fatalf("leader got %v, want %v", got, stored)
	}
}

func TestListenConnectionRecoversAfterItIsKilledAndBackfillsWhatItMissed(t *testing.T) {
	e := newEnv(t)
	src := e.source("alpha")
	// A reconnect delay long enough that the samples below are stored while no LISTEN
	// connection exists: only the backlog read can deliver them.
	h := walhubtest.Start(t, e.pool, walhub.Options{ReconnectDelay: 500 * time.Millisecond})
	sub, _ := h.Subscribe(&src)
	defer sub.Close()

	first := walhubtest.IDs(walhubtest.Store(t, e.pool, src, 1))
	if got := receive(t, sub, 1); !slices.Equal(got, first) {
		t.Fatalf("before the outage got %v, want %v", got, first)
	}

	var killed int
	err := e.d.Pool.QueryRow(context.Background(),
		`SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`,
		walhub.ApplicationName).Scan(&killed)
	if err != nil || killed != 1 {
		t.Fatalf("terminate the LISTEN connection: killed %d, err %v", killed, err)
	}
	missed := walhubtest.IDs(walhubtest.Store(t, e.pool, src, 2, 3, 4))

	walhubtest.WaitConnected(t, h, 2)
	after := walhubtest.IDs(walhubtest.Store(t, e.pool, src, 5))
	want := append(missed, after...)
	if got := receive(t, sub, 4); !slices.Equal(got, want) {
		t.Fatalf("after the outage got %v, want %v (missed ones once, in order, then live)", got, want)
	}
	select {
	case s, ok := <-sub.C():
		if ok {
			t.Fatalf("an extra sample %d (a duplicate?)", s.ID)
		}
	default:
	}
}

func TestStoppingTheHubEndsSubscriptions(t *testing.T) {
	e := newEnv(t)
	h := walhub.New(e.pool, walhub.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	walhubtest.WaitConnected(t, h, 1)
	sub, err := h.Subscribe(nil)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, ok := <-sub.C(); ok {
		t.Fatal("a subscription outlived the hub")
	}
	if _, err := h.Subscribe(nil); err == nil {
		t.Fatal("subscribed to a stopped hub")
	}
}
