package catalog

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/db"
)

// Named is an entity as a choice in a select: its id and name.
type Named struct {
	ID   int64
	Name string
}

// SourceNames and DestinationNames are the first limit sources (destinations) by name,
// and whether there are more (the pipeline form asks for one: is there any to choose?).
// They read ids and names only, never a count, so they cost the same at any fleet size.
func (s *Service) SourceNames(ctx context.Context, limit int) ([]Named, bool, error) {
	return firstNames(ctx, limit, s.q.ListSourceNames, func(r db.ListSourceNamesRow) Named { return Named(r) })
}

func (s *Service) DestinationNames(ctx context.Context, limit int) ([]Named, bool, error) {
	return firstNames(ctx, limit, s.q.ListDestinationNames, func(r db.ListDestinationNamesRow) Named { return Named(r) })
}

func firstNames[R any](ctx context.Context, limit int, list func(context.Context, int32) ([]R, error), named func(R) Named) ([]Named, bool, error) {
	if limit < 1 || limit > MaxLimit {
		return nil, false, fmt.Errorf("catalog: names limit %d out of range", limit)
	}
	rows, err := list(ctx, int32(limit+1)) // one more says whether there are more
	if err != nil {
		return nil, false, err
	}
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	out := make([]Named, len(rows))
	for i, r := range rows {
		out[i] = named(r)
	}
	return out, more, nil
}

// MatchSourceNames and MatchDestinationNames are the first limit sources (destinations)
// whose name contains text, case-insensitive, by name, and whether there are more: what
// the pipelines list's filters and the pipeline form suggest as the operator types. Empty text matches every
// name. Like SourceNames they never count, so a suggestion costs the same at any fleet
// size.
func (s *Service) MatchSourceNames(ctx context.Context, text string, limit int) ([]Named, bool, error) {
	if utf8.RuneCountInString(text) < 3 {
		// No gram to walk: the ILIKE along the name index, which a text this short
		// matches often enough to stop early, without the gram statement's planning
		// (0.6 ms of its 1 ms for "").
		return firstNames(ctx, limit, func(ctx context.Context, lim int32) ([]db.SearchSourceNamesRow, error) {
			return s.q.SearchSourceNames(ctx, db.SearchSourceNamesParams{Pattern: likeText(text), Lim: lim})
		}, func(r db.SearchSourceNamesRow) Named { return Named(r) })
	}
	return firstNames(ctx, limit, func(ctx context.Context, lim int32) ([]Named, error) {
		sql, args := sourceNamesSQL(text, lim)
		// Prepared once per connection (pgx's statement cache), unlike a list's page
		// (listExec): the statement's text is the same for every text and limit, and
		// every choice it makes (the gram, the branch) is made while it runs, from
		// values planning cannot see anyway, so PostgreSQL's generic plan, after its
		// first five custom ones, is as good, and saves planning its 40 nodes on each
		// keystroke (0.5–0.9 ms of 1.1–1.8, BENCHMARKS.md, seventh pass).
		rows, err := s.pool.Query(ctx, sql, append([]any{pgx.QueryExecModeCacheStatement}, args...)...)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, pgx.RowToStructByPos[Named])
	}, func(n Named) Named { return n })
}

// sourceNamesSQL is MatchSourceNames' one statement: the names containing text, as
// name ILIKE '%text%' (wildcards literal) ORDER BY lower(name) LIMIT lim would list
// them, read along the source name grams (migration 00014) as a name-sorted list search
// reads them (gramCTEs, nameSearchSQL): the search's rarest gram walked in name order,
// at most gramWalkRows index-only entries, checking each name as it goes and stopping at
// lim matches. Why: the ILIKE walked the lower(name) index and filtered, which for a
// text that is rare but shares every name's prefix ("source-150", "15000" among 20,000
// "source-NNNNN") read 15–20,000 names for a few matches, 10–12 ms (BENCHMARKS.md,
// seventh pass); the rarest gram holds a few hundred entries there.
//
// For texts of three characters or more (shorter ones take SearchSourceNames). When the
// gram walk cannot tell (every gram of the text more common than a walk reads, and the
// walk met fewer than lim), the ILIKE itself, as SearchSourceNames: a text made only of
// common grams mostly matches many names too. Each branch runs only when chosen (a
// one-time condition on h).
func sourceNamesSQL(text string, lim int32) (string, []any) {
	q := listQuery{grams: "source_name_grams", gramsID: "source_id", text: text}
	ctes := q.gramCTEs(0) // 0: the capped count (cn) is not read here, and so never runs
	limSQL, pattern := q.param(int64(lim)), q.param(likeText(text))
	return "WITH RECURSIVE " + ctes + ", " +
		"s AS MATERIALIZED (" + q.gramWalkSQL("", limSQL) + "), " +
		"h AS MATERIALIZED (SELECT count(*) >= " + limSQL + " OR (SELECT whole FROM nr) AS walked FROM s) " +
		"SELECT id, name FROM (SELECT v.id, v.name FROM s JOIN sources v ON v.id = s.id WHERE (SELECT walked FROM h) " +
		"UNION ALL (SELECT v.id, v.name FROM sources v WHERE NOT (SELECT walked FROM h) AND v.name ILIKE '%' || " + pattern +
		"::text || '%' ORDER BY lower(v.name) LIMIT " + limSQL + ")) n ORDER BY lower(name)", q.args
}

func (s *Service) MatchDestinationNames(ctx context.Context, text string, limit int) ([]Named, bool, error) {
	return firstNames(ctx, limit, func(ctx context.Context, lim int32) ([]db.SearchDestinationNamesRow, error) {
		return s.q.SearchDestinationNames(ctx, db.SearchDestinationNamesParams{Pattern: likeText(text), Lim: lim})
	}, func(r db.SearchDestinationNamesRow) Named { return Named(r) })
}

// likeText is text as a LIKE pattern that matches it literally ("" for none).
func likeText(text string) string {
	if p := qArg(text); p != nil {
		return *p
	}
	return ""
}

// SourceNamed and DestinationNamed find an entity by its exact name, case-insensitive
// (names are unique that way): a name typed into a filter. NotFound when none has it.
func (s *Service) SourceNamed(ctx context.Context, name string) (Named, error) {
	r, err := s.q.GetSourceNamed(ctx, name)
	if err != nil {
		return Named{}, translate(err, "source", "")
	}
	return Named(r), nil
}

func (s *Service) DestinationNamed(ctx context.Context, name string) (Named, error) {
	r, err := s.q.GetDestinationNamed(ctx, name)
	if err != nil {
		return Named{}, translate(err, "destination", "")
	}
	return Named(r), nil
}
