package catalog_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
)

// seedSuggestionFleet writes the names the suggestion tests search: 12,000
// "source-NNNNN" (every name sharing one prefix, so a rare text like "source-150" is met
// only after thousands of names along the name index), 20,600 "ab-cd-NNNNN" and
// "cd-ab-NNNNN" (each gram of "ab-cd-ab" with more entries than a gram walk reads) in
// mixed case, and names with LIKE's special characters and non-ASCII letters.
func seedSuggestionFleet(t *testing.T, pool *db.Pool) {
	t.Helper()
	ctx := context.Background()
	for _, sql := range []string{
		`INSERT INTO sources (name, pg_host, pg_database, pg_username, pg_password, publication_name, replication_id)
		 SELECT 'source-' || lpad(i::text, 5, '0'), 'h', 'd', 'u', '\x00'::bytea, 'p', 'r' || i FROM generate_series(1, 12000) i`,
		`INSERT INTO sources (name, pg_host, pg_database, pg_username, pg_password, publication_name, replication_id)
		 SELECT CASE WHEN i % 7 = 0 THEN upper(n) ELSE n END, 'h', 'd', 'u', '\x00'::bytea, 'p', 'r' || i
		 FROM (SELECT i, CASE WHEN i % 2 = 1 THEN 'ab-cd-' ELSE 'cd-ab-' END || lpad(i::text, 5, '0') AS n
		       FROM generate_series(1, 20600) i) x`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"x-ab-cd-ab-1", "x-AB-CD-AB-2", "zz-ab-cd-ab-3", "disk-50%-full", "disk-500-full",
		"a_b-core", "axb-core", `back\slash-core`, `backslash-core`, "École-paris", "école-lyon", "ÉCOLE-nice",
		"straße-köln", "Ωmega-log", "日本語-source", "🚀-launch-🚀", "ab", "q", "Source-150-Prod", "needle-Needle-NEEDLE"} {
		if _, err := pool.Exec(ctx, `INSERT INTO sources (name, pg_host, pg_database, pg_username, pg_password,
			publication_name, replication_id) VALUES ($1, 'h', 'd', 'u', '\x00'::bytea, 'p', 'r')`, name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE sources, source_name_grams`); err != nil {
		t.Fatal(err)
	}
}

// The source name suggestions list exactly what name ILIKE '%text%' ORDER BY
// lower(name) lists, with the same ids, and say "more" exactly when there are: for texts
// a gram walk serves (rare texts sharing every name's prefix, texts matching nothing,
// thousands), for texts it cannot (empty, shorter than a gram, every gram too common),
// with wildcards and backslashes as characters and case folded as ILIKE folds it.
func TestMatchSourceNamesListsWhatILIKELists(t *testing.T) {
	t.Parallel()
	svc, pool := newService(t)
	ctx := context.Background()
	seedSuggestionFleet(t, pool)
	ids := map[string]int64{}
	rows, err := pool.Query(ctx, `SELECT name, id FROM sources`)
	if err != nil {
		t.Fatal(err)
	}
	var (
		name string
		id   int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&name, &id}, func() error { ids[name] = id; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"", "s", "so", "Q", "source", "SOURCE-1", "source-150", "15000", "00001", "1199",
		"zzz", "ab-cd-ab", "cd-ab-1", "AB-CD-00", "-ab-", "50%", "a_b", `\`, `k\s`, "école", "ÉCOLE", "straSSe",
		"Ωmega", "日本語", "🚀-l", "NEEDLE-needle", "e-1", "nothing-like-this"} {
		for _, limit := range []int{1, 10, 50} {
			got, more, err := svc.MatchSourceNames(ctx, text, limit)
			if err != nil {
				t.Fatalf("%q: %v", text, err)
			}
			want, n := ilikeTablePage(t, pool, "sources", "lower(name)", text, limit, 0)
			names := make([]string, len(got))
			for i, g := range got {
				names[i] = g.Name
				if ids[g.Name] != g.ID {
					t.Errorf("%q: %q has id %d, the table says %d", text, g.Name, g.ID, ids[g.Name])
				}
			}
			if !slices.Equal(names, want) && !(len(names) == 0 && len(want) == 0) {
				t.Errorf("%q, limit %d: %v, want %v", text, limit, names, want)
			}
			if more != (n > int64(limit)) {
				t.Errorf("%q, limit %d: more %v, %d match", text, limit, more, n)
			}
		}
	}
}

// The suggestions' gram statement (texts of three characters or more) takes the gram
// walk for the texts it serves and the ILIKE only for the others, as sourceNamesSQL
// says: read from the plan (EXPLAIN ANALYZE), the scan checking the ILIKE runs or is
// never executed.
func TestMatchSourceNamesWalksGramsWhenTheyServe(t *testing.T) {
	t.Parallel()
	_, pool := newService(t)
	ctx := context.Background()
	seedSuggestionFleet(t, pool)
	for text, ilike := range map[string]bool{
		"source-150": false, "15000": false, "zzz": false, "source": false, "École": false, "e-1": false,
		"ab-cd-ab": true, "cd-ab-cd-ab": true,
	} {
		sql, args := catalog.SourceNamesSQL(text, 11)
		rows, err := pool.Query(ctx, "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) "+sql, append([]any{pgx.QueryExecModeExec}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		// The node reading the ILIKE: the nearest plan node above its condition.
		node := ""
		for i, line := range plan {
			if strings.Contains(line, "~~*") {
				for j := i; j >= 0; j-- {
					if strings.Contains(plan[j], "->") {
						node = plan[j]
						break
					}
				}
			}
		}
		if node == "" {
			t.Fatalf("%q: no scan checks the ILIKE:\n%s", text, strings.Join(plan, "\n"))
		}
		if ran := !strings.Contains(node, "never executed"); ran != ilike {
			t.Errorf("%q: the ILIKE ran: %v, want %v:\n%s", text, ran, ilike, strings.Join(plan, "\n"))
		}
	}
}
