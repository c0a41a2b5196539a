package walmon_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/audit"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/secrets"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
	"github.com/rosetta-cdc/rosetta/internal/walmon"
)

// BenchmarkCycle measures one production-like cycle: every source is its own role with a
// SCRAM password (a full handshake per probe, since the default interval keeps no
// sessions), probed at the default concurrency. WALMON_BENCH_SOURCES sets the number of
// sources (default 200; the budget is stated for 1,000).
func BenchmarkCycle(b *testing.B) {
	n := 200
	if v, err := strconv.Atoi(os.Getenv("WALMON_BENCH_SOURCES")); err == nil && v > 0 {
		n = v
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
	for i := range n {
		role := fmt.Sprintf("bench_%s_%d", d.Name, i)
		pw := fmt.Sprintf("pw-%d-%s", i, d.Name)
		if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", pgx.Identifier{role}.Sanitize(), pw)); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			_, _ = admin.Exec(context.Background(), "DROP ROLE IF EXISTS "+pgx.Identifier{role}.Sanitize())
		})
		port := src.Port
		if _, err := cat.CreateSource(ctx, catalog.SourceInput{Name: role, PgHost: src.Host, PgPort: &port, PgDatabase: src.Database,
			PgUsername: role, PgPassword: pw, PublicationName: src.Publication, ReplicationID: src.Slot}); err != nil {
			b.Fatal(err)
		}
	}
	m := walmon.New(db.Wrap(d.Pool, 5*time.Second), cat, walmon.Options{})
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		if err := m.Cycle(ctx); err != nil {
			b.Fatal(err)
		}
		if st := m.Status(); st.Failed != 0 || st.Samples != n {
			b.Fatalf("cycle: %+v", st)
		}
	}
	b.StopTimer()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(n), "sources")
	b.ReportMetric(float64(after.HeapInuse)/(1<<20), "heap-MiB-after")
}
