package walmon_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
	"github.com/rosetta-cdc/rosetta/internal/walmon"
)

// sessions lists the backend pids Rosetta holds open to the given source roles.
func sessions(t *testing.T, users ...string) []int32 {
	return pids(t, `SELECT pid FROM pg_stat_activity
		WHERE usename = ANY($1) AND application_name = 'rosetta' ORDER BY pid`, users)
}

// pids runs a query on the test cluster answering one backend pid per row.
func pids(t *testing.T, query string, args ...any) []int32 {
	t.Helper()
	rows, err := testdb.Admin(t).Query(context.Background(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// TestSessionsReusedUnderTheCap: with a short interval the monitor keeps one session per
// source between cycles (the same backends serve the next cycle), opens a new one when the
// source's settings change, and never holds more sessions than the cap.
func TestSessionsReusedUnderTheCap(t *testing.T) {
	t.Parallel()
	e := newEnv(t, catalog.DefaultMonitorSettings)
	ctx := context.Background()
	var users []string
	var srcs []catalog.Source
	for _, name := range []string{"a", "b", "c"} {
		src := testdb.NewSource(t, testdb.SourceOptions{})
		users = append(users, src.User)
		srcs = append(srcs, e.register(name, src, ""))
	}
	m := e.monitor(walmon.Options{Interval: time.Second, Concurrency: 3, MaxConnections: 3})
	if err := m.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	first := sessions(t, users...)
	if len(first) != 3 || m.Status().OpenConnections != 3 {
		t.Fatalf("after one cycle: sessions %v, monitor counts %d", first, m.Status().OpenConnections)
	}
	if err := m.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	if again := sessions(t, users...); !slices.Equal(again, first) {
		t.Fatalf("second cycle used new sessions: %v, then %v", first, again)
	}
	// A changed setting (here the stored password, re-entered) retires the old session.
	pw := "unchanged-but-re-entered"
	if _, err := testdb.Admin(t).Exec(ctx, "ALTER ROLE "+pgx.Identifier{users[0]}.Sanitize()+" PASSWORD '"+pw+"'"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cat.UpdateSource(ctx, srcs[0].ID, catalog.SourcePatch{PgPassword: &pw}); err != nil {
		t.Fatal(err)
	}
	if err := m.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	now := sessions(t, users...)
	if len(now) != 3 || slices.Equal(now, first) {
		t.Fatalf("after a settings change: %v (before %v)", now, first)
	}
	for _, s := range srcs {
		if st := e.source(s.ID); st.ProbeState != catalog.ProbeOK {
			t.Errorf("%s: %s %v", s.Name, st.ProbeState, st.LastProbeError)
		}
	}

	// A cap of one: every cycle still samples all three sources, one session at a time.
	capped := e.monitor(walmon.Options{Interval: time.Second, Concurrency: 1, MaxConnections: 1})
	m2ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := capped.Cycle(m2ctx); err != nil {
		t.Fatal(err)
	}
	if n := capped.Status().OpenConnections; n != 1 {
		t.Fatalf("capped monitor holds %d sessions, cap 1", n)
	}
	for _, s := range srcs {
		if n := len(e.samples(s.ID)); n != 4 {
			t.Errorf("%s: %d samples after four cycles", s.Name, n)
		}
	}
}
