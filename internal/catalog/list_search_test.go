package catalog_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rosetta-cdc/rosetta/internal/audit"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/secrets"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
)

// statementCounter counts the statements a pool sends: one per Query, Exec or QueryRow.
type statementCounter struct{ n atomic.Int64 }

func (c *statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// newCountingService is a catalog service whose pool counts the statements it sends.
func newCountingService(t *testing.T, opts ...catalog.Option) (*catalog.Service, *db.Pool, *statementCounter) {
	t.Helper()
	d := testdb.New(t)
	cfg, err := pgxpool.ParseConfig(d.URL)
	if err != nil {
		t.Fatal(err)
	}
	counter := &statementCounter{}
	cfg.ConnConfig.Tracer = counter
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	box, err := secrets.NewBox("test-secret-key-0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	pool := db.Wrap(p, 5*time.Second)
	return catalog.New(pool, box, audit.ForCatalog(), opts...), pool, counter
}

// addNeedles adds seven pipelines whose names contain "needle" in mixed case and at
// different places, with created_at ties and every runtime status, to the list fixture.
func addNeedles(t *testing.T, pool *db.Pool, srcs, dsts []int64) []fixturePipeline {
	t.Helper()
	ctx := context.Background()
	base := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	var out []fixturePipeline
	for i, name := range []string{"needle-g", "Needle-c", "NEEDLE-a", "x-needle-f", "needle-b", "needle-e", "hayneedle-d"} {
		p := fixturePipeline{name: name, source: srcs[i%len(srcs)], dest: dsts[i%len(dsts)],
			runtime: []string{"PAUSED", "ERROR", "RUNNING"}[i%3], created: base.Add(-time.Duration(i/2) * time.Minute)}
		p.status = map[string]string{"PAUSED": "PAUSE", "ERROR": "START", "RUNNING": "START"}[p.runtime]
		p.rank = map[string]int{"ERROR": 0, "RUNNING": 1, "PAUSED": 2}[p.runtime]
		if err := pool.QueryRow(ctx, `INSERT INTO pipelines (name, source_id, destination_id, status, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, name, p.source, p.dest, p.status, p.created).Scan(&p.id); err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO pipeline_metadata (pipeline_id, status) VALUES ($1, $2)`, p.id, p.runtime); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	return out
}

// A name search with more matches than the cap takes its page from the head of the
// sort's index when the matches there fill it (see TestListSearchManyMatches), in every
// pipeline order: its total is then an estimate, never below the cap + 1 matches
// counted. A page the head cannot fill (here the last, partial one) reads and sorts every
// match, with an exact total. Paging through a search with every sort returns every match
// exactly once, in order.
func TestListSearchAboveTheCap(t *testing.T) {
	t.Parallel()
	svc, pool := newServiceWith(t, catalog.WithExactTotalCap(5))
	ctx := context.Background()
	_, srcs, dsts := listFixture(t, pool)
	needles := addNeedles(t, pool, srcs, dsts)

	for _, sort := range catalog.PipelineSorts {
		want := wantOrder(needles, sort)
		var got []string
		for offset := 0; offset < 10; offset += 2 {
			p, err := svc.ListPipelines(ctx, catalog.ListParams{Q: "nEeDlE", Sort: sort, Limit: 2, Offset: offset}, catalog.PipelineFilter{})
			if err != nil {
				t.Fatal(err)
			}
			exact := p.Total == int64(len(needles)) && !p.TotalIsEstimate
			if offset+2 <= len(needles) {
				// Estimated from the 6 matches counted (cap + 1): never fewer.
				exact = p.TotalIsEstimate && p.Total >= 6
			}
			if !exact {
				t.Errorf("search by %s at offset %d: total %d (estimate %v), want %d", sort, offset, p.Total,
					p.TotalIsEstimate, len(needles))
			}
			if offset >= len(needles) && len(p.Items) != 0 {
				t.Errorf("search by %s past the end: %v", sort, names(p.Items))
			}
			got = append(got, names(p.Items)...)
		}
		if !slices.Equal(got, want) {
			t.Errorf("search by %s, paged by 2: %v, want %v", sort, got, want)
		}
	}

	// The search combines with the other filters, and the total stays exact.
	p, err := svc.ListPipelines(ctx, catalog.ListParams{Q: "needle", Sort: "name"}, catalog.PipelineFilter{RuntimeStatus: "ERROR"})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(p.Items); !slices.Equal(got, []string{"needle-b", "Needle-c"}) || p.Total != 2 || p.TotalIsEstimate {
		t.Errorf("search and runtime filter: %v, total %d (estimate %v)", got, p.Total, p.TotalIsEstimate)
	}

	// A term of several words is still one substring: each word alone narrows the
	// index's candidates, the whole term decides.
	for term, want := range map[string][]string{
		"needle-hay":  nil,             // both words in "hayneedle-d", not as this substring
		"hayneedle-D": {"hayneedle-d"}, // one word
		"x-NEEDLE-f":  {"x-needle-f"},  // a short word, then two
		"e-a":         {"NEEDLE-a"},    // no word the index can use alone
		"needle_":     nil,             // "_" is a character, not a wildcard
	} {
		p, err := svc.ListPipelines(ctx, catalog.ListParams{Q: term, Sort: "name"}, catalog.PipelineFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if got := names(p.Items); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) || p.Total != int64(len(want)) {
			t.Errorf("search %q: %v (total %d), want %v", term, got, p.Total, want)
		}
	}

	// A search too short for the trigram index walks the sort's index instead; above the
	// cap its total is an estimate, as for any filter.
	p, err = svc.ListPipelines(ctx, catalog.ListParams{Q: "ee", Sort: "name", Limit: 3}, catalog.PipelineFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(p.Items); !slices.Equal(got, wantOrder(needles, "name")[:3]) || !p.TotalIsEstimate || p.Total < 6 {
		t.Errorf("short search: %v, total %d (estimate %v); want the first three needles and an estimate ≥ 6",
			got, p.Total, p.TotalIsEstimate)
	}

	// Sources and destinations search the same way.
	s, err := svc.ListSources(ctx, catalog.ListParams{Q: "SRC-"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Total != int64(len(srcs)) || s.TotalIsEstimate || len(s.Items) != len(srcs) {
		t.Errorf("source search: %d items, total %d (estimate %v)", len(s.Items), s.Total, s.TotalIsEstimate)
	}
	d, err := svc.ListDestinations(ctx, catalog.ListParams{Q: "dst-1", Sort: "-name"})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Items) != 1 || d.Items[0].Name != "dst-1" || d.Total != 1 {
		t.Errorf("destination search: %+v, total %d", d.Items, d.Total)
	}
}

// A list request is one statement: the page, its total and (unfiltered, above the cap)
// the estimate travel together. Only a filtered total above the cap takes a second
// statement, for the planner's estimate of the filter.
func TestListIsOneStatement(t *testing.T) {
	t.Parallel()
	svc, pool, counter := newCountingService(t, catalog.WithExactTotalCap(5))
	ctx := context.Background()
	_, srcs, dsts := listFixture(t, pool)
	addNeedles(t, pool, srcs, dsts)

	cases := []struct {
		name       string
		p          catalog.ListParams
		f          catalog.PipelineFilter
		statements int64
		estimate   bool
	}{
		{"unfiltered, above the cap", catalog.ListParams{Sort: "-created_at"}, catalog.PipelineFilter{}, 1, true},
		{"search above the cap", catalog.ListParams{Q: "needle", Sort: "status"}, catalog.PipelineFilter{}, 1, false},
		{"search above the cap, page from the index head", catalog.ListParams{Q: "needle", Sort: "-name", Limit: 2}, catalog.PipelineFilter{}, 1, true},
		{"search, offset past the end", catalog.ListParams{Q: "needle", Offset: 40}, catalog.PipelineFilter{}, 1, false},
		{"filtered, under the cap", catalog.ListParams{Sort: "name"}, catalog.PipelineFilter{SourceID: &srcs[1], DestinationID: &dsts[1]}, 1, false},
		{"filtered, offset past the end", catalog.ListParams{Offset: 40}, catalog.PipelineFilter{SourceID: &srcs[1], DestinationID: &dsts[1]}, 1, false},
		{"filtered, above the cap", catalog.ListParams{Sort: "name"}, catalog.PipelineFilter{Status: "START"}, 2, true},
	}
	for _, c := range cases {
		before := counter.n.Load()
		p, err := svc.ListPipelines(ctx, c.p, c.f)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if n := counter.n.Load() - before; n != c.statements {
			t.Errorf("%s: %d statements, want %d", c.name, n, c.statements)
		}
		if p.TotalIsEstimate != c.estimate {
			t.Errorf("%s: total %d, estimate %v, want estimate %v", c.name, p.Total, p.TotalIsEstimate, c.estimate)
		}
		if c.p.Offset > 0 && (len(p.Items) != 0 || p.Total == 0) {
			t.Errorf("%s: %d items, total %d; want none and the total", c.name, len(p.Items), p.Total)
		}
	}
	before := counter.n.Load()
	d, err := svc.ListDestinations(ctx, catalog.ListParams{Sort: "account"})
	if err != nil {
		t.Fatal(err)
	}
	if n := counter.n.Load() - before; n != 1 || d.Total != int64(len(dsts)) || d.TotalIsEstimate {
		t.Errorf("destinations: %d statements, total %d (estimate %v)", n, d.Total, d.TotalIsEstimate)
	}
	var got []string
	for _, x := range d.Items {
		got = append(got, x.Name)
	}
	if !slices.Equal(got, []string{"dst-1", "dst-0"}) {
		t.Errorf("destinations by account: %v", got)
	}
}

// A search with more matches than the cap takes its page from the head of the sort's
// index when the matches there fill it (total: an estimate), and otherwise sorts every
// match (total: exact), in every pipeline order. Either way the page is the one a plain
// ORDER BY over every match gives (the status order computed here from
// pipeline_metadata, not from the rank pipelines keeps), and the request one statement.
func TestListSearchManyMatches(t *testing.T) {
	t.Parallel()
	svc, pool, counter := newCountingService(t)
	ctx := context.Background()
	// 8,000 pipelines, more than the index head the list reads (5,000 rows): one in four
	// a "needle" (2,000, over the cap of 1,000), spread along created_at, with ties; 30
	// "rareneedle" at the far end of the order only; the 1,200 oldest "…-early".
	for _, sql := range []string{
		`INSERT INTO sources (name, pg_host, pg_database, pg_username, pg_password, publication_name, replication_id)
		 VALUES ('src', 'h', 'd', 'u', '\x00'::bytea, 'p', 'r')`,
		`INSERT INTO destinations (name, snowflake_account, snowflake_user, snowflake_database, snowflake_schema,
		 snowflake_role, snowflake_private_key_path) VALUES ('dst', 'a', 'u', 'd', 's', 'r', '/k.p8')`,
		`INSERT INTO pipelines (name, source_id, destination_id, status, created_at)
		 SELECT CASE WHEN i % 4 = 0 THEN 'needle-' WHEN i > 7960 THEN 'rareneedle-' ELSE 'hay-' END || lpad(i::text, 5, '0')
		        || CASE WHEN i <= 1200 THEN '-early' ELSE '' END,
		        (SELECT id FROM sources), (SELECT id FROM destinations), 'PAUSE',
		        timestamptz '2026-01-01' + ((i / 3) || ' seconds')::interval
		 FROM generate_series(1, 8000) i`,
		`INSERT INTO pipeline_metadata (pipeline_id, status)
		 SELECT id, CASE WHEN id % 7 = 0 THEN 'ERROR' WHEN id % 3 = 0 THEN 'RUNNING' ELSE 'PAUSED' END FROM pipelines`,
		`VACUUM ANALYZE`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	want := func(term, order string, limit, offset int) []string {
		rows, err := pool.Query(ctx, `SELECT p.name FROM pipelines p JOIN pipeline_metadata m ON m.pipeline_id = p.id
			WHERE p.name ILIKE '%' || $1 || '%' ORDER BY `+order+` LIMIT $2 OFFSET $3`, term, limit, offset)
		if err != nil {
			t.Fatal(err)
		}
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	const byStatus = "CASE m.status WHEN 'ERROR' THEN 0 WHEN 'RUNNING' THEN 1 ELSE 2 END, p.id"
	cases := []struct {
		name, q, sort, order string
		offset, total        int
		estimate             bool
	}{
		{"dense, first page", "needle", "created_at", "created_at, id", 0, 2030, true},
		{"dense, backwards", "needle", "-created_at", "created_at DESC, id DESC", 50, 2030, true},
		{"dense, deeper than the head holds", "needle", "created_at", "created_at, id", 1900, 2030, false},
		{"few, only at the far end", "rareneedle", "created_at", "created_at, id", 0, 30, false},
		{"many, none in the head", "early", "-created_at", "created_at DESC, id DESC", 0, 1200, false},
		{"many, all in the head", "early", "created_at", "created_at, id", 1150, 1200, true},
		{"dense, by status", "needle", "status", byStatus, 0, 2030, true},
		{"dense, by status, deeper than the head holds", "needle", "status", byStatus, 1900, 2030, false},
		{"many, by status, deeper than the matches", "early", "status", byStatus, 1180, 1200, false},
		{"many, by status, a deep page", "early", "status", byStatus, 600, 1200, true},
		// The hay (5,970 names) sorts before every needle: the walk passes it.
		{"dense, by name, after the rest", "needle", "name", "lower(p.name)", 0, 2030, true},
		{"dense, by name, a deep page", "needle", "name", "lower(p.name)", 900, 2030, true},
		{"dense, by -name", "needle", "-name", "lower(p.name) DESC", 50, 2030, true},
		{"many, by -name, deeper than the matches", "early", "-name", "lower(p.name) DESC", 1180, 1200, false},
		{"many, by name, mixed case", "EaRlY", "name", "lower(p.name)", 0, 1200, true},
	}
	for _, c := range cases {
		before := counter.n.Load()
		p, err := svc.ListPipelines(ctx, catalog.ListParams{Q: c.q, Sort: c.sort, Offset: c.offset}, catalog.PipelineFilter{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if n := counter.n.Load() - before; n != 1 {
			t.Errorf("%s: %d statements, want 1", c.name, n)
		}
		if got, w := names(p.Items), want(c.q, c.order, 50, c.offset); !slices.Equal(got, w) {
			t.Errorf("%s: page %v, want %v", c.name, got, w)
		}
		if p.TotalIsEstimate != c.estimate {
			t.Errorf("%s: total %d, estimate %v; want estimate %v", c.name, p.Total, p.TotalIsEstimate, c.estimate)
		}
		// An estimate is above the cap and near the truth (the share of the name
		// histogram's bounds that match: "early" is as well estimated as the evenly
		// spread "needle"); an exact total is the count.
		est := p.Total > catalog.DefaultExactTotalCap && p.Total >= int64(c.total)*3/4 && p.Total <= int64(c.total)*5/4
		if c.estimate && !est || !c.estimate && p.Total != int64(c.total) {
			t.Errorf("%s: total %d (estimate %v), want about %d", c.name, p.Total, p.TotalIsEstimate, c.total)
		}
	}
}

// The name search's trigram indexes keep no pending list (migration 00010), so what was
// inserted lately does not weigh on every search.
func TestTrigramIndexesHaveNoPendingList(t *testing.T) {
	t.Parallel()
	_, pool := newServiceWith(t)
	rows, err := pool.Query(context.Background(), `SELECT c.relname FROM pg_class c JOIN pg_am a ON a.oid = c.relam
		WHERE a.amname = 'gin' AND c.relname LIKE '%name_trgm_idx' AND coalesce(c.reloptions, '{}') @> '{fastupdate=off}'
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"destinations_name_trgm_idx", "pipelines_name_trgm_idx", "sources_name_trgm_idx"}; !slices.Equal(got, want) {
		t.Errorf("trigram indexes with fastupdate off: %v, want %v", got, want)
	}
}
