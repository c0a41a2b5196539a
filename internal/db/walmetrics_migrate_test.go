package db_test

import (
	"context"
	"testing"
	"time"
)

// TestWALMetricsPartitioningCarriesRows: 00004 turns wal_metrics into a partitioned table
// keeping every existing sample (ids included, so new ids continue after them), and its
// down migration carries them back.
func TestWALMetricsPartitioningCarriesRows(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d, m := migratedDownTo(ctx, t, 3)
	var src int64
	if err := d.Pool.QueryRow(ctx, `INSERT INTO sources (name, pg_host, pg_database, pg_username, pg_password, publication_name, replication_id)
		VALUES ('s', 'h', 'd', 'u', '\x00', 'p', 'r') RETURNING id`).Scan(&src); err != nil {
		t.Fatal(err)
	}
	// Samples 90 days apart: the migration must create partitions for every day they need.
	if _, err := d.Pool.Exec(ctx, `INSERT INTO wal_metrics (source_id, size_bytes, retained_bytes, slot_active, wal_status, recorded_at)
		VALUES ($1, 100, 10, true, 'reserved', now() - interval '90 days'), ($1, 200, NULL, NULL, NULL, now())`, src); err != nil {
		t.Fatal(err)
	}
	count := countFatal(ctx, t, d)
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM pg_partitioned_table WHERE partrelid = 'wal_metrics'::regclass`); n != 1 {
		t.Fatal("wal_metrics is not partitioned after up")
	}
	if n := count(`SELECT count(*) FROM wal_metrics WHERE size_bytes = 100 AND retained_bytes = 10 AND slot_active AND wal_status = 'reserved'
		AND recorded_at < now() - interval '89 days'`); n != 1 {
		t.Fatal("the 90-day-old sample was not carried over")
	}
	if n := count(`SELECT count(*) FROM wal_metrics`); n != 2 {
		t.Fatalf("%d samples after up, want 2", n)
	}
	var maxOld, fresh int64
	if err := d.Pool.QueryRow(ctx, `SELECT max(id) FROM wal_metrics`).Scan(&maxOld); err != nil {
		t.Fatal(err)
	}
	if err := d.Pool.QueryRow(ctx, `INSERT INTO wal_metrics (source_id, size_bytes) VALUES ($1, 300) RETURNING id`, src).Scan(&fresh); err != nil {
		t.Fatal(err)
	}
	if fresh <= maxOld {
		t.Fatalf("new sample id %d does not continue after the carried ones (max %d)", fresh, maxOld)
	}
	if _, err := m.DownTo(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM wal_metrics`); n != 3 {
		t.Fatalf("%d samples after down, want 3", n)
	}
	if n := count(`SELECT count(*) FROM pg_partitioned_table`); n != 0 {
		t.Fatal("a partitioned table is left after down")
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
}
