package pgsource_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/pgsource"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func connOf(s testdb.Source) pgsource.Conn {
	return pgsource.Conn{Host: s.Host, Port: s.Port, Database: s.Database, User: s.User, Password: s.Password}
}

// summary renders statuses compactly so a failed comparison shows every check at once.
func summary(checks []pgsource.Check) string {
	parts := make([]string, len(checks))
	for i, c := range checks {
		parts[i] = c.Name + "=" + string(c.Status)
	}
	return strings.Join(parts, " ")
}

func expectStatuses(t *testing.T, checks []pgsource.Check, want string) {
	t.Helper()
	var b strings.Builder
	for _, c := range checks {
		fmt.Fprintf(&b, "\n  %s %s: %s", c.Name, c.Status, c.Message)
	}
	if got := summary(checks); got != want {
		t.Fatalf("checks:\n  got  %s\n  want %s%s", got, want, b.String())
	}
	t.Logf("checks:%s", b.String())
}

func messageOf(t *testing.T, checks []pgsource.Check, name string) string {
	t.Helper()
	for _, c := range checks {
		if c.Name == name {
			return c.Message
		}
	}
	t.Fatalf("no %s check in %s", name, summary(checks))
	return ""
}

func expectContains(t *testing.T, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%q does not contain %q", s, w)
		}
	}
}

func expectNoSecret(t *testing.T, checks []pgsource.Check, secrets ...string) {
	t.Helper()
	for _, c := range checks {
		for _, s := range secrets {
			if strings.Contains(c.Message, s) {
				t.Errorf("check %s leaks a password: %q", c.Name, c.Message)
			}
		}
	}
}

const allOK = "connection=ok wal_level=ok publication=ok replication_role=ok replication_slot=ok"

func TestRunChecksAllOK(t *testing.T) {
	t.Parallel()
	src := testdb.NewSource(t, testdb.SourceOptions{CreateSlot: true})
	checks := pgsource.RunChecks(t.Context(), connOf(src), src.Publication, src.Slot)
	expectStatuses(t, checks, allOK)
	expectContains(t, messageOf(t, checks, pgsource.CheckPublication), "publishes 1 table")
	expectNoSecret(t, checks, src.Password)
	if _, failed := pgsource.FirstFailure(checks); failed {
		t.Error("FirstFailure found a failure among passing checks")
	}
}

func TestRunChecksMissingPublication(t *testing.T) {
	t.Parallel()
	src := testdb.NewSource(t, testdb.SourceOptions{NoPublication: true, CreateSlot: true})
	checks := pgsource.RunChecks(t.Context(), connOf(src), src.Publication, src.Slot)
	expectStatuses(t, checks, "connection=ok wal_level=ok publication=fail replication_role=ok replication_slot=ok")
	msg := messageOf(t, checks, pgsource.CheckPublication)
	expectContains(t, msg, fmt.Sprintf("publication %q does not exist in database %q", src.Publication, src.Database),
		"CREATE PUBLICATION")
	first, failed := pgsource.FirstFailure(checks)
	if !failed || first.Name != pgsource.CheckPublication {
		t.Errorf("FirstFailure = %+v, %v", first, failed)
	}
}

func TestRunChecksMissingSlotIsOnlyAWarning(t *testing.T) {
	t.Parallel()
	src := testdb.NewSource(t, testdb.SourceOptions{})
	checks := pgsource.RunChecks(t.Context(), connOf(src), src.Publication, src.Slot)
	expectStatuses(t, checks, "connection=ok wal_level=ok publication=ok replication_role=ok replication_slot=warn")
	expectContains(t, messageOf(t, checks, pgsource.CheckReplicationSlot),
		fmt.Sprintf("slot %q does not exist yet", src.Slot), pgsource.SlotCreation)
}

func TestRunChecksRejectsTestDecodingSlot(t *testing.T) {
	t.Parallel()
	src := testdb.NewSource(t, testdb.SourceOptions{CreateSlot: true, SlotPlugin: "test_decoding"})
	checks := pgsource.RunChecks(t.Context(), connOf(src), src.Publication, src.Slot)
	expectStatuses(t, checks, "connection=ok wal_level=ok publication=ok replication_role=ok replication_slot=fail")
	expectContains(t, messageOf(t, checks, pgsource.CheckReplicationSlot), `"test_decoding"`, "pgoutput")
}

func TestRunChecksRejectsPhysicalSlot(t *testing.T) {
	t.Parallel()
	src := testdb.NewSource(t, testdb.SourceOptions{})
	admin := testdb.Admin(t)
	if _, err := admin.Exec(t.Context(), "SELECT pg_create_physical_replication_slot($1)", src.Slot); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(context.Background(), "SELECT pg_drop_replication_slot($1)", src.Slot); err != nil {
			t.Errorf("drop physical slot: %v", err)
		}
	})
	checks := pgsource.RunChecks(t.Context(), connOf(src), src.Publication, src.Slot)
	expectStatuses(t, checks, "connection=ok wal_level=ok publication=ok replication_role=ok replication_slot=fail")
	expectContains(t, messageOf(t, checks, pgsource.CheckReplicationSlot), "physical slot")
}

func TestRunChecksRejectsSlotOfAnotherDatabase(t *testing.T) {
	t.Parallel()
	mine := testdb.NewSource(t, testdb.SourceOptions{})
	other := testdb.NewSource(t, testdb.SourceOptions{CreateSlot: true})
	checks := pgsource.RunChecks(t.Context(), connOf(mine), mine.Publication, other.Slot)
	expectStatuses(t, checks, "connection=ok wal_level=ok publication=ok replication_role=ok replication_slot=fail")
	expectContains(t, messageOf(t, checks, pgsource.CheckReplicationSlot),
		fmt.Sprintf("belongs to database %q, not %q", other.Database, mine.Database))
}

func TestRunChecksRoleWithoutReplication(t *testing.T) {
	t.Parallel()
	src := testdb.NewSource(t, testdb.SourceOptions{NoReplication: true})
	checks := pgsource.RunChecks(t.Context(), connOf(src), src.Publication, src.Slot)
	expectStatuses(t, checks, "connection=ok wal_level=ok publication=ok replication_role=fail replication_slot=warn")
	expectContains(t, messageOf(t, checks, pgsource.CheckReplicationRole),
		fmt.Sprintf("role %q may not replicate", src.User), "WITH REPLICATION")
}

func TestRunChecksWrongPassword(t *testing.T) {
	t.Parallel()
	src := testdb.NewSource(t, testdb.SourceOptions{CreateSlot: true})
	c := connOf(src)
	c.Password = "Wr0ng-" + src.Password[:8] + "-secret"
	checks := pgsource.RunChecks(t.Context(), c, src.Publication, src.Slot)
	expectStatuses(t, checks, "connection=fail")
	expectContains(t, checks[0].Message, fmt.Sprintf("password authentication failed for user %q", src.User))
	expectNoSecret(t, checks, c.Password, src.Password)

	_, err := pgsource.Connect(t.Context(), c)
	var ce *pgsource.ConnectError
	if !errors.As(err, &ce) || ce.Reason != pgsource.ReasonAuth || ce.Retryable() {
		t.Fatalf("Connect error = %#v, want a non-retryable auth ConnectError", err)
	}
	if strings.Contains(fmt.Sprintf("%v %+v %s", err, err, errors.Unwrap(err)), c.Password) {
		t.Error("Connect's error chain contains the password")
	}
}

func TestRunChecksMissingDatabase(t *testing.T) {
	t.Parallel()
	src := testdb.NewSource(t, testdb.SourceOptions{})
	c := connOf(src)
	c.Database = src.Database + "_gone"
	checks := pgsource.RunChecks(t.Context(), c, src.Publication, src.Slot)
	expectStatuses(t, checks, "connection=fail")
	expectContains(t, checks[0].Message, fmt.Sprintf("database %q does not exist", c.Database))
}

func TestRunChecksClosedPortFailsFast(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	start := time.Now()
	checks := pgsource.RunChecks(t.Context(),
		pgsource.Conn{Host: "127.0.0.1", Port: port, Database: "d", User: "u", Password: "pw-closed-port"}, "p", "s")
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("a refused connection took %s to report", elapsed)
	}
	expectStatuses(t, checks, "connection=fail")
	expectContains(t, checks[0].Message, "connection refused", fmt.Sprintf("127.0.0.1:%d", port))
}

// A server that accepts TCP but never answers is what a black-holed or wedged host looks
// like from here: only the deadline ends the wait.
func TestRunChecksSilentServerTimesOut(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		held  []net.Conn
		done  = make(chan struct{})
		laddr = l.Addr().(*net.TCPAddr)
	)
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	})

	start := time.Now()
	checks := pgsource.RunChecks(t.Context(),
		pgsource.Conn{Host: "127.0.0.1", Port: laddr.Port, Database: "d", User: "u", Password: "pw-silent"}, "p", "s")
	elapsed := time.Since(start)
	if elapsed < 4*time.Second || elapsed > 6500*time.Millisecond {
		t.Errorf("RunChecks against a silent server took %s, want about %s", elapsed, pgsource.ConnectTimeout)
	}
	expectStatuses(t, checks, "connection=fail")
	expectContains(t, checks[0].Message, "timed out after 5s")
}

func TestRunChecksThroughSourceOutage(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cluster := testdb.NewCluster(t)
	src := testdb.NewSource(t, testdb.SourceOptions{Cluster: cluster, CreateSlot: true})
	expectStatuses(t, pgsource.RunChecks(ctx, connOf(src), src.Publication, src.Slot), allOK)

	if err := cluster.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	checks := pgsource.RunChecks(ctx, connOf(src), src.Publication, src.Slot)
	expectStatuses(t, checks, "connection=fail")
	expectContains(t, checks[0].Message, "connection refused")
	_, err := pgsource.ProbeWAL(ctx, connOf(src), src.Slot)
	var ce *pgsource.ConnectError
	if !errors.As(err, &ce) || ce.Reason != pgsource.ReasonRefused || !ce.Retryable() {
		t.Fatalf("ProbeWAL on a stopped source: %v, want a retryable refused ConnectError", err)
	}

	if err := cluster.Start(ctx); err != nil {
		t.Fatal(err)
	}
	expectStatuses(t, pgsource.RunChecks(ctx, connOf(src), src.Publication, src.Slot), allOK)
}

func TestRunChecksWALLevelReplica(t *testing.T) {
	t.Parallel()
	cluster := testdb.NewClusterWithSettings(t, map[string]string{"wal_level": "replica"})
	src := testdb.NewSource(t, testdb.SourceOptions{Cluster: cluster})
	checks := pgsource.RunChecks(t.Context(), connOf(src), src.Publication, src.Slot)
	expectStatuses(t, checks, "connection=ok wal_level=fail publication=ok replication_role=ok replication_slot=warn")
	expectContains(t, messageOf(t, checks, pgsource.CheckWALLevel), `"replica"`, "ALTER SYSTEM SET wal_level = logical", "restart")
}

func TestProbeWAL(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	src := testdb.NewSource(t, testdb.SourceOptions{CreateSlot: true})

	first, err := pgsource.ProbeWAL(ctx, connOf(src), src.Slot)
	if err != nil {
		t.Fatal(err)
	}
	if first.SizeBytes <= 0 || first.InRecovery {
		t.Fatalf("first sample %+v: want a positive WAL size on a primary", first)
	}
	if first.RetainedBytes == nil || *first.RetainedBytes < 0 {
		t.Fatalf("retained bytes = %v for an existing slot", first.RetainedBytes)
	}
	if first.SlotActive == nil || *first.SlotActive {
		t.Fatalf("slot active = %v, want false (nobody consumes it)", first.SlotActive)
	}
	if first.WALStatus == nil || *first.WALStatus != "reserved" {
		t.Fatalf("wal_status = %v, want reserved", first.WALStatus)
	}

	// Writes the slot has not consumed are WAL it must retain.
	conn, err := pgx.Connect(ctx, src.ConnURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "INSERT INTO public.orders (note) SELECT repeat('x', 100) FROM generate_series(1, 2000)"); err != nil {
		t.Fatal(err)
	}
	second, err := pgsource.ProbeWAL(ctx, connOf(src), src.Slot)
	if err != nil {
		t.Fatal(err)
	}
	if second.SizeBytes <= first.SizeBytes || second.RetainedBytes == nil ||
		*second.RetainedBytes < *first.RetainedBytes+100_000 {
		t.Fatalf("after ~200kB of writes: size %d → %d, retained %d → %v",
			first.SizeBytes, second.SizeBytes, *first.RetainedBytes, second.RetainedBytes)
	}

	noSlot, err := pgsource.ProbeWAL(ctx, connOf(src), src.Slot+"_missing")
	if err != nil {
		t.Fatal(err)
	}
	if noSlot.SizeBytes < second.SizeBytes || noSlot.RetainedBytes != nil || noSlot.SlotActive != nil || noSlot.WALStatus != nil {
		t.Fatalf("sample without a slot: %+v", noSlot)
	}
}

// Not parallel: t.Setenv. The PG* variables would redirect or break a libpq-style
// connection; Rosetta's sources are described by their stored fields alone.
func TestConnectIgnoresEnvironmentAndSetsSession(t *testing.T) {
	src := testdb.NewSource(t, testdb.SourceOptions{})
	for k, v := range map[string]string{
		"PGHOST": "db.invalid", "PGPORT": "1", "PGDATABASE": "nope", "PGUSER": "nobody",
		"PGPASSWORD": "env-password", "PGSSLMODE": "verify-full", "PGCONNECT_TIMEOUT": "bogus",
		"PGOPTIONS": "-c statement_timeout=1", "PGAPPNAME": "not-rosetta", "PGTARGETSESSIONATTRS": "standby",
		"PGREQUIREAUTH": "password", "PGSSLROOTCERT": "/nonexistent/root.crt", "PGSSLCERT": "/nonexistent/client.crt",
		"PGSSLKEY": "/nonexistent/client.key",
	} {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	conn, err := pgsource.Connect(ctx, connOf(src))
	if err != nil {
		t.Fatalf("Connect with hostile PG* environment: %v", err)
	}
	defer conn.Close(ctx)
	var app, timeout, db, user string
	if err := conn.QueryRow(ctx, "SELECT current_setting('application_name'), current_setting('statement_timeout'), current_database(), current_user").
		Scan(&app, &timeout, &db, &user); err != nil {
		t.Fatal(err)
	}
	if app != "rosetta" || timeout != "5s" || db != src.Database || user != src.User {
		t.Fatalf("session: application_name=%q statement_timeout=%q database=%q user=%q", app, timeout, db, user)
	}
}

// A source session runs each statement in one round trip without preparing it, so it
// leaves no prepared statement on the operator's server and needs none of pgx's statement
// or description caches, which it would otherwise build for every new connection (two
// 512-entry maps, half of what a WAL monitor cycle allocated).
func TestSourceSessionsPrepareNothingAndCacheNothing(t *testing.T) {
	src := testdb.NewSource(t, testdb.SourceOptions{CreateSlot: true})
	ctx := context.Background()
	c := connOf(src)
	conn, err := pgsource.Connect(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for range 2 {
		if _, err := pgsource.SampleWAL(ctx, conn, c, src.Slot); err != nil {
			t.Fatal(err)
		}
	}
	var prepared int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_prepared_statements").Scan(&prepared); err != nil {
		t.Fatal(err)
	}
	if prepared != 0 {
		t.Errorf("%d prepared statements left on the source's server, want none", prepared)
	}
	if cfg := conn.Config(); cfg.StatementCacheCapacity != 0 || cfg.DescriptionCacheCapacity != 0 {
		t.Errorf("statement cache %d, description cache %d entries: want none", cfg.StatementCacheCapacity, cfg.DescriptionCacheCapacity)
	}
}

func TestConnRedactsPassword(t *testing.T) {
	t.Parallel()
	c := pgsource.Conn{Host: "db.example", Port: 5432, Database: "app", User: "rosetta", Password: "hunter2-secret"}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("probe", "source", c)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), logged.String()} {
		if strings.Contains(s, c.Password) {
			t.Errorf("printed Conn contains the password: %s", s)
		}
	}
	if got := c.String(); got != "rosetta@db.example:5432/app" {
		t.Errorf("String() = %q", got)
	}
}

func TestConnectRejectsIncompleteSettings(t *testing.T) {
	t.Parallel()
	for _, c := range []pgsource.Conn{
		{Port: 5432, Database: "d", User: "u"},
		{Host: "h", Port: 0, Database: "d", User: "u"},
		{Host: "h", Port: 70000, Database: "d", User: "u"},
		{Host: "h", Port: 5432, User: "u"},
	} {
		_, err := pgsource.Connect(t.Context(), c)
		var ce *pgsource.ConnectError
		if !errors.As(err, &ce) || ce.Reason != pgsource.ReasonInvalid {
			t.Errorf("Connect(%v) = %v, want an invalid-settings error", c, err)
		}
	}
}

// The masking finding: replacing the password in error text with ******** turned
// "does not exist" into "does not e********ist" for a password "x", revealing it. Messages
// are now built without the password, so nothing is substituted: a one-letter password
// that occurs everywhere in the sentence leaves it intact.
func TestShortPasswordsLeaveMessagesIntact(t *testing.T) {
	t.Parallel()
	src := testdb.NewSource(t, testdb.SourceOptions{})
	for _, pw := range []string{"e", "a", "o", "r"} {
		c := connOf(src)
		c.Password = pw
		checks := pgsource.RunChecks(t.Context(), c, src.Publication, src.Slot)
		want := fmt.Sprintf("password authentication failed for user %q", src.User)
		if checks[0].Message != want {
			t.Errorf("password %q: message %q, want %q", pw, checks[0].Message, want)
		}
	}
	c := connOf(src)
	c.Database += "_gone"
	checks := pgsource.RunChecks(t.Context(), c, src.Publication, src.Slot)
	if want := fmt.Sprintf("database %q does not exist on %s", c.Database, c.Addr()); checks[0].Message != want {
		t.Errorf("message %q, want %q", checks[0].Message, want)
	}
}

// Network detail (address, "refused", timings) is for those who may edit the source;
// the public sentence of a failed connection has none of it.
func TestConnectionFailuresHaveAPublicSentenceWithoutNetworkDetail(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	c := pgsource.Conn{Host: "127.0.0.1", Port: port, Database: "d", User: "u", Password: "pw"}
	checks := pgsource.RunChecks(t.Context(), c, "p", "s")
	expectStatuses(t, checks, "connection=fail")
	expectContains(t, checks[0].Message, "connection refused", c.Addr())
	public := checks[0].PublicMessage()
	if public != pgsource.PublicConnectMessage {
		t.Errorf("public sentence %q, want %q", public, pgsource.PublicConnectMessage)
	}
	for _, detail := range []string{"127.0.0.1", strconv.Itoa(port), "refused"} {
		if strings.Contains(public, detail) {
			t.Errorf("public sentence %q contains %q", public, detail)
		}
	}
	_, err = pgsource.Connect(t.Context(), c)
	if pub, det := pgsource.Describe(err); pub != public || det != checks[0].Message {
		t.Errorf("Describe = %q, %q", pub, det)
	}
}
