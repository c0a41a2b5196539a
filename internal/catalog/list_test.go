package catalog_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
)

// listFixture is a small fleet written straight into the tables, so created_at ties and
// runtime statuses are what the test says: 3 sources (hosts b, a, a), 2 destinations
// (accounts y, x), 12 pipelines whose created_at comes in groups of three (ties the id
// must break), desired and runtime statuses spread over every value.
type fixturePipeline struct {
	id                 int64
	name               string
	created            time.Time
	source, dest       int64
	status, runtime    string
	sourceIx, destIx   int
	createdGroup, rank int
}

func listFixture(t *testing.T, pool *db.Pool) ([]fixturePipeline, []int64, []int64) {
	t.Helper()
	ctx := context.Background()
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var srcs, dsts []int64
	for i, host := range []string{"b.internal", "A.internal", "a.internal"} {
		var id int64
		err := pool.QueryRow(ctx, `INSERT INTO sources (name, pg_host, pg_database, pg_username, pg_password, publication_name,
			replication_id, created_at) VALUES ($1, $2, 'd', 'u', '\x00'::bytea, 'p', 'r', $3) RETURNING id`,
			fmt.Sprintf("src-%d", i), host, base.Add(-time.Duration(i/2)*time.Hour)).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, id)
	}
	for i, acct := range []string{"y", "x"} {
		var id int64
		err := pool.QueryRow(ctx, `INSERT INTO destinations (name, snowflake_account, snowflake_user, snowflake_database,
			snowflake_schema, snowflake_role, snowflake_private_key_path, created_at)
			VALUES ($1, $2, 'u', 'd', 's', 'r', '/k.p8', $3) RETURNING id`, fmt.Sprintf("dst-%d", i), acct, base).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		dsts = append(dsts, id)
	}
	// Names deliberately out of id order and mixed case; "Orders" sorts with "orders".
	names := []string{"orders-b", "Billing", "orders-A", "zeta", "alpha", "Orders-c", "mu", "beta", "orders_d", "omega", "gamma", "delta"}
	runtimes := []string{"PAUSED", "ERROR", "RUNNING", "PAUSED", "RUNNING", "ERROR", "PAUSED", "RUNNING", "PAUSED", "ERROR", "PAUSED", "RUNNING"}
	var out []fixturePipeline
	for i, name := range names {
		p := fixturePipeline{name: name, sourceIx: i % 3, destIx: i % 2, runtime: runtimes[i], createdGroup: i / 3}
		p.source, p.dest = srcs[p.sourceIx], dsts[p.destIx]
		p.status = map[string]string{"PAUSED": "PAUSE", "ERROR": "START", "RUNNING": "START"}[p.runtime]
		if i == 11 {
			p.status = "REFRESH"
		}
		p.created = base.Add(-time.Duration(p.createdGroup) * time.Minute)
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
	return out, srcs, dsts
}

// wantOrder is the fixture sorted as the sort key promises, ties broken by id (reversed
// with the key for descending sorts).
func wantOrder(ps []fixturePipeline, sort string) []string {
	s := slices.Clone(ps)
	cmpID := func(a, b fixturePipeline) int { return int(a.id - b.id) }
	slices.SortFunc(s, func(a, b fixturePipeline) int {
		switch sort {
		case "name":
			return strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name))
		case "-name":
			return strings.Compare(strings.ToLower(b.name), strings.ToLower(a.name))
		case "created_at":
			if c := a.created.Compare(b.created); c != 0 {
				return c
			}
			return cmpID(a, b)
		case "-created_at":
			if c := b.created.Compare(a.created); c != 0 {
				return c
			}
			return cmpID(b, a)
		case "status":
			if a.rank != b.rank {
				return a.rank - b.rank
			}
			return cmpID(a, b)
		}
		panic("no order for " + sort)
	})
	out := make([]string, len(s))
	for i, p := range s {
		out[i] = p.name
	}
	return out
}

func names(ps []catalog.Pipeline) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}

// Every sort returns its order with ties broken by id, and paging through it with a small
// page returns every pipeline exactly once, in that order.
func TestPipelineListSortsAndPages(t *testing.T) {
	t.Parallel()
	svc, pool := newService(t)
	ctx := context.Background()
	all, _, _ := listFixture(t, pool)
	// Without a search each sort walks its index; with one (three characters or more)
	// the matches are sorted instead: both must give the same order.
	for _, q := range []string{"", "RDER"} {
		var ps []fixturePipeline
		for _, p := range all {
			if strings.Contains(strings.ToLower(p.name), strings.ToLower(q)) {
				ps = append(ps, p)
			}
		}
		for _, sort := range catalog.PipelineSorts {
			want := wantOrder(ps, sort)
			page, err := svc.ListPipelines(ctx, catalog.ListParams{Sort: sort, Q: q}, catalog.PipelineFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if got := names(page.Items); !slices.Equal(got, want) {
				t.Errorf("q %q sort %s:\n got %v\nwant %v", q, sort, got, want)
			}
			if page.Total != int64(len(ps)) || page.TotalIsEstimate {
				t.Errorf("q %q sort %s: total %d (estimate %v), want exactly %d", q, sort, page.Total, page.TotalIsEstimate, len(ps))
			}
			var paged []string
			for off := 0; off < len(ps)+2; off += 2 {
				p, err := svc.ListPipelines(ctx, catalog.ListParams{Sort: sort, Q: q, Limit: 2, Offset: off}, catalog.PipelineFilter{})
				if err != nil {
					t.Fatal(err)
				}
				if p.Total != int64(len(ps)) || p.Limit != 2 || p.Offset != off {
					t.Errorf("q %q sort %s offset %d: page %+v", q, sort, off, p)
				}
				paged = append(paged, names(p.Items)...)
			}
			if !slices.Equal(paged, want) {
				t.Errorf("q %q sort %s paged by 2:\n got %v\nwant %v", q, sort, paged, want)
			}
		}
	}
}

// Filters and the search combine (AND), and the total counts what they match.
func TestPipelineListFiltersCombine(t *testing.T) {
	t.Parallel()
	svc, pool := newService(t)
	ctx := context.Background()
	ps, srcs, dsts := listFixture(t, pool)
	id := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		name  string
		q     string
		f     catalog.PipelineFilter
		match func(fixturePipeline) bool
	}{
		{"search is a case-insensitive substring", "ORDERS", catalog.PipelineFilter{},
			func(p fixturePipeline) bool { return strings.Contains(strings.ToLower(p.name), "orders") }},
		{"search wildcards are literal", "orders_", catalog.PipelineFilter{},
			func(p fixturePipeline) bool { return strings.Contains(p.name, "orders_") }},
		{"runtime", "", catalog.PipelineFilter{RuntimeStatus: "error"},
			func(p fixturePipeline) bool { return p.runtime == "ERROR" }},
		{"desired", "", catalog.PipelineFilter{Status: "START"},
			func(p fixturePipeline) bool { return p.status == "START" }},
		{"source and runtime", "", catalog.PipelineFilter{SourceID: id(srcs[1]), RuntimeStatus: "PAUSED"},
			func(p fixturePipeline) bool { return p.source == srcs[1] && p.runtime == "PAUSED" }},
		{"every filter and a search", "a", catalog.PipelineFilter{Status: "START", RuntimeStatus: "RUNNING", SourceID: id(srcs[1]), DestinationID: id(dsts[0])},
			func(p fixturePipeline) bool {
				return strings.Contains(strings.ToLower(p.name), "a") && p.status == "START" && p.runtime == "RUNNING" &&
					p.source == srcs[1] && p.dest == dsts[0]
			}},
		{"destination and desired REFRESH", "", catalog.PipelineFilter{Status: "REFRESH", DestinationID: id(dsts[1])},
			func(p fixturePipeline) bool { return p.status == "REFRESH" && p.dest == dsts[1] }},
	} {
		var want []fixturePipeline
		for _, p := range ps {
			if tc.match(p) {
				want = append(want, p)
			}
		}
		got, err := svc.ListPipelines(ctx, catalog.ListParams{Q: tc.q, Sort: "created_at"}, tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if w := wantOrder(want, "created_at"); !slices.Equal(names(got.Items), w) || got.Total != int64(len(w)) {
			t.Errorf("%s: got %v (total %d), want %v", tc.name, names(got.Items), got.Total, w)
		}
		if len(want) == 0 && tc.name != "every filter and a search" {
			t.Errorf("%s: the fixture should match something", tc.name)
		}
	}
}

// Sources and destinations: each sort's order, ties (same host, same account) by id.
func TestSourceAndDestinationListSorts(t *testing.T) {
	t.Parallel()
	svc, pool := newService(t)
	ctx := context.Background()
	_, srcs, dsts := listFixture(t, pool)
	srcOrder := map[string][]int64{
		"name": srcs, "-name": {srcs[2], srcs[1], srcs[0]},
		// created_at: src-0 and src-1 tie (base), src-2 is an hour older
		"created_at": {srcs[2], srcs[0], srcs[1]}, "-created_at": {srcs[1], srcs[0], srcs[2]},
		// hosts A.internal and a.internal tie case-insensitively
		"host": {srcs[1], srcs[2], srcs[0]}, "-host": {srcs[0], srcs[2], srcs[1]},
	}
	for _, sort := range catalog.SourceSorts {
		p, err := svc.ListSources(ctx, catalog.ListParams{Sort: sort})
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, s := range p.Items {
			got = append(got, s.ID)
		}
		if !slices.Equal(got, srcOrder[sort]) || p.Total != 3 || p.TotalIsEstimate {
			t.Errorf("sources by %s: %v (total %d), want %v", sort, got, p.Total, srcOrder[sort])
		}
	}
	dstOrder := map[string][]int64{
		"name": dsts, "-name": {dsts[1], dsts[0]},
		"created_at": dsts, "-created_at": {dsts[1], dsts[0]}, // same created_at: by id
		"account": {dsts[1], dsts[0]}, "-account": dsts,
	}
	for _, sort := range catalog.DestinationSorts {
		p, err := svc.ListDestinations(ctx, catalog.ListParams{Sort: sort, Q: "DST-"})
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, d := range p.Items {
			got = append(got, d.ID)
		}
		if !slices.Equal(got, dstOrder[sort]) || p.Total != 2 {
			t.Errorf("destinations by %s: %v (total %d), want %v", sort, got, p.Total, dstOrder[sort])
		}
	}
}

// The total is exact up to the cap and an estimate above it; the page itself is the same
// either way.
func TestListTotalCap(t *testing.T) {
	t.Parallel()
	svc, pool := newServiceWith(t, catalog.WithExactTotalCap(5))
	ctx := context.Background()
	ps, srcs, _ := listFixture(t, pool)
	if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}

	// 12 pipelines, cap 5: an estimate, never below what was counted (cap + 1).
	p, err := svc.ListPipelines(ctx, catalog.ListParams{Sort: "name", Limit: 3}, catalog.PipelineFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if !p.TotalIsEstimate || p.Total < 6 {
		t.Errorf("above the cap: total %d, estimate %v; want an estimate ≥ 6", p.Total, p.TotalIsEstimate)
	}
	if got := names(p.Items); !slices.Equal(got, wantOrder(ps, "name")[:3]) {
		t.Errorf("above the cap the page is still the page: %v", got)
	}
	// Exactly at the cap: exact. ERROR ∪ RUNNING on source 0 … pick filters giving 5 or fewer.
	var atCap int
	for _, x := range ps {
		if x.runtime == "PAUSED" {
			atCap++
		}
	}
	if atCap != 5 {
		t.Fatalf("fixture: %d paused pipelines, the test wants 5", atCap)
	}
	p, err = svc.ListPipelines(ctx, catalog.ListParams{Sort: "status"}, catalog.PipelineFilter{RuntimeStatus: "PAUSED"})
	if err != nil {
		t.Fatal(err)
	}
	if p.TotalIsEstimate || p.Total != 5 {
		t.Errorf("at the cap: total %d, estimate %v; want exactly 5", p.Total, p.TotalIsEstimate)
	}
	// A filtered list above the cap is estimated too (through the joined view).
	p, err = svc.ListPipelines(ctx, catalog.ListParams{Sort: "status"}, catalog.PipelineFilter{Status: "START"})
	if err != nil {
		t.Fatal(err)
	}
	if !p.TotalIsEstimate || p.Total < 6 {
		t.Errorf("filtered, above the cap: total %d, estimate %v", p.Total, p.TotalIsEstimate)
	}
	// Sources share the rule: 3 are under the cap.
	s, err := svc.ListSources(ctx, catalog.ListParams{})
	if err != nil {
		t.Fatal(err)
	}
	if s.TotalIsEstimate || s.Total != int64(len(srcs)) {
		t.Errorf("sources: total %d, estimate %v", s.Total, s.TotalIsEstimate)
	}
	// An offset past the end: no items, the total still right.
	p, err = svc.ListPipelines(ctx, catalog.ListParams{Sort: "name", Offset: 100}, catalog.PipelineFilter{RuntimeStatus: "ERROR"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 0 || p.Total != 3 || p.TotalIsEstimate {
		t.Errorf("past the end: %d items, total %d", len(p.Items), p.Total)
	}
}

// The default view (no filter, no search, first page, default size) is written without
// parameters, the same text for every request, so that it is prepared once per
// connection; every other page, filter and search keeps its values as parameters and is
// planned with them.
func TestOnlyTheDefaultPipelinePageIsPrepared(t *testing.T) {
	prepared := func(p catalog.ListParams, f catalog.PipelineFilter) bool {
		t.Helper()
		sql, args, err := catalog.PipelineListSQL(p, f, catalog.DefaultExactTotalCap)
		if err != nil {
			t.Fatal(err)
		}
		if len(args) == 0 && strings.Contains(sql, "$") {
			t.Fatalf("a statement without arguments has placeholders: %s", sql)
		}
		return len(args) == 0
	}
	for _, sort := range catalog.PipelineSorts {
		if !prepared(catalog.ListParams{Sort: sort}, catalog.PipelineFilter{}) {
			t.Errorf("sort %s: the default view is not written for a prepared statement", sort)
		}
		for name, c := range map[string]struct {
			p catalog.ListParams
			f catalog.PipelineFilter
		}{
			"second page":  {catalog.ListParams{Sort: sort, Offset: 50}, catalog.PipelineFilter{}},
			"other size":   {catalog.ListParams{Sort: sort, Limit: 20}, catalog.PipelineFilter{}},
			"search":       {catalog.ListParams{Sort: sort, Q: "orders"}, catalog.PipelineFilter{}},
			"short search": {catalog.ListParams{Sort: sort, Q: "or"}, catalog.PipelineFilter{}},
			"filter":       {catalog.ListParams{Sort: sort}, catalog.PipelineFilter{Status: catalog.DesiredStart}},
			"source":       {catalog.ListParams{Sort: sort}, catalog.PipelineFilter{SourceName: "x"}},
		} {
			if prepared(c.p, c.f) {
				t.Errorf("sort %s, %s: written for a prepared statement, not planned with its values", sort, name)
			}
		}
	}
}
