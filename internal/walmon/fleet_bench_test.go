package walmon_test

import (
	"context"
	"os"
	"strconv"
	"strings"
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

// oldFleetPage is the fleet overview's statement before migration 00009 (ranking every
// source, then cutting the page; the total a window count over all of them), kept here
// only to measure the difference in the same run. $1 flagged only, $2 sort, $3 offset,
// $4 limit, $5 default threshold, $6 q.
const oldFleetPage = `WITH fleet AS (
    SELECT s.id, s.name, coalesce(s.wal_alert_threshold_bytes, $5::bigint)::bigint AS threshold,
           s.last_probe_error, s.last_probe_at,
           l.sample_id, l.size_bytes, l.retained_bytes, l.slot_active, l.wal_status, l.safe_wal_size,
           l.recorded_at, l.growth_bps AS growth
    FROM sources s
    LEFT JOIN wal_latest l ON l.source_id = s.id
    WHERE ($6::text IS NULL OR s.name ILIKE '%' || $6 || '%')
), judged AS (
    SELECT f.id, f.name, f.threshold, f.last_probe_error, f.last_probe_at, f.sample_id, f.size_bytes, f.retained_bytes, f.slot_active, f.wal_status, f.safe_wal_size, f.recorded_at, f.growth,
           array_remove(ARRAY[
               CASE WHEN f.retained_bytes > f.threshold THEN 'over_threshold' END,
               CASE WHEN f.slot_active = false THEN 'slot_inactive' END,
               CASE WHEN f.wal_status IN ('unreserved', 'lost') THEN 'wal_' || f.wal_status END,
               CASE WHEN f.last_probe_error IS NOT NULL THEN 'probe_failing' END
           ], NULL)::text[] AS flags,
           CASE WHEN f.retained_bytes IS NULL THEN NULL
                WHEN coalesce(f.safe_wal_size, f.threshold - f.retained_bytes) <= 0 THEN 0::float8
                WHEN f.growth > 0 THEN coalesce(f.safe_wal_size, f.threshold - f.retained_bytes)::float8 / f.growth
           END AS forecast
    FROM fleet f
)
SELECT j.id, j.name, j.threshold, j.last_probe_error, j.last_probe_at,
       coalesce(j.sample_id, 0)::bigint AS sample_id, coalesce(j.size_bytes, 0)::bigint AS size_bytes,
       j.retained_bytes, j.slot_active, j.wal_status, j.safe_wal_size,
       coalesce(j.recorded_at, 'epoch'::timestamptz)::timestamptz AS recorded_at,
       coalesce(j.growth, 'NaN')::float8 AS growth_bps, coalesce(j.forecast, 'NaN')::float8 AS forecast_seconds, j.flags,
       count(*) OVER () AS matched
FROM judged j
WHERE (NOT $1::boolean OR cardinality(j.flags) > 0)
ORDER BY
    CASE WHEN $2::text = 'worst' THEN cardinality(j.flags) END DESC,
    CASE WHEN $2::text IN ('worst', 'forecast') THEN j.forecast END ASC NULLS LAST,
    CASE WHEN $2::text IN ('worst', '-retained') THEN j.retained_bytes END DESC NULLS LAST,
    CASE WHEN $2::text = '-growth' THEN j.growth END DESC NULLS LAST,
    CASE WHEN $2::text = '-name' THEN lower(j.name) END DESC,
    lower(j.name) ASC, j.id ASC
LIMIT $4 OFFSET $3
`

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
	if _, err := d.Pool.Exec(ctx, `VACUUM (ANALYZE) sources, wal_latest, wal_fleet, wal_metrics`); err != nil {
		b.Fatal(err)
	}
	if os.Getenv("WALMON_BENCH_EXPLAIN") == "1" {
		for _, flagged := range []bool{false, true} {
			plans, err := cat.ExplainWALFleet(ctx, catalog.ListParams{Limit: 50}, flagged)
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("fleet page (flagged only: %v), page and total in one statement:\n%s", flagged, strings.Join(plans, "\n\n"))
		}
		explain(b, d, oldFleetPage, false, "worst", 0, 50, int64(10<<30), nil)
		explain(b, d, oldFleetPage, true, "worst", 0, 1, int64(10<<30), nil)
		explain(b, d, generatedSQL(b, "sources.sql.go", "latestWALForSources"), pageIDs(first.ID, 50))
		explain(b, d, oldFleetNewest)
	}
	b.Run("fleet_page_worst", func(b *testing.B) {
		for b.Loop() {
			p, err := cat.WALFleet(ctx, catalog.ListParams{Limit: 50}, false)
			if err != nil || len(p.Items) != 50 || (p.Total != int64(n) && !p.TotalIsEstimate) {
				b.Fatalf("fleet page: %d items of %d, %v", len(p.Items), p.Total, err)
			}
		}
	})
	b.Run("flagged_count", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := cat.FlaggedSources(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("old_fleet_page_worst", func(b *testing.B) {
		for b.Loop() {
			if _, err := d.Pool.Exec(ctx, oldFleetPage, false, "worst", 0, 50, int64(10<<30), nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("old_flagged_count", func(b *testing.B) {
		for b.Loop() {
			if _, err := d.Pool.Exec(ctx, oldFleetPage, true, "worst", 0, 1, int64(10<<30), nil); err != nil {
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
	// What storing the ranking costs the writer: one cycle's samples (a statement with
	// one sample per source), with the ranking triggers of migration 00009 and, in the same
	// run, without them. Last, because it adds samples.
	next := now
	cycle := func(b *testing.B) {
		for b.Loop() {
			next = next.Add(time.Second)
			if _, err := d.Pool.Exec(ctx, `INSERT INTO wal_metrics (source_id, size_bytes, retained_bytes, slot_active, wal_status, recorded_at)
				SELECT id, 1 << 30, (id % 997) * 1048576 + $2::bigint, id % 11 <> 0, 'reserved', $1 FROM sources`,
				next, int64(time.Hour)+next.Sub(now).Nanoseconds()); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("cycle_write_ranked", cycle)
	for _, t := range []string{"wal_fleet_latest_inserted", "wal_fleet_latest_updated"} {
		if _, err := d.Pool.Exec(ctx, "ALTER TABLE wal_latest DISABLE TRIGGER "+t); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("cycle_write_unranked", cycle)
}

func pageIDs(first int64, n int) []int64 {
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = first + int64(i)
	}
	return ids
}
