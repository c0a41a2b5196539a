package catalog_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
)

// BenchmarkSourceNameSuggestions: the pipeline form's and filters' source suggestions
// (MatchSourceNames, 10 asked, so 11 read) at 1,000 and 20,000 sources named
// "source-NNNNN" (every name sharing the prefix), against the ILIKE over the name index
// they replaced, same rows (SearchSourceNames until the seventh pass), timed in the same
// run. "ms@5k" is 1,000 sources (the bench fleet's), "ms@large" 20,000.
// LIST_BENCH_EXPLAIN=1 logs both statements' EXPLAIN (ANALYZE, BUFFERS) at 20,000.
//
//	go test -run '^$' -bench SourceNameSuggestions -benchtime 30x ./internal/catalog/
func BenchmarkSourceNameSuggestions(b *testing.B) {
	explain := os.Getenv("LIST_BENCH_EXPLAIN") == "1"
	ctx := context.Background()
	small, smallPool := newServiceWith(b)
	big, bigPool := newServiceWith(b)
	for _, s := range []struct {
		pool *db.Pool
		n    int
	}{{smallPool, 1_000}, {bigPool, 20_000}} {
		if _, err := s.pool.Exec(ctx, `INSERT INTO sources (name, pg_host, pg_database, pg_username, pg_password,
			publication_name, replication_id) SELECT 'source-' || lpad(i::text, 5, '0'), 'db-' || (i % 97) || '.internal',
			'app', 'rosetta', '\x00'::bytea, 'pub', 'slot_' || i FROM generate_series(1, $1::int) i`, s.n); err != nil {
			b.Fatal(err)
		}
		vacuumAllVisible(b, s.pool, "sources", "source_name_grams")
	}
	const ilike = `SELECT id, name FROM sources WHERE name ILIKE '%' || $1::text || '%' ORDER BY lower(name) LIMIT $2`
	for _, text := range []string{"", "so", "source", "source-150", "15000", "zzz"} {
		pattern := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(text)
		b.Run("ilike/"+text, func(b *testing.B) {
			if explain {
				b.Logf("ILIKE at 20,000: %s", explainAnalyze(b, bigPool, ilike, []any{pattern, 11}))
			}
			run := func(pool *db.Pool) func(*catalog.Service) {
				return func(*catalog.Service) {
					rows, err := pool.Query(ctx, ilike, pattern, 11)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := pgx.CollectRows(rows, pgx.RowToStructByPos[catalog.Named]); err != nil {
						b.Fatal(err)
					}
				}
			}
			growthPools(b, run(smallPool), run(bigPool))
		})
		b.Run("grams/"+text, func(b *testing.B) {
			if explain && len([]rune(text)) >= 3 {
				sql, args := catalog.SourceNamesSQL(text, 11)
				b.Logf("grams at 20,000 (generic plan, as prepared): %s", explainGeneric(b, bigPool, sql, args))
			}
			growth(b, func(svc *catalog.Service) {
				if _, _, err := svc.MatchSourceNames(ctx, text, 10); err != nil {
					b.Fatal(err)
				}
			}, small, big)
		})
	}
}

// explainGeneric is explainAnalyze for a statement run prepared, as MatchSourceNames
// runs its own: PostgreSQL's generic plan (forced here; it is what a connection settles
// on after five custom plans of equal cost).
func explainGeneric(b *testing.B, pool *db.Pool, sql string, args []any) string {
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Release()
	for _, stmt := range []string{`SET plan_cache_mode = force_generic_plan`, `PREPARE explained AS ` + sql} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			b.Fatal(err)
		}
	}
	defer func() {
		if _, err := conn.Exec(ctx, `DEALLOCATE explained; RESET plan_cache_mode`); err != nil {
			b.Fatal(err)
		}
	}()
	// EXECUTE takes its values as literals (a utility statement has no parameters).
	values := make([]string, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			values[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
		case int64:
			values[i] = strconv.FormatInt(v, 10)
		default:
			b.Fatalf("explainGeneric: argument %d is a %T", i+1, a)
		}
	}
	return planText(b, conn, "EXPLAIN (ANALYZE, BUFFERS) EXECUTE explained("+strings.Join(values, ", ")+")", pgx.QueryExecModeExec)
}
