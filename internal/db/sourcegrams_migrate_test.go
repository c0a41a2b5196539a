package db_test

import (
	"context"
	"testing"
	"time"
)

// Migration 00014 backfills source_name_grams from the rows already there; from then on
// the generic triggers keep it and pipeline_name_grams (whose triggers 00014 moves onto
// the same functions), repairing leftovers of rows deleted without triggers, emptied by
// a TRUNCATE. Destinations get no grams and no trigger. Down drops the table and the
// generic functions, gives the pipelines back 00013's own triggers (still keeping their
// grams) and the host index back its 00007 shape.
func TestSourceNameGramsMigrationBackfillsAndFollows(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, m := migratedDownTo(ctx, t, 13)
	exec := execFatal(ctx, t, d)
	count := countFatal(ctx, t, d)
	insertSource := `INSERT INTO sources (name, pg_host, pg_database, pg_username, pg_password, publication_name, replication_id)
		SELECT n, 'h', 'd', 'u', '\x00', 'p', 'r' FROM unnest($1::text[]) n`
	insertDestination := `INSERT INTO destinations (name, snowflake_account, snowflake_user, snowflake_database, snowflake_schema,
		snowflake_role, snowflake_private_key_path) SELECT n, 'a', 'u', 'd', 's', 'r', '/k.p8' FROM unnest($1::text[]) n`
	exec(insertSource, []string{"Orders-Ledger", "ab", "aaaa"})
	exec(insertDestination, []string{"Orders-Ledger", "ab", "aaaa"})
	exec(`INSERT INTO pipelines (name, source_id, destination_id)
		SELECT 'Refunds-Log', (SELECT min(id) FROM sources), (SELECT min(id) FROM destinations)`)
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	// Destinations: no gram table, no trigger, their account index as 00007 left it.
	if n := count(`SELECT count(*) FROM pg_class WHERE relname = 'destination_name_grams'`) +
		count(`SELECT count(*) FROM pg_trigger WHERE tgrelid = 'destinations'::regclass AND tgname LIKE '%name_grams%'`); n != 0 {
		t.Errorf("destinations: %d gram tables or triggers after up, want none", n)
	}
	if n := count(`SELECT count(*) FROM pg_class WHERE relname = 'destinations_account_id_idx'`); n != 1 {
		t.Errorf("destinations: account index missing after up")
	}
	lists := []struct{ table, grams, id string }{
		{"sources", "source_name_grams", "source_id"},
		{"pipelines", "pipeline_name_grams", "pipeline_id"},
	}
	for _, l := range lists[:1] {
		// "orders-ledger": 11 grams, all distinct; "ab" none; "aaaa" one ("aaa", once).
		if n := count(`SELECT count(*) FROM ` + l.grams); n != 12 {
			t.Errorf("%s: backfilled %d grams, want 12", l.grams, n)
		}
		if n := count(`SELECT count(*) FROM ` + l.grams + ` g JOIN ` + l.table + ` x ON x.id = g.` + l.id + `
			WHERE g.lname = 'orders-ledger' AND g.gram IN ('ord', 's-l', 'ger')`); n != 3 {
			t.Errorf("%s: grams of Orders-Ledger: %d of 3", l.grams, n)
		}
	}
	exec(`UPDATE sources SET name = 'aaab' WHERE name = 'aaaa'`)
	exec(`UPDATE pipelines SET name = 'Refunds-Facts' WHERE name = 'Refunds-Log'`)
	for _, l := range lists {
		// consistent: the table holds exactly each row's grams (the pipelines' too, now
		// kept by the generic functions).
		rows := `SELECT g.gram, lower(x.name), x.id FROM ` + l.table + ` x, unnest(name_grams(lower(x.name))) g(gram)`
		grams := `SELECT gram, lname, ` + l.id + ` FROM ` + l.grams
		if n := count(`SELECT count(*) FROM ((` + rows + ` EXCEPT ALL ` + grams + `) UNION ALL (` + grams + ` EXCEPT ALL ` + rows + `)) d`); n != 0 {
			t.Errorf("%s after the renames: %d grams differ from the names", l.grams, n)
		}
	}
	if n := count(`SELECT count(*) FROM pipeline_name_grams WHERE lname = 'refunds-facts'`); n != 11 {
		t.Errorf("the renamed pipeline's grams: %d, want 11", n)
	}

	// Leftovers repair themselves, as 00013's: a row deleted with its triggers skipped
	// leaves its grams; creating the name again, or renaming another row to it, takes
	// them over. A TRUNCATE leaves none.
	for _, l := range lists[:1] {
		tx, err := d.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM `+l.table+` WHERE name IN ('aaab', 'Orders-Ledger')`); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if n := count(`SELECT count(*) FROM ` + l.grams + ` WHERE lname IN ('aaab', 'orders-ledger')`); n != 13 {
			t.Fatalf("%s: %d grams left by the deletes without triggers, want 13", l.grams, n)
		}
	}
	exec(insertSource, []string{"AAAB"})
	exec(`UPDATE sources SET name = 'orders-LEDGER' WHERE name = 'ab'`)
	for _, l := range lists[:1] {
		if n := count(`SELECT count(*) FROM ` + l.grams + ` g WHERE NOT EXISTS
			(SELECT 1 FROM ` + l.table + ` x WHERE x.id = g.` + l.id + ` AND lower(x.name) = g.lname)`); n != 0 {
			t.Errorf("%s: %d grams of no row after writing over the leftovers", l.grams, n)
		}
		if n := count(`SELECT count(*) FROM ` + l.grams + ` WHERE lname IN ('aaab', 'orders-ledger')`); n != 13 {
			t.Errorf("%s: %d grams of aaab and orders-ledger, want 13", l.grams, n)
		}
	}
	exec(`TRUNCATE sources, destinations CASCADE`)
	for _, l := range lists {
		if n := count(`SELECT count(*) FROM ` + l.grams); n != 0 {
			t.Errorf("%s: %d grams left by a TRUNCATE", l.grams, n)
		}
	}

	if _, err := m.DownTo(ctx, 13); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM pg_class WHERE relname IN ('source_name_grams', 'sources_host_id_name_idx')`); n != 0 {
		t.Errorf("%d of 00014's tables and indexes left after down", n)
	}
	if n := count(`SELECT count(*) FROM pg_class WHERE relname IN ('sources_host_id_idx', 'destinations_account_id_idx')`); n != 2 {
		t.Errorf("%d of 2 host and account indexes restored by down", n)
	}
	if n := count(`SELECT count(*) FROM pg_proc WHERE proname LIKE 'name_grams\_%'`); n != 0 {
		t.Errorf("%d generic gram functions left after down", n)
	}
	// The pipelines' own 00013 triggers keep their grams again; sources and destinations
	// are written with no trigger left behind.
	exec(insertSource, []string{"s"})
	exec(insertDestination, []string{"d"})
	exec(`INSERT INTO pipelines (name, source_id, destination_id) SELECT 'Orders-Ledger', (SELECT id FROM sources), (SELECT id FROM destinations)`)
	exec(`UPDATE sources SET name = 's2'`)
	if n := count(`SELECT count(*) FROM pipeline_name_grams WHERE lname = 'orders-ledger'`); n != 11 {
		t.Errorf("after down, a new pipeline's grams: %d, want 11", n)
	}
	if n := count(`SELECT count(*) FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
		WHERE t.tgrelid = 'pipelines'::regclass AND p.proname LIKE 'pipelines_name_grams_%'`); n != 4 {
		t.Errorf("after down, %d of 00013's 4 pipeline triggers", n)
	}
}
