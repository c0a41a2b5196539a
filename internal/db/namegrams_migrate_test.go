package db_test

import (
	"context"
	"testing"
	"time"
)

// Migration 00013 backfills pipeline_name_grams from the pipelines already there, and from
// then on its triggers keep it; down drops the table, its triggers and its function, and
// brings back list_name_reach (00011's), which the list used before.
func TestNameGramsMigrationBackfillsAndFollows(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, m := migratedDownTo(ctx, t, 11)
	exec := execFatal(ctx, t, d)
	count := countFatal(ctx, t, d)
	exec(`INSERT INTO sources (name, pg_host, pg_database, pg_username, pg_password, publication_name, replication_id)
		VALUES ('s', 'h', 'd', 'u', '\x00', 'p', 'r')`)
	exec(`INSERT INTO destinations (name, snowflake_account, snowflake_user, snowflake_database, snowflake_schema,
		snowflake_role, snowflake_private_key_path) VALUES ('d', 'a', 'u', 'd', 's', 'r', '/k.p8')`)
	exec(`INSERT INTO pipelines (name, source_id, destination_id)
		SELECT n, (SELECT id FROM sources), (SELECT id FROM destinations) FROM unnest(ARRAY['Orders-Ledger', 'ab', 'aaaa']) n`)
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	// "orders-ledger": 11 grams, all distinct; "ab" none; "aaaa" one ("aaa", once).
	if n := count(`SELECT count(*) FROM pipeline_name_grams`); n != 12 {
		t.Errorf("backfilled %d grams, want 12", n)
	}
	if n := count(`SELECT count(*) FROM pipeline_name_grams g JOIN pipelines p ON p.id = g.pipeline_id
		WHERE g.lname = 'orders-ledger' AND g.gram IN ('ord', 's-l', 'ger')`); n != 3 {
		t.Errorf("grams of Orders-Ledger: %d of 3", n)
	}
	exec(`UPDATE pipelines SET name = 'aaab' WHERE name = 'aaaa'`)
	if n := count(`SELECT count(*) FROM pipeline_name_grams WHERE lname = 'aaab'`); n != 2 {
		t.Errorf("after the rename: %d grams of aaab, want 2", n)
	}
	if n := count(`SELECT count(*) FROM pipeline_name_grams WHERE lname = 'aaaa'`); n != 0 {
		t.Errorf("after the rename: %d grams of the old name", n)
	}

	// Leftovers repair themselves: a pipeline deleted with its triggers skipped
	// (session_replication_role = replica) leaves its grams; creating the name again, or
	// renaming another pipeline to it, takes them over instead of failing as if the name
	// were taken. A TRUNCATE of pipelines leaves none.
	skipTriggers := func(sql string) {
		t.Helper()
		tx, err := d.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx) //nolint:errcheck // after Commit a no-op
		if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	stale := func(step string) {
		t.Helper()
		if n := count(`SELECT count(*) FROM pipeline_name_grams g WHERE NOT EXISTS
			(SELECT 1 FROM pipelines p WHERE p.id = g.pipeline_id AND lower(p.name) = g.lname)`); n != 0 {
			t.Errorf("%s: %d grams of no pipeline", step, n)
		}
	}
	skipTriggers(`DELETE FROM pipelines WHERE name IN ('aaab', 'Orders-Ledger')`)
	if n := count(`SELECT count(*) FROM pipeline_name_grams WHERE lname IN ('aaab', 'orders-ledger')`); n != 13 {
		t.Fatalf("%d grams left by the deletes without triggers, want 13", n)
	}
	exec(`INSERT INTO pipelines (name, source_id, destination_id) SELECT 'AAAB', (SELECT id FROM sources), (SELECT id FROM destinations)`)
	exec(`UPDATE pipelines SET name = 'orders-LEDGER' WHERE name = 'ab'`)
	stale("created and renamed over leftovers")
	if n := count(`SELECT count(*) FROM pipeline_name_grams WHERE lname IN ('aaab', 'orders-ledger')`); n != 13 {
		t.Errorf("%d grams of aaab and orders-ledger, want 13", n)
	}
	exec(`TRUNCATE pipelines CASCADE`)
	if n := count(`SELECT count(*) FROM pipeline_name_grams`); n != 0 {
		t.Errorf("%d grams left by a TRUNCATE of pipelines", n)
	}

	if _, err := m.DownTo(ctx, 11); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM pg_class WHERE relname = 'pipeline_name_grams'`); n != 0 {
		t.Error("pipeline_name_grams left after down")
	}
	if n := count(`SELECT count(*) FROM pg_proc WHERE proname = 'list_name_reach'`); n != 1 {
		t.Error("list_name_reach not restored by down")
	}
	exec(`UPDATE pipelines SET name = 'aaac' WHERE name = 'aaab'`) // no trigger left behind
}
