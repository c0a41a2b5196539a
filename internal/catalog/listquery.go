package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/db"
)

// The lists (sources, destinations, pipelines) are assembled here rather than written as
// sqlc queries: sqlc cannot parameterise ORDER BY, and one static query with catch-all
// predicates ("$x IS NULL OR col = $x") and a CASE per sort key in ORDER BY defeats every
// index, so PostgreSQL joined and sorted the whole fleet to return one page (issue 12).
// Each statement here names only the filters given and orders by one index's key.
//
// Nothing a caller typed becomes SQL text: sort keys and filter columns are this
// package's enumerations, mapped to fixed fragments; every value travels as a parameter.

// DefaultExactTotalCap is how many matching rows a list counts exactly. Counting stops
// one row past it; a larger total is the planner's estimate, marked as such
// (Page.TotalIsEstimate), so the cost of a page never grows with the fleet.
const DefaultExactTotalCap = 1000

// WithExactTotalCap changes the cap (tests cross it with a handful of rows).
func WithExactTotalCap(n int) Option {
	return func(s *Service) {
		if n > 0 {
			s.totalCap = n
		}
	}
}

// statusRankSQL orders runtime statuses errors first, then running, then the rest: what
// an operator scanning the list wants to see first. Migration 00007 indexes exactly this
// expression over pipeline_metadata.status; the view exposes that column as
// runtime_status, which the planner sees through.
func statusRankSQL(col string) string {
	return "CASE " + col + " WHEN 'ERROR' THEN 0 WHEN 'RUNNING' THEN 1 ELSE 2 END"
}

// statusRank is statusRankSQL's value for one status, so the runtime-status filter is
// written as a rank and served by the same index.
func statusRank(status string) int32 {
	switch status {
	case RuntimeError:
		return 0
	case RuntimeRunning:
		return 1
	default:
		return 2
	}
}

// orderKey is one expression of an ORDER BY. opaque is the same value written so that
// no index matches it (expr || ”, expr + 0): see listQuery.pageSQL for when.
type orderKey struct {
	expr, opaque string
	desc         bool
	// nullsLast puts NULLs last in a descending key (PostgreSQL's default puts them
	// first there; ascending keys already have them last). The index must say the same.
	nullsLast bool
}

func text(expr string) orderKey { return orderKey{expr: expr, opaque: "(" + expr + " || '')"} }
func num(expr string) orderKey  { return orderKey{expr: expr, opaque: "(" + expr + " + 0)"} }
func ts(expr string) orderKey   { return orderKey{expr: expr, opaque: "(" + expr + " + interval '0')"} }

// desc reverses every key: a descending sort reverses the whole key, id included, so one
// index read backwards serves it.
func desc(keys ...orderKey) []orderKey {
	out := make([]orderKey, len(keys))
	for i, k := range keys {
		k.desc = !k.desc
		out[i] = k
	}
	return out
}

func keys(k ...orderKey) []orderKey { return k }

// Each sort key's ORDER BY, matching one index (migration 00007). Names are unique
// case-insensitively (the lower(name) unique indexes), so a name order has no ties; every
// other order ends with id.
var (
	byName        = keys(text("lower(v.name)"))
	byCreated     = keys(ts("v.created_at"), num("v.id"))
	pipelineOrder = map[string][]orderKey{
		"name": byName, "-name": desc(byName...),
		"created_at": byCreated, "-created_at": desc(byCreated...),
		"status": keys(num(statusRankSQL("v.runtime_status")), num("v.id")),
	}
	byHost      = keys(text("lower(v.pg_host)"), num("v.id"))
	sourceOrder = map[string][]orderKey{
		"name": byName, "-name": desc(byName...),
		"created_at": byCreated, "-created_at": desc(byCreated...),
		"host": byHost, "-host": desc(byHost...),
	}
	byAccount        = keys(text("lower(v.snowflake_account)"), num("v.id"))
	destinationOrder = map[string][]orderKey{
		"name": byName, "-name": desc(byName...),
		"created_at": byCreated, "-created_at": desc(byCreated...),
		"account": byAccount, "-account": desc(byAccount...),
	}
)

// orderSQL writes the keys; opaque ones when the sort's index must not be walked.
func orderSQL(ks []orderKey, opaque bool) string {
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = k.expr
		if opaque {
			parts[i] = k.opaque
		}
		if k.desc {
			parts[i] += " DESC"
			if k.nullsLast {
				parts[i] += " NULLS LAST"
			}
		}
	}
	return strings.Join(parts, ", ")
}

// listQuery is one list statement: the relation read (aliased v), the conditions given,
// and their values as parameters.
type listQuery struct {
	// from is what the page reads (a table or pipeline_view), as "relation v".
	from string
	// countFrom is what the total counts: the narrowest relation the conditions allow
	// (a pipeline's count needs no join unless it filters on runtime status).
	countFrom string
	// keysFrom is the narrow relation a searched page's ids are chosen from (the columns
	// its conditions and sort need, no joins the planner could hash): see pageSQL.
	keysFrom string
	order    map[string][]orderKey
	where    []string
	args     []any
	// trigram is set by a search the pg_trgm index can serve (three characters or more).
	trigram bool
}

// cond adds a condition; each %s in format becomes the next value's parameter.
func (q *listQuery) cond(format string, vals ...any) {
	ph := make([]any, len(vals))
	for i, v := range vals {
		q.args = append(q.args, v)
		ph[i] = "$" + strconv.Itoa(len(q.args))
	}
	q.where = append(q.where, fmt.Sprintf(format, ph...))
}

// search adds the name search: a case-insensitive substring (the documented semantics),
// which the pg_trgm index on name serves.
func (q *listQuery) search(text string) {
	if pattern := qArg(text); pattern != nil {
		q.cond("v.name ILIKE '%%' || %s || '%%'", *pattern)
		q.trigram = utf8.RuneCountInString(text) >= 3
	}
}

func (q *listQuery) whereSQL() string {
	if len(q.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(q.where, " AND ")
}

// pageSQL is the page's statement, with its arguments.
//
// Without a search, the page walks the sort's index and joins as it goes: about one
// page of rows read, whatever the size of the fleet.
//
// With a search, the sort is written so that no index matches it: the matches are then
// found through the trigram index and sorted, a cost that follows the number of matches.
// Left to itself, the planner may walk the sort's index and filter, assuming matches
// are spread evenly; when they cluster at the far end (a backward name order searching
// "billing" skips every name after it) that walk reads nearly the whole fleet for one
// page: 340 ms at 100,000 pipelines, against a few ms for the sort of the matches.
func (q *listQuery) pageSQL(sort string, limit, offset int) (string, []any, error) {
	ks, ok := q.order[sort]
	if !ok {
		return "", nil, fmt.Errorf("catalog: no order for sort key %q", sort)
	}
	order := orderSQL(ks, q.trigram)
	n := len(q.args)
	page := " ORDER BY " + order + " LIMIT $" + strconv.Itoa(n+1) + " OFFSET $" + strconv.Itoa(n+2)
	args := append(append([]any{}, q.args...), int64(limit), int64(offset))
	if !q.trigram || q.keysFrom == "" {
		return "SELECT v.* FROM " + q.from + q.whereSQL() + page, args, nil
	}
	// The page's ids first, sorted among the matches only; then the 50 rows, each
	// fetched by its primary key (= ANY of an array: an index probe per id, where a join
	// could be planned as a hash of whole tables).
	return "SELECT v.* FROM " + q.from + " WHERE v.id = ANY(ARRAY(SELECT v.id FROM " + q.keysFrom + q.whereSQL() + page +
		")) ORDER BY " + orderSQL(ks, false), args, nil
}

// countSQL counts the matches, stopping one past the cap.
func (q *listQuery) countSQL(limit int) string {
	return "SELECT count(*) FROM (SELECT 1 FROM " + q.countFrom + q.whereSQL() + " LIMIT " + strconv.Itoa(limit) + ") t"
}

// exec makes a statement one-shot (the unnamed statement, planned with its values): a
// cached prepared statement may switch to a generic plan, which cannot see how
// selective a search or a filter is.
func exec(args []any) []any { return append([]any{pgx.QueryExecModeExec}, args...) }

// list runs the page and its total. The total is exact up to the service's cap; above
// it, the planner's estimate.
func list[T any](ctx context.Context, s *Service, q listQuery, p ListParams, scan pgx.RowToFunc[T]) ([]T, int64, bool, error) {
	return runList(ctx, s.pool, s.totalCap, q, p.Sort, p.Limit, p.Offset, scan)
}

func runList[T any](ctx context.Context, pool *db.Pool, totalCap int, q listQuery, sort string, limit, offset int,
	scan pgx.RowToFunc[T]) ([]T, int64, bool, error) {
	sql, args, err := q.pageSQL(sort, limit, offset)
	if err != nil {
		return nil, 0, false, err
	}
	var n int64
	if err := pool.QueryRow(ctx, q.countSQL(totalCap+1), exec(q.args)...).Scan(&n); err != nil {
		return nil, 0, false, err
	}
	rows, err := pool.Query(ctx, sql, exec(args)...)
	if err != nil {
		return nil, 0, false, err
	}
	items, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, 0, false, err
	}
	if n <= int64(totalCap) {
		return items, n, false, nil
	}
	est, err := estimate(ctx, pool, q)
	if err != nil {
		return nil, 0, false, err
	}
	// Above the cap by construction, whatever the statistics say (they may be stale).
	return items, max(est, n), true, nil
}

// estimate is the planner's row estimate for the matches: what EXPLAIN says, with the
// statistics ANALYZE (or autovacuum) last gathered. It costs one planning, not a scan.
func estimate(ctx context.Context, pool *db.Pool, q listQuery) (int64, error) {
	var plan []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	var raw []byte
	if err := pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) SELECT 1 FROM "+q.countFrom+q.whereSQL(), exec(q.args)...).Scan(&raw); err != nil {
		return 0, err
	}
	if err := json.Unmarshal(raw, &plan); err != nil || len(plan) == 0 {
		return 0, fmt.Errorf("catalog: cannot read the planner's estimate: %v", err)
	}
	return int64(plan[0].Plan.Rows), nil
}

// NewestFirst is a list of another package's table, newest (highest id) first, with
// the catalog lists' rules: only the conditions given, values as parameters, the total
// exact up to DefaultExactTotalCap and estimated above. The audit log uses it.
type NewestFirst struct{ q listQuery }

// NewNewestFirst lists table, which must be a constant of the calling package (it
// becomes SQL text), never input.
func NewNewestFirst(table string) *NewestFirst {
	return &NewestFirst{q: listQuery{from: table + " v", countFrom: table + " v",
		order: map[string][]orderKey{"": desc(num("v.id"))}}}
}

// Where adds a condition on the table's columns (as v.column); each %s in format
// becomes the next value's parameter.
func (l *NewestFirst) Where(format string, vals ...any) { l.q.cond(format, vals...) }

// CollectNewestFirst reads one page and the total.
func CollectNewestFirst[T any](ctx context.Context, pool *db.Pool, l *NewestFirst, limit, offset int,
	scan pgx.RowToFunc[T]) (items []T, total int64, estimated bool, err error) {
	return runList(ctx, pool, DefaultExactTotalCap, l.q, "", limit, offset, scan)
}
