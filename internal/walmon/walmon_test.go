package walmon_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/audit"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/secrets"
	"github.com/rosetta-cdc/rosetta/internal/snowflake/sftest"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
	"github.com/rosetta-cdc/rosetta/internal/walmon"
)

func TestMain(m *testing.M) { testdb.Main(m) }

type env struct {
	t    *testing.T
	d    *testdb.DB
	pool *db.Pool
	cat  *catalog.Service
}

func newEnv(t *testing.T, settings catalog.MonitorSettings) *env {
	t.Helper()
	d := testdb.New(t)
	return &env{t: t, d: d, pool: db.Wrap(d.Pool, 5*time.Second), cat: newCatalog(t, d, settings)}
}

// newCatalog is one instance's catalog on the test database (own pool, as a second
// instance would have).
func newCatalog(t *testing.T, d *testdb.DB, settings catalog.MonitorSettings) *catalog.Service {
	t.Helper()
	box, err := secrets.NewBox("test-secret-key-0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	return catalog.New(db.Wrap(d.Pool, 5*time.Second), box, audit.ForCatalog(),
		catalog.WithMonitorSettings(settings))
}

// register stores src in the catalog; password overrides the real one when not empty.
func (e *env) register(name string, src testdb.Source, password string) catalog.Source {
	e.t.Helper()
	if password == "" {
		password = src.Password
	}
	port := src.Port
	s, err := e.cat.CreateSource(context.Background(), catalog.SourceInput{Name: name, PgHost: src.Host, PgPort: &port,
		PgDatabase: src.Database, PgUsername: src.User, PgPassword: password, PublicationName: src.Publication,
		ReplicationID: src.Slot})
	if err != nil {
		e.t.Fatalf("register %s: %v", name, err)
	}
	return s
}

func (e *env) monitor(o walmon.Options) *walmon.Monitor {
	e.t.Helper()
	if o.BackoffBase == 0 {
		o.BackoffBase = 5 * time.Millisecond
	}
	return walmon.New(e.pool, e.cat, o)
}

func (e *env) source(id int64) catalog.Source {
	e.t.Helper()
	s, err := e.cat.GetSource(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

type sample struct {
	size, retained, safe *int64
	active               *bool
	status               *string
}

func (e *env) samples(sourceID int64) []sample {
	e.t.Helper()
	rows, err := e.d.Pool.Query(context.Background(), `SELECT size_bytes, retained_bytes, slot_active, wal_status, safe_wal_size
		FROM wal_metrics WHERE source_id = $1 ORDER BY recorded_at, id`, sourceID)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []sample
	for rows.Next() {
		var s sample
		if err := rows.Scan(&s.size, &s.retained, &s.active, &s.status, &s.safe); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// walPosition reads the source's WAL position directly, as the superuser.
func walPosition(t *testing.T, src testdb.Source) int64 {
	t.Helper()
	var n int64
	if err := testdb.Admin(t).QueryRow(context.Background(), `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// recorder is an Observer that keeps what it was told.
type recorder struct {
	mu      sync.Mutex
	probes  map[int64]error
	cycles  atomic.Int64
	samples atomic.Int64 // stored by this instance's cycles
	leader  []bool
	walSize map[int64]int64
}

func newRecorder() *recorder {
	return &recorder{probes: map[int64]error{}, walSize: map[int64]int64{}}
}

func (r *recorder) ProbeDone(id int64, _ string, _ time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.probes[id] = err
}
func (r *recorder) CycleDone(_ time.Duration, _, _, samples int, _ error) {
	r.cycles.Add(1)
	r.samples.Add(int64(samples))
}
func (r *recorder) LeaderChanged(l bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.leader = append(r.leader, l)
}
func (r *recorder) SourceWAL(id int64, _ string, size int64, _ *int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.walSize[id] = size
}

// TestCycleRecordsRealWAL: one cycle over several real sources stores each source's WAL
// position (bracketed by pg_current_wal_lsn() read directly before and after), its slot's
// state, marks every source healthy and announces each sample with pg_notify.
func TestCycleRecordsRealWAL(t *testing.T) {
	t.Parallel()
	e := newEnv(t, catalog.DefaultMonitorSettings)
	ctx := context.Background()
	withSlot := testdb.NewSource(t, testdb.SourceOptions{CreateSlot: true})
	plain1 := testdb.NewSource(t, testdb.SourceOptions{})
	plain2 := testdb.NewSource(t, testdb.SourceOptions{NoPublication: true})
	srcs := []catalog.Source{e.register("with-slot", withSlot, ""), e.register("plain-1", plain1, ""), e.register("plain-2", plain2, "")}
	for _, s := range srcs {
		if got := e.source(s.ID).ProbeState; got != catalog.ProbeNever {
			t.Fatalf("before any probe: state %q, want never", got)
		}
	}

	listener, err := pgx.Connect(ctx, e.d.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close(ctx)
	if _, err := listener.Exec(ctx, "LISTEN wal_samples"); err != nil {
		t.Fatal(err)
	}

	obs := newRecorder()
	m := e.monitor(walmon.Options{Observer: obs, Concurrency: 2})
	before := walPosition(t, withSlot)
	if err := m.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	after := walPosition(t, withSlot)

	notified := map[int64]bool{}
	for range srcs {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		n, err := listener.WaitForNotification(wctx)
		cancel()
		if err != nil {
			t.Fatalf("waiting for the sample notifications: %v (got %v)", err, notified)
		}
		var w catalog.WALSample
		if err := json.Unmarshal([]byte(n.Payload), &w); err != nil {
			t.Fatalf("payload %q: %v", n.Payload, err)
		}
		notified[w.SourceID] = true
	}

	for _, s := range srcs {
		got := e.samples(s.ID)
		if len(got) != 1 {
			t.Fatalf("%s: %d samples, want 1", s.Name, len(got))
		}
		if size := *got[0].size; size < before || size > after {
			t.Errorf("%s: size_bytes %d not within the directly read WAL positions [%d, %d]", s.Name, size, before, after)
		}
		if obs.walSize[s.ID] != *got[0].size {
			t.Errorf("%s: observer saw %d, stored %d", s.Name, obs.walSize[s.ID], *got[0].size)
		}
		if !notified[s.ID] {
			t.Errorf("%s: no wal_samples notification", s.Name)
		}
		st := e.source(s.ID)
		if st.ProbeState != catalog.ProbeOK || st.LastProbeAt == nil || st.LastProbeError != nil || st.ProbeFailures != 0 {
			t.Errorf("%s: probe state %q at %v err %v failures %d", s.Name, st.ProbeState, st.LastProbeAt, st.LastProbeError, st.ProbeFailures)
		}
		if err, ok := obs.probes[s.ID]; !ok || err != nil {
			t.Errorf("%s: observer probe outcome %v (reported %v)", s.Name, err, ok)
		}
	}
	slot := e.samples(srcs[0].ID)[0]
	if slot.retained == nil || *slot.retained < 0 || slot.active == nil || *slot.active || slot.status == nil || *slot.status != "reserved" {
		t.Errorf("slot sample: retained %v active %v status %v", slot.retained, slot.active, slot.status)
	}
	if s := e.samples(srcs[1].ID)[0]; s.retained != nil || s.active != nil || s.status != nil {
		t.Errorf("source without a slot has slot values: %+v", s)
	}
	// The slot nobody consumes raised its alert, once.
	if a := e.source(srcs[0].ID).ActiveAlerts; !slices.Equal(a, []string{catalog.AlertSlotInactive}) {
		t.Errorf("alerts of the unconsumed slot: %v", a)
	}
	if err := m.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countAudit(t, e, "source", srcs[0].ID, "alert"); n != 1 {
		t.Errorf("slot_inactive alert audited %d times over two cycles, want once", n)
	}
	if st := m.Status(); st.LastCycleAt.IsZero() || st.Sources != 3 || st.Failed != 0 || st.Samples != 3 || st.LastCycleErr != "" {
		t.Errorf("status after the cycle: %+v", st)
	}
}

func countAudit(t *testing.T, e *env, kind string, id int64, action string) int {
	t.Helper()
	var n int
	if err := e.d.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_events
		WHERE entity_kind = $1 AND entity_id = $2 AND action = $3 AND actor_email = $4`,
		kind, id, action, catalog.MonitorActor).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

// TestFailingSourcesAreRetriedAndRecorded: a source on a stopped cluster, one on a
// closed port and one with a wrong password are each tried 1 + MaxRetries times with
// growing delays and recorded as failed with their reason, while the healthy source's
// sample is stored.
func TestFailingSourcesAreRetriedAndRecorded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, catalog.MonitorSettings{FailuresToError: 2})
	ctx := context.Background()
	cluster := testdb.NewCluster(t)
	downSrc := testdb.NewSource(t, testdb.SourceOptions{Cluster: cluster})
	goodSrc := testdb.NewSource(t, testdb.SourceOptions{})
	closed := goodSrc
	closed.Port = closedPort(t)

	good := e.register("good", goodSrc, "")
	down := e.register("down", downSrc, "")
	refused := e.register("closed-port", closed, "")
	wrongPW := e.register("wrong-password", goodSrc, "not-the-password")
	stopCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := cluster.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}

	const retries = 3
	var mu sync.Mutex
	delays := map[int64][]time.Duration{}
	attempts := map[int64][]int{}
	m := e.monitor(walmon.Options{MaxRetries: retries, BackoffBase: 10 * time.Millisecond,
		OnRetry: func(id int64, attempt int, d time.Duration, err error) {
			mu.Lock()
			defer mu.Unlock()
			delays[id] = append(delays[id], d)
			attempts[id] = append(attempts[id], attempt)
			if err == nil {
				t.Errorf("source %d retried without an error", id)
			}
		}})
	start := time.Now()
	if err := m.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)

	if got := e.samples(good.ID); len(got) != 1 {
		t.Fatalf("healthy source: %d samples, want 1", len(got))
	}
	if len(delays[good.ID]) != 0 {
		t.Errorf("healthy source was retried: %v", delays[good.ID])
	}
	wantReason := map[int64]string{down.ID: "refused", refused.ID: "refused", wrongPW.ID: "auth"}
	for _, s := range []catalog.Source{down, refused, wrongPW} {
		if !slices.Equal(attempts[s.ID], []int{1, 2, 3}) {
			t.Errorf("%s: retries %v, want [1 2 3]", s.Name, attempts[s.ID])
		}
		var total time.Duration
		for i, d := range delays[s.ID] {
			total += d
			if i > 0 && d <= delays[s.ID][i-1] {
				t.Errorf("%s: delays do not grow: %v", s.Name, delays[s.ID])
			}
			if min := 10 * time.Millisecond << (i + 1); d < min || d >= min+10*time.Millisecond {
				t.Errorf("%s: delay %d is %v, want 2^%d × base plus less than one base of jitter", s.Name, i+1, d, i+1)
			}
		}
		if elapsed < total {
			t.Errorf("%s: the cycle took %v, less than the backoff delays %v: they were not waited", s.Name, elapsed, total)
		}
		if len(e.samples(s.ID)) != 0 {
			t.Errorf("%s: a failed source has samples", s.Name)
		}
		st := e.source(s.ID)
		if st.ProbeState != catalog.ProbeFailing || st.LastProbeError == nil || st.LastProbeErrorAt == nil || st.ProbeFailures != 1 ||
			st.ProbeFailingSince == nil || st.LastProbeReason == nil || *st.LastProbeReason != wantReason[s.ID] {
			t.Errorf("%s: state %q error %v reason %v failures %d", s.Name, st.ProbeState, st.LastProbeError, st.LastProbeReason, st.ProbeFailures)
		}
		if st.LastProbeError != nil && strings.Contains(*st.LastProbeError, "not-the-password") {
			t.Errorf("%s: the stored error contains the password", s.Name)
		}
		if len(st.ActiveAlerts) != 0 {
			t.Errorf("%s: alert after one failed cycle (threshold 2): %v", s.Name, st.ActiveAlerts)
		}
	}
	if st := m.Status(); st.Sources != 4 || st.Failed != 3 || st.Samples != 1 {
		t.Errorf("status: %+v", st)
	}

	// A second failed cycle in a row raises the "failing" alert, audited once.
	if err := m.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	for _, s := range []catalog.Source{down, refused, wrongPW} {
		st := e.source(s.ID)
		if st.ProbeFailures != 2 || !slices.Contains(st.ActiveAlerts, catalog.AlertFailing) {
			t.Errorf("%s after two cycles: failures %d alerts %v", s.Name, st.ProbeFailures, st.ActiveAlerts)
		}
		if n := countAudit(t, e, "source", s.ID, "alert"); n != 1 {
			t.Errorf("%s: failing alert audited %d times", s.Name, n)
		}
	}

	// The stopped cluster comes back: the next cycle samples it and clears its alert.
	if err := cluster.Start(stopCtx); err != nil {
		t.Fatal(err)
	}
	if err := m.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	st := e.source(down.ID)
	if st.ProbeState != catalog.ProbeOK || st.ProbeFailures != 0 || st.ProbeFailingSince != nil || len(st.ActiveAlerts) != 0 || len(e.samples(down.ID)) != 1 {
		t.Errorf("recovered source: %+v", st)
	}
	if n := countAudit(t, e, "source", down.ID, "alert_cleared"); n != 1 {
		t.Errorf("cleared alert audited %d times", n)
	}
}

// TestSlotRetentionGrows: a real logical slot nobody consumes falls behind as the source
// writes WAL; the monitor's retained bytes grow by at least what was written.
func TestSlotRetentionGrows(t *testing.T) {
	t.Parallel()
	e := newEnv(t, catalog.MonitorSettings{AlertBytes: 1 << 20})
	ctx := context.Background()
	src := testdb.NewSource(t, testdb.SourceOptions{CreateSlot: true})
	s := e.register("behind", src, "")
	m := e.monitor(walmon.Options{})
	if err := m.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, src.ConnURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	lsn := func() int64 {
		t.Helper()
		var n int64
		if err := conn.QueryRow(ctx, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// The harness runs its clusters with synchronous_commit off, where pg_current_wal_lsn()
	// (the position written out, which the probe reads) may trail the insert position by
	// up to the WAL buffers: this session's commit is made to write its WAL out, so the
	// position read after it covers everything the INSERT wrote (it read 991,232 of the
	// ~4 MB once, failing the "at least 1 MiB written" check).
	if _, err := conn.Exec(ctx, `SET synchronous_commit = on`); err != nil {
		t.Fatal(err)
	}
	start := lsn()
	if _, err := conn.Exec(ctx, `INSERT INTO public.orders (note) SELECT repeat('x', 500) FROM generate_series(1, 8000)`); err != nil {
		t.Fatal(err)
	}
	written := lsn() - start
	var pos int64
	if err := conn.QueryRow(ctx, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint`).Scan(&pos); err != nil {
		t.Fatal(err)
	}
	if err := m.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	got := e.samples(s.ID)
	if len(got) != 2 || got[0].retained == nil || got[1].retained == nil {
		t.Fatalf("samples: %+v", got)
	}
	if grew := *got[1].retained - *got[0].retained; grew < written || written < 1<<20 {
		t.Errorf("retained grew by %d bytes (%d then %d) after the source wrote %d bytes of WAL", grew, *got[0].retained, *got[1].retained, written)
	}
	var direct int64
	if err := testdb.Admin(t).QueryRow(ctx, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint
		FROM pg_replication_slots WHERE slot_name = $1`, src.Slot).Scan(&direct); err != nil {
		t.Fatal(err)
	}
	if r := *got[1].retained; r > direct || *got[1].size < pos {
		t.Errorf("retained %d (read directly afterwards: %d), size %d (position before: %d)", r, direct, *got[1].size, pos)
	}
	if a := e.source(s.ID).ActiveAlerts; !slices.Contains(a, catalog.AlertRetention) {
		t.Errorf("retention over the 1 MiB threshold raised no alert: %v", a)
	}
}

// TestPipelineErrorAndRecovery: a RUNNING pipeline turns ERROR after its source's
// password is changed on the server for FailuresToError cycles, and returns to RUNNING
// when the password is changed back; both moves are audited as the monitor.
func TestPipelineErrorAndRecovery(t *testing.T) {
	t.Parallel()
	e := newEnv(t, catalog.MonitorSettings{FailuresToError: 2})
	ctx := context.Background()
	src := testdb.NewSource(t, testdb.SourceOptions{CreateSlot: true})
	s := e.register("orders", src, "")
	dst, err := e.cat.CreateDestination(ctx, catalog.DestinationInput{Name: "wh", SnowflakeAccount: "acme", SnowflakeUser: "U",
		SnowflakeDatabase: "D", SnowflakeSchema: "S", SnowflakeRole: "R",
		// A real key, and a host where nothing answers: the start preflight passes (with
		// an "unreachable" warning) instead of failing on a missing key file.
		SnowflakePrivateKey: ptr(sftest.KeyPEM()), SnowflakeHost: ptr(sftest.OfflineHost)})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.cat.CreatePipeline(ctx, catalog.PipelineInput{Name: "orders-to-wh", SourceID: s.ID, DestinationID: dst.ID})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.cat.Start(ctx, p.ID)
	if err != nil || res.Pipeline.Metadata.Status != catalog.RuntimeRunning {
		t.Fatalf("start: %+v %v", res.Pipeline.Metadata, err)
	}
	runtime := func() catalog.PipelineMetadata {
		t.Helper()
		p, err := e.cat.GetPipeline(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		return p.Metadata
	}
	m := e.monitor(walmon.Options{MaxRetries: 1})
	alter := func(pw string) {
		t.Helper()
		if _, err := testdb.Admin(t).Exec(ctx, fmt.Sprintf("ALTER ROLE %s PASSWORD '%s'", pgx.Identifier{src.User}.Sanitize(), pw)); err != nil {
			t.Fatal(err)
		}
	}

	// A healthy cycle first: the monitor now holds the source's SCRAM keys, so the change
	// below is met by a probe that would log in with kept keys if it missed the new salt.
	if err := m.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	if st := runtime().Status; st != catalog.RuntimeRunning {
		t.Fatalf("after a healthy cycle: %s", st)
	}
	alter("changed-on-the-server")
	if err := m.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	if st := runtime().Status; st != catalog.RuntimeRunning {
		t.Fatalf("after one failed cycle: %s, want RUNNING (threshold is 2)", st)
	}
	if err := m.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	md := runtime()
	if md.Status != catalog.RuntimeError || md.LastError == nil || !strings.Contains(*md.LastError, "password authentication failed") {
		t.Fatalf("after two failed cycles: %s, %v", md.Status, md.LastError)
	}
	e.wantStatusRank("monitor error", p.ID, 0)
	if n := countAudit(t, e, "pipeline", p.ID, "monitor_error"); n != 1 {
		t.Errorf("monitor_error audited %d times", n)
	}
	// A third failed cycle changes nothing more.
	if err := m.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countAudit(t, e, "pipeline", p.ID, "monitor_error"); n != 1 {
		t.Errorf("monitor_error audited %d times after another failed cycle", n)
	}

	alter(src.Password)
	if err := m.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	md = runtime()
	if md.Status != catalog.RuntimeRunning || md.LastError != nil {
		t.Fatalf("after the password is back: %s, %v", md.Status, md.LastError)
	}
	e.wantStatusRank("monitor recovery", p.ID, 1)
	if n := countAudit(t, e, "pipeline", p.ID, "monitor_recover"); n != 1 {
		t.Errorf("monitor_recover audited %d times", n)
	}
	pl, err := e.cat.GetPipeline(ctx, p.ID)
	if err != nil || pl.Status != catalog.DesiredStart {
		t.Fatalf("desired status changed: %v %v", pl.Status, err)
	}
}

// TestPreflightErrorIsNotClearedByTheMonitor: an ERROR the preflight set (not the
// monitor) stays when the source probes fine: only a new start clears it.
func TestPreflightErrorIsNotClearedByTheMonitor(t *testing.T) {
	t.Parallel()
	e := newEnv(t, catalog.DefaultMonitorSettings)
	ctx := context.Background()
	src := testdb.NewSource(t, testdb.SourceOptions{NoPublication: true})
	s := e.register("nopub", src, "")
	dst, err := e.cat.CreateDestination(ctx, catalog.DestinationInput{Name: "wh", SnowflakeAccount: "acme", SnowflakeUser: "U",
		SnowflakeDatabase: "D", SnowflakeSchema: "S", SnowflakeRole: "R",
		// A real key, and a host where nothing answers: the start preflight passes (with
		// an "unreachable" warning) instead of failing on a missing key file.
		SnowflakePrivateKey: ptr(sftest.KeyPEM()), SnowflakeHost: ptr(sftest.OfflineHost)})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.cat.CreatePipeline(ctx, catalog.PipelineInput{Name: "p", SourceID: s.ID, DestinationID: dst.ID})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := e.cat.Start(ctx, p.ID); err != nil || res.Pipeline.Metadata.Status != catalog.RuntimeError {
		t.Fatalf("start without a publication: %+v %v", res.Pipeline.Metadata, err)
	}
	if err := e.monitor(walmon.Options{}).Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := e.cat.GetPipeline(ctx, p.ID)
	if err != nil || got.Metadata.Status != catalog.RuntimeError {
		t.Fatalf("the monitor cleared a preflight error: %+v %v", got.Metadata, err)
	}
}

// TestShutdownMidCycleRecordsNoFailure: a cycle cancelled while a source is in backoff
// (shutdown) keeps the samples it took but records no failure the cancellation caused.
func TestShutdownMidCycleRecordsNoFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t, catalog.DefaultMonitorSettings)
	good := e.register("good", testdb.NewSource(t, testdb.SourceOptions{}), "")
	closed := testdb.Source{Host: "127.0.0.1", Port: closedPort(t), Database: "d", User: "u", Password: "p", Publication: "pub", Slot: "slot"}
	down := e.register("down", closed, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := e.monitor(walmon.Options{MaxRetries: 3, BackoffBase: time.Minute,
		OnRetry: func(int64, int, time.Duration, error) { cancel() }})
	if err := m.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	if st := e.source(down.ID); st.ProbeState != catalog.ProbeNever || st.ProbeFailures != 0 {
		t.Errorf("cancelled probe recorded: %s %v", st.ProbeState, st.LastProbeError)
	}
	// The healthy source may or may not have been sampled before the cancellation; either
	// way, it must not be recorded as failing, and a sample taken must be stored.
	switch st, n := e.source(good.ID).ProbeState, len(e.samples(good.ID)); {
	case st == catalog.ProbeOK && n == 1, st == catalog.ProbeNever && n == 0:
	default:
		t.Errorf("healthy source after the cancelled cycle: state %s with %d samples", st, n)
	}
}

func ptr[T any](v T) *T { return &v }
