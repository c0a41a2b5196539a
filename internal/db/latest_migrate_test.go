package db_test

import (
	"context"
	"testing"
	"time"
)

// Migration 00012 copies each source's newest sample (wal_latest) onto its sources row,
// and from then on the triggers on wal_latest keep the copy in the writing statement:
// a newer sample moves it, an older one does not, the retention sweep clears it; down
// drops the columns.
func TestSourceLatestSampleMigrationCarriesOverAndFollows(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, m := migratedDownTo(ctx, t, 11)
	exec := execFatal(ctx, t, d)
	var sampled, unsampled int64
	for name, id := range map[string]*int64{"sampled": &sampled, "unsampled": &unsampled} {
		if err := d.Pool.QueryRow(ctx, `INSERT INTO sources (name, pg_host, pg_database, pg_username, pg_password,
			publication_name, replication_id) VALUES ($1, 'h', 'd', 'u', '\x00', 'p', 'r') RETURNING id`, name).Scan(id); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	exec(`SELECT wal_metrics_ensure_partitions($1, $1)`, at)
	sample := func(size int64, at time.Time) int64 {
		t.Helper()
		var id int64
		if err := d.Pool.QueryRow(ctx, `INSERT INTO wal_metrics (source_id, size_bytes, retained_bytes, slot_active, wal_status, recorded_at)
			VALUES ($1, $2::bigint, $2::bigint / 2, true, 'reserved', $3) RETURNING id`, sampled, size, at).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	sample(100, at.Add(-time.Hour))
	newest := sample(300, at)
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}

	type latest struct {
		id, size, retained *int64
		active             *bool
		status             *string
		at                 *time.Time
	}
	read := func(source int64) latest {
		t.Helper()
		var l latest
		if err := d.Pool.QueryRow(ctx, `SELECT latest_sample_id, latest_size_bytes, latest_retained_bytes, latest_slot_active,
			latest_wal_status, latest_recorded_at FROM sources WHERE id = $1`, source).
			Scan(&l.id, &l.size, &l.retained, &l.active, &l.status, &l.at); err != nil {
			t.Fatal(err)
		}
		return l
	}
	l := read(sampled)
	if l.id == nil || *l.id != newest || *l.size != 300 || *l.retained != 150 || !*l.active || *l.status != "reserved" || !l.at.Equal(at) {
		t.Errorf("carried over: %+v, want sample %d (300 bytes at %s)", l, newest, at)
	}
	if u := read(unsampled); u.id != nil || u.size != nil || u.at != nil {
		t.Errorf("a source without samples got a newest sample: %+v", u)
	}

	// A back-dated sample leaves the copy; a newer one moves it, in its statement.
	sample(999, at.Add(-2*time.Hour))
	if l := read(sampled); l.id == nil || *l.id != newest {
		t.Errorf("a back-dated sample moved the copy to %v, want %d", l.id, newest)
	}
	newer := sample(400, at.Add(time.Minute))
	if l := read(sampled); l.id == nil || *l.id != newer || *l.size != 400 {
		t.Errorf("after a newer sample: %+v, want sample %d", l, newer)
	}
	// The retention sweep's delete of the summary clears the copy.
	exec(`DELETE FROM wal_latest WHERE source_id = $1`, sampled)
	if l := read(sampled); l.id != nil || l.size != nil || l.retained != nil || l.active != nil || l.status != nil || l.at != nil {
		t.Errorf("after the summary went: %+v, want no sample", l)
	}
	// Deleting a source cascades to its summary without the copy's trigger tripping.
	sample(500, at.Add(2*time.Minute))
	exec(`DELETE FROM sources WHERE id = $1`, sampled)

	if _, err := m.DownTo(ctx, 11); err != nil {
		t.Fatalf("down: %v", err)
	}
	var cols int
	if err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.columns WHERE table_name = 'sources' AND column_name LIKE 'latest\_%'`).Scan(&cols); err != nil || cols != 0 {
		t.Errorf("columns left after down: %d (%v)", cols, err)
	}
}
