package walmon_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
	"github.com/rosetta-cdc/rosetta/internal/walmon"
)

// instance is one Rosetta instance's monitor on the shared database.
type instance struct {
	m      *walmon.Monitor
	obs    *recorder
	cancel context.CancelFunc
	done   chan error
}

func startInstance(t *testing.T, e *env, interval time.Duration) *instance {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), e.d.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	obs := newRecorder()
	cat := newCatalog(t, &testdb.DB{Pool: pool, URL: e.d.URL, Name: e.d.Name}, catalog.DefaultMonitorSettings)
	m := walmon.New(db.Wrap(pool, 5*time.Second), cat, walmon.Options{Interval: interval, Observer: obs, BackoffBase: 5 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{m: m, obs: obs, cancel: cancel, done: make(chan error, 1)}
	go func() { in.done <- m.Run(ctx) }()
	t.Cleanup(in.stop)
	return in
}

func (in *instance) stop() {
	in.cancel()
	<-in.done
	in.done <- nil // later stops return at once
}

// waitFor polls cond until it holds; the deadline only bounds a broken run.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func electionBackends(t *testing.T, e *env) []int32 {
	return pids(t, `SELECT l.pid FROM pg_locks l
		JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND a.datname = $1 AND a.application_name = $2`, e.d.Name, walmon.ElectionAppName)
}

// TestOneLeaderAmongInstances: two instances on one database run one cycle per interval
// between them (every stored sample comes from the leader's cycles); when the leader
// stops, the other takes over; when the leader's lock session is killed, leadership is
// re-established by whichever instance takes the lock, never by two at once.
func TestOneLeaderAmongInstances(t *testing.T) {
	t.Parallel()
	e := newEnv(t, catalog.DefaultMonitorSettings)
	src := e.register("s", testdb.NewSource(t, testdb.SourceOptions{}), "")
	const interval = 300 * time.Millisecond
	a, b := startInstance(t, e, interval), startInstance(t, e, interval)

	waitFor(t, "three cycles", func() bool { return a.obs.cycles.Load()+b.obs.cycles.Load() >= 3 })
	leader, follower := a, b
	if b.obs.cycles.Load() > 0 {
		leader, follower = b, a
	}
	if follower.obs.cycles.Load() != 0 {
		t.Fatalf("both instances ran cycles: %d and %d", a.obs.cycles.Load(), b.obs.cycles.Load())
	}
	if !leader.m.Status().Leader || follower.m.Status().Leader {
		t.Fatalf("status: leader says %v, follower says %v", leader.m.Status().Leader, follower.m.Status().Leader)
	}
	if pids := electionBackends(t, e); len(pids) != 1 {
		t.Fatalf("lock holders: %v, want exactly one", pids)
	}
	leader.stop()
	// Counted from what the leader's cycles stored, not from its cycles: a cycle the stop
	// cancels before it probes stores nothing.
	done := leader.obs.samples.Load()
	if n := int64(len(e.samples(src.ID))); n != done {
		t.Fatalf("%d samples stored, the leader's cycles stored %d: a follower cycled too", n, done)
	}
	if leader.m.Status().Running || leader.m.Status().Leader {
		t.Fatalf("stopped instance status: %+v", leader.m.Status())
	}

	waitFor(t, "the follower to take over", func() bool { return follower.obs.cycles.Load() > 0 })
	if !follower.m.Status().Leader {
		t.Fatal("the follower cycles but does not report leadership")
	}

	// Kill the new leader's lock session: its next check sees the dead connection, and
	// leadership is taken again (by the only instance left) on a new session.
	pids := electionBackends(t, e)
	if len(pids) != 1 {
		t.Fatalf("lock holders after the takeover: %v", pids)
	}
	if _, err := testdb.Admin(t).Exec(context.Background(), `SELECT pg_terminate_backend($1)`, pids[0]); err != nil {
		t.Fatal(err)
	}
	before := follower.obs.cycles.Load()
	waitFor(t, "leadership on a new session", func() bool {
		now := electionBackends(t, e)
		return len(now) == 1 && now[0] != pids[0] && follower.obs.cycles.Load() > before+1
	})
	sawLoss := false
	follower.obs.mu.Lock()
	for _, l := range follower.obs.leader {
		sawLoss = sawLoss || !l
	}
	follower.obs.mu.Unlock()
	if !sawLoss {
		t.Error("the observer was not told that leadership was lost with the session")
	}
}

// TestPartitionsCreatedAheadAndDroppedWhole: maintenance creates today's and the next
// days' partitions, and retention drops whole expired partitions, leaving younger samples.
func TestPartitionsCreatedAheadAndDroppedWhole(t *testing.T) {
	t.Parallel()
	e := newEnv(t, catalog.DefaultMonitorSettings)
	ctx := context.Background()
	s, err := e.cat.CreateSource(ctx, catalog.SourceInput{Name: "s", PgHost: "db.internal", PgDatabase: "d", PgUsername: "u",
		PgPassword: "p", PublicationName: "pub", ReplicationID: "slot"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	old, young := now.AddDate(0, 0, -40), now.AddDate(0, 0, -10)
	for _, at := range []time.Time{old, old.Add(time.Hour), young} {
		if _, err := e.cat.RecordWALSample(ctx, catalog.NewWALSample{SourceID: s.ID, SizeBytes: 1, RecordedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	created, dropped, err := e.cat.MaintainWALPartitions(ctx, now, 3, 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := e.cat.WALPartitions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, p := range parts {
		have[p] = true
	}
	for d := 0; d <= 3; d++ {
		if name := "wal_metrics_p" + now.AddDate(0, 0, d).Format("20060102"); !have[name] {
			t.Errorf("partition %s missing (created %d): %v", name, created, parts)
		}
	}
	oldName := "wal_metrics_p" + old.Format("20060102")
	if len(dropped) != 1 || dropped[0] != oldName || have[oldName] {
		t.Fatalf("dropped %v, want [%s]; partitions now %v", dropped, oldName, parts)
	}
	var exists *string
	if err := e.d.Pool.QueryRow(ctx, `SELECT to_regclass($1)::text`, oldName).Scan(&exists); err != nil || exists != nil {
		t.Fatalf("the expired partition still exists as a table: %v %v", exists, err)
	}
	var n int
	if err := e.d.Pool.QueryRow(ctx, `SELECT count(*) FROM wal_metrics WHERE source_id = $1`, s.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("samples left: %d (%v), want the 10-day-old one", n, err)
	}
	// Idempotent: a second run creates and drops nothing.
	if c, d, err := e.cat.MaintainWALPartitions(ctx, now, 3, 30*24*time.Hour); err != nil || c != 0 || len(d) != 0 {
		t.Fatalf("second run: created %d dropped %v err %v", c, d, err)
	}
}
