package walmon_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/rosetta-cdc/rosetta/internal/audit"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/secrets"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
)

// benchSources is the fleet the storage benchmark spreads its samples over (the issue's
// 1,000 sources × 30 days).
const benchSources = 1000

// BenchmarkWALStorage measures the two reads the pages make and the retention job on a
// filled wal_metrics: one source's last 24 hours, one source's 30 days downsampled to at
// most 1,000 points (both through catalog.WALMetrics, the API's path), and dropping one
// day by partition. WALMON_BENCH_ROWS sets the fill (default 1,000,000 so `make bench`
// stays short; BENCHMARKS.md's figures come from WALMON_BENCH_ROWS=10000000), and
// WALMON_BENCH_EXPLAIN=1 logs EXPLAIN (ANALYZE, BUFFERS) of the two reads.
func BenchmarkWALStorage(b *testing.B) {
	rows := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("WALMON_BENCH_ROWS")); err == nil && v >= benchSources {
		rows = v
	}
	perSource := rows / benchSources
	step := 30 * 24 * time.Hour / time.Duration(perSource)
	ctx := context.Background()
	d := testdb.New(b)
	box, err := secrets.NewBox("test-secret-key-0123456789abcdef")
	if err != nil {
		b.Fatal(err)
	}
	cat := catalog.New(db.Wrap(d.Pool, 30*time.Second), box, audit.ForCatalog())
	port := 5432
	first, err := cat.CreateSource(ctx, catalog.SourceInput{Name: "bench-0", PgHost: "db.internal", PgPort: &port, PgDatabase: "app",
		PgUsername: "rosetta", PgPassword: "bench-password", PublicationName: "rosetta_pub", ReplicationID: "rosetta_slot"})
	if err != nil {
		b.Fatal(err)
	}
	// The rest of the fleet as copies of the first (its encrypted password included).
	if _, err := d.Pool.Exec(ctx, `INSERT INTO sources (name, pg_host, pg_port, pg_database, pg_username, pg_password, publication_name, replication_id)
		SELECT 'bench-' || g, pg_host, pg_port, pg_database, pg_username, pg_password, publication_name, replication_id
		FROM sources, generate_series(1, $1 - 1) g WHERE id = $2`, benchSources, first.ID); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	if _, err := d.Pool.Exec(ctx, `SELECT wal_metrics_ensure_partitions($1, $2)`, now.AddDate(0, 0, -31), now.AddDate(0, 0, 1)); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	// 100 sources per statement: bounded transactions, the same data as one big insert.
	for lo := 0; lo < benchSources; lo += 100 {
		if _, err := d.Pool.Exec(ctx, `INSERT INTO wal_metrics (source_id, size_bytes, retained_bytes, slot_active, wal_status, safe_wal_size, recorded_at)
			SELECT s.id, (k + 1)::bigint * 16777216, (k % 500)::bigint * 1048576, k % 7 <> 0, 'reserved', NULL, $1::timestamptz - k * $2::interval
			FROM (SELECT id FROM sources ORDER BY id OFFSET $3 LIMIT 100) s, generate_series(0, $4 - 1) k`,
			now, step, lo, perSource); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := d.Pool.Exec(ctx, `VACUUM (ANALYZE) wal_metrics`); err != nil {
		b.Fatal(err)
	}
	var n int64
	if err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM wal_metrics`).Scan(&n); err != nil {
		b.Fatal(err)
	}
	b.Logf("filled wal_metrics with %d rows (%d sources × %d samples, every %s) in %s", n, benchSources, perSource, step, time.Since(start).Round(time.Second))
	one := first.ID + benchSources/2 // a source in the middle of the table

	if os.Getenv("WALMON_BENCH_EXPLAIN") == "1" {
		// The statements the catalog runs (read from the generated code, so the plans are
		// of the real SQL) with this benchmark's arguments.
		from24, from30 := now.Add(-24*time.Hour), now.AddDate(0, 0, -30)
		explain(b, d, generatedSQL(b, "wal_metrics.sql.go", "wALMetricsExtent"), one, from24, nil)
		explain(b, d, generatedSQL(b, "wal_metrics.sql.go", "listWALMetrics"), one, from24, nil, 1000)
		explain(b, d, generatedSQL(b, "wal_metrics.sql.go", "wALMetricsExtent"), one, from30, nil)
		explain(b, d, generatedSQL(b, "wal_metrics.sql.go", "listWALMetricsBinned"), "00:43:16", from30, one, from30, nil, 1000)
		fullFrom := from30.Truncate(time.Hour).Add(time.Hour)
		explain(b, d, generatedSQL(b, "wal_metrics.sql.go", "listWALMetricsHourlyBinned"),
			"01:00:00", from30.Truncate(time.Hour), one, fullFrom, nil, from30, nil, 1000)
	}

	b.Run("last_24h", func(b *testing.B) {
		from := now.Add(-24 * time.Hour)
		for b.Loop() {
			s, err := cat.WALMetrics(ctx, catalog.WALQuery{SourceID: &one, Start: &from})
			if err != nil || s.Downsampled || len(s.Items) == 0 {
				b.Fatalf("24h: %d items, downsampled %v, %v", len(s.Items), s.Downsampled, err)
			}
		}
	})
	b.Run("30d_downsampled", func(b *testing.B) {
		from := now.AddDate(0, 0, -30)
		for b.Loop() {
			s, err := cat.WALMetrics(ctx, catalog.WALQuery{SourceID: &one, Start: &from, Limit: 1000})
			if err != nil || len(s.Items) > 1000 || (perSource > 1000 && !s.Downsampled) {
				b.Fatalf("30d: %d items, downsampled %v, %v", len(s.Items), s.Downsampled, err)
			}
		}
	})
	b.Run("30d_binned_from_samples", func(b *testing.B) {
		// What 30d_downsampled cost before the rollup: the same range binned from every
		// sample (the bucket the catalog would have chosen: 30 days / 999 points).
		from := now.AddDate(0, 0, -30)
		q := db.New(d.Pool)
		for b.Loop() {
			rows, err := q.ListWALMetricsBinned(ctx, db.ListWALMetricsBinnedParams{
				Bucket: pgtype.Interval{Microseconds: 2596 * 1e6, Valid: true}, Origin: from, SourceID: &one, StartAt: &from, Lim: 1000})
			if err != nil || len(rows) == 0 || len(rows) > 1000 {
				b.Fatalf("binned: %d rows, %v", len(rows), err)
			}
		}
	})
	b.Run("retention_drop_day", func(b *testing.B) {
		// Each iteration drops one whole day of the fleet's samples (rows/30), placed in
		// a day of its own far in the past so the 30 days above stay intact.
		//
		// Meanwhile a reader does what an open chart does, one source's last 24 hours
		// through the catalog, in a loop on its own connection: "without blocking
		// readers" is measured as the longest any of its reads took while the retention
		// step ran (reader-max-ms), beside the same reader's longest read with no
		// retention running (reader-idle-max-ms, the same number of reads just before).
		day := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
		perDay := max(perSource/30, 1)
		daystep := 24 * time.Hour / time.Duration(perDay)
		from := now.Add(-24 * time.Hour)
		read := func() time.Duration {
			t0 := time.Now()
			if s, err := cat.WALMetrics(ctx, catalog.WALQuery{SourceID: &one, Start: &from}); err != nil || len(s.Items) == 0 {
				b.Errorf("reader: %d items, %v", len(s.Items), err)
			}
			return time.Since(t0)
		}
		var busyMax, idleMax time.Duration
		var busyReads, lockPolls, lockBlocked int
		for b.Loop() {
			b.StopTimer()
			if _, err := d.Pool.Exec(ctx, `SELECT wal_metrics_ensure_partitions($1, $1)`, day); err != nil {
				b.Fatal(err)
			}
			if _, err := d.Pool.Exec(ctx, `INSERT INTO wal_metrics (source_id, size_bytes, recorded_at)
				SELECT s.id, k, $1::timestamptz + k * $2::interval FROM sources s, generate_series(0, $3 - 1) k`,
				day, daystep, perDay); err != nil {
				b.Fatal(err)
			}
			stop, done := make(chan struct{}), make(chan []time.Duration)
			started := make(chan struct{})
			go func() {
				var waits []time.Duration
				read() // warm: the first read after the refill is not the drop's doing
				close(started)
				for {
					select {
					case <-stop:
						done <- waits
						return
					default:
						waits = append(waits, read())
					}
				}
			}()
			// A load-independent witness beside the timings: every millisecond, whether a
			// reader's statement (sqlc names them "-- name: …WALMetrics…") is waiting on a
			// lock, as pg_stat_activity reports it.
			sampled := make(chan [2]int)
			go func() {
				var polls, blocked int
				for {
					select {
					case <-stop:
						sampled <- [2]int{polls, blocked}
						return
					case <-time.After(time.Millisecond):
					}
					var n int
					if err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
						WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%-- name: %WALMetrics%'`).Scan(&n); err != nil {
						b.Errorf("lock sampler: %v", err)
					}
					polls++
					if n > 0 {
						blocked++
					}
				}
			}()
			<-started
			b.StartTimer()
			_, dropped, err := cat.MaintainWALPartitions(ctx, now, 1, 31*24*time.Hour)
			b.StopTimer()
			close(stop)
			waits := <-done
			ps := <-sampled
			lockPolls += ps[0]
			lockBlocked += ps[1]
			if err != nil || len(dropped) != 1 || !strings.HasSuffix(dropped[0], day.Format("20060102")) {
				b.Fatalf("dropped %v, %v", dropped, err)
			}
			busyReads += len(waits)
			for _, w := range waits {
				busyMax = max(busyMax, w)
			}
			// The same reader with nothing else running, as many reads, for comparison.
			for range len(waits) {
				idleMax = max(idleMax, read())
			}
			b.StartTimer()
			day = day.AddDate(0, 0, 1)
		}
		b.ReportMetric(float64(busyMax.Microseconds())/1000, "reader-max-ms")
		b.ReportMetric(float64(idleMax.Microseconds())/1000, "reader-idle-max-ms")
		b.ReportMetric(float64(busyReads)/float64(b.N), "reads/op")
		b.ReportMetric(float64(lockBlocked), "reader-lock-waits-seen")
		b.Logf("lock sampler: %d polls during the retention steps, %d saw a reader waiting on a lock", lockPolls, lockBlocked)
	})
}

// generatedSQL is the text of one of sqlc's query constants in internal/db, so a
// benchmark explains the statement the application runs, not a copy that may drift.
func generatedSQL(b *testing.B, file, name string) string {
	b.Helper()
	src, err := os.ReadFile(filepath.Join("..", "db", file))
	if err != nil {
		b.Fatal(err)
	}
	text := string(src)
	start := strings.Index(text, "const "+name+" = `")
	if start < 0 {
		// Logged, not fatal: a plan is a diagnostic, the timings below still count.
		b.Logf("%s: no constant %s to explain", file, name)
		return ""
	}
	text = text[start+len("const "+name+" = `"):]
	return text[:strings.Index(text, "`")]
}

// explain logs a read's plan with its timing and buffers, for BENCHMARKS.md.
func explain(b *testing.B, d *testdb.DB, sql string, args ...any) {
	b.Helper()
	if sql == "" {
		return
	}
	rs, err := d.Pool.Query(context.Background(), "EXPLAIN (ANALYZE, BUFFERS) "+sql, args...)
	if err != nil {
		b.Logf("explain: %v", err)
		return
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var line string
		if err := rs.Scan(&line); err != nil {
			b.Fatal(err)
		}
		out = append(out, line)
	}
	if err := rs.Err(); err != nil {
		b.Fatal(err)
	}
	b.Log("\n" + strings.Join(out, "\n"))
}
