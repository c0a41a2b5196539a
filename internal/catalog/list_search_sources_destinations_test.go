package catalog_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/rosetta-cdc/rosetta/internal/audit"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/secrets"
)

// otherList is the source or the destination list as the search tests read it: its
// table, its grams (migration 00014: sources only, "" for destinations), every sort's
// ORDER BY over the table, and the list itself, its items' names with the total.
type otherList struct {
	table, grams, gramsID string
	sorts                 []string
	order                 map[string]string
	list                  func(context.Context, *catalog.Service, catalog.ListParams) ([]string, int64, bool, error)
	sql                   func(catalog.ListParams, int) (string, []any, error)
	// insert is a statement writing one row named $1 (the other columns any valid value).
	insert string
}

var otherLists = []otherList{
	{
		table: "sources", grams: "source_name_grams", gramsID: "source_id", sorts: catalog.SourceSorts,
		order: map[string]string{"name": "lower(name)", "-name": "lower(name) DESC",
			"created_at": "created_at, id", "-created_at": "created_at DESC, id DESC",
			"host": "lower(pg_host), id", "-host": "lower(pg_host) DESC, id DESC"},
		list: func(ctx context.Context, svc *catalog.Service, p catalog.ListParams) ([]string, int64, bool, error) {
			page, err := svc.ListSources(ctx, p)
			out := make([]string, len(page.Items))
			for i, s := range page.Items {
				out[i] = s.Name
			}
			return out, page.Total, page.TotalIsEstimate, err
		},
		sql: catalog.SourceListSQL,
		insert: `INSERT INTO sources (name, pg_host, pg_database, pg_username, pg_password, publication_name, replication_id)
			VALUES ($1, 'h', 'd', 'u', '\x00'::bytea, 'p', 'r')`,
	},
	{
		table: "destinations", sorts: catalog.DestinationSorts,
		order: map[string]string{"name": "lower(name)", "-name": "lower(name) DESC",
			"created_at": "created_at, id", "-created_at": "created_at DESC, id DESC",
			"account": "lower(snowflake_account), id", "-account": "lower(snowflake_account) DESC, id DESC"},
		list: func(ctx context.Context, svc *catalog.Service, p catalog.ListParams) ([]string, int64, bool, error) {
			page, err := svc.ListDestinations(ctx, p)
			out := make([]string, len(page.Items))
			for i, d := range page.Items {
				out[i] = d.Name
			}
			return out, page.Total, page.TotalIsEstimate, err
		},
		sql: catalog.DestinationListSQL,
		insert: `INSERT INTO destinations (name, snowflake_account, snowflake_user, snowflake_database, snowflake_schema,
			snowflake_role, snowflake_private_key_path) VALUES ($1, 'a', 'u', 'd', 's', 'r', '/k.p8')`,
	},
}

// checkListSearch is checkNameSearch for the source or destination list: every sort,
// page after page, against the plain ILIKE … ORDER BY over the whole table, and the
// total: exact when not marked, else above the cap.
func checkListSearch(t *testing.T, svc *catalog.Service, pool *db.Pool, l otherList, q string, limit, pages int, totalCap int64) {
	t.Helper()
	ctx := context.Background()
	for _, sort := range l.sorts {
		for page := 0; page < pages; page++ {
			offset := page * limit
			got, total, estimated, err := l.list(ctx, svc, catalog.ListParams{Q: q, Sort: sort, Limit: limit, Offset: offset})
			if err != nil {
				t.Fatalf("%s %q by %s at %d: %v", l.table, q, sort, offset, err)
			}
			want, n := ilikeTablePage(t, pool, l.table, l.order[sort], q, limit, offset)
			if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Errorf("%s %q by %s at offset %d: %v, want %v", l.table, q, sort, offset, got, want)
			}
			if estimated && (n <= totalCap || total <= totalCap) || !estimated && total != n {
				t.Errorf("%s %q by %s at offset %d: total %d (estimate %v), %d match (cap %d)", l.table, q, sort, offset, total,
					estimated, n, totalCap)
			}
			if len(want) < limit {
				break
			}
		}
	}
}

// A searched source or destination list lists exactly what the ILIKE over the whole
// table lists, in every sort, both ways, across pages, whichever way the statement takes.
// Sources: a name sort walking a gram (walked whole, or filling the page with the total
// along the gram, or every gram too common and every match read through the trigram
// index); the created_at and host sorts walking their index below the cap (a page's
// matches exist, the exact total counted along the gram: sampledBelowCap) and past it,
// or falling back to every match when the walk does not fill the page (a deep page,
// matches too few). Destinations (no grams): every match through the trigram index, or
// past the cap the created_at index walked. Ties (created_at, host, account) are broken by the id. Wildcards and
// backslashes are characters; case folds as ILIKE folds it, non-ASCII included.
func TestSourceAndDestinationSearchesListWhatILIKELists(t *testing.T) {
	t.Parallel()
	svc, pool := newServiceWith(t)
	ctx := context.Background()
	// 20,600 names in each: "ab-cd-<n>" (odd n) and "cd-ab-<n>" (even n), so each gram of
	// "ab-cd-ab" has more entries than a walk reads (gramWalkRows) though no name holds it
	// yet; mixed case in every seventh name; 13 hosts and accounts, in mixed case, so
	// those sorts tie; every third row shares its created_at.
	const named = `SELECT i, CASE WHEN i % 7 = 0 THEN upper(n) ELSE n END AS name,
		CASE WHEN i % 5 = 0 THEN 'DB-' ELSE 'db-' END || (i % 13) AS other, now() - ((i / 3) || ' seconds')::interval AS at
		FROM (SELECT i, CASE WHEN i % 2 = 1 THEN 'ab-cd-' ELSE 'cd-ab-' END || lpad(i::text, 5, '0') AS n
		      FROM generate_series(1, 20600) i) x`
	for _, sql := range []string{
		`INSERT INTO sources (name, pg_host, pg_database, pg_username, pg_password, publication_name, replication_id, created_at)
		 SELECT name, other, 'd', 'u', '\x00'::bytea, 'p', 'r' || i, at FROM (` + named + `) y`,
		`INSERT INTO destinations (name, snowflake_account, snowflake_user, snowflake_database, snowflake_schema,
		 snowflake_role, snowflake_private_key_path, created_at)
		 SELECT name, other, 'u', 'd', 's', 'r', '/k.p8', at FROM (` + named + `) y`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	special := []string{"x-ab-cd-ab-1", "x-AB-CD-AB-2", "zz-ab-cd-ab-3", "disk-50%-full", "disk-500-full", "a_b-core",
		"axb-core", `back\slash-core`, `backslash-core`, "École-paris", "école-lyon", "ÉCOLE-nice", "straße-köln",
		"Ωmega-log", "日本語-source", "🚀-launch-🚀", "ab", "q", "needle-Needle-NEEDLE"}
	for _, l := range otherLists {
		for _, name := range special {
			if _, err := pool.Exec(ctx, l.insert, name); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		t.Fatal(err)
	}

	box, err := secrets.NewBox("test-secret-key-0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	wide := catalog.New(pool, box, audit.ForCatalog(), catalog.WithExactTotalCap(8000))
	totalCap := int64(catalog.DefaultExactTotalCap)
	for _, l := range otherLists {
		t.Run(l.table, func(t *testing.T) {
			// Literal characters, case, non-ASCII: the one or few names meant, nothing else.
			for q, want := range map[string][]string{
				"50%":           {"disk-50%-full"},
				"a_b":           {"a_b-core"},
				`k\s`:           {`back\slash-core`},
				"ÉCOLE":         nil, // from ILIKE, whatever lower() folds in this locale
				"straSSe":       nil,
				"日本語":           {"日本語-source"},
				"🚀-l":           {"🚀-launch-🚀"},
				"NEEDLE-needle": {"needle-Needle-NEEDLE"},
				"ab-cd-ab":      {"x-ab-cd-ab-1", "x-AB-CD-AB-2", "zz-ab-cd-ab-3"},
			} {
				for _, sort := range []string{"name", "created_at"} {
					got, _, _, err := l.list(ctx, svc, catalog.ListParams{Q: q, Sort: sort})
					if err != nil {
						t.Fatal(err)
					}
					want := want
					if want == nil || sort != "name" {
						want, _ = ilikeTablePage(t, pool, l.table, l.order[sort], q, 50, 0)
					}
					if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
						t.Errorf("search %q by %s: %v, want %v", q, sort, got, want)
					}
				}
			}
			for _, q := range []string{
				"ab-cd-ab",   // every gram common, three matches: every match read through the trigram index
				"cd-ab-1",    // thousands of matches: the walks fill the page, the total past the cap
				"ab-cd-01",   // 500 matches, under the cap: the sorts' walks with the exact total along the gram
				"ab-cd-0123", // a rare gram, walked whole
				"AB-CD-00",   // 50 matches in mixed case: exactly a page
				"-ab-",       // every even name and the x-…
				"école", "Ωmega", "50%", "a_b", `\`, "nothing-like-this",
			} {
				checkListSearch(t, svc, pool, l, q, 50, 3, totalCap)
			}
			// Deep pages, past the 500 matches, and a page size that ends inside them.
			checkListSearch(t, svc, pool, l, "ab-cd-01", 37, 30, totalCap)
			// Past the cap of a service counting further.
			checkListSearch(t, wide, pool, l, "ab-cd-1", 50, 2, 8000)
			checkListSearch(t, wide, pool, l, "d-a", 50, 2, 8000)
		})
	}
}

// The source grams follow every write of a name, through the catalog as the API writes
// it and in bulk: created, renamed (a change of case alone changes nothing they keep), a
// rolled-back rename not at all, deleted; and a search finds a row by its new name only.
// (Destinations keep no grams; their searches are checked above.)
func TestSourceNameGramsFollowRenamesAndDeletes(t *testing.T) {
	t.Parallel()
	svc, pool := newService(t)
	ctx := context.Background()
	type writes struct {
		create func(name string) int64
		rename func(id int64, name string)
		del    func(id int64)
	}
	fatal := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	byList := map[string]writes{
		"sources": {
			create: func(name string) int64 {
				s, err := svc.CreateSource(ctx, catalog.SourceInput{Name: name, PgHost: "db.internal", PgDatabase: "orders",
					PgUsername: "u", PgPassword: "p", PublicationName: "pub", ReplicationID: "slot_" + strings.ReplaceAll(strings.ToLower(name), "-", "_")})
				fatal(err)
				return s.ID
			},
			rename: func(id int64, name string) {
				_, err := svc.UpdateSource(ctx, id, catalog.SourcePatch{Name: &name})
				fatal(err)
			},
			del: func(id int64) { fatal(svc.DeleteSource(ctx, id)) },
		},
	}
	for _, l := range otherLists {
		if l.grams == "" {
			continue
		}
		w := byList[l.table]
		// consistent: the grams table holds exactly each row's grams, beside its lowered name.
		consistent := func(step string) {
			t.Helper()
			rows := `SELECT g.gram, lower(x.name), x.id FROM ` + l.table + ` x, unnest(name_grams(lower(x.name))) g(gram)`
			grams := `SELECT gram, lname, ` + l.gramsID + ` FROM ` + l.grams
			var stale int
			fatal(pool.QueryRow(ctx, `SELECT count(*) FROM ((`+rows+` EXCEPT ALL `+grams+`) UNION ALL (`+grams+` EXCEPT ALL `+rows+`)) d`).Scan(&stale))
			if stale != 0 {
				t.Errorf("%s %s: %d grams differ from the names", l.table, step, stale)
			}
		}
		search := func(q string) []string {
			t.Helper()
			var out []string
			for _, sort := range []string{"name", "-name"} {
				got, _, _, err := l.list(ctx, svc, catalog.ListParams{Q: q, Sort: sort})
				fatal(err)
				out = append(out, strings.Join(got, ","))
			}
			return out
		}
		var ids []int64
		for _, name := range []string{"orders-ledger", "billing-ledger", "Refunds-Log"} {
			ids = append(ids, w.create(name))
		}
		consistent("created")
		if got := search("ledger"); !slices.Equal(got, []string{"billing-ledger,orders-ledger", "orders-ledger,billing-ledger"}) {
			t.Errorf("%s ledger: %v", l.table, got)
		}
		w.rename(ids[0], "orders-facts")
		consistent("renamed")
		if got := search("ledger"); !slices.Equal(got, []string{"billing-ledger", "billing-ledger"}) {
			t.Errorf("%s ledger after the rename: %v", l.table, got)
		}
		if got := search("s-fac"); !slices.Equal(got, []string{"orders-facts", "orders-facts"}) {
			t.Errorf("%s the new name: %v", l.table, got)
		}
		w.rename(ids[2], "REFUNDS-log")
		consistent("renamed, case only")
		if got := search("refunds"); !slices.Equal(got, []string{"REFUNDS-log", "REFUNDS-log"}) {
			t.Errorf("%s refunds after a change of case: %v", l.table, got)
		}
		tx, err := pool.Begin(ctx)
		fatal(err)
		_, err = tx.Exec(ctx, `UPDATE `+l.table+` SET name = 'gone-elsewhere' WHERE id = $1`, ids[1])
		fatal(err)
		fatal(tx.Rollback(ctx))
		consistent("a rolled-back rename")
		w.del(ids[1])
		consistent("deleted")
		if got := search("billing"); !slices.Equal(got, []string{"", ""}) {
			t.Errorf("%s billing after the delete: %v", l.table, got)
		}
		// Several rows in one statement, as a seed or a script would write them.
		for i := 0; i < 30; i++ {
			_, err := pool.Exec(ctx, l.insert, "bulk-"+strings.Repeat("x", i%3)+"-"+string(rune('a'+i)))
			fatal(err)
		}
		_, err = pool.Exec(ctx, `UPDATE `+l.table+` SET name = replace(name, 'bulk-', 'Batch-') WHERE name LIKE 'bulk-%'`)
		fatal(err)
		_, err = pool.Exec(ctx, `DELETE FROM `+l.table+` WHERE name LIKE 'Batch-x-%'`)
		fatal(err)
		consistent("written in bulk")
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+l.grams+` WHERE lname LIKE 'bulk-%'`).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s grams of the names before the bulk rename: %d (%v)", l.table, n, err)
		}
		if got := search("batch-"); len(strings.Split(got[0], ",")) != 20 {
			t.Errorf("%s batch-: %v, want the 20 left", l.table, got[0])
		}
	}
}

// Every page of the source and destination lists is the same statement text (as
// TestListStatementTextIsTheSameOnEveryPage for pipelines): each sort, searched or not;
// but the default view, which is written without parameters, to be prepared.
func TestSourceAndDestinationStatementTextIsTheSameOnEveryPage(t *testing.T) {
	for _, l := range otherLists {
		for _, sort := range l.sorts {
			for _, q := range []string{"", "ab", "billing", "ledger-001236"} {
				first, _, err := l.sql(catalog.ListParams{Q: q, Sort: sort, Limit: 50, Offset: 50}, catalog.DefaultExactTotalCap)
				if err != nil {
					t.Fatal(err)
				}
				pages := [][2]int{{20, 0}, {37, 4961}, {100, 98765}}
				if q != "" {
					pages = append(pages, [2]int{50, 0})
				} else if sql, args, err := l.sql(catalog.ListParams{Sort: sort, Limit: 50}, catalog.DefaultExactTotalCap); err != nil ||
					len(args) != 0 || strings.Contains(sql, "$") {
					t.Errorf("%s by %s: the default view is not written to be prepared (%d arguments, %v)", l.table, sort, len(args), err)
				}
				for _, p := range pages {
					sql, _, err := l.sql(catalog.ListParams{Q: q, Sort: sort, Limit: p[0], Offset: p[1]}, catalog.DefaultExactTotalCap)
					if err != nil {
						t.Fatal(err)
					}
					if sql != first {
						t.Errorf("%s %q by %s, limit %d offset %d: the statement differs from the second page's", l.table, q, sort, p[0], p[1])
					}
				}
			}
		}
	}
}
