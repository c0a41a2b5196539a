package catalog_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/pgsource"
)

// walSummaryFixture stores three days of samples for two sources: every 7 minutes, sizes
// that go up and down (so an hour's peak is not simply its last sample), a slot that
// comes and goes; one source through RecordWALSample, both through a monitor batch.
func walSummaryFixture(t *testing.T, svc *catalog.Service) (a, b catalog.Source, now time.Time) {
	t.Helper()
	ctx := context.Background()
	mk := func(name string) catalog.Source {
		s, err := svc.CreateSource(ctx, catalog.SourceInput{Name: name, PgHost: "db.internal", PgDatabase: "d",
			PgUsername: "u", PgPassword: "p", PublicationName: "pub", ReplicationID: "slot"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b = mk("summary-a"), mk("summary-b")
	now = time.Now().UTC().Truncate(time.Second)
	var batch []catalog.ProbeResult
	for i := range 3 * 24 * 60 / 7 {
		at := now.Add(-time.Duration(i) * 7 * time.Minute)
		size := int64(1000000 + (i*7919)%5000)
		var retained *int64
		if i%5 != 1 { // the newest has a slot, so the growth rate is tested
			r := int64((i * 104729) % 90000)
			retained = &r
		}
		if _, err := svc.RecordWALSample(ctx, catalog.NewWALSample{SourceID: a.ID, SizeBytes: size, RetainedBytes: retained, RecordedAt: at}); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			active := i%2 == 0
			batch = append(batch, catalog.ProbeResult{SourceID: b.ID, SourceName: b.Name, At: at,
				Sample: &pgsource.WALSample{SizeBytes: size / 2, RetainedBytes: retained, SlotActive: &active}})
		}
	}
	if _, err := svc.RecordProbes(ctx, batch); err != nil {
		t.Fatal(err)
	}
	return a, b, now
}

// The newest sample per source and the hourly peaks are summaries kept by the trigger of
// migration 00008: whatever path stored the samples, they must equal what the samples
// themselves say (computed here from wal_metrics with the definitions they replace).
func TestWALSummariesMatchSamples(t *testing.T) {
	t.Parallel()
	svc, pool := newService(t)
	ctx := context.Background()
	a, b, _ := walSummaryFixture(t, svc)

	differ := func(what, q string) {
		t.Helper()
		var n int
		if err := pool.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if n != 0 {
			t.Errorf("%s: %d rows differ", what, n)
		}
	}
	// wal_latest: the newest sample and the growth over the hour before it, as the fleet
	// overview computed them from the samples before 00008.
	const latest = `SELECT s.id AS source_id, l.id AS sample_id, l.size_bytes, l.retained_bytes, l.slot_active, l.wal_status,
	       l.safe_wal_size, l.recorded_at,
	       CASE WHEN h.recorded_at IS NOT NULL AND l.retained_bytes IS NOT NULL
	            THEN (l.retained_bytes - h.retained_bytes)::float8 / extract(epoch FROM l.recorded_at - h.recorded_at)::float8 END AS growth_bps
	FROM sources s
	CROSS JOIN LATERAL (SELECT m.* FROM wal_metrics m WHERE m.source_id = s.id ORDER BY m.recorded_at DESC, m.id DESC LIMIT 1) l
	LEFT JOIN LATERAL (SELECT m.retained_bytes, m.recorded_at FROM wal_metrics m WHERE m.source_id = s.id AND m.retained_bytes IS NOT NULL
	      AND m.recorded_at >= l.recorded_at - interval '1 hour' AND m.recorded_at < l.recorded_at ORDER BY m.recorded_at LIMIT 1) h ON true`
	const stored = `SELECT source_id, sample_id, size_bytes, retained_bytes, slot_active, wal_status, safe_wal_size, recorded_at, growth_bps FROM wal_latest`
	differ("wal_latest minus the samples' newest", `SELECT count(*) FROM (`+stored+` EXCEPT `+latest+`) x`)
	differ("the samples' newest minus wal_latest", `SELECT count(*) FROM (`+latest+` EXCEPT `+stored+`) x`)
	var withGrowth int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM wal_latest WHERE growth_bps IS NOT NULL`).Scan(&withGrowth); err != nil || withGrowth != 2 {
		t.Errorf("sources with a growth rate: %d (%v), want 2: the fixture would not test the rate", withGrowth, err)
	}

	// wal_metrics_hourly: each hour's peak sample.
	const peaks = `SELECT DISTINCT ON (m.source_id, date_bin('1 hour', m.recorded_at, timestamptz '2000-01-01 00:00:00+00'))
	       m.source_id, date_bin('1 hour', m.recorded_at, timestamptz '2000-01-01 00:00:00+00') AS hour_at, m.id, m.size_bytes,
	       m.retained_bytes, m.slot_active, m.wal_status, m.safe_wal_size, m.recorded_at
	FROM wal_metrics m ORDER BY 1, 2, m.size_bytes DESC, m.id DESC`
	const rollup = `SELECT source_id, hour_at, sample_id, size_bytes, retained_bytes, slot_active, wal_status, safe_wal_size, recorded_at FROM wal_metrics_hourly`
	differ("rollup minus the samples' hourly peaks", `SELECT count(*) FROM (`+rollup+` EXCEPT (`+peaks+`)) x`)
	differ("the samples' hourly peaks minus the rollup", `SELECT count(*) FROM ((`+peaks+`) EXCEPT `+rollup+`) x`)

	// A back-dated sample (an import) does not replace the newest one.
	before, err := svc.GetSource(ctx, a.ID)
	if err != nil || before.LatestWAL == nil {
		t.Fatalf("source a: %+v %v", before, err)
	}
	if _, err := svc.RecordWALSample(ctx, catalog.NewWALSample{SourceID: a.ID, SizeBytes: 1, RecordedAt: time.Now().Add(-48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	after, err := svc.GetSource(ctx, a.ID)
	if err != nil || after.LatestWAL == nil || after.LatestWAL.ID != before.LatestWAL.ID {
		t.Errorf("a back-dated sample moved the newest: %+v then %+v (%v)", before.LatestWAL, after.LatestWAL, err)
	}
	// The source list reads the same newest sample.
	list, err := svc.ListSources(ctx, catalog.ListParams{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list.Items {
		if s.LatestWAL == nil {
			t.Errorf("source %s listed without its newest sample", s.Name)
		}
	}
	_ = b
}

// A long range is downsampled from the hourly rollup when its buckets are whole hours:
// the points must be exactly those the samples binned the same way give, including for
// ranges whose ends cut an hour.
func TestWALDownsampledFromRollupEqualsSamples(t *testing.T) {
	t.Parallel()
	svc, pool := newService(t)
	ctx := context.Background()
	a, b, now := walSummaryFixture(t, svc)
	q := db.New(pool)
	cases := []struct {
		name       string
		source     *int64
		start, end *time.Time
		limit      int
	}{
		{"one source, open range", &a.ID, nil, nil, 40},
		{"one source, cut hours at both ends", &a.ID, ptr(now.Add(-50*time.Hour - 17*time.Minute)), ptr(now.Add(-3*time.Hour - 41*time.Minute)), 20},
		{"both sources, start cut", nil, ptr(now.Add(-60*time.Hour - 5*time.Minute)), nil, 30},
		{"other source, end cut", &b.ID, nil, ptr(now.Add(-90 * time.Minute)), 12},
	}
	for _, c := range cases {
		s, err := svc.WALMetrics(ctx, catalog.WALQuery{SourceID: c.source, Start: c.start, End: c.end, Limit: c.limit})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !s.Downsampled || s.BucketSeconds%3600 != 0 || len(s.Items) == 0 || len(s.Items) > c.limit {
			t.Fatalf("%s: downsampled %v, bucket %d s, %d items: not the rollup's path", c.name, s.Downsampled, s.BucketSeconds, len(s.Items))
		}
		ext, err := q.WALMetricsExtent(ctx, db.WALMetricsExtentParams{SourceID: c.source, StartAt: c.start, EndAt: c.end})
		if err != nil {
			t.Fatal(err)
		}
		want, err := q.ListWALMetricsBinned(ctx, db.ListWALMetricsBinnedParams{
			Bucket: pgtype.Interval{Microseconds: s.BucketSeconds * 1e6, Valid: true}, Origin: ext.FirstAt.UTC().Truncate(time.Hour),
			SourceID: c.source, StartAt: c.start, EndAt: c.end, Lim: int32(c.limit)})
		if err != nil {
			t.Fatal(err)
		}
		if len(want) != len(s.Items) {
			t.Errorf("%s: %d points from the rollup, %d from the samples", c.name, len(s.Items), len(want))
			continue
		}
		for i, w := range want {
			if got := s.Items[i]; got.ID != w.ID || got.SizeBytes != w.SizeBytes || !got.RecordedAt.Equal(w.RecordedAt) {
				t.Errorf("%s: point %d is sample %d (%d bytes at %s), the samples say %d (%d bytes at %s)", c.name, i,
					got.ID, got.SizeBytes, got.RecordedAt, w.ID, w.SizeBytes, w.RecordedAt)
			}
		}
	}
}

// Retention drops a day of the rollup with the day of samples, and forgets the newest
// sample of a source whose samples all went.
func TestRetentionDropsSummaries(t *testing.T) {
	t.Parallel()
	svc, pool := newService(t)
	ctx := context.Background()
	mk := func(name string) catalog.Source {
		s, err := svc.CreateSource(ctx, catalog.SourceInput{Name: name, PgHost: "db.internal", PgDatabase: "d",
			PgUsername: "u", PgPassword: "p", PublicationName: "pub", ReplicationID: "slot"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	gone, kept := mk("gone"), mk("kept")
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	old := now.AddDate(0, 0, -40)
	for _, s := range []struct {
		id int64
		at time.Time
	}{{gone.ID, old}, {kept.ID, old}, {kept.ID, now.Add(-time.Hour)}} {
		if _, err := svc.RecordWALSample(ctx, catalog.NewWALSample{SourceID: s.id, SizeBytes: 1, RecordedAt: s.at}); err != nil {
			t.Fatal(err)
		}
	}
	_, dropped, err := svc.MaintainWALPartitions(ctx, now, 1, 30*24*time.Hour)
	if err != nil || len(dropped) != 1 {
		t.Fatalf("dropped %v, %v", dropped, err)
	}
	var hourly *string
	if err := pool.QueryRow(ctx, `SELECT to_regclass($1)::text`, "wal_metrics_hourly_p"+old.Format("20060102")).Scan(&hourly); err != nil || hourly != nil {
		t.Errorf("the expired day's rollup partition is still there: %v %v", hourly, err)
	}
	var rollupRows int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM wal_metrics_hourly`).Scan(&rollupRows); err != nil || rollupRows != 1 {
		t.Errorf("rollup rows left: %d (%v), want kept's recent hour", rollupRows, err)
	}
	g, err := svc.GetSource(ctx, gone.ID)
	if err != nil || g.LatestWAL != nil {
		t.Errorf("a source whose samples expired still shows a newest sample: %+v %v", g.LatestWAL, err)
	}
	k, err := svc.GetSource(ctx, kept.ID)
	if err != nil || k.LatestWAL == nil || !k.LatestWAL.RecordedAt.Equal(now.Add(-time.Hour)) {
		t.Errorf("kept's newest sample: %+v %v", k.LatestWAL, err)
	}
}

// The retention threshold is written by the statement that creates or updates the
// source: the returned source, a fresh read and a patch of another field agree.
func TestThresholdWrittenWithTheSource(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t)
	ctx := context.Background()
	th := int64(4096)
	s, err := svc.CreateSource(ctx, catalog.SourceInput{Name: "th", PgHost: "db.internal", PgDatabase: "d", PgUsername: "u",
		PgPassword: "p", PublicationName: "pub", ReplicationID: "slot", WALAlertThresholdBytes: &th})
	if err != nil || s.WALAlertThresholdBytes == nil || *s.WALAlertThresholdBytes != th {
		t.Fatalf("created: %v %v", s.WALAlertThresholdBytes, err)
	}
	name := "th-renamed"
	if s, err = svc.UpdateSource(ctx, s.ID, catalog.SourcePatch{Name: &name}); err != nil || s.WALAlertThresholdBytes == nil || *s.WALAlertThresholdBytes != th {
		t.Fatalf("a rename lost the threshold: %v %v", s.WALAlertThresholdBytes, err)
	}
	zero := int64(0)
	if s, err = svc.UpdateSource(ctx, s.ID, catalog.SourcePatch{WALAlertThresholdBytes: &zero}); err != nil || s.WALAlertThresholdBytes != nil {
		t.Fatalf("0 did not return to the default: %v %v", s.WALAlertThresholdBytes, err)
	}
	if got, err := svc.GetSource(ctx, s.ID); err != nil || got.WALAlertThresholdBytes != nil || got.Name != name {
		t.Fatalf("stored: %+v %v", got, err)
	}
}

// A batch may hold several results for one source (a backlog, out of time order): every
// sample is stored, and the source's outcome and alerts follow its newest result — here
// an active slot, so the inactive one of an older sample leaves no alert behind, and the
// older failure no failure state.
func TestRecordProbesJudgesASourceByItsNewestResult(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t)
	ctx := context.Background()
	s, err := svc.CreateSource(ctx, catalog.SourceInput{Name: "backlog", PgHost: "db.internal", PgDatabase: "d",
		PgUsername: "u", PgPassword: "p", PublicationName: "pub", ReplicationID: "slot"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	active, inactive := true, false
	at := func(d time.Duration, slotActive *bool) catalog.ProbeResult {
		return catalog.ProbeResult{SourceID: s.ID, SourceName: s.Name, At: now.Add(-d),
			Sample: &pgsource.WALSample{SizeBytes: 1 << 20, SlotActive: slotActive}}
	}
	failed := catalog.ProbeResult{SourceID: s.ID, SourceName: s.Name, At: now.Add(-3 * time.Minute), Err: errors.New("refused")}
	rep, err := svc.RecordProbes(ctx, []catalog.ProbeResult{at(time.Minute, &active), failed, at(2*time.Minute, &inactive)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Samples) != 2 {
		t.Errorf("stored %d samples, want both", len(rep.Samples))
	}
	if len(rep.Alerts) != 0 {
		t.Errorf("alerts %+v, want none: the newest result has an active slot", rep.Alerts)
	}
	got, err := svc.GetSource(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.ActiveAlerts) != 0 || got.LastProbeAt == nil || !got.LastProbeAt.Equal(now.Add(-time.Minute)) || got.LastProbeError != nil {
		t.Errorf("source state %v alerts, last probe %v, error %v; want none, %v, none", got.ActiveAlerts, got.LastProbeAt, got.LastProbeError, now.Add(-time.Minute))
	}
}
