package catalog_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
)

// BenchmarkPipelineListGrowth measures issue 12's growth budget: the first page of the
// pipeline list (every sort, without a search, with a search matching ~5 % of the fleet
// and with one matching a single pipeline) at 5,000 pipelines and at the large size
// (LIST_BENCH_PIPELINES, default 100,000; sources are a fifth of the pipelines). Both
// fleets are seeded with generate_series in their own databases; each iteration reads
// the page from both, interleaved, so load on a shared machine weighs on both alike.
// Reported: ms/op at each size and their ratio (the budget is ratio ≤ 2).
//
// The "legacy" cases run the statements the list used before issue 12 (catch-all
// predicates, CASE in ORDER BY, exact count) on the same data, for the before/after
// record. LIST_BENCH_EXPLAIN=1 logs EXPLAIN (ANALYZE, BUFFERS) of each case's statement
// (the legacy cases: page and total) at both sizes (visible with -v).
func BenchmarkPipelineListGrowth(b *testing.B) {
	large := 100_000
	if v := os.Getenv("LIST_BENCH_PIPELINES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 5_000 {
			b.Fatalf("LIST_BENCH_PIPELINES=%q: want a number ≥ 5000", v)
		}
		large = n
	}
	explain := os.Getenv("LIST_BENCH_EXPLAIN") == "1"
	ctx := context.Background()
	small, smallPool := newServiceWith(b)
	big, bigPool := newServiceWith(b)
	seedFleet(b, smallPool, 5_000)
	seedFleet(b, bigPool, large)

	searches := []struct{ name, q string }{{"all", ""}, {"search_5pct", "billing"}, {"search_one", "ledger-001236"}}
	for _, sort := range catalog.PipelineSorts {
		for _, s := range searches {
			p := catalog.ListParams{Sort: sort, Q: s.q}
			b.Run(sort+"/"+s.name, func(b *testing.B) {
				if explain {
					logPlans(b, smallPool, bigPool, p)
				}
				growth(b, func(svc *catalog.Service) {
					if _, err := svc.ListPipelines(ctx, p, catalog.PipelineFilter{}); err != nil {
						b.Fatal(err)
					}
				}, small, big)
			})
			b.Run("legacy/"+sort+"/"+s.name, func(b *testing.B) {
				run := func(pool *db.Pool) func(*catalog.Service) {
					return func(*catalog.Service) { legacyList(b, pool, sort, s.q) }
				}
				if explain {
					logLegacyPlans(b, smallPool, bigPool, sort, s.q)
				}
				growthPools(b, run(smallPool), run(bigPool))
			})
		}
	}
}

// growth times f on both services, interleaved, and reports both and the ratio.
func growth(b *testing.B, f func(*catalog.Service), small, big *catalog.Service) {
	growthPools(b, func(*catalog.Service) { f(small) }, func(*catalog.Service) { f(big) })
}

func growthPools(b *testing.B, small, big func(*catalog.Service)) {
	small(nil) // warm the caches and the pool's connections before timing
	big(nil)
	var ts, tb time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		small(nil)
		t1 := time.Now()
		big(nil)
		ts += t1.Sub(t0)
		tb += time.Since(t1)
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(ms(ts), "ms@5k")
	b.ReportMetric(ms(tb), "ms@large")
	b.ReportMetric(float64(tb)/float64(ts), "ratio")
}

// seedFleet fills a database with n pipelines over n/5 sources and 100 destinations, the
// proportions of the measurements. Names are "<team>-<table>-<nnnnnn>", one
// team in 20 ("billing" is 5 % of the fleet); every third pipeline shares its
// created_at with its neighbours (ties the id breaks); 2 % are in ERROR, a third RUNNING.
func seedFleet(b *testing.B, pool *db.Pool, n int) {
	b.Helper()
	ctx := context.Background()
	stmts := []string{
		`INSERT INTO sources (name, pg_host, pg_database, pg_username, pg_password, publication_name, replication_id, created_at)
		 SELECT 'src-' || lpad(i::text, 6, '0'), 'db-' || (i % 97) || '.internal', 'app', 'rosetta', '\x00'::bytea, 'pub', 'slot_' || i,
		        now() - (i || ' seconds')::interval
		 FROM generate_series(1, $1::int / 5) i`,
		`INSERT INTO destinations (name, snowflake_account, snowflake_user, snowflake_database, snowflake_schema, snowflake_role,
		        snowflake_private_key_path)
		 SELECT 'dst-' || lpad(i::text, 3, '0'), 'acct' || (i % 7), 'u', 'db', 'public', 'r', '/keys/k.p8'
		 FROM generate_series(1, 100) i`,
		// status_rank as the metadata below will have it (ids are i in a fresh database),
		// so the trigger that keeps it (migration 00011) finds nothing to update: updating
		// a third of the table after the fact would leave it a third larger than a fleet
		// that grew one pipeline at a time.
		`INSERT INTO pipelines (name, source_id, destination_id, status, created_at, status_rank)
		 SELECT (ARRAY['orders','billing','users','events','stock','audit','ledger','sessions','payments','refunds',
		               'carts','prices','reviews','tickets','emails','shipments','returns','coupons','teams','vendors'])[1 + (i * 7) % 20]
		        || '-' || (ARRAY['ledger','facts','log','core'])[1 + i % 4] || '-' || lpad(i::text, 6, '0'),
		        (SELECT min(id) FROM sources) + i % ($1::int / 5),
		        (SELECT min(id) FROM destinations) + i % 100,
		        CASE WHEN i % 50 = 0 OR i % 3 = 0 THEN 'START' ELSE 'PAUSE' END,
		        now() - ((i / 3) || ' seconds')::interval,
		        CASE WHEN i % 50 = 0 THEN 0 WHEN i % 3 = 0 THEN 1 ELSE 2 END
		 FROM generate_series(1, $1::int) i`,
		`INSERT INTO pipeline_metadata (pipeline_id, status)
		 SELECT id, CASE WHEN status = 'START' AND id % 50 = 0 THEN 'ERROR' WHEN status = 'START' THEN 'RUNNING' ELSE 'PAUSED' END
		 FROM pipelines`,
		`VACUUM ANALYZE`,
	}
	for _, s := range stmts {
		var args []any
		if strings.Contains(s, "$1") {
			args = []any{n}
		}
		if _, err := pool.Exec(ctx, s, args...); err != nil {
			b.Fatalf("seeding %d pipelines: %v", n, err)
		}
	}
	// One VACUUM is not always enough (vacuumAllVisible): since migration 00014 the
	// sources' grams are written by the seed too, and the autovacuum ANALYZE they start
	// left pipeline_name_grams unmarked at 5,000 in two runs out of two (1,000 heap
	// fetches counting one gram's 1,000 entries, 443 → 1,942 buffers for "billing").
	vacuumAllVisible(b, pool, "pipelines", "pipeline_metadata", "pipeline_name_grams", "sources", "destinations")
}

// logPlans logs EXPLAIN (ANALYZE, BUFFERS) of the list's one statement (page and total)
// at both sizes.
func logPlans(b *testing.B, small, big *db.Pool, p catalog.ListParams) {
	sql, args, err := catalog.PipelineListSQL(p, catalog.PipelineFilter{}, catalog.DefaultExactTotalCap)
	if err != nil {
		b.Fatal(err)
	}
	logStatementPlans(b, small, big, sql, args)
}

// logStatementPlans logs EXPLAIN (ANALYZE, BUFFERS) of one list statement at both sizes.
func logStatementPlans(b *testing.B, small, big *db.Pool, sql string, args []any) {
	b.Logf("statement at 5k: %s", explainAnalyze(b, small, sql, args))
	b.Logf("statement at large: %s", explainAnalyze(b, big, sql, args))
}

// logBoth logs the plans of a page and its total at both sizes.
func logBoth(b *testing.B, prefix string, small, big *db.Pool, page string, pageArgs []any, count string, countArgs []any) {
	pools := map[string]*db.Pool{"5k": small, "large": big}
	for _, size := range []string{"5k", "large"} {
		pool := pools[size]
		b.Logf("%spage at %s: %s", prefix, size, explainAnalyze(b, pool, page, pageArgs))
		b.Logf("%stotal at %s: %s", prefix, size, explainAnalyze(b, pool, count, countArgs))
	}
}

// explainAnalyze runs the statement once, then explains it on the same connection, as a
// pooled connection serving the list would: the first call of the list's PL/pgSQL helpers
// (migration 00011) in a session compiles them and plans their statements, a few hundred
// catalog buffers paid once per connection, not per request.
func explainAnalyze(b *testing.B, pool *db.Pool, sql string, args []any) string {
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Release()
	args = append([]any{pgx.QueryExecModeExec}, args...)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		b.Fatal(err)
	}
	return planText(b, conn, "EXPLAIN (ANALYZE, BUFFERS) "+sql, args...)
}

// planText runs an EXPLAIN on conn and returns its lines, one per line after a newline
// (for b.Logf).
func planText(b *testing.B, conn *pgxpool.Conn, explain string, args ...any) string {
	rows, err := conn.Query(context.Background(), explain, args...)
	if err != nil {
		b.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		b.Fatal(err)
	}
	return "\n" + strings.Join(lines, "\n")
}

// The pipeline list's statements before issue 12, kept here only as the benchmark's
// baseline.
const (
	legacyWhere = `WHERE ($1::text IS NULL OR p.name ILIKE '%' || $1 || '%')
  AND ($2::text IS NULL OR p.status = $2)
  AND ($3::text IS NULL OR m.status = $3)
  AND ($4::bigint IS NULL OR p.source_id = $4)
  AND ($5::bigint IS NULL OR p.destination_id = $5)`
	legacyCount = `SELECT count(*) FROM pipelines p JOIN pipeline_metadata m ON m.pipeline_id = p.id ` + legacyWhere
	legacyPage  = `SELECT p.id, p.name, p.status, p.created_at, p.updated_at, p.source_id, s.name, p.destination_id, d.name,
       m.status, m.last_error, m.last_error_detail, m.last_error_at, m.last_start_at, m.preflight_warning
FROM pipelines p
JOIN sources s ON s.id = p.source_id
JOIN destinations d ON d.id = p.destination_id
JOIN pipeline_metadata m ON m.pipeline_id = p.id ` + legacyWhere + `
ORDER BY
    CASE WHEN $6::text = 'status' THEN (CASE m.status WHEN 'ERROR' THEN 0 WHEN 'RUNNING' THEN 1 ELSE 2 END) END ASC,
    CASE WHEN $6::text = 'name' THEN lower(p.name) END ASC,
    CASE WHEN $6::text = '-name' THEN lower(p.name) END DESC,
    CASE WHEN $6::text = 'created_at' THEN p.created_at END ASC,
    CASE WHEN $6::text = '-created_at' THEN p.created_at END DESC,
    p.id ASC
LIMIT $7 OFFSET $8`
)

func legacyArgs(sort, q string) (count, page []any) {
	var pattern any
	if q != "" {
		pattern = q
	}
	count = []any{pattern, nil, nil, nil, nil}
	return count, append(append([]any{}, count...), sort, 50, 0)
}

// legacyList runs the old statements as sqlc ran them: prepared and cached per connection.
func legacyList(b *testing.B, pool *db.Pool, sort, q string) {
	ctx := context.Background()
	countArgs, pageArgs := legacyArgs(sort, q)
	var n int64
	if err := pool.QueryRow(ctx, legacyCount, countArgs...).Scan(&n); err != nil {
		b.Fatal(err)
	}
	rows, err := pool.Query(ctx, legacyPage, pageArgs...)
	if err != nil {
		b.Fatal(err)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
}

func logLegacyPlans(b *testing.B, small, big *db.Pool, sort, q string) {
	countArgs, pageArgs := legacyArgs(sort, q)
	logBoth(b, "legacy ", small, big, legacyPage, pageArgs, legacyCount, countArgs)
}

// BenchmarkPipelineNameWrites measures what the name grams (migration 00013) add to
// writing a pipeline's name, through the catalog as the API writes it: a create, a
// rename and a delete (each its own transaction, with its audit event), on a fleet of
// LIST_BENCH_PIPELINES (default 100,000), each iteration once with the grams' triggers
// and once with them disabled, interleaved. Reported: ms per write with and without,
// and their ratio.
//
//	go test -run '^$' -bench PipelineNameWrites -benchtime 200x ./internal/catalog/
func BenchmarkPipelineNameWrites(b *testing.B) {
	size := 100_000
	if v := os.Getenv("LIST_BENCH_PIPELINES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 5_000 {
			b.Fatalf("LIST_BENCH_PIPELINES=%q: want a number ≥ 5000", v)
		}
		size = n
	}
	ctx := context.Background()
	svc, pool := newServiceWith(b)
	seedFleet(b, pool, size)
	var src, dst int64
	if err := pool.QueryRow(ctx, `SELECT (SELECT min(id) FROM sources), (SELECT min(id) FROM destinations)`).Scan(&src, &dst); err != nil {
		b.Fatal(err)
	}
	nameWrites(b, pool, "pipelines", "pipeline_name_grams", func(name string) int64 {
		p, err := svc.CreatePipeline(ctx, catalog.PipelineInput{Name: name, SourceID: src, DestinationID: dst})
		if err != nil {
			b.Fatal(err)
		}
		return p.ID
	}, func(id int64, name string) {
		if _, err := svc.UpdatePipeline(ctx, id, catalog.PipelinePatch{Name: &name}); err != nil {
			b.Fatal(err)
		}
	}, func(id int64) {
		if err := svc.DeletePipeline(ctx, id); err != nil {
			b.Fatal(err)
		}
	})
}

// nameWrites times create, rename and delete of one row of table (through the given
// catalog calls), each iteration once with the table's name-gram triggers (named
// <table>_name_grams_*) and once with them disabled, interleaved, and reports ms per
// write with and without, their ratio, and the sizes of the gram table and the table.
func nameWrites(b *testing.B, pool *db.Pool, table, grams string, create func(string) int64, rename func(int64, string), del func(int64)) {
	ctx := context.Background()
	triggers := func(on bool) {
		verb := "DISABLE"
		if on {
			verb = "ENABLE"
		}
		for _, op := range []string{"insert", "rename", "delete"} {
			if _, err := pool.Exec(ctx, "ALTER TABLE "+table+" "+verb+" TRIGGER "+table+"_name_grams_"+op); err != nil {
				b.Fatal(err)
			}
		}
	}
	defer triggers(true)
	// [grams?][create, rename, delete]
	var spent [2][3]time.Duration
	write := func(i int, grams bool) {
		g := 0
		if grams {
			g = 1
		}
		triggers(grams)
		name := "bench-billing-ledger-" + strconv.Itoa(i) + "-" + strconv.FormatBool(grams)
		t0 := time.Now()
		id := create(name)
		t1 := time.Now()
		rename(id, "bench-refunds-facts-"+strconv.Itoa(i)+"-"+strconv.FormatBool(grams))
		t2 := time.Now()
		del(id)
		t3 := time.Now()
		spent[g][0] += t1.Sub(t0)
		spent[g][1] += t2.Sub(t1)
		spent[g][2] += t3.Sub(t2)
	}
	write(-1, true) // warm the pool and the caches
	write(-1, false)
	spent = [2][3]time.Duration{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		write(i, i%2 == 0)
		write(i, i%2 != 0)
	}
	b.StopTimer()
	for k, op := range []string{"create", "rename", "delete"} {
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
		b.ReportMetric(ms(spent[1][k]), op+"_ms")
		b.ReportMetric(ms(spent[0][k]), op+"_ms_nograms")
		b.ReportMetric(float64(spent[1][k])/float64(spent[0][k]), op+"_ratio")
	}
	var gramsSize, tableSize int64
	if err := pool.QueryRow(ctx, `SELECT pg_total_relation_size($1::regclass), pg_total_relation_size($2::regclass)`, grams, table).
		Scan(&gramsSize, &tableSize); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(gramsSize)/(1<<20), "grams_MB")
	b.ReportMetric(float64(tableSize)/(1<<20), table+"_MB")
}
