package catalog_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
)

// BenchmarkSourceDestinationListGrowth is issue 12's growth budget for the other two
// lists: the first page of the source list at 1,000 and 20,000 sources, and of the
// destination list at 100 and 2,000 destinations, every sort, without a search, with a
// search matching 5 % ("billing"), with one filling the first page at both sizes
// ("stream": 50 names at either size, so its page does not grow, only the fleet) and
// with one matching a single name. The 5 % search's page grows with the fleet where the
// list is small (5 → 50 rows at 100 → 2,000 destinations): "rows@5k" and "rows@large"
// say how many rows the page holds, so page growth and fleet growth can be told apart. Why those sizes:
// the bench fleet (make bench, and BenchmarkPipelineListGrowth's small size) is 5,000
// pipelines over 1,000 sources and 100 destinations; the budget's large fleet is 20
// times that (100,000 pipelines over 20,000 sources), and the destinations grow alike.
// As in BenchmarkPipelineListGrowth (same helpers): both sizes in their own databases,
// read interleaved; "ms@5k" is the bench fleet's size, "ms@large" the 20 times larger,
// "ratio" the budget's (≤ 2). LIST_BENCH_EXPLAIN=1 logs EXPLAIN (ANALYZE, BUFFERS) of
// each case's statement at both sizes (with -v).
//
//	go test -run '^$' -bench 'ListGrowth' -benchtime 30x ./internal/catalog/
func BenchmarkSourceDestinationListGrowth(b *testing.B) {
	explain := os.Getenv("LIST_BENCH_EXPLAIN") == "1"
	ctx := context.Background()
	small, smallPool := newServiceWith(b)
	big, bigPool := newServiceWith(b)
	seedSourcesAndDestinations(b, smallPool, 1_000, 100)
	seedSourcesAndDestinations(b, bigPool, 20_000, 2_000)

	type search struct {
		name, q string
		// matches at the small and the large size: the seed is checked, so that a case
		// measures what its name says.
		small, large int64
	}
	lists := []struct {
		name     string
		sorts    []string
		searches []search
		run      func(*catalog.Service, catalog.ListParams) (total int64, rows int, err error)
		sql      func(catalog.ListParams, int) (string, []any, error)
	}{
		{"sources", catalog.SourceSorts,
			[]search{{"all", "", 1_000, 20_000}, {"search_5pct", "billing", 50, 1_000}, {"search_pagefull", "stream", 50, 50},
				{"search_one", "replica-000777", 1, 1}},
			func(svc *catalog.Service, p catalog.ListParams) (int64, int, error) {
				page, err := svc.ListSources(ctx, p)
				return page.Total, len(page.Items), err
			}, catalog.SourceListSQL},
		{"destinations", catalog.DestinationSorts,
			[]search{{"all", "", 100, 2_000}, {"search_5pct", "billing", 5, 100}, {"search_pagefull", "stream", 50, 50},
				{"search_one", "lake-000077", 1, 1}},
			func(svc *catalog.Service, p catalog.ListParams) (int64, int, error) {
				page, err := svc.ListDestinations(ctx, p)
				return page.Total, len(page.Items), err
			}, catalog.DestinationListSQL},
	}
	for _, l := range lists {
		for _, sort := range l.sorts {
			for _, s := range l.searches {
				p := catalog.ListParams{Sort: sort, Q: s.q}
				b.Run(l.name+"/"+sort+"/"+s.name, func(b *testing.B) {
					var rows [2]int
					for i, size := range []struct {
						svc  *catalog.Service
						want int64
					}{{small, s.small}, {big, s.large}} {
						n, r, err := l.run(size.svc, p)
						if err != nil || n != size.want {
							b.Fatalf("%s %q: total %d (%v), the seed has %d", l.name, s.q, n, err, size.want)
						}
						rows[i] = r
					}
					if explain {
						sql, args, err := l.sql(p, catalog.DefaultExactTotalCap)
						if err != nil {
							b.Fatal(err)
						}
						logStatementPlans(b, smallPool, bigPool, sql, args)
					}
					growth(b, func(svc *catalog.Service) {
						if _, _, err := l.run(svc, p); err != nil {
							b.Fatal(err)
						}
					}, small, big)
					b.ReportMetric(float64(rows[0]), "rows@5k")
					b.ReportMetric(float64(rows[1]), "rows@large")
				})
			}
		}
	}
}

// seedSourcesAndDestinations fills a database with the given numbers of sources and
// destinations, named as seedFleet names pipelines, "<team>-<kind>-<nnnnnn>", one team in
// 20 ("billing" is 5 % of either list), the kind "stream" instead of the usual one in
// exactly 50 names at any size (every n/50th: "stream" fills one page, never more);
// every third shares its created_at with its
// neighbours (ties the id breaks); hosts and accounts repeat (97 hosts, 7 accounts), so
// those sorts' ties are broken by the id too.
func seedSourcesAndDestinations(b *testing.B, pool *db.Pool, sources, destinations int) {
	b.Helper()
	const teams = `(ARRAY['orders','billing','users','events','stock','audit','ledger','sessions','payments','refunds',
		'carts','prices','reviews','tickets','emails','shipments','returns','coupons','teams','vendors'])[1 + (i * 7) % 20]`
	stream := func(kind string) string {
		return `CASE WHEN i % ($1::int / 50) = 0 THEN 'stream' ELSE ` + kind + ` END`
	}
	ctx := context.Background()
	for _, s := range []struct {
		sql string
		n   int
	}{
		{`INSERT INTO sources (name, pg_host, pg_database, pg_username, pg_password, publication_name, replication_id, created_at)
		  SELECT ` + teams + ` || '-' || ` + stream(`(ARRAY['primary','replica','reports','archive'])[1 + i % 4]`) + ` || '-' || lpad(i::text, 6, '0'),
		         'db-' || (i % 97) || '.internal', 'app', 'rosetta', '\x00'::bytea, 'pub', 'slot_' || i,
		         now() - ((i / 3) || ' seconds')::interval
		  FROM generate_series(1, $1::int) i`, sources},
		{`INSERT INTO destinations (name, snowflake_account, snowflake_user, snowflake_database, snowflake_schema, snowflake_role,
		         snowflake_private_key_path, created_at)
		  SELECT ` + teams + ` || '-' || ` + stream(`(ARRAY['warehouse','lake','mart','sandbox'])[1 + i % 4]`) + ` || '-' || lpad(i::text, 6, '0'),
		         'acct' || (i % 7), 'u', 'db', 'public', 'r', '/keys/k.p8', now() - ((i / 3) || ' seconds')::interval
		  FROM generate_series(1, $1::int) i`, destinations},
	} {
		if _, err := pool.Exec(ctx, s.sql, s.n); err != nil {
			b.Fatalf("seeding %d sources and %d destinations: %v", sources, destinations, err)
		}
	}
	vacuumAllVisible(b, pool, "sources", "destinations", "source_name_grams")
}

// vacuumAllVisible vacuums until every page of the tables is all-visible, as a fleet
// grown over time is: the index-only walks (the sorts' indexes, the grams) visit the heap
// for any page that is not, and the planner, knowing it, may not choose them at all. One
// VACUUM right after a seed may leave pages unmarked: an autovacuum ANALYZE started by
// the seed's inserts holds back the horizon (seen: 998 heap fetches in a walk of 998
// index entries, and none after a second VACUUM).
func vacuumAllVisible(b testing.TB, pool *db.Pool, tables ...string) {
	b.Helper()
	ctx := context.Background()
	for try := 0; ; try++ {
		if _, err := pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
			b.Fatal(err)
		}
		var unmarked int64
		if err := pool.QueryRow(ctx, `SELECT coalesce(sum(relpages - relallvisible), 0) FROM pg_class
			WHERE relname = ANY($1)`, tables).Scan(&unmarked); err != nil {
			b.Fatal(err)
		}
		if unmarked == 0 {
			return
		}
		if try == 20 {
			b.Fatalf("after %d VACUUMs, %d pages of %v are not all-visible", try+1, unmarked, tables)
		}
		time.Sleep(time.Second) // the autovacuum worker holding the horizon back finishing
	}
}

// BenchmarkSourceNameWrites is BenchmarkPipelineNameWrites for the sources' grams
// (migration 00014): a create, a rename and a delete of a source through the catalog, at
// 20,000 sources, with and without the grams' triggers, and the tables' sizes.
//
//	go test -run '^$' -bench SourceNameWrites -benchtime 200x ./internal/catalog/
func BenchmarkSourceNameWrites(b *testing.B) {
	ctx := context.Background()
	svc, pool := newServiceWith(b)
	seedSourcesAndDestinations(b, pool, 20_000, 2_000)
	nameWrites(b, pool, "sources", "source_name_grams", func(name string) int64 {
		s, err := svc.CreateSource(ctx, catalog.SourceInput{Name: name, PgHost: "db.internal", PgDatabase: "orders",
			PgUsername: "u", PgPassword: "p", PublicationName: "pub", ReplicationID: "slot_bench"})
		if err != nil {
			b.Fatal(err)
		}
		return s.ID
	}, func(id int64, name string) {
		if _, err := svc.UpdateSource(ctx, id, catalog.SourcePatch{Name: &name}); err != nil {
			b.Fatal(err)
		}
	}, func(id int64) {
		if err := svc.DeleteSource(ctx, id); err != nil {
			b.Fatal(err)
		}
	})
}
