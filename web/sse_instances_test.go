package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
	"github.com/rosetta-cdc/rosetta/internal/walhub/walhubtest"
	"github.com/rosetta-cdc/rosetta/web"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// serveInstance serves another instance's server on a real socket until the test ends,
// its streams closed first.
func serveInstance(t *testing.T, s *web.Server) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		s.CloseStreams()
		srv.Close()
	})
	return srv
}

// "Probe now" on one instance, and a sample recorded through the catalog, move the
// charts open on another instance: both are announced in their writing transaction.
func TestProbeNowAndRecordedSamplesReachStreamsOnEveryInstance(t *testing.T) {
	a := webtest.New(t, webtest.WithLiveWAL())
	follower, followerHub := a.NewLiveInstance()
	srv := serveInstance(t, follower)
	real := testdb.NewSource(t, testdb.SourceOptions{CreateSlot: true})
	src := mkRealSource(t, a, "orders", real)
	viewer := a.NewUser(auth.Viewer)

	chart := openStream(t, fmt.Sprintf("%s/sources/%d/wal/stream", srv.URL, src.ID), viewer.Token)
	api := openStream(t, srv.URL+"/api/v1/metrics/wal/stream", viewer.Token)
	waitSubscribers(t, followerHub, 2)

	// Probe now, through the API of the first instance.
	probed := a.Do(http.MethodPost, fmt.Sprintf("/api/v1/sources/%d/probe", src.ID), nil).Expect(t, http.StatusOK).Map(t)
	probedID := int64(probed["id"].(float64))
	// A sample recorded through the catalog (fixtures, imports).
	recorded, err := a.Catalog.RecordWALSample(a.Ctx(), catalog.NewWALSample{SourceID: src.ID, SizeBytes: 5 << 30})
	if err != nil {
		t.Fatal(err)
	}
	// A sample the database refuses is never announced: the next event is the marker.
	if _, err := a.Catalog.RecordWALSample(a.Ctx(), catalog.NewWALSample{SourceID: 999999, SizeBytes: 1}); err == nil {
		t.Fatal("recorded a sample of a source that does not exist")
	}

	want := []int64{probedID, recorded.ID}
	for name, c := range map[string]*sseClient{"chart": chart, "api": api} {
		got := c.samples(2)
		if !slices.Equal(walhubtest.IDs(got), want) {
			t.Fatalf("%s stream on the other instance got %v, want %v (probe now, then the recorded one)", name, walhubtest.IDs(got), want)
		}
		if got[1].SizeBytes != 5<<30 || got[1].SourceID != src.ID {
			t.Fatalf("%s: recorded sample arrived as %+v", name, got[1])
		}
	}
	marker := walhubtest.Store(t, a.Pool, src.ID, 6<<30)[0].ID
	chart.noMoreSamplesBefore(marker)
	api.noMoreSamplesBefore(marker)
}

// Two instances on one database that restarts: the follower's LISTEN connection comes
// back by itself and its SSE client receives every sample the leader stored, once and in
// order — those stored while the follower was still reconnecting included.
func TestWALStreamOnAFollowerMissesNothingAcrossADatabaseRestart(t *testing.T) {
	cl := testdb.NewCluster(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, cl.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE rosetta"); err != nil {
		t.Fatal(err)
	}
	admin.Close(ctx)
	// Retry the LISTEN connection every 50 ms, so the test waits for the restart, not for
	// the production delay.
	a := webtest.New(t, webtest.WithLiveWAL(), webtest.WithEnv(map[string]string{"WAL_LISTEN_RECONNECT_SECONDS": "0.05"}),
		webtest.WithPool(func(t testing.TB) *db.Pool {
			p, err := db.NewPool(ctx, cl.URL("rosetta"), db.PoolOptions{MaxConns: 6, AcquireTimeout: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(p.Close)
			if err := db.MigrateUp(ctx, p.Pool); err != nil {
				t.Fatal(err)
			}
			return p
		}))
	follower, followerHub := a.NewLiveInstance()
	srv := serveInstance(t, follower)
	src := walSource(t, a, "alpha")

	c := openStream(t, fmt.Sprintf("%s/sources/%d/wal/stream", srv.URL, src), a.Admin.Token)
	waitSubscribers(t, followerHub, 1)
	before := record(t, a, src, 1)
	if got := c.samples(1); got[0].ID != before {
		t.Fatalf("before the restart got %d, want %d", got[0].ID, before)
	}

	if err := cl.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	// Stored as soon as the database answers again: the follower may still be
	// reconnecting (its backlog read delivers them) or be back (its LISTEN does).
	var want []int64
	for i := range 3 {
		want = append(want, record(t, a, src, int64(10+i)))
	}
	if got := walhubtest.IDs(c.samples(3)); !slices.Equal(got, want) {
		t.Fatalf("after the restart got %v, want %v", got, want)
	}
	walhubtest.WaitConnected(t, followerHub, 2)
	// Live again, and nothing delivered twice.
	marker := record(t, a, src, 99)
	c.noMoreSamplesBefore(marker)
	if followerHub.Subscribers() != 1 || followerHub.DroppedTotal() != 0 {
		t.Fatalf("subscribers %d, dropped %d: the stream must have survived the restart", followerHub.Subscribers(), followerHub.DroppedTotal())
	}
}

// record stores one sample through the leader's catalog, retrying while its pool finds
// its connections broken by a restart; it returns the sample's id.
func record(t *testing.T, a *webtest.App, src, size int64) int64 {
	t.Helper()
	deadline := time.Now().Add(walhubtest.WaitFor)
	for {
		s, err := a.Catalog.RecordWALSample(a.Ctx(), catalog.NewWALSample{SourceID: src, SizeBytes: size})
		if err == nil {
			return s.ID
		}
		if time.Now().After(deadline) {
			t.Fatalf("record a sample: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// /metrics counts this instance's open event streams.
func TestMetricsCountOpenEventStreams(t *testing.T) {
	a, hub := sseApp(t, 0)
	srv := serveStreams(t, a)
	for range 3 {
		openStream(t, srv.URL+"/api/v1/metrics/wal/stream", a.Admin.Token)
	}
	waitSubscribers(t, hub, 3)
	body := string(a.As(auth.Viewer).Do(http.MethodGet, "/metrics", nil).Expect(t, http.StatusOK).Body)
	for _, want := range []string{"rosetta_sse_subscribers 3\n", "rosetta_sse_dropped_clients_total 0\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
