package db_test

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestWALFleetMigrationRanksExistingSources: 00009 gives every existing source its
// stored ranking, from its newest sample, its probe state and its threshold.
func TestWALFleetMigrationRanksExistingSources(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d, m := migratedDownTo(ctx, t, 8)
	var over, failing, fresh int64
	for _, s := range []struct {
		id                *int64
		name, probeError  string
		threshold, retain int64
	}{{&over, "Over", "", 1000, 5000}, {&failing, "failing", "connection refused", 0, 10}, {&fresh, "fresh", "", 0, -1}} {
		var th, perr any
		if s.threshold > 0 {
			th = s.threshold
		}
		if s.probeError != "" {
			perr = s.probeError
		}
		if err := d.Pool.QueryRow(ctx, `INSERT INTO sources (name, pg_host, pg_database, pg_username, pg_password, publication_name,
			replication_id, wal_alert_threshold_bytes, last_probe_error) VALUES ($1, 'h', 'd', 'u', '\x00', 'p', 'r', $2, $3) RETURNING id`,
			s.name, th, perr).Scan(s.id); err != nil {
			t.Fatal(err)
		}
		if s.retain >= 0 {
			if _, err := d.Pool.Exec(ctx, `SELECT wal_metrics_ensure_partitions(now(), now())`); err != nil {
				t.Fatal(err)
			}
			if _, err := d.Pool.Exec(ctx, `INSERT INTO wal_metrics (source_id, size_bytes, retained_bytes, slot_active, wal_status, recorded_at)
				VALUES ($1, 100, $2, true, 'reserved', now())`, *s.id, s.retain); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[int64]struct {
		name     string
		flags    []string
		retained *int64
	}{over: {"over", []string{"over_threshold"}, ptr(int64(5000))}, failing: {"failing", []string{"probe_failing"}, ptr(int64(10))},
		fresh: {"fresh", []string{}, nil}}
	rows, err := d.Pool.Query(ctx, `SELECT source_id, name_key, flags, retained FROM wal_fleet`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id int64
		var name string
		var flags []string
		var retained *int64
		if err := rows.Scan(&id, &name, &flags, &retained); err != nil {
			t.Fatal(err)
		}
		n++
		w := want[id]
		if name != w.name || !slices.Equal(flags, w.flags) || (retained == nil) != (w.retained == nil) || (retained != nil && *retained != *w.retained) {
			t.Errorf("source %d: %s %v %v, want %+v", id, name, flags, retained, w)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("%d sources ranked, want 3", n)
	}
}

func ptr[T any](v T) *T { return &v }
