package pgsource

import (
	"context"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rosetta-cdc/rosetta/internal/testdb"
)

// BenchmarkProbePhases takes one WAL probe at a time, as ProbeWAL does (connect with the
// source's TLS mode, SCRAM, the probe statement, close), against a source on the test
// cluster, which has no TLS, and reports where each probe's time goes: µs per phase and the
// TCP connections dialled per probe. It is the evidence behind the monitor cycle's budget
// (BENCHMARKS.md, "WAL monitor cycle"); run it alone on a quiet machine:
//
//	go test -run '^$' -bench ProbePhases -benchtime 300x ./internal/pgsource/
//
// Connect's configuration (connConfig) is used with timers wrapped around its hooks rather
// than timed inside Connect, so the product code carries no instrumentation. Since Rosetta
// logs in itself inside the AfterNetConnect hook, "tls+login" is the TLS request and the
// whole authentication; "after-login" is pgx reading the server's parameters up to
// ReadyForQuery. The prefer-keys-cached case is the WAL monitor's: the source's SCRAM keys
// kept between probes (SCRAMCache). Besides wall
// time it reports CPU per probe on both sides (this process, and the server's postmaster
// with every backend it forked), which the machine's load does not change much.
func BenchmarkProbePhases(b *testing.B) {
	src := testdb.NewSource(b, testdb.SourceOptions{CreateSlot: true})
	for _, run := range []struct {
		name string
		mode TLSMode
		keys *SCRAMCache // the WAL monitor's: SCRAM keys kept between probes
	}{{"prefer", TLSPrefer, nil}, {"disable", TLSDisable, nil}, {"prefer-keys-cached", TLSPrefer, NewSCRAMCache()}} {
		b.Run(run.name, func(b *testing.B) {
			c := Conn{Host: src.Host, Port: src.Port, Database: src.Database, User: src.User, Password: src.Password, TLSMode: run.mode}
			var slot *keySlot
			if run.keys != nil {
				slot = &keySlot{cache: run.keys, id: 1, connKey: c.Key()}
			}
			ctx := context.Background()
			var dial, negotiate, startup, statement, closing time.Duration
			dials := 0
			srv0, srvOK := testdb.ServerCPU(b)
			cli0 := processCPU(b)
			for b.Loop() {
				cfg, err := connConfig(c, slot)
				if err != nil {
					b.Fatal(err)
				}
				var dialed, negotiated time.Time
				inner := cfg.DialFunc
				cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
					dials++
					nc, err := inner(ctx, network, addr)
					dialed = time.Now()
					return nc, err
				}
				after := cfg.AfterNetConnect
				cfg.AfterNetConnect = func(ctx context.Context, pc *pgconn.Config, nc net.Conn) (net.Conn, error) {
					if after != nil {
						var err error
						if nc, err = after(ctx, pc, nc); err != nil {
							return nil, err
						}
					}
					negotiated = time.Now()
					return nc, nil
				}
				start := time.Now()
				conn, err := pgx.ConnectConfig(ctx, cfg)
				if err != nil {
					b.Fatal(err)
				}
				done := time.Now()
				dial += dialed.Sub(start)
				negotiate += negotiated.Sub(dialed)
				startup += done.Sub(negotiated)
				t := time.Now()
				if _, err := SampleWAL(ctx, conn, c, src.Slot); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				closeQuietly(conn)
				statement += t2.Sub(t)
				closing += time.Since(t2)
			}
			n := float64(b.N)
			cli := processCPU(b) - cli0
			if srv1, ok := testdb.ServerCPU(b); ok && srvOK {
				b.ReportMetric(float64((srv1-srv0).Microseconds())/n, "µs-server-cpu/op")
			}
			b.ReportMetric(float64(cli.Microseconds())/n, "µs-client-cpu/op")
			us := func(d time.Duration) float64 { return float64(d.Microseconds()) / n }
			b.ReportMetric(float64(dials)/n, "dials/op")
			b.ReportMetric(us(dial), "µs-dial/op")
			b.ReportMetric(us(negotiate), "µs-tls+login/op")
			b.ReportMetric(us(startup), "µs-after-login/op")
			b.ReportMetric(us(statement), "µs-statement/op")
			b.ReportMetric(us(closing), "µs-close/op")
		})
	}
}

// processCPU is this process's CPU time so far (user and system, every thread).
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
