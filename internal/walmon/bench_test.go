package walmon_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rosetta-cdc/rosetta/internal/audit"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/pgsource"
	"github.com/rosetta-cdc/rosetta/internal/secrets"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
	"github.com/rosetta-cdc/rosetta/internal/walmon"
)

// BenchmarkCycle measures one production-like cycle: every source is its own role with a
// SCRAM password (a full handshake per probe, since the default interval keeps no
// sessions), probed at the default concurrency. WALMON_BENCH_SOURCES sets the number of
// sources (default 200; the budget is stated for 1,000).
//
// Two knobs compare concurrencies for sources that are not on Rosetta's host:
// WALMON_BENCH_CONCURRENCY overrides the concurrency (the connection cap stays at its
// default of twice that), and WALMON_BENCH_RTT (e.g. 2ms) puts every source behind a local
// TCP relay that delays each direction by half that round trip, as a network would.
//
// After the timed cycles it measures the machine's floor in the same run (benchFloor):
// the same logins probed by bare pgx, with SCRAM (bare-scram-s) and with authentication
// taken away (bare-trust-s), and the cycle's ratio to each; BENCHMARKS.md, "The machine's
// floor in the same run". WALMON_BENCH_FLOOR_ROUNDS=0 leaves it out.
func BenchmarkCycle(b *testing.B) {
	n := 200
	if v, err := strconv.Atoi(os.Getenv("WALMON_BENCH_SOURCES")); err == nil && v > 0 {
		n = v
	}
	var opts walmon.Options
	concurrency := 32 // walmon.New's default, which the floor below runs at too
	if v, err := strconv.Atoi(os.Getenv("WALMON_BENCH_CONCURRENCY")); err == nil && v > 0 {
		opts.Concurrency, concurrency = v, v
	}
	ctx := context.Background()
	d := testdb.New(b)
	src := testdb.NewSource(b, testdb.SourceOptions{CreateSlot: true})
	box, err := secrets.NewBox("test-secret-key-0123456789abcdef")
	if err != nil {
		b.Fatal(err)
	}
	cat := catalog.New(db.Wrap(d.Pool, 5*time.Second), box, audit.ForCatalog())
	admin := testdb.Admin(b)
	port := src.Port
	if v := os.Getenv("WALMON_BENCH_RTT"); v != "" {
		rtt, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("WALMON_BENCH_RTT: %v", err)
		}
		port = delayRelay(b, src.Host, src.Port, rtt/2)
	}
	logins := make([]pgsource.Conn, n) // every source's login, for the floor below
	for i := range n {
		role := fmt.Sprintf("bench_%s_%d", d.Name, i)
		pw := fmt.Sprintf("pw-%d-%s", i, d.Name)
		if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", pgx.Identifier{role}.Sanitize(), pw)); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			_, _ = admin.Exec(context.Background(), "DROP ROLE IF EXISTS "+pgx.Identifier{role}.Sanitize())
		})
		logins[i] = pgsource.Conn{Host: src.Host, Port: src.Port, Database: src.Database, User: role, Password: pw}
		if _, err := cat.CreateSource(ctx, catalog.SourceInput{Name: role, PgHost: src.Host, PgPort: &port, PgDatabase: src.Database,
			PgUsername: role, PgPassword: pw, PublicationName: src.Publication, ReplicationID: src.Slot}); err != nil {
			b.Fatal(err)
		}
	}
	m := walmon.New(db.Wrap(d.Pool, 5*time.Second), cat, opts)
	// The peak of the sources' sessions on the cluster, sampled from pg_stat_activity while
	// the cycles run: the "never more connections than configured" (the default
	// cap is 2 × the concurrency, and without kept sessions at most the concurrency is open).
	prefix := fmt.Sprintf("bench_%s_", d.Name)
	stopPeak := samplePeak(ctx, admin, prefix)
	// gcOut is the collector's work done by heapNow's forced collections, which are not
	// the cycle's and are taken out of gc-cpu-s/cycle and gc-runs/cycle.
	var gcOut gcWork
	heapNow := func() float64 {
		g0 := readGC()
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		gcOut = gcOut.add(readGC().sub(g0))
		return float64(ms.HeapInuse) / (1 << 20)
	}
	var heapFirst, heapLast float64
	cycles := 0
	// The first cycle after an instance starts leading does one-off work the others do
	// not: it derives every source's SCRAM keys (kept for the cycles after it) and raises
	// every source's "slot inactive" alert. It is run and reported on its own
	// (first-cycle-s, first-cycle-client-cpu-s), outside the timed cycles, which are the
	// steady state the budget is about.
	cliFirst, wallFirst := processCPU(b), time.Now()
	if err := m.Cycle(ctx); err != nil {
		b.Fatal(err)
	}
	first, firstCPU := time.Since(wallFirst), processCPU(b)-cliFirst
	// CPU on both sides of the cycle (this process; the server with every backend it
	// forked): unlike wall time, little changed by what else the machine runs.
	srv0, srvOK := testdb.ServerCPU(b)
	// The catalog's own backends (reading the targets, writing the samples) live as long
	// as the pool, so ServerCPU, which counts backends once they exit, does not see them:
	// they are read from /proc while they run (rosetta-server-cpu-s/cycle).
	rosetta0 := backendsCPU(b, backendPIDs(b, admin, d.Name))
	cli0, gc0 := processCPU(b), readGC()
	b.ResetTimer()
	for b.Loop() {
		if err := m.Cycle(ctx); err != nil {
			b.Fatal(err)
		}
		if st := m.Status(); st.Failed != 0 || st.Samples != n {
			b.Fatalf("cycle: %+v", st)
		}
		cycles++
		// Heap after a GC, outside the timer, after the first and the last cycle: flat
		// memory means the two are close whatever the number of cycles.
		b.StopTimer()
		if cycles == 1 {
			heapFirst = heapNow()
		}
		heapLast = heapNow()
		b.StartTimer()
	}
	b.StopTimer()
	cycleWall := b.Elapsed() / time.Duration(cycles)
	cli, gc := processCPU(b)-cli0, readGC().sub(gc0).sub(gcOut)
	srv1, srvOK2 := testdb.ServerCPU(b)
	rosetta := backendsCPU(b, backendPIDs(b, admin, d.Name)) - rosetta0
	peak := stopPeak()
	// The floor, in the same run: the same sources probed by the thinnest client there is,
	// first with their SCRAM passwords, then with authentication taken away. Its sessions
	// are counted by their own sampler (bare-peak-conns), never against peak-conns.
	// WALMON_BENCH_FLOOR_ROUNDS passes of each are averaged (default 3; 0 leaves the floor
	// out, e.g. for a CPU profile of the cycle alone).
	rounds := 3
	if v, err := strconv.Atoi(os.Getenv("WALMON_BENCH_FLOOR_ROUNDS")); err == nil && v >= 0 {
		rounds = v
	}
	if os.Getenv("WALMON_BENCH_RTT") == "" && rounds > 0 {
		floor := benchFloor(b, admin, logins, src.Slot, prefix, concurrency, rounds)
		report := func(name string, r floorRound) {
			b.ReportMetric(r.wall.Seconds(), name+"-s")
			b.ReportMetric(r.client.Seconds(), name+"-client-cpu-s")
			if srvOK {
				b.ReportMetric(r.server.Seconds(), name+"-server-cpu-s")
			}
		}
		report("bare-scram", floor.scram)
		b.ReportMetric(float64(cycleWall)/float64(floor.scram.wall), "cycle/bare-scram")
		if floor.trust.wall > 0 {
			report("bare-trust", floor.trust)
			b.ReportMetric(float64(cycleWall)/float64(floor.trust.wall), "cycle/bare-trust")
		}
		b.ReportMetric(float64(floor.peak), "bare-peak-conns")
	}
	if srvOK && srvOK2 {
		b.ReportMetric((srv1-srv0).Seconds()/float64(cycles), "server-cpu-s/cycle")
	}
	b.ReportMetric(cli.Seconds()/float64(cycles), "client-cpu-s/cycle")
	// The garbage collector's share of it, which depends on what the cycle allocates and
	// hardly on the machine's load.
	b.ReportMetric(gc.cpu/float64(cycles), "gc-cpu-s/cycle")
	b.ReportMetric(gc.runs/float64(cycles), "gc-runs/cycle")
	b.ReportMetric(rosetta.Seconds()/float64(cycles), "rosetta-server-cpu-s/cycle")
	// Reported here: ResetTimer discards metrics reported before it.
	b.ReportMetric(first.Seconds(), "first-cycle-s")
	b.ReportMetric(firstCPU.Seconds(), "first-cycle-client-cpu-s")
	b.ReportMetric(float64(n), "sources")
	b.ReportMetric(float64(peak), "peak-conns")
	b.ReportMetric(heapFirst, "heap-MiB-cycle1")
	b.ReportMetric(heapLast, "heap-MiB-last")
}

// samplePeak samples, every 10 ms until the returned stop is called, how many sessions
// of roles named with prefix are open on the test server, and stop returns the most seen:
// the "never more connections than configured" (the default cap is 2 × the
// concurrency, and without kept sessions at most the concurrency is open).
func samplePeak(ctx context.Context, admin *pgxpool.Pool, prefix string) (stop func() int64) {
	var peak int64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
			var c int64
			if err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE starts_with(usename, $1)`, prefix).Scan(&c); err == nil && c > peak {
				peak = c
			}
		}
	}()
	return func() int64 {
		close(done)
		<-sampled
		return peak
	}
}

// floorRound is one pass of the bare client over every source: its wall time and the CPU
// it cost this process and the test server (postmaster and reaped backends).
type floorRound struct{ wall, client, server time.Duration }

type floorResult struct {
	scram, trust floorRound // means over the rounds; trust.wall is 0 if it could not be set up
	peak         int64      // the most bare sessions seen open at once
}

// benchFloor is what BenchmarkCycle compares the cycle with, in the same run on the same
// machine: the same logins and the same probe statement (pgsource.SampleWAL) at the same
// concurrency, from the thinnest client — pgx connecting with its own SCRAM (deriving the
// keys every time, as libpq does), no TLS request, one statement, close; no catalog, no
// writer, no retries, no key cache. First with the sources' SCRAM passwords (bare-scram),
// then with authentication taken away (bare-trust: a pg_hba.conf line trusting the
// benchmark's own roles to the source's database, a throwaway one, on the harness's own
// cluster only; trustDatabase), which is
// what a backend start and the probe cost the cluster with nothing of the client's in it.
// Each is the mean of rounds passes.
func benchFloor(b *testing.B, admin *pgxpool.Pool, logins []pgsource.Conn, slot, prefix string, concurrency, rounds int) floorResult {
	ctx := context.Background()
	var res floorResult
	stopPeak := samplePeak(ctx, admin, prefix)
	pass := func(trust bool) floorRound {
		var sum floorRound
		for range rounds {
			r := bareRound(b, logins, slot, concurrency, trust)
			sum.wall += r.wall
			sum.client += r.client
			sum.server += r.server
		}
		k := time.Duration(rounds)
		return floorRound{sum.wall / k, sum.client / k, sum.server / k}
	}
	res.scram = pass(false)
	if restore, ok := trustDatabase(b, admin, logins, prefix+"trust"); ok {
		res.trust = pass(true)
		restore()
	}
	res.peak = stopPeak()
	return res
}

// bareRound probes every login once with plain pgx, concurrency at a time. With trust it
// sends no password at all, so a round only succeeds if the server asked for none.
func bareRound(b *testing.B, logins []pgsource.Conn, slot string, concurrency int, trust bool) floorRound {
	ctx := context.Background()
	c0 := logins[0]
	base, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%d dbname=%s sslmode=disable connect_timeout=5", c0.Host, c0.Port, c0.Database))
	if err != nil {
		b.Fatal(err)
	}
	// The startup parameters and the one-round-trip statement Rosetta's sessions use.
	base.RuntimeParams = map[string]string{"application_name": "rosetta", "statement_timeout": "5000"}
	base.DefaultQueryExecMode = pgx.QueryExecModeExec
	srv0, _ := testdb.ServerCPU(b)
	cli0, wall0 := processCPU(b), time.Now()
	var next atomic.Int64
	errs := make(chan error, concurrency)
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(logins) {
					return
				}
				cfg := base.Copy()
				cfg.User = logins[i].User
				if !trust {
					cfg.Password = logins[i].Password
				}
				conn, err := pgx.ConnectConfig(ctx, cfg)
				if err != nil {
					errs <- fmt.Errorf("bare connect as %s: %w", cfg.User, err)
					return
				}
				_, err = pgsource.SampleWAL(ctx, conn, logins[i], slot)
				_ = conn.Close(ctx)
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	r := floorRound{wall: time.Since(wall0), client: processCPU(b) - cli0}
	srv1, _ := testdb.ServerCPU(b)
	r.server = srv1 - srv0
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return r
}

// trustTag ends the pg_hba.conf line trustDatabase adds, so a line left by a run that was
// killed before its cleanup (SIGKILL runs none) is recognised and removed by the next.
const trustTag = "# BenchmarkCycle's floor (bare-trust), removed when it ends"

// trustDatabase makes the test server trust the benchmark's own logins (and no other
// role: not the superuser) to c's database, the benchmark's throwaway source database,
// from its own host: a NOLOGIN group role made for the run is granted to every login and
// a line for members of that group is put first in pg_hba.conf; it waits until the
// server has loaded it. It only ever touches the test harness's own throwaway cluster:
// with TEST_DATABASE_URL, or a server whose pg_hba.conf is not in that cluster's data
// directory, ok is false, nothing is changed and bare-trust is reported as not measured.
//
// What is guaranteed: the restore is registered as a cleanup before the file is first
// written; every write (adding and restoring) is a temporary file in the same directory
// renamed over pg_hba.conf, so the server never reads half a file; a failed restore is
// reported (b.Errorf) and tried again by the cleanup; and the next run removes a tagged
// line that a killed run (which runs no cleanup) left behind. restore waits until a login
// without a password is refused for its password (SQLSTATE 28P01), not merely refused.
func trustDatabase(b *testing.B, admin *pgxpool.Pool, logins []pgsource.Conn, group string) (restore func(), ok bool) {
	ctx := context.Background()
	c := logins[0]
	dataDir, own := testdb.ClusterDataDir(b)
	if !own {
		b.Log("bare-trust not measured: the server is not the test harness's own throwaway cluster (TEST_DATABASE_URL), whose pg_hba.conf is not the benchmark's to change")
		return nil, false
	}
	var file string
	if err := admin.QueryRow(ctx, "SHOW hba_file").Scan(&file); err != nil {
		b.Fatal(err)
	}
	if !sameDir(filepath.Dir(file), dataDir) {
		b.Logf("bare-trust not measured: the server's pg_hba.conf (%s) is not in the harness cluster's data directory (%s)", file, dataDir)
		return nil, false
	}
	info, err := os.Stat(file)
	if err != nil {
		b.Logf("bare-trust not measured: %v", err)
		return nil, false
	}
	orig, err := os.ReadFile(file)
	if err != nil {
		b.Logf("bare-trust not measured: cannot read %s: %v", file, err)
		return nil, false
	}
	clean := withoutTagged(orig) // what the file is put back to: as it was, less a killed run's line
	// group is an unquoted pg_hba.conf token: quoting would make its + literal. Its name
	// is the benchmark's prefix (lower-case letters, digits, underscores) and "trust".
	sane := pgx.Identifier{group}.Sanitize()
	if _, err := admin.Exec(ctx, "CREATE ROLE "+sane+" NOLOGIN"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP ROLE IF EXISTS "+sane) })
	users := make([]string, len(logins))
	for i, l := range logins {
		users[i] = pgx.Identifier{l.User}.Sanitize()
	}
	if _, err := admin.Exec(ctx, "GRANT "+sane+" TO "+strings.Join(users, ", ")); err != nil {
		b.Fatal(err)
	}
	restored := false
	restore = func() {
		if restored {
			return
		}
		if err := writeAtomic(file, clean, info); err != nil {
			b.Errorf("restore %s: %v (remove the line ending %q by hand)", file, err, trustTag)
			return
		}
		if err := reloadUntil(admin, c, false); err != nil {
			b.Errorf("restore %s: %v", file, err)
			return
		}
		if now, err := os.ReadFile(file); err != nil || !bytes.Equal(now, clean) {
			b.Errorf("restore %s: the file read back is not the one written (%v)", file, err)
			return
		}
		restored = true
		b.Logf("bare-trust: %s restored (%d bytes, as before the run) and reloaded", file, len(clean))
	}
	b.Cleanup(restore) // before the first write, so a failure anywhere after it still restores
	line := fmt.Sprintf("host %q +%s samehost trust %s\n", c.Database, group, trustTag)
	if err := writeAtomic(file, append([]byte(line), clean...), info); err != nil {
		b.Logf("bare-trust not measured: cannot write %s: %v", file, err)
		return nil, false
	}
	var bad int
	if err := admin.QueryRow(ctx, "SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL").Scan(&bad); err != nil || bad != 0 {
		restore()
		b.Fatalf("the trust line made pg_hba.conf invalid (%d errors, %v)", bad, err)
	}
	if err := reloadUntil(admin, c, true); err != nil {
		b.Fatal(err)
	}
	// The line trusts the group's members only: the superuser, on the same database and
	// host, must still be asked for its password.
	su := c
	su.User = admin.Config().ConnConfig.User
	if err := loginRefused(su); err != nil {
		restore()
		b.Fatalf("while the trust line is in: %v", err)
	}
	return restore, true
}

// loginRefused says (nil) whether a login as c without a password is refused for want
// of the password (SQLSTATE 28P01).
func loginRefused(c pgsource.Conn) error {
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%d dbname=%s sslmode=disable connect_timeout=5", c.Host, c.Port, c.Database))
	if err != nil {
		return err
	}
	cfg.User = c.User
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err == nil {
		_ = conn.Close(ctx)
		return fmt.Errorf("%s logged in without a password", c.User)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "28P01" {
		return nil
	}
	return fmt.Errorf("login as %s without a password: %w", c.User, err)
}

// sameDir says whether two paths name the same directory, symbolic links resolved.
func sameDir(a, b string) bool {
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && ra == rb
}

// withoutTagged is the file less every line carrying trustTag.
func withoutTagged(file []byte) []byte {
	lines := strings.SplitAfter(string(file), "\n")
	kept := lines[:0]
	for _, l := range lines {
		if !strings.Contains(l, trustTag) {
			kept = append(kept, l)
		}
	}
	return []byte(strings.Join(kept, ""))
}

// writeAtomic replaces file with data by a temporary file in the same directory renamed
// over it, with the old file's mode and owner (the server runs as another user than this
// root process and must still read it): the server, reloading at any moment, reads
// either the old file or the new one, never a part.
func writeAtomic(file string, data []byte, info os.FileInfo) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(file), ".pg_hba.conf.bench-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err = os.Chmod(tmp.Name(), info.Mode().Perm()); err != nil {
		return err
	}
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		if err = os.Chown(tmp.Name(), int(st.Uid), int(st.Gid)); err != nil {
			return err
		}
	}
	return os.Rename(tmp.Name(), file)
}

// reloadUntil asks the server to reload its configuration and waits until a login as c
// without a password succeeds (trusted) or is refused for want of the password (not
// trusted: SQLSTATE 28P01; any other failure, such as a full server, proves nothing):
// the postmaster applies a reload asynchronously, and the backends it forks before that
// still use the old rules. The reload is asked for again, up to three times in all.
func reloadUntil(admin *pgxpool.Pool, c pgsource.Conn, trusted bool) error {
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%d dbname=%s sslmode=disable connect_timeout=5", c.Host, c.Port, c.Database))
	if err != nil {
		return err
	}
	cfg.User = c.User
	var last error
	for range 3 {
		if _, err := admin.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
			last = err
			continue
		}
		for range 300 {
			if trusted {
				conn, err := pgx.ConnectConfig(ctx, cfg)
				if err == nil {
					_ = conn.Close(ctx)
					return nil
				}
				last = err
			} else if last = loginRefused(c); last == nil {
				return nil
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return fmt.Errorf("the server did not apply the reloaded pg_hba.conf (trusted %v) after three reloads; last login: %v", trusted, last)
}

// gcWork is the garbage collector's CPU time (runtime/metrics' estimate, in seconds) and
// number of completed collections.
type gcWork struct{ cpu, runs float64 }

func (g gcWork) add(o gcWork) gcWork { return gcWork{g.cpu + o.cpu, g.runs + o.runs} }
func (g gcWork) sub(o gcWork) gcWork { return gcWork{g.cpu - o.cpu, g.runs - o.runs} }

// readGC reads the collector's work so far.
func readGC() gcWork {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return gcWork{cpu: s[0].Value.Float64(), runs: float64(s[1].Value.Uint64())}
}

// processCPU is this process's CPU time so far (user and system, every thread).
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// delayRelay listens on a free loopback port and relays every connection to host:port,
// delivering each chunk read in either direction delay after it was read (in order, without
// a bandwidth limit): the propagation delay of a network between Rosetta and a source. It
// returns the port to connect to.
func delayRelay(b *testing.B, host string, port int, delay time.Duration) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	b.Cleanup(func() { l.Close(); wg.Wait() })
	target := net.JoinHostPort(host, strconv.Itoa(port))
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			client, err := l.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			wg.Add(2)
			go func() { defer wg.Done(); delayedCopy(server, client, delay) }()
			go func() { defer wg.Done(); delayedCopy(client, server, delay) }()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// delayedCopy copies src to dst, each chunk delay after it was read; when src ends, dst
// is closed after the last chunk, so the far side sees the end as late as the data.
func delayedCopy(dst, src net.Conn, delay time.Duration) {
	type chunk struct {
		data []byte
		at   time.Time
	}
	q := make(chan chunk, 1024)
	go func() {
		defer close(q)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 || err != nil { // the end (no data) is delayed like data
				q <- chunk{buf[:n], time.Now().Add(delay)}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range q {
		time.Sleep(time.Until(c.at))
		if len(c.data) == 0 {
			break
		}
		if _, err := dst.Write(c.data); err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
	for range q { // let the reader finish
	}
}

// BenchmarkRecordProbes times the cycle's writer alone: catalog.RecordProbes for one
// cycle's results over WALMON_BENCH_SOURCES sources (default 1,000), all healthy with
// their slot's sample, after a first call that raised their alerts (not timed) — what
// every cycle after the first writes. The server's CPU is read from the catalog pool's
// own backends (/proc/<pid>/stat), which testdb.ServerCPU does not see until they exit;
// the round trips are counted by a tracer on the pool's connections.
//
//	WALMON_BENCH_SOURCES=1000 go test -run '^$' -bench RecordProbes -benchtime 20x ./internal/walmon/
func BenchmarkRecordProbes(b *testing.B) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("WALMON_BENCH_SOURCES")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	d := testdb.New(b)
	tr := &roundTrips{}
	cfg := d.Pool.Config()
	cfg.ConnConfig.Tracer = tr
	cfg.MinConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	box, err := secrets.NewBox("test-secret-key-0123456789abcdef")
	if err != nil {
		b.Fatal(err)
	}
	cat := catalog.New(db.Wrap(pool, 5*time.Second), box, audit.ForCatalog())
	port := 5432
	results := make([]catalog.ProbeResult, n)
	for i := range n {
		s, err := cat.CreateSource(ctx, catalog.SourceInput{Name: fmt.Sprintf("rec-%d", i), PgHost: "127.0.0.1", PgPort: &port,
			PgDatabase: "app", PgUsername: "u", PgPassword: "p", PublicationName: "pub", ReplicationID: "slot"})
		if err != nil {
			b.Fatal(err)
		}
		retained, active, status := int64(1<<20), false, "reserved"
		results[i] = catalog.ProbeResult{SourceID: s.ID, SourceName: s.Name, Attempts: 1,
			Sample: &pgsource.WALSample{SizeBytes: int64(i) << 20, RetainedBytes: &retained, SlotActive: &active, WALStatus: &status}}
	}
	record := func() {
		now := time.Now()
		for i := range results {
			results[i].At = now
		}
		if _, err := cat.RecordProbes(ctx, results); err != nil {
			b.Fatal(err)
		}
	}
	record() // the first cycle raises every source's "slot inactive" alert
	// The cycle's other sequential step, before the probes: listing the sources and
	// opening their sealed passwords.
	t0 := time.Now()
	for range 5 {
		if _, _, err := cat.ProbeTargets(ctx); err != nil {
			b.Fatal(err)
		}
	}
	targetsMS := float64(time.Since(t0).Microseconds()) / 5000
	pids := backendPIDs(b, testdb.Admin(b), d.Name)
	srv0 := backendsCPU(b, pids)
	cli0 := processCPU(b)
	rt0 := tr.n.Load()
	b.ResetTimer()
	for b.Loop() {
		record()
	}
	b.StopTimer()
	iters := float64(b.N)
	b.ReportMetric((backendsCPU(b, pids)-srv0).Seconds()*1000/iters, "server-cpu-ms/op")
	b.ReportMetric((processCPU(b)-cli0).Seconds()*1000/iters, "client-cpu-ms/op")
	b.ReportMetric(float64(tr.n.Load()-rt0)/iters, "statements/op")
	b.ReportMetric(targetsMS, "probe-targets-ms")
}

// roundTrips counts the statements a pool's connections send.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// backendPIDs lists the server backends connected to database name.
func backendPIDs(b *testing.B, admin *pgxpool.Pool, name string) []int {
	rows, err := admin.Query(context.Background(), `SELECT pid FROM pg_stat_activity WHERE datname = $1`, name)
	if err != nil {
		b.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		b.Fatal(err)
	}
	return pids
}

// backendsCPU is the CPU the given server backends have used so far; one that has exited
// counts nothing here (testdb.ServerCPU counts it once the postmaster has reaped it).
func backendsCPU(b *testing.B, pids []int) time.Duration {
	var total time.Duration
	for _, pid := range pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		for _, v := range f[11:13] { // utime, stime
			t, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			total += time.Duration(t) * 10 * time.Millisecond // USER_HZ is 100 on Linux
		}
	}
	return total
}
