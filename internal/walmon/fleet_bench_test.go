package walmon_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/audit"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/secrets"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
)

// oldFleetNewest is how the fleet overview found each source's newest sample and its
// hour-old sample before migration 00008 (two probes of the partitioned table per
// source), kept here only to measure the difference in the same run.
const oldFleetNewest = `SELECT s.id, l.retained_bytes, h.retained_bytes
FROM sources s
LEFT JOIN LATERAL (SELECT m.id, m.retained_bytes, m.recorded_at FROM wal_metrics m WHERE m.source_id = s.id
    ORDER BY m.recorded_at DESC LIMIT 1) l ON true
LEFT JOIN LATERAL (SELECT m.retained_bytes, m.recorded_at FROM wal_metrics m WHERE m.source_id = s.id AND m.retained_bytes IS NOT NULL
    AND m.recorded_at >= l.recorded_at - interval '1 hour' AND m.recorded_at < l.recorded_at ORDER BY m.recorded_at ASC LIMIT 1) h ON true`

// BenchmarkWALFleet measures the fleet overview's page (/wal, worst first, 50 rows) and
// the source list's page at fleet scale: WALMON_BENCH_FLEET sources (default 20,000),
// each with four samples over the last hour, among 30 days of daily partitions.
// WALMON_BENCH_EXPLAIN=1 logs the plans (the fleet query, and the per-source probes it
// replaced).
func BenchmarkWALFleet(b *testing.B) {
	n := 20000
	if v, err := strconv.Atoi(os.Getenv("WALMON_BENCH_FLEET")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	d := testdb.New(b)
	box, err := secrets.NewBox("test-secret-key-0123456789abcdef")
	if err != nil {
		b.Fatal(err)
	}
	cat := catalog.New(db.Wrap(d.Pool, 30*time.Second), box, audit.ForCatalog())
	first, err := cat.CreateSource(ctx, catalog.SourceInput{Name: "fleet-0", PgHost: "db.internal", PgDatabase: "app",
		PgUsername: "rosetta", PgPassword: "bench-password", PublicationName: "rosetta_pub", ReplicationID: "rosetta_slot"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := d.Pool.Exec(ctx, `INSERT INTO sources (name, pg_host, pg_port, pg_database, pg_username, pg_password, publication_name, replication_id)
		SELECT 'fleet-' || g, pg_host, pg_port, pg_database, pg_username, pg_password, publication_name, replication_id
		FROM sources, generate_series(1, $1 - 1) g WHERE id = $2`, n, first.ID); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	if _, err := d.Pool.Exec(ctx, `SELECT wal_metrics_ensure_partitions($1, $2)`, now.AddDate(0, 0, -30), now.AddDate(0, 0, 3)); err != nil {
		b.Fatal(err)
	}
	// One statement per sample time, as a cycle writes them (the trigger keeps wal_latest).
	for _, ago := range []time.Duration{61 * time.Minute, 40 * time.Minute, 20 * time.Minute, 0} {
		if _, err := d.Pool.Exec(ctx, `INSERT INTO wal_metrics (source_id, size_bytes, retained_bytes, slot_active, wal_status, recorded_at)
			SELECT id, 1 << 30, (id % 997) * 1048576 + $2::bigint, id % 11 <> 0, 'reserved', $1 FROM sources`,
			now.Add(-ago), int64(time.Hour-ago)); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := d.Pool.Exec(ctx, `VACUUM (ANALYZE) sources, wal_latest, wal_metrics`); err != nil {
		b.Fatal(err)
	}
	if os.Getenv("WALMON_BENCH_EXPLAIN") == "1" {
		explain(b, d, generatedSQL(b, "wal_metrics.sql.go", "listWALFleet"), false, "worst", 0, 50, int64(10<<30), nil)
		explain(b, d, generatedSQL(b, "sources.sql.go", "latestWALForSources"), pageIDs(first.ID, 50))
		explain(b, d, oldFleetNewest)
	}
	b.Run("fleet_page_worst", func(b *testing.B) {
		for b.Loop() {
			p, err := cat.WALFleet(ctx, catalog.ListParams{Limit: 50}, false)
			if err != nil || len(p.Items) != 50 || p.Total != int64(n) {
				b.Fatalf("fleet page: %d items of %d, %v", len(p.Items), p.Total, err)
			}
		}
	})
	b.Run("flagged_count", func(b *testing.B) {
		for b.Loop() {
			if _, err := cat.FlaggedSources(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("source_list_page", func(b *testing.B) {
		for b.Loop() {
			p, err := cat.ListSources(ctx, catalog.ListParams{Limit: 50})
			if err != nil || len(p.Items) != 50 || p.Items[0].LatestWAL == nil {
				b.Fatalf("source page: %d items, %v", len(p.Items), err)
			}
		}
	})
	b.Run("old_per_source_probes", func(b *testing.B) {
		for b.Loop() {
			if _, err := d.Pool.Exec(ctx, oldFleetNewest); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func pageIDs(first int64, n int) []int64 {
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = first + int64(i)
	}
	return ids
}
