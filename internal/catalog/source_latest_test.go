package catalog_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/pgsource"
)

// The single read takes a source's newest sample from its own row (migration 00012), a
// copy of wal_latest. Whatever path wrote the samples (RecordWALSample, a monitor batch,
// probe now's RecordProbes), the copy equals wal_latest for every source, and every
// reader (the single read, the source list, the dashboard) shows the same sample.
func TestSourceRowKeepsTheNewestSample(t *testing.T) {
	t.Parallel()
	svc, pool := newService(t)
	ctx := context.Background()
	a, b, now := walSummaryFixture(t, svc)
	never, err := svc.CreateSource(ctx, catalog.SourceInput{Name: "never-sampled", PgHost: "db.internal", PgDatabase: "d",
		PgUsername: "u", PgPassword: "p", PublicationName: "pub", ReplicationID: "slot"})
	if err != nil {
		t.Fatal(err)
	}

	same := func(when string) {
		t.Helper()
		const summary = `SELECT source_id, sample_id, size_bytes, retained_bytes, slot_active, wal_status, safe_wal_size, recorded_at FROM wal_latest`
		const copied = `SELECT id, latest_sample_id, latest_size_bytes, latest_retained_bytes, latest_slot_active, latest_wal_status,
			latest_safe_wal_size, latest_recorded_at FROM sources WHERE latest_sample_id IS NOT NULL`
		for what, q := range map[string]string{
			"wal_latest minus the sources' copy": `SELECT count(*) FROM (` + summary + ` EXCEPT ` + copied + `) x`,
			"the sources' copy minus wal_latest": `SELECT count(*) FROM (` + copied + ` EXCEPT ` + summary + `) x`,
		} {
			var n int
			if err := pool.QueryRow(ctx, q).Scan(&n); err != nil {
				t.Fatalf("%s: %s: %v", when, what, err)
			}
			if n != 0 {
				t.Errorf("%s: %s: %d rows", when, what, n)
			}
		}
	}
	same("after the fixture")

	// Probe now's path: one result through RecordProbes, newer than everything stored.
	active, status, safe := false, "extended", int64(777)
	retained := int64(4242)
	rep, err := svc.RecordProbes(ctx, []catalog.ProbeResult{{SourceID: b.ID, SourceName: b.Name, At: now.Add(time.Minute),
		Sample: &pgsource.WALSample{SizeBytes: 123456, RetainedBytes: &retained, SlotActive: &active, WALStatus: &status, SafeWALSize: &safe}}})
	if err != nil || len(rep.Samples) != 1 {
		t.Fatalf("probe: %+v %v", rep, err)
	}
	same("after a probe")
	got, err := svc.GetSource(ctx, b.ID)
	if err != nil || got.LatestWAL == nil {
		t.Fatalf("single read: %+v %v", got, err)
	}
	if !reflect.DeepEqual(*got.LatestWAL, rep.Samples[0]) {
		t.Errorf("single read's newest sample %+v, want the probe's %+v", *got.LatestWAL, rep.Samples[0])
	}
	if got, _ := svc.GetSource(ctx, never.ID); got.LatestWAL != nil {
		t.Errorf("a source never sampled shows %+v", got.LatestWAL)
	}

	// Every reader shows what the single read shows.
	want := map[int64]*catalog.WALSample{}
	for _, id := range []int64{a.ID, b.ID, never.ID} {
		s, err := svc.GetSource(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want[id] = s.LatestWAL
	}
	check := func(reader string, items []catalog.Source) {
		t.Helper()
		if len(items) == 0 {
			t.Errorf("%s: no sources", reader)
		}
		for _, s := range items {
			if !reflect.DeepEqual(s.LatestWAL, want[s.ID]) {
				t.Errorf("%s: source %s shows %+v, the single read %+v", reader, s.Name, s.LatestWAL, want[s.ID])
			}
		}
	}
	list, err := svc.ListSources(ctx, catalog.ListParams{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	check("the source list", list.Items)
	d, err := svc.Dashboard(ctx)
	if err != nil {
		t.Fatal(err)
	}
	check("the dashboard's WAL list", d.WAL)
	// The dashboard orders by the copy's retained WAL: b's probe retains 4,242 bytes,
	// a's newest sample (the fixture's first) none, and never comes last.
	if len(d.WAL) != 3 || d.WAL[0].ID != b.ID || d.WAL[1].ID != a.ID || d.WAL[2].ID != never.ID {
		t.Errorf("dashboard order: %v", sourceNames(d.WAL))
	}

	// Deleting a sampled source takes its summary and its row together.
	if err := svc.DeleteSource(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	same("after a delete")
}

func sourceNames(ss []catalog.Source) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Name
	}
	return out
}
