package db_test

import (
	"context"
	"testing"
	"time"
)

// Migration 00011 backfills pipelines.status_rank from each pipeline's runtime status,
// and from then on its trigger keeps it in the writer's transaction; down drops it.
func TestStatusRankMigrationBackfillsAndFollows(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, m := migratedDownTo(ctx, t, 10)
	exec := execFatal(ctx, t, d)
	exec(`INSERT INTO sources (name, pg_host, pg_database, pg_username, pg_password, publication_name, replication_id)
		VALUES ('s', 'h', 'd', 'u', '\x00', 'p', 'r')`)
	exec(`INSERT INTO destinations (name, snowflake_account, snowflake_user, snowflake_database, snowflake_schema,
		snowflake_role, snowflake_private_key_path) VALUES ('d', 'a', 'u', 'd', 's', 'r', '/k.p8')`)
	ids := map[string]int64{}
	for _, st := range []string{"ERROR", "RUNNING", "PAUSED"} {
		var id int64
		if err := d.Pool.QueryRow(ctx, `INSERT INTO pipelines (name, source_id, destination_id)
			SELECT $1, (SELECT id FROM sources), (SELECT id FROM destinations) RETURNING id`, "p-"+st).Scan(&id); err != nil {
			t.Fatal(err)
		}
		exec(`INSERT INTO pipeline_metadata (pipeline_id, status) VALUES ($1, $2)`, id, st)
		ids[st] = id
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	rank := func(id int64) int16 {
		t.Helper()
		var r int16
		if err := d.Pool.QueryRow(ctx, `SELECT status_rank FROM pipeline_view WHERE id = $1`, id).Scan(&r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	for st, want := range map[string]int16{"ERROR": 0, "RUNNING": 1, "PAUSED": 2} {
		if got := rank(ids[st]); got != want {
			t.Errorf("backfilled %s: rank %d, want %d", st, got, want)
		}
	}
	// Every write of the runtime status moves it, a rolled-back one not.
	exec(`UPDATE pipeline_metadata SET status = 'ERROR' WHERE pipeline_id = $1`, ids["PAUSED"])
	if got := rank(ids["PAUSED"]); got != 0 {
		t.Errorf("after PAUSED → ERROR: rank %d, want 0", got)
	}
	tx, err := d.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `UPDATE pipeline_metadata SET status = 'RUNNING' WHERE pipeline_id = $1`, ids["ERROR"]); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rank(ids["ERROR"]); got != 0 {
		t.Errorf("after a rolled-back move: rank %d, want 0", got)
	}
	// The name index still refuses a duplicate name in another case.
	if _, err := d.Pool.Exec(ctx, `INSERT INTO pipelines (name, source_id, destination_id)
		SELECT 'P-ERROR', (SELECT id FROM sources), (SELECT id FROM destinations)`); err == nil {
		t.Error("a duplicate name (another case) was accepted after the name index was rebuilt")
	}

	if _, err := m.DownTo(ctx, 10); err != nil {
		t.Fatal(err)
	}
	var cols int
	if err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.columns
		WHERE table_name IN ('pipelines', 'pipeline_view') AND column_name = 'status_rank'`).Scan(&cols); err != nil {
		t.Fatal(err)
	}
	if cols != 0 {
		t.Errorf("status_rank left in %d relations after down", cols)
	}
	exec(`UPDATE pipeline_metadata SET status = 'RUNNING' WHERE pipeline_id = $1`, ids["ERROR"])
}
