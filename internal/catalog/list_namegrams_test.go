package catalog_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/audit"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/secrets"
)

// sortOrder is each pipeline sort's ORDER BY over the pipelines table.
var sortOrder = map[string]string{"name": "lower(name)", "-name": "lower(name) DESC", "created_at": "created_at, id",
	"-created_at": "created_at DESC, id DESC", "status": "status_rank, id"}

// ilikePage is what a searched list must list: the plain statement over every pipeline,
// the search an ILIKE with its wildcards escaped (every character literal).
func ilikePage(t *testing.T, pool *db.Pool, q, sort string, limit, offset int) ([]string, int64) {
	t.Helper()
	return ilikeTablePage(t, pool, "pipelines", sortOrder[sort], q, limit, offset)
}

// ilikeTablePage is ilikePage over any listed table (a constant of the test), in the
// given ORDER BY.
func ilikeTablePage(t *testing.T, pool *db.Pool, table, order, q string, limit, offset int) ([]string, int64) {
	t.Helper()
	ctx := context.Background()
	pattern := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q)
	rows, err := pool.Query(ctx, `SELECT name FROM `+table+` WHERE name ILIKE '%' || $1 || '%' ORDER BY `+order+
		` LIMIT $2 OFFSET $3`, pattern, limit, offset)
	if err != nil {
		t.Fatal(err)
	}
	page, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+table+` WHERE name ILIKE '%' || $1 || '%'`, pattern).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return page, n
}

// checkNameSearch pages through a search in every pipeline order and checks every page
// against ilikePage, and the total: exact when not marked, else above the cap.
func checkNameSearch(t *testing.T, svc *catalog.Service, pool *db.Pool, q string, limit, pages int, totalCap int64) {
	t.Helper()
	ctx := context.Background()
	for _, sort := range catalog.PipelineSorts {
		for page := 0; page < pages; page++ {
			offset := page * limit
			got, err := svc.ListPipelines(ctx, catalog.ListParams{Q: q, Sort: sort, Limit: limit, Offset: offset}, catalog.PipelineFilter{})
			if err != nil {
				t.Fatalf("%q by %s at %d: %v", q, sort, offset, err)
			}
			want, n := ilikePage(t, pool, q, sort, limit, offset)
			if !slices.Equal(names(got.Items), want) && !(len(got.Items) == 0 && len(want) == 0) {
				t.Errorf("%q by %s at offset %d: %v, want %v", q, sort, offset, names(got.Items), want)
			}
			if got.TotalIsEstimate && (n <= totalCap || got.Total <= totalCap) || !got.TotalIsEstimate && got.Total != n {
				t.Errorf("%q by %s at offset %d: total %d (estimate %v), %d match (cap %d)", q, sort, offset, got.Total,
					got.TotalIsEstimate, n, totalCap)
			}
			if len(want) < limit {
				break
			}
		}
	}
}

// A name-sorted search lists exactly what the ILIKE over every pipeline lists, in the
// same order, both ways and across pages, whichever way the statement takes to the page
// (nameSearchSQL): a gram walked whole, a walk that fills the page with the total counted
// along the gram (exact, or past the cap an estimate), and every match read through the
// trigram index when the search's grams are all too common to walk whole. The other
// sorts, whose count up to the cap is made along the gram too (sampleSQL), list the same
// as before. Wildcards and backslashes are characters; case folds as ILIKE folds it,
// non-ASCII included.
func TestNameSearchListsWhatILIKEListsInNameOrder(t *testing.T) {
	t.Parallel()
	svc, pool := newServiceWith(t)
	ctx := context.Background()
	for _, sql := range []string{
		`INSERT INTO sources (name, pg_host, pg_database, pg_username, pg_password, publication_name, replication_id)
		 VALUES ('src', 'h', 'd', 'u', '\x00'::bytea, 'p', 'r')`,
		`INSERT INTO destinations (name, snowflake_account, snowflake_user, snowflake_database, snowflake_schema,
		 snowflake_role, snowflake_private_key_path) VALUES ('dst', 'a', 'u', 'd', 's', 'r', '/k.p8')`,
		// 20,600 names: "ab-cd-<n>" (odd n) and "cd-ab-<n>" (even n), so each gram of
		// "ab-cd-ab" has more entries than a walk reads (gramWalkRows) though no name holds
		// it yet; mixed case in every seventh.
		`INSERT INTO pipelines (name, source_id, destination_id, status)
		 SELECT CASE WHEN i % 7 = 0 THEN upper(n) ELSE n END, (SELECT id FROM sources), (SELECT id FROM destinations), 'PAUSE'
		 FROM (SELECT i, CASE WHEN i % 2 = 1 THEN 'ab-cd-' ELSE 'cd-ab-' END || lpad(i::text, 5, '0') AS n
		       FROM generate_series(1, 20600) i) x`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	special := []string{"x-ab-cd-ab-1", "x-AB-CD-AB-2", "zz-ab-cd-ab-3", "disk-50%-full", "disk-500-full", "a_b-core",
		"axb-core", `back\slash-core`, `backslash-core`, "École-paris", "école-lyon", "ÉCOLE-nice", "straße-köln",
		"Ωmega-log", "日本語-pipeline", "🚀-launch-🚀", "ab", "q", "needle-Needle-NEEDLE"}
	for _, name := range special {
		if _, err := pool.Exec(ctx, `INSERT INTO pipelines (name, source_id, destination_id, status)
			SELECT $1, (SELECT id FROM sources), (SELECT id FROM destinations), 'PAUSE'`, name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `INSERT INTO pipeline_metadata (pipeline_id, status) SELECT id, 'PAUSED' FROM pipelines`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		t.Fatal(err)
	}

	// Literal characters, case, non-ASCII: the one or few names meant, nothing else.
	for q, want := range map[string][]string{
		"50%":           {"disk-50%-full"},
		"a_b":           {"a_b-core"},
		`k\s`:           {`back\slash-core`},
		"ÉCOLE":         nil, // filled below from ILIKE, whatever lower() folds in this locale
		"straSSe":       nil,
		"日本語":           {"日本語-pipeline"},
		"🚀-l":           {"🚀-launch-🚀"},
		"NEEDLE-needle": {"needle-Needle-NEEDLE"},
		"ab-cd-ab":      {"x-ab-cd-ab-1", "x-AB-CD-AB-2", "zz-ab-cd-ab-3"},
	} {
		got, err := svc.ListPipelines(ctx, catalog.ListParams{Q: q, Sort: "name"}, catalog.PipelineFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want, _ = ilikePage(t, pool, q, "name", 50, 0)
		}
		if !slices.Equal(names(got.Items), want) && !(len(got.Items) == 0 && len(want) == 0) {
			t.Errorf("search %q: %v, want %v", q, names(got.Items), want)
		}
	}
	var lowered string
	if err := pool.QueryRow(ctx, `SELECT lower('École')`).Scan(&lowered); err != nil {
		t.Fatal(err)
	}
	if lowered == "école" {
		// Where lower() folds non-ASCII (not the C locale of the test cluster), the three
		// écoles are one search; ILIKE agrees, and so must the list.
		if got, _ := ilikePage(t, pool, "ÉCOLE", "name", 50, 0); len(got) != 3 {
			t.Errorf("ÉCOLE: %v", got)
		}
	}

	totalCap := int64(catalog.DefaultExactTotalCap)
	for _, q := range []string{
		"ab-cd-ab",   // every gram common, three matches: every match read through the trigram index
		"cd-ab-1",    // thousands of matches: the walk fills the page, the total past the cap
		"ab-cd-0123", // a rare gram, walked whole
		"AB-CD-00",   // 50 matches in mixed case: exactly a page
		"-ab-",       // every even name and the x-…: the walk fills the page
		"école", "Ωmega", "50%", "a_b", `\`, "nothing-like-this",
	} {
		checkNameSearch(t, svc, pool, q, 50, 3, totalCap)
	}
	// Deep pages and a page size that ends inside the matches.
	checkNameSearch(t, svc, pool, "ab-cd-01", 37, 30, totalCap)

	// Past the cap of a service counting further, the total counted along the gram is
	// exact when the gram's entries were all within reach of the walk.
	box, err := secrets.NewBox("test-secret-key-0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	wide := catalog.New(pool, box, audit.ForCatalog(), catalog.WithExactTotalCap(8000))
	checkNameSearch(t, wide, pool, "ab-cd-1", 50, 2, 8000)
	checkNameSearch(t, wide, pool, "d-a", 50, 2, 8000)
}

// The grams table follows every write of a name: created, renamed (a change of case
// alone changes nothing it keeps), deleted, a rolled-back rename not at all; and a
// search finds a pipeline by its new name only.
func TestNameGramsFollowRenamesAndDeletes(t *testing.T) {
	t.Parallel()
	svc, pool := newService(t)
	ctx := context.Background()
	src, err := svc.CreateSource(ctx, catalog.SourceInput{Name: "src", PgHost: "db.internal", PgDatabase: "orders",
		PgUsername: "u", PgPassword: "p", PublicationName: "pub", ReplicationID: "slot"})
	if err != nil {
		t.Fatal(err)
	}
	dst, err := svc.CreateDestination(ctx, catalog.DestinationInput{Name: "dst", SnowflakeAccount: "acme", SnowflakeUser: "U",
		SnowflakeDatabase: "D", SnowflakeSchema: "S", SnowflakeRole: "R", SnowflakePrivateKeyPath: "/keys/k.p8"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, name := range []string{"orders-ledger", "billing-ledger", "Refunds-Log"} {
		p, err := svc.CreatePipeline(ctx, catalog.PipelineInput{Name: name, SourceID: src.ID, DestinationID: dst.ID})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	// consistent: the table holds exactly each pipeline's grams, beside its lowered name.
	consistent := func(step string) {
		t.Helper()
		var stale int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM (
			(SELECT g.gram, lower(p.name), p.id FROM pipelines p, unnest(name_grams(lower(p.name))) g(gram)
			 EXCEPT ALL SELECT gram, lname, pipeline_id FROM pipeline_name_grams)
			UNION ALL
			(SELECT gram, lname, pipeline_id FROM pipeline_name_grams
			 EXCEPT ALL SELECT g.gram, lower(p.name), p.id FROM pipelines p, unnest(name_grams(lower(p.name))) g(gram))) d`).Scan(&stale); err != nil {
			t.Fatal(err)
		}
		if stale != 0 {
			t.Errorf("%s: %d grams differ from the pipelines' names", step, stale)
		}
	}
	search := func(q string) []string {
		t.Helper()
		var out []string
		for _, sort := range []string{"name", "-name"} {
			p, err := svc.ListPipelines(ctx, catalog.ListParams{Q: q, Sort: sort}, catalog.PipelineFilter{})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, strings.Join(names(p.Items), ","))
		}
		return out
	}
	consistent("created")
	if got := search("ledger"); !slices.Equal(got, []string{"billing-ledger,orders-ledger", "orders-ledger,billing-ledger"}) {
		t.Errorf("ledger: %v", got)
	}

	rename := func(id int64, name string) {
		t.Helper()
		if _, err := svc.UpdatePipeline(ctx, id, catalog.PipelinePatch{Name: &name}); err != nil {
			t.Fatal(err)
		}
	}
	rename(ids[0], "orders-facts")
	consistent("renamed")
	if got := search("ledger"); !slices.Equal(got, []string{"billing-ledger", "billing-ledger"}) {
		t.Errorf("ledger after the rename: %v", got)
	}
	if got := search("s-fac"); !slices.Equal(got, []string{"orders-facts", "orders-facts"}) {
		t.Errorf("the new name: %v", got)
	}
	rename(ids[2], "REFUNDS-log") // case only: the lowered name, and so its grams, stay
	consistent("renamed, case only")
	if got := search("refunds"); !slices.Equal(got, []string{"REFUNDS-log", "REFUNDS-log"}) {
		t.Errorf("refunds after a change of case: %v", got)
	}

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `UPDATE pipelines SET name = 'gone-elsewhere' WHERE id = $1`, ids[1]); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	consistent("a rolled-back rename")

	if err := svc.DeletePipeline(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}
	consistent("deleted")
	if got := search("billing"); !slices.Equal(got, []string{"", ""}) {
		t.Errorf("billing after the delete: %v", got)
	}
	// Several rows in one statement, as a seed or a script would write them.
	if _, err := pool.Exec(ctx, `INSERT INTO pipelines (name, source_id, destination_id)
		SELECT 'bulk-' || i, $1, $2 FROM generate_series(1, 30) i`, src.ID, dst.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE pipelines SET name = replace(name, 'bulk-', 'Batch-') WHERE name LIKE 'bulk-%'`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM pipelines WHERE name LIKE 'Batch-1%'`); err != nil {
		t.Fatal(err)
	}
	consistent("written in bulk")
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pipeline_name_grams WHERE lname LIKE 'bulk-%'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("grams of the names before the bulk rename: %d (%v)", n, err)
	}
}

// Every page of a list is the same statement text, its values parameters: the text keys
// the statement's cached description (listExec), so a text per page would cost a round
// trip and a parse on every new page and crowd the cache out. Each sort, searched or
// not, filtered or not, at pages of several sizes and depths. The one exception is the
// default view, written to be prepared (TestOnlyTheDefaultPipelinePageIsPrepared).
func TestListStatementTextIsTheSameOnEveryPage(t *testing.T) {
	t.Parallel()
	for _, sort := range catalog.PipelineSorts {
		for _, q := range []string{"", "billing", "ledger-0012"} {
			for _, f := range []catalog.PipelineFilter{{}, {Status: "START"}} {
				first, _, err := catalog.PipelineListSQL(catalog.ListParams{Q: q, Sort: sort, Limit: 50, Offset: 50}, f, catalog.DefaultExactTotalCap)
				if err != nil {
					t.Fatal(err)
				}
				pages := [][2]int{{20, 0}, {37, 4961}, {100, 98765}}
				if q != "" || f != (catalog.PipelineFilter{}) {
					pages = append(pages, [2]int{50, 0})
				}
				for _, p := range pages {
					sql, _, err := catalog.PipelineListSQL(catalog.ListParams{Q: q, Sort: sort, Limit: p[0], Offset: p[1]}, f,
						catalog.DefaultExactTotalCap)
					if err != nil {
						t.Fatal(err)
					}
					if sql != first {
						t.Errorf("%q by %s (%+v), limit %d offset %d: the statement differs from the second page's", q, sort, f, p[0], p[1])
					}
					for _, v := range []int{p[1], p[0] + p[1]} {
						if v > 100 && strings.Contains(sql, strconv.Itoa(v)) {
							t.Errorf("%q by %s, limit %d offset %d: %d written into the statement", q, sort, p[0], p[1], v)
						}
					}
				}
			}
		}
	}
}

// A name-sorted search whose page fills along a gram too common to be walked whole,
// having met no more than the cap along it, counts the matches through the trigram
// index only up to the cap + 1: exact up to the cap, past it the estimate, marked
// (never a count of every match). The search's two grams, "qrq" and "rqr", have 11,000
// entries each besides the matches; the matches sort around them ("a-…" before, "zz-…"
// after), so the start of each gram meets 200 of them and a descending walk meets the
// late ones first.
func TestNameSearchCountsPastAPartialGramWalkOnlyToTheCap(t *testing.T) {
	t.Parallel()
	svc, pool := newServiceWith(t)
	ctx := context.Background()
	for _, sql := range []string{
		`INSERT INTO sources (name, pg_host, pg_database, pg_username, pg_password, publication_name, replication_id)
		 VALUES ('src', 'h', 'd', 'u', '\x00'::bytea, 'p', 'r')`,
		`INSERT INTO destinations (name, snowflake_account, snowflake_user, snowflake_database, snowflake_schema,
		 snowflake_role, snowflake_private_key_path) VALUES ('dst', 'a', 'u', 'd', 's', 'r', '/k.p8')`,
		// Common: "qrq-<n>" and "rqr-<n>"; "qrqr": 200 early and 1,500 late; "rqrq" (also
		// both grams): 200 early and 300 late.
		`INSERT INTO pipelines (name, source_id, destination_id, status)
		 SELECT n, (SELECT id FROM sources), (SELECT id FROM destinations), 'PAUSE' FROM (
		   SELECT 'qrq-' || lpad(i::text, 5, '0') FROM generate_series(1, 11000) i
		   UNION ALL SELECT 'rqr-' || lpad(i::text, 5, '0') FROM generate_series(1, 11000) i
		   UNION ALL SELECT 'a-qrqr-' || lpad(i::text, 4, '0') FROM generate_series(1, 200) i
		   UNION ALL SELECT 'zz-qrqr-' || lpad(i::text, 4, '0') FROM generate_series(1, 1500) i
		   UNION ALL SELECT 'a-rqrq-' || lpad(i::text, 4, '0') FROM generate_series(1, 200) i
		   UNION ALL SELECT 'zz-rqrq-' || lpad(i::text, 4, '0') FROM generate_series(1, 300) i) x(n)`,
		`INSERT INTO pipeline_metadata (pipeline_id, status) SELECT id, 'PAUSED' FROM pipelines`,
		`VACUUM ANALYZE`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	totalCap := int64(catalog.DefaultExactTotalCap)
	for _, sort := range []string{"name", "-name"} {
		got, err := svc.ListPipelines(ctx, catalog.ListParams{Q: "qrqr", Sort: sort}, catalog.PipelineFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if !got.TotalIsEstimate || got.Total <= totalCap {
			t.Errorf("qrqr by %s: total %d (estimate %v), want an estimate above %d", sort, got.Total, got.TotalIsEstimate, totalCap)
		}
		got, err = svc.ListPipelines(ctx, catalog.ListParams{Q: "rqrq", Sort: sort}, catalog.PipelineFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if got.TotalIsEstimate || got.Total != 500 {
			t.Errorf("rqrq by %s: total %d (estimate %v), want exactly 500", sort, got.Total, got.TotalIsEstimate)
		}
	}
	// And every page as ILIKE lists it, in every order.
	checkNameSearch(t, svc, pool, "qrqr", 50, 3, totalCap)
	checkNameSearch(t, svc, pool, "rqrq", 50, 3, totalCap)
}
