package catalog_test

import (
	"context"
	"github.com/rosetta-cdc/rosetta/internal/snowflake/sftest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/audit"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/pgsource"
	"github.com/rosetta-cdc/rosetta/internal/secrets"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func newService(t *testing.T) (*catalog.Service, *db.Pool) {
	t.Helper()
	return newServiceWith(t)
}

// newServiceWith is newService with options, for benchmarks too.
func newServiceWith(t testing.TB, opts ...catalog.Option) (*catalog.Service, *db.Pool) {
	t.Helper()
	d := testdb.New(t)
	box, err := secrets.NewBox("test-secret-key-0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	pool := db.Wrap(d.Pool, 5*time.Second)
	// Preflight by name: sources called "bad…" fail, so no source database is needed.
	pre := func(_ context.Context, c pgsource.Conn, _, _ string) []pgsource.Check {
		if strings.HasPrefix(c.Database, "bad") {
			return []pgsource.Check{{Name: pgsource.CheckPublication, Status: pgsource.StatusFail, Message: "missing"}}
		}
		return []pgsource.Check{{Name: pgsource.CheckConnection, Status: pgsource.StatusOK, Message: "ok"}}
	}
	return catalog.New(pool, box, audit.ForCatalog(), append([]catalog.Option{catalog.WithPreflight(pre)}, opts...)...), pool
}

func TestDashboard(t *testing.T) {
	t.Parallel()
	svc, pool := newService(t)
	ctx := context.Background()

	d, err := svc.Dashboard(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.Counts.Sources != 0 || len(d.Pipelines.Items) != 0 || len(d.WAL) != 0 || d.Causes.Total != 0 {
		t.Fatalf("empty catalog: %+v", d)
	}

	src := func(name, database string) catalog.Source {
		s, err := svc.CreateSource(ctx, catalog.SourceInput{Name: name, PgHost: "db.internal", PgDatabase: database,
			PgUsername: "u", PgPassword: "p", PublicationName: "pub", ReplicationID: "slot"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	good, bad, quiet, big := src("good", "orders"), src("bad", "bad_db"), src("quiet", "q"), src("big", "b")
	dst, err := svc.CreateDestination(ctx, catalog.DestinationInput{Name: "dst", SnowflakeAccount: "acme", SnowflakeUser: "U",
		SnowflakeDatabase: "D", SnowflakeSchema: "S", SnowflakeRole: "R",
		SnowflakePrivateKey: ptr(sftest.KeyPEM()), SnowflakeHost: ptr(sftest.OfflineHost)})
	if err != nil {
		t.Fatal(err)
	}
	pipe := func(name string, s catalog.Source) int64 {
		p, err := svc.CreatePipeline(ctx, catalog.PipelineInput{Name: name, SourceID: s.ID, DestinationID: dst.ID})
		if err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	running, failing := pipe("a-running", good), pipe("z-failing", bad)
	pipe("m-paused", good)
	for _, id := range []int64{running, failing} {
		if _, err := svc.Start(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	r1, r2 := int64(100), int64(5000)
	for _, s := range []catalog.NewWALSample{
		{SourceID: good.ID, SizeBytes: 10, RetainedBytes: &r2, RecordedAt: time.Now().Add(-time.Hour)},
		{SourceID: good.ID, SizeBytes: 20, RetainedBytes: &r1, RecordedAt: time.Now()}, // newest: retains 100
		{SourceID: big.ID, SizeBytes: 99, RetainedBytes: &r2, RecordedAt: time.Now()},
		{SourceID: quiet.ID, SizeBytes: 7, RecordedAt: time.Now()},
	} {
		if _, err := svc.RecordWALSample(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	q := db.New(pool)
	for _, e := range []struct {
		id  int64
		msg string
	}{{bad.ID, "older failure"}, {quiet.ID, "newer failure"}} {
		msg := e.msg
		if err := q.RecordSourceProbeError(ctx, db.RecordSourceProbeErrorParams{ID: e.id, LastProbeError: &msg}); err != nil {
			t.Fatal(err)
		}
	}

	d, err = svc.Dashboard(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.Counts.Sources != 4 || d.Counts.Pipelines != 3 || d.Counts.PipelinesByStatus[catalog.RuntimeError] != 1 || d.Counts.SourcesFailing != 2 {
		t.Errorf("counts %+v", d.Counts)
	}
	var names []string
	for _, p := range d.Pipelines.Items {
		names = append(names, p.Name)
	}
	if strings.Join(names, ",") != "z-failing,a-running,m-paused" {
		t.Errorf("pipelines %v: want ERROR first, then RUNNING, then PAUSED", names)
	}
	if d.Pipelines.Items[0].Metadata.LastError == nil {
		t.Error("the failing pipeline carries no last error")
	}
	names = nil
	for _, c := range d.Causes.Items {
		names = append(names, c.Kind+":"+c.EntityName+":"+strconv.FormatInt(c.Pipelines, 10))
	}
	// the failed start holds a pipeline; then the probe failures, newest first
	if strings.Join(names, ",") != "source:bad:1,probe:quiet:0,probe:bad:0" || d.Causes.Total != 3 {
		t.Errorf("causes %v (total %d), want the failed start first, then the failing probes newest first", names, d.Causes.Total)
	}
	names = nil
	for _, s := range d.WAL {
		size := int64(-1)
		if s.LatestWAL != nil {
			size = s.LatestWAL.SizeBytes
		}
		names = append(names, s.Name+":"+strconv.FormatInt(size, 10))
	}
	// by the retained WAL of the newest sample: big (5000), good (100), then quiet (no
	// slot), then bad (never sampled)
	if strings.Join(names, ",") != "big:99,good:20,quiet:7,bad:-1" {
		t.Errorf("WAL %v", names)
	}
}
