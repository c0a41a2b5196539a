package catalog_test

import (
	"context"
	"slices"
	"testing"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/snowflake/sftest"
)

// wantStatusRanks checks that every pipeline's stored status rank (the status sort's key,
// migration 00011) is its runtime status's, and that pipeline id has want.
func wantStatusRanks(t *testing.T, pool *db.Pool, step string, id int64, want int16) {
	t.Helper()
	ctx := context.Background()
	var got int16
	if err := pool.QueryRow(ctx, `SELECT status_rank FROM pipelines WHERE id = $1`, id).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("%s: status_rank %d, want %d", step, got, want)
	}
	var stale int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pipelines p JOIN pipeline_metadata m ON m.pipeline_id = p.id
		WHERE p.status_rank <> CASE m.status WHEN 'ERROR' THEN 0 WHEN 'RUNNING' THEN 1 ELSE 2 END`).Scan(&stale); err != nil {
		t.Fatal(err)
	}
	if stale != 0 {
		t.Errorf("%s: %d pipelines whose status_rank is not their runtime status's", step, stale)
	}
}

// The stored rank follows the state machine's every move (a failed preflight, start,
// pause, refresh), in the move's own transaction, and the status sort and the
// runtime-status filter read it.
func TestStatusRankFollowsTheStateMachine(t *testing.T) {
	t.Parallel()
	svc, pool := newService(t)
	ctx := context.Background()
	src, err := svc.CreateSource(ctx, catalog.SourceInput{Name: "src", PgHost: "db.internal", PgDatabase: "orders",
		PgUsername: "u", PgPassword: "p", PublicationName: "pub", ReplicationID: "slot"})
	if err != nil {
		t.Fatal(err)
	}
	// A key file that does not exist: the start's preflight fails (ERROR) until a key is
	// pasted; Snowflake unreachable only warns.
	dst, err := svc.CreateDestination(ctx, catalog.DestinationInput{Name: "dst", SnowflakeAccount: "acme", SnowflakeUser: "U",
		SnowflakeDatabase: "D", SnowflakeSchema: "S", SnowflakeRole: "R", SnowflakePrivateKeyPath: t.TempDir() + "/none.p8",
		SnowflakeHost: ptr(sftest.OfflineHost)})
	if err != nil {
		t.Fatal(err)
	}
	// The resting pipeline first: a tie of ranks lists it first (by id).
	other, err := svc.CreatePipeline(ctx, catalog.PipelineInput{Name: "resting", SourceID: src.ID, DestinationID: dst.ID})
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.CreatePipeline(ctx, catalog.PipelineInput{Name: "moving", SourceID: src.ID, DestinationID: dst.ID})
	if err != nil {
		t.Fatal(err)
	}
	wantStatusRanks(t, pool, "created", p.ID, 2)

	step := func(name string, act func() (catalog.ActionResult, error), runtime string, rank int16) {
		t.Helper()
		res, err := act()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.Pipeline.Metadata.Status != runtime {
			t.Fatalf("%s: runtime %s, want %s", name, res.Pipeline.Metadata.Status, runtime)
		}
		wantStatusRanks(t, pool, name, p.ID, rank)
		// The status sort puts it before the resting (PAUSED) pipeline unless it is
		// PAUSED too, and the runtime filter finds it by the same rank.
		list, err := svc.ListPipelines(ctx, catalog.ListParams{Sort: "status"}, catalog.PipelineFilter{})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"moving", "resting"}
		if runtime == catalog.RuntimePaused {
			want = []string{"resting", "moving"}
		}
		if got := names(list.Items); !slices.Equal(got, want) {
			t.Errorf("%s: by status %v, want %v", name, got, want)
		}
		f, err := svc.ListPipelines(ctx, catalog.ListParams{}, catalog.PipelineFilter{RuntimeStatus: runtime})
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Items) == 0 || f.Items[0].ID != p.ID || f.Total != int64(len(f.Items)) {
			t.Errorf("%s: runtime %s lists %v (total %d)", name, runtime, names(f.Items), f.Total)
		}
	}
	step("failed preflight", func() (catalog.ActionResult, error) { return svc.Start(ctx, p.ID) }, catalog.RuntimeError, 0)
	if _, err := svc.UpdateDestination(ctx, dst.ID, catalog.DestinationPatch{SnowflakePrivateKey: ptr(sftest.KeyPEM())}); err != nil {
		t.Fatal(err)
	}
	step("start", func() (catalog.ActionResult, error) { return svc.Start(ctx, p.ID) }, catalog.RuntimeRunning, 1)
	step("pause", func() (catalog.ActionResult, error) { return svc.Pause(ctx, p.ID) }, catalog.RuntimePaused, 2)
	step("refresh", func() (catalog.ActionResult, error) { return svc.Refresh(ctx, p.ID) }, catalog.RuntimeRunning, 1)
	wantStatusRanks(t, pool, "the other pipeline", other.ID, 2)
}
