package catalog_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/audit"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/pgsource"
	"github.com/rosetta-cdc/rosetta/internal/secrets"
)

// fleetKeys is a source's stored ranking (wal_fleet, migration 00009).
type fleetKeys struct {
	nameKey  string
	flags    []string
	forecast *float64
	retained *int64
	growth   *float64
}

func storedKeys(t *testing.T, pool *db.Pool, id int64) fleetKeys {
	t.Helper()
	var k fleetKeys
	if err := pool.QueryRow(context.Background(), `SELECT name_key, flags, forecast, retained, growth FROM wal_fleet WHERE source_id = $1`, id).
		Scan(&k.nameKey, &k.flags, &k.forecast, &k.retained, &k.growth); err != nil {
		t.Fatalf("wal_fleet row of source %d: %v", id, err)
	}
	return k
}

// staleKeys counts sources whose stored ranking differs from the one their current
// inputs give, or that have none: the triggers must leave none behind.
func staleKeys(t *testing.T, pool *db.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM sources s
		CROSS JOIN wal_fleet_settings d
		LEFT JOIN wal_latest l ON l.source_id = s.id
		LEFT JOIN wal_fleet k ON k.source_id = s.id
		CROSS JOIN LATERAL wal_fleet_judge(l.retained_bytes, coalesce(s.wal_alert_threshold_bytes, d.default_threshold),
			l.slot_active, l.wal_status, l.safe_wal_size, l.growth_bps, s.last_probe_error IS NOT NULL) j
		WHERE k.source_id IS NULL
		   OR (k.name_key, k.flags, k.forecast, k.retained, k.growth)
		      IS DISTINCT FROM (lower(s.name), j.flags, j.forecast, l.retained_bytes, l.growth_bps)`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func fleetRow(t *testing.T, svc *catalog.Service, name string) catalog.WALFleetRow {
	t.Helper()
	p, err := svc.WALFleet(context.Background(), catalog.ListParams{Limit: 100}, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range p.Items {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("%s is not on the fleet overview", name)
	return catalog.WALFleetRow{}
}

const gib = int64(1) << 30

// The stored ranking follows every input it is computed from: a new sample (through the
// monitor's batch and through a single recorded sample), a probe failure and its
// recovery, the source's own threshold, the default threshold, a rename, and the
// retention job removing a source's last sample. After each step the keys are what
// wal_fleet_judge gives for the inputs, and the overview shows them.
func TestWALFleetStoredKeysFollowTheirInputs(t *testing.T) {
	t.Parallel()
	svc, pool := newService(t)
	ctx := context.Background()
	src, err := svc.CreateSource(ctx, catalog.SourceInput{Name: "Keys", PgHost: "db.internal", PgDatabase: "d",
		PgUsername: "u", PgPassword: "p", PublicationName: "pub", ReplicationID: "slot"})
	if err != nil {
		t.Fatal(err)
	}
	check := func(step string, wantFlags []string) fleetKeys {
		t.Helper()
		if n := staleKeys(t, pool); n != 0 {
			t.Fatalf("%s: %d sources' stored ranking differs from their inputs", step, n)
		}
		k := storedKeys(t, pool, src.ID)
		if !slices.Equal(k.flags, wantFlags) && !(len(k.flags) == 0 && len(wantFlags) == 0) {
			t.Errorf("%s: stored flags %v, want %v", step, k.flags, wantFlags)
		}
		if r := fleetRow(t, svc, src.Name); !slices.Equal(r.Flags, k.flags) && !(len(r.Flags) == 0 && len(k.flags) == 0) {
			t.Errorf("%s: the overview shows flags %v, stored %v", step, r.Flags, k.flags)
		}
		return k
	}

	// A new source has a ranking before any sample: nothing known, nothing flagged.
	k := check("new source", nil)
	if k.nameKey != "keys" || k.retained != nil || k.forecast != nil || k.growth != nil {
		t.Errorf("new source: %+v", k)
	}

	// The monitor's batch: 2 GiB, then 3 GiB an hour later: growing, 7 GiB from the
	// default 10 GiB threshold.
	now := time.Now().UTC().Truncate(time.Second)
	active, reserved := true, "reserved"
	sample := func(at time.Time, retained int64) catalog.ProbeResult {
		return catalog.ProbeResult{SourceID: src.ID, SourceName: src.Name, At: at,
			Sample: &pgsource.WALSample{SizeBytes: 100 * gib, RetainedBytes: &retained, SlotActive: &active, WALStatus: &reserved}}
	}
	if _, err := svc.RecordProbes(ctx, []catalog.ProbeResult{sample(now.Add(-2*time.Hour), 2*gib)}); err != nil {
		t.Fatal(err)
	}
	if k = check("first sample", nil); k.retained == nil || *k.retained != 2*gib || k.growth != nil || k.forecast != nil {
		t.Errorf("first sample: retained %v growth %v forecast %v", k.retained, k.growth, k.forecast)
	}
	if _, err := svc.RecordProbes(ctx, []catalog.ProbeResult{sample(now.Add(-time.Hour), 3*gib)}); err != nil {
		t.Fatal(err)
	}
	k = check("second sample", nil)
	wantGrowth := float64(gib) / 3600
	if k.growth == nil || math.Abs(*k.growth-wantGrowth) > 1e-6 || k.forecast == nil || math.Abs(*k.forecast-7*3600) > 1e-6 {
		t.Errorf("second sample: growth %v (want %v), forecast %v (want %d s)", k.growth, wantGrowth, k.forecast, 7*3600)
	}

	// The source's own threshold, under what it retains: over it, headroom gone.
	th := 2 * gib
	if _, err := svc.UpdateSource(ctx, src.ID, catalog.SourcePatch{WALAlertThresholdBytes: &th}); err != nil {
		t.Fatal(err)
	}
	if k = check("threshold lowered", []string{catalog.FlagOverThreshold}); k.forecast == nil || *k.forecast != 0 {
		t.Errorf("threshold lowered: forecast %v, want 0", k.forecast)
	}

	// A failed probe (the monitor's path): flagged as failing too, the slot's keys kept.
	if _, err := svc.RecordProbes(ctx, []catalog.ProbeResult{{SourceID: src.ID, SourceName: src.Name, At: now.Add(-30 * time.Minute),
		Err: errors.New("connection refused")}}); err != nil {
		t.Fatal(err)
	}
	check("probe failed", []string{catalog.FlagOverThreshold, catalog.FlagProbeFailing})

	// A second failure with another message changes nothing the ranking reads.
	if _, err := svc.RecordProbes(ctx, []catalog.ProbeResult{{SourceID: src.ID, SourceName: src.Name, At: now.Add(-20 * time.Minute),
		Err: errors.New("timeout")}}); err != nil {
		t.Fatal(err)
	}
	check("probe failed again", []string{catalog.FlagOverThreshold, catalog.FlagProbeFailing})

	// Recovery with a sample under the threshold, the slot now inactive.
	active = false
	if _, err := svc.RecordProbes(ctx, []catalog.ProbeResult{sample(now.Add(-10*time.Minute), gib)}); err != nil {
		t.Fatal(err)
	}
	check("recovered", []string{catalog.FlagSlotInactive})

	// The test-connection path records probe state too (RecordSourceProbeError).
	msg := "password authentication failed"
	if err := db.New(pool).RecordSourceProbeError(ctx, db.RecordSourceProbeErrorParams{ID: src.ID, LastProbeError: &msg}); err != nil {
		t.Fatal(err)
	}
	check("test connection failed", []string{catalog.FlagSlotInactive, catalog.FlagProbeFailing})
	if err := db.New(pool).RecordSourceProbeOK(ctx, src.ID); err != nil {
		t.Fatal(err)
	}
	check("test connection passed", []string{catalog.FlagSlotInactive})

	// One sample recorded alone (probe now, imports): the slot's state follows.
	active = true
	lost := "lost"
	retained := int64(gib)
	if _, err := svc.RecordWALSample(ctx, catalog.NewWALSample{SourceID: src.ID, SizeBytes: 100 * gib, RetainedBytes: &retained,
		SlotActive: &active, WALStatus: &lost, RecordedAt: now}); err != nil {
		t.Fatal(err)
	}
	check("slot lost", []string{catalog.FlagWALLost})

	// Back to the default threshold (10 GiB), then another instance configured with a
	// 512 MiB default reads the overview: the sources on the default are re-ranked.
	zero := int64(0)
	other, err := svc.UpdateSource(ctx, src.ID, catalog.SourcePatch{WALAlertThresholdBytes: &zero})
	if err != nil {
		t.Fatal(err)
	}
	if other.WALAlertThresholdBytes != nil {
		t.Fatalf("threshold not cleared: %v", *other.WALAlertThresholdBytes)
	}
	check("default threshold", []string{catalog.FlagWALLost})
	box, err := secrets.NewBox("test-secret-key-0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	small := catalog.New(pool, box, audit.ForCatalog(), catalog.WithMonitorSettings(catalog.MonitorSettings{AlertBytes: 512 << 20}))
	if r := fleetRow(t, small, src.Name); !slices.Equal(r.Flags, []string{catalog.FlagOverThreshold, catalog.FlagWALLost}) || r.Threshold != 512<<20 {
		t.Errorf("512 MiB default: flags %v, threshold %d", r.Flags, r.Threshold)
	}
	check("512 MiB default", []string{catalog.FlagOverThreshold, catalog.FlagWALLost})

	// A rename moves the source in the name orders.
	name := "Zeta keys"
	if _, err := svc.UpdateSource(ctx, src.ID, catalog.SourcePatch{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if k = storedKeys(t, pool, src.ID); k.nameKey != "zeta keys" {
		t.Errorf("renamed: name key %q", k.nameKey)
	}

	// Retention removed the source's last sample: nothing known about the slot any more.
	if _, err := db.New(pool).DeleteWALLatestBefore(ctx, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if k = storedKeys(t, pool, src.ID); len(k.flags) != 0 || k.retained != nil || k.forecast != nil {
		t.Errorf("after retention: %+v", k)
	}
	if n := staleKeys(t, pool); n != 0 {
		t.Fatalf("after retention: %d stale", n)
	}
}

// The overview's orders, its flagged filter and its total: the order is the one the
// overview always had (flagged first, more flags first, then the shortest forecast,
// then the most retained, then the name), and above the list cap the total is an
// estimate, said to be one.
func TestWALFleetOrderAndCappedTotals(t *testing.T) {
	t.Parallel()
	svc, _ := newServiceWith(t, catalog.WithExactTotalCap(2))
	ctx := context.Background()
	now := time.Now().UTC()
	mk := func(name string, retained int64, active bool, failing bool) {
		s, err := svc.CreateSource(ctx, catalog.SourceInput{Name: name, PgHost: "db.internal", PgDatabase: "d",
			PgUsername: "u", PgPassword: "p", PublicationName: "pub", ReplicationID: "slot"})
		if err != nil {
			t.Fatal(err)
		}
		if retained >= 0 {
			status := "reserved"
			if _, err := svc.RecordWALSample(ctx, catalog.NewWALSample{SourceID: s.ID, SizeBytes: 100 * gib, RetainedBytes: &retained,
				SlotActive: &active, WALStatus: &status, RecordedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		if failing {
			if _, err := svc.RecordProbes(ctx, []catalog.ProbeResult{{SourceID: s.ID, SourceName: name, At: now, Err: errors.New("refused")}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	mk("calm", gib, true, false)
	mk("big", 5*gib, true, false)
	mk("over", 11*gib, true, false)
	mk("inactive", gib, false, false)
	mk("both", 12*gib, false, false)
	mk("failing", -1, false, true)
	mk("fresh", -1, false, false)

	names := func(p catalog.Page[catalog.WALFleetRow]) string {
		var out []string
		for _, r := range p.Items {
			out = append(out, r.Name)
		}
		return strings.Join(out, ",")
	}
	for sort, want := range map[string]string{
		// both: two flags; over: headroom gone (forecast 0); inactive and failing have
		// no forecast, then by retained (unknown last), then by name
		"worst":     "both,over,inactive,failing,big,calm,fresh",
		"name":      "big,both,calm,failing,fresh,inactive,over",
		"-name":     "over,inactive,fresh,failing,calm,both,big",
		"-retained": "both,over,big,calm,inactive,failing,fresh",
		"forecast":  "both,over,big,calm,failing,fresh,inactive",
	} {
		p, err := svc.WALFleet(ctx, catalog.ListParams{Limit: 50, Sort: sort}, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := names(p); got != want {
			t.Errorf("sort %s: %s, want %s", sort, got, want)
		}
		// 7 sources over a cap of 2: an estimate, and never below what was counted
		if !p.TotalIsEstimate || p.Total < 3 {
			t.Errorf("sort %s: total %d, estimate %v", sort, p.Total, p.TotalIsEstimate)
		}
	}
	p, err := svc.WALFleet(ctx, catalog.ListParams{Limit: 2, Offset: 2}, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(p); got != "inactive,failing" {
		t.Errorf("flagged, second page: %s", got)
	}
	n, estimated, err := svc.FlaggedSources(ctx)
	if err != nil || !estimated || n < 3 {
		t.Errorf("flagged count over the cap: %d (estimate %v), %v", n, estimated, err)
	}
	// a search within the cap counts exactly
	p, err = svc.WALFleet(ctx, catalog.ListParams{Limit: 50, Q: "ver"}, true)
	if err != nil || names(p) != "over" || p.Total != 1 || p.TotalIsEstimate {
		t.Errorf("flagged, q=ver: %s, total %d (estimate %v), %v", names(p), p.Total, p.TotalIsEstimate, err)
	}
}
