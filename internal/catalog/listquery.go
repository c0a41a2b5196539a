package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
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

// orderKey is one expression of an ORDER BY.
type orderKey struct {
	expr string
	desc bool
	// nullsLast puts NULLs last in a descending key (PostgreSQL's default puts them
	// first there; ascending keys already have them last). The index must say the same.
	nullsLast bool
	// lowerName: the key is lower(name), the order a walk of a name's grams yields
	// (nameSearchSQL).
	lowerName bool
}

func key(expr string) orderKey { return orderKey{expr: expr} }

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

// Each sort key's ORDER BY, matching one index (migrations 00007, 00011). Names are unique
// case-insensitively (the lower(name) unique indexes), so a name order has no ties; every
// other order ends with id.
var (
	byName        = keys(orderKey{expr: "lower(v.name)", lowerName: true})
	byCreated     = keys(key("v.created_at"), key("v.id"))
	pipelineOrder = map[string][]orderKey{
		"name": byName, "-name": desc(byName...),
		"created_at": byCreated, "-created_at": desc(byCreated...),
		"status": keys(key("v.status_rank"), key("v.id")),
	}
	byHost      = keys(key("lower(v.pg_host)"), key("v.id"))
	sourceOrder = map[string][]orderKey{
		"name": byName, "-name": desc(byName...),
		"created_at": byCreated, "-created_at": desc(byCreated...),
		"host": byHost, "-host": desc(byHost...),
	}
	byAccount        = keys(key("lower(v.snowflake_account)"), key("v.id"))
	destinationOrder = map[string][]orderKey{
		"name": byName, "-name": desc(byName...),
		"created_at": byCreated, "-created_at": desc(byCreated...),
		"account": byAccount, "-account": desc(byAccount...),
	}
)

// orderSQL writes the keys. With alias set, each key is instead the column
// "alias.kN" that matchesSQL materialised it as.
func orderSQL(ks []orderKey, alias string) string {
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = k.expr
		if alias != "" {
			parts[i] = alias + ".k" + strconv.Itoa(i)
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
	// table is the table listed: with no condition, its size is the total.
	table string
	// from is what the page reads (a table or pipeline_view), as "relation v".
	from string
	// countFrom is what the total counts: the narrowest relation the conditions allow
	// (a pipeline's count needs no join unless it filters on runtime status).
	countFrom string
	// keysFrom is the narrow relation a searched list's matches are read from (the
	// columns its conditions and sort need, no joins the planner could hash); from when
	// empty. See listSQL.
	keysFrom string
	order    map[string][]orderKey
	where    []string
	args     []any
	// trigram is set by a search the pg_trgm index can serve (three characters or more).
	trigram bool
	// searchConds is how many of the conditions the search wrote.
	searchConds int
	// term is the whole search term as a LIKE pattern (escaped), for the estimate of its
	// share of the table (nameShareSQL).
	term string
	// text is the search term as typed, for nameSearchSQL, which checks it as a literal
	// substring of the lowered name.
	text string
	// grams is the table keeping the listed table's name grams in name order (migrations
	// 00013, 00014), which serves a name-sorted search alone (nameSearchSQL); none when empty.
	grams string
	// gramsID is the grams table's id column (pipeline_id, source_id).
	gramsID string
	// sampledBelowCap lets a search alone in a sampled order walk the sort's index even
	// when no more than the cap match (sampleSQL), its exact total then counted along the
	// grams: the source list (migration 00014). The pipeline list's
	// statement is as it was before them.
	sampledBelowCap bool
	// sampled are the sorts whose index a search with many matches may walk (sampleSQL);
	// defaultSampled when nil.
	sampled map[string]bool
}

// cond adds a condition; each %s in format becomes the next value's parameter.
func (q *listQuery) cond(format string, vals ...any) {
	ph := make([]any, len(vals))
	for i, v := range vals {
		ph[i] = q.param(v)
	}
	q.where = append(q.where, fmt.Sprintf(format, ph...))
}

// param adds a value and returns its placeholder.
func (q *listQuery) param(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// search adds the name search: a case-insensitive substring (the documented semantics),
// which the pg_trgm index on name serves.
//
// The index is given the term's words (runs of letters and digits, three or more), one
// condition each, the likeliest rarest first; the whole term, hidden from the index (on
// the name concatenated with an empty string), is then checked on those rows alone.
// Every word of the term is a substring of every match, so the words can only narrow
// what the term matches, never lose a match. Why: GIN drives one condition from its rarest trigram and advances all the
// others' posting lists for each candidate; with the whole term as one condition,
// "ledger-001236" advanced the five common trigrams of "ledger" (30,000 names each at
// 100,000) for every name holding "123", and cost ×9 at 100,000 what it costs at 5,000.
// As separate conditions, GIN intersects "001236" first and looks at "ledger" only for
// its few candidates: 25 index buffers at either size, where the one condition read 107.
func (q *listQuery) search(text string) {
	pattern := qArg(text)
	if pattern == nil {
		return
	}
	q.term, q.text = *pattern, text
	before := len(q.where)
	defer func() { q.searchConds += len(q.where) - before }()
	words := searchWords(text)
	if len(words) == 0 {
		// No word the index can use alone ("ab-cd"): the whole term, which the index
		// still serves when it has three characters or more.
		q.cond("v.name ILIKE '%%' || %s || '%%'", *pattern)
		q.trigram = utf8.RuneCountInString(text) >= 3
		return
	}
	for _, w := range words {
		q.cond("v.name ILIKE '%%' || %s || '%%'", *qArg(w))
	}
	if len(words) > 1 || !strings.EqualFold(words[0], text) {
		q.cond("(v.name || '') ILIKE '%%' || %s || '%%'", *pattern)
	}
	q.trigram = true
}

// searchWords are the words of a search term that the trigram index can serve alone
// (three letters or digits or more), each once, in the order they are best given to
// the index: words holding a digit first (identifiers: rarer trigrams than the
// vocabulary names are made of), then longer words first. The order only weighs on the
// cost, never on what matches.
func searchWords(text string) []string {
	var words []string
	// As typed: the database folds the case (ILIKE), as it folds the whole term's. Folded
	// here, a word could differ from the term's own letters as the database folds them: in
	// the C locale lower() leaves "Ω" alone where Go's folds it, so "ωmega" found nothing
	// in "Ωmega-log", which the term itself matches.
	for _, w := range strings.FieldsFunc(text, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		// A word equal to one already given but for case narrows nothing more (and if the
		// database tells them apart, the whole term, checked too, still decides).
		if utf8.RuneCountInString(w) >= 3 && !slices.ContainsFunc(words, func(x string) bool { return strings.EqualFold(x, w) }) {
			words = append(words, w)
		}
	}
	digits := func(w string) bool { return strings.ContainsFunc(w, unicode.IsDigit) }
	slices.SortStableFunc(words, func(a, b string) int {
		if da, db := digits(a), digits(b); da != db {
			if da {
				return -1
			}
			return 1
		}
		return utf8.RuneCountInString(b) - utf8.RuneCountInString(a)
	})
	return words
}

func (q *listQuery) whereSQL() string {
	if len(q.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(q.where, " AND ")
}

// A list request is one statement (one round trip, one planning): its rows are the
// page's, each led by three columns: the total, what the total is (totalExact,
// totalEstimate or totalOver), and whether the row carries an item. An empty page (an
// offset past the end) is one row carrying only the total.
const listHeadColumns = 3

// What a statement's total is.
const (
	totalExact    = "exact"
	totalEstimate = "estimate"
	// totalOver: more than the cap matched; the estimate is still to be made (runList).
	totalOver = "over"
)

// sampleRows is how many rows of a sort's index a search with many matches reads at
// most (see sampleSQL): enough to fill a page of 50 from matches as sparse as 1 %.
const sampleRows = 5000

// gramWalkRows is how many entries of one gram a name-sorted search walks at most
// (nameSearchSQL), for the page and again for the capped count: index-only entries of a
// few dozen bytes, about 60 index pages.
const gramWalkRows = 10000

// gramCountBound is how far each candidate gram of a search is counted to pick the
// rarest (nameSearchSQL): a bounded price per gram, whatever the fleet. A gram with fewer
// entries is walked whole within gramWalkRows, so nothing more needs checking.
const gramCountBound = 500

// gramCandidates is how many of a search's grams are counted: any gram of the search
// finds every match, so the choice only weighs on the cost (a long search's grams are
// not all counted).
const gramCandidates = 4

// defaultSampled are the sorts whose order owes nothing to the name, so that a name
// search's matches may be expected anywhere along them, and whose index carries the name
// (migration 00010): the created_at sorts of every list.
var defaultSampled = map[string]bool{"created_at": true, "-created_at": true}

// pipelineSampled are the pipeline list's: the created_at sorts and status, whose index
// carries the name (migration 00011). The name sorts take nameSearchSQL instead: a name
// order clusters a term's matches ("billing-…" names sort together), so a walk of the
// name index meets them only where they begin, 91 % of the way down a descending order
// for "billing" at 100,000 pipelines; the walk of one of the term's grams meets nothing
// else first.
var pipelineSampled = map[string]bool{"created_at": true, "-created_at": true, "status": true}

// sourceSampled: the created_at sorts and host's, whose index carries the name
// (migration 00014). Its name sorts take nameSearchSQL.
var sourceSampled = map[string]bool{"created_at": true, "-created_at": true, "host": true, "-host": true}

func (q *listQuery) isSampled(sort string) bool {
	if q.sampled == nil {
		return defaultSampled[sort]
	}
	return q.sampled[sort]
}

// listSQL is the list's one statement, with its arguments, in one of four shapes.
//
// Without a search the index can serve (walkSQL), the page walks the sort's index and
// joins as it goes: about one page of rows read, whatever the size of the fleet. The
// total counts at most cap + 1 rows; above the cap, with no condition, it is the table's
// size as the planner reckons it (pg_class), in the same statement. A filtered total
// above the cap needs the planner's estimate for the conditions: the statement says so
// (totalOver) and runList asks EXPLAIN, the one case of a second statement.
//
// With a search (matchesSQL), the matches are found once, through the trigram index,
// and feed both the page (sorted among the matches only) and the total, which is then
// exact at no extra cost: counting rows already read. A search's cost follows the number
// of its matches, never the whole fleet's walk: left to itself, the planner may walk the
// sort's index and filter, assuming matches are spread evenly, and when they cluster at
// the far end (a backward name order searching "billing" skips every name after it) that
// walk read nearly the whole fleet for one page (issue 12).
//
// A search alone, in a sampled order (sampleSQL), reads at most cap + 1 matches first;
// past the cap, the head of the sort's index instead (see there), and the total is an
// estimate, marked. A search alone in a name order of a table that keeps its name grams
// walks one of the search's grams in name order (nameSearchSQL).
//
// The receiver is a copy: the page's parameters are added to it, not to q.
func (q listQuery) listSQL(sort string, limit, offset, totalCap int) (sql string, args []any, err error) {
	ks, ok := q.order[sort]
	if !ok {
		return "", nil, fmt.Errorf("catalog: no order for sort key %q", sort)
	}
	alone := len(q.where) == q.searchConds
	switch {
	case q.trigram && alone && q.grams != "" && ks[0].lowerName:
		sql = q.nameSearchSQL(ks, limit, offset, totalCap)
	case q.trigram && q.isSampled(sort) && alone:
		sql = q.sampleSQL(ks, limit, offset, totalCap)
	case q.trigram:
		sql = q.matchesSQL(ks, limit, offset)
	default:
		sql = q.walkSQL(ks, limit, offset, totalCap)
	}
	return sql, q.args, nil
}

// tableSizeSQL is what the planner estimates for the whole table: reltuples as of the
// last VACUUM or ANALYZE, scaled to the table's current size in pages.
func (q *listQuery) tableSizeSQL() string {
	return q.tableSize(q.param(q.table))
}

// tableSize is tableSizeSQL for the table named by the SQL expression table.
func (q *listQuery) tableSize(table string) string {
	return "(SELECT CASE WHEN r.reltuples < 0 OR r.relpages = 0 THEN r.reltuples " +
		"ELSE r.reltuples / r.relpages * (pg_relation_size(r.oid) / current_setting('block_size')::float8) END " +
		"FROM pg_class r WHERE r.oid = " + table + "::regclass)"
}

// preparedPage says whether the page is a list's default view, unfiltered and unsearched,
// first page, default size: walkSQL then writes it without parameters, so that its text
// is the same on every request, and runList prepares it once per connection (a prepared
// statement without parameters runs its one plan, made and kept by PostgreSQL, which
// replans it when the table's statistics change). Planning was ~60 % of what PostgreSQL
// spent on the console's default view (8.6 million instructions per statement one-shot,
// 3.4 million prepared: BENCHMARKS.md, issue 12, fifth pass), and no value of this
// statement could inform a plan: every other page, filter and search stays one-shot,
// planned with its values. Sizes other than the default would each be another prepared
// statement on every connection.
func (q *listQuery) preparedPage(limit, offset int) bool {
	return len(q.where) == 0 && offset == 0 && limit == DefaultLimit
}

func (q *listQuery) walkSQL(ks []orderKey, limit, offset, totalCap int) string {
	where := q.whereSQL()
	capSQL := strconv.Itoa(totalCap)
	total, over := "c.n", "'"+totalOver+"'"
	prepared := q.preparedPage(limit, offset)
	if len(q.where) == 0 {
		// The table is a constant of this package (or NewNewestFirst's caller's), already
		// SQL text in from and countFrom.
		size := "'" + q.table + "'"
		if !prepared {
			size = q.param(q.table)
		}
		// Never below what was counted, whatever the statistics say (they may be stale).
		total = "CASE WHEN c.n > " + capSQL + " THEN greatest(c.n, " + q.tableSize(size) + "::bigint) ELSE c.n END"
		over = "'" + totalEstimate + "'"
	}
	page := " ORDER BY " + orderSQL(ks, "") + " LIMIT " + strconv.Itoa(limit)
	if !prepared {
		page = " ORDER BY " + orderSQL(ks, "") + " LIMIT " + q.param(int64(limit)) + " OFFSET " + q.param(int64(offset))
	}
	return "SELECT t.total, t.state, v.id IS NOT NULL, v.* FROM (SELECT " + total + " AS total, " +
		"CASE WHEN c.n > " + capSQL + " THEN " + over + " ELSE '" + totalExact + "' END AS state " +
		"FROM (SELECT count(*) AS n FROM (SELECT 1 FROM " + q.countFrom + where + " LIMIT " + strconv.Itoa(totalCap+1) + ") x) c) t " +
		"LEFT JOIN LATERAL (SELECT v.* FROM " + q.from + where + page + ") v ON true ORDER BY " + orderSQL(ks, "")
}

// keyColumns are the sort's keys as columns k0, k1, … of a narrow relation.
func keyColumns(ks []orderKey) string {
	cols := make([]string, len(ks))
	for i, k := range ks {
		cols[i] = k.expr + " AS k" + strconv.Itoa(i)
	}
	return strings.Join(cols, ", ")
}

func (q *listQuery) keys() string {
	if q.keysFrom != "" {
		return q.keysFrom
	}
	return q.from
}

// pageByIDs is the end of a searched list's statement: the page's ids chosen from the
// narrow relation ids (id and the keys as k0, k1, …), then its rows fetched by primary
// key (= ANY of an array: an index probe per id, where a join could be planned as a hash
// of whole tables), beside the total t.
func (q *listQuery) pageByIDs(ks []orderKey, ids string, limit, offset int) string {
	return "LEFT JOIN LATERAL (SELECT v.* FROM " + q.from + " WHERE v.id = ANY(ARRAY(SELECT m.id FROM " + ids + " m ORDER BY " +
		orderSQL(ks, "m") + " LIMIT " + q.param(int64(limit)) + " OFFSET " + q.param(int64(offset)) + "))) v ON true ORDER BY " +
		orderSQL(ks, "")
}

func (q *listQuery) matchesSQL(ks []orderKey, limit, offset int) string {
	// MATERIALIZED: the matches are read once, though the total and the page both read
	// them.
	return "WITH m AS MATERIALIZED (SELECT v.id, " + keyColumns(ks) + " FROM " + q.keys() + q.whereSQL() + ") " +
		"SELECT t.total, '" + totalExact + "', v.id IS NOT NULL, v.* FROM (SELECT count(*) AS total FROM m) t " +
		q.pageByIDs(ks, "m", limit, offset)
}

// sampleSQL serves a search alone in a sampled order. Up to the cap it is matchesSQL
// (a: at most cap + 1 matches read, all sorted, the total exact: the cap's promise needs
// that count), unless sampledBelowCap (see walk below). Past the cap, sorting every match would cost what the matches number
// (5,000 for "billing" at 100,000 pipelines, a heap visit and a recheck each); instead
// the statement walks the sort's index (s, index-only: the index carries the name,
// migrations 00010 and 00011), checking names as it goes, until it has found the page's
// matches or read sampleRows rows. Found: they are the page (the
// first matches in an order are the first matches met walking it). Not found (matches
// too sparse or clustered elsewhere, or the offset too deep): every match is read and
// sorted (the rest of a), with an exact total, as matchesSQL would. Each branch is gated
// by one-time conditions, so only the branches needed run.
//
// The estimate, past the cap, is the planner's way (nameShareSQL), in the statement.
// nameShareSQL is the share of the table's names the search matches, as the planner
// reckons it for a pattern that is not a prefix: the share of the column's histogram
// bounds (a sample of names ANALYZE spread over the whole table; names are unique, so
// no common values) that match, computed by list_name_share (migration 00011). NULL
// without statistics. The samples at hand in the statement are worse: the first cap + 1
// matches come from the table's first blocks, and the index walk's from one end of one
// order, and matches often cluster in both (a team creating its pipelines in one go).
// The whole term stands for the search's conditions: every word is a substring of it.
func (q *listQuery) nameShareSQL() string {
	return "list_name_share(" + q.param(q.table) + "::regclass, " + q.param(q.term) + "::text)"
}

func (q *listQuery) sampleSQL(ks []orderKey, limit, offset, totalCap int) string {
	// need is a parameter, as the page's limit and offset are: the statement's text (the
	// key of its cached description, listExec) is then the same for every page.
	capSQL, need, rows := strconv.Itoa(totalCap), q.param(int64(limit+offset)), strconv.Itoa(sampleRows)
	check := strings.Join(q.where, " AND ")
	kcols := make([]string, len(ks))
	for i := range ks {
		kcols[i] = "k" + strconv.Itoa(i)
	}
	k := strings.Join(kcols, ", ")
	// a is every match, read once and only as far as its readers go (a CTE read by
	// several is computed once, on demand): the count up to the cap reads cap + 1 of them,
	// the fallback all. The branches are chosen once, in two one-row CTEs (g, h), each
	// flag then read by a one-time condition (a scalar subquery over an uncorrelated CTE):
	// a branch not taken does not run. (Written out in every branch, the conditions and a
	// second scan for the capped count made the statement twice as long to plan, on every
	// request.)
	//
	// Where the table keeps its name grams, the count up to the cap is made along the
	// search's rarest gram (gramCTEs), index-only, rather than from a: 1,001 of "billing"'s
	// 5,000 matches at 100,000 pipelines were 283 heap buffers (each match visited and
	// rechecked), a gram's 1,001 entries are 14. Only when that count cannot say (fewer
	// than the cap met, and the gram too common to walk whole) does a count them.
	with, count := "WITH ", cappedCountSQL(totalCap)
	if q.grams != "" {
		with = "WITH RECURSIVE " + q.gramCTEs(totalCap) + ", "
		count = gramCappedCountSQL(totalCap)
	}
	// walk: whether the sort's index is walked (s); estimated: whether a walk's total is
	// the estimate. Past the cap only, unless sampledBelowCap: then also when at least a
	// page's matches are known to exist (n ≥ need), the total then n, exact (counted along
	// the gram; only when the gram is too common to tell, from a, as before). Without that, a search matching up to the cap read every match through
	// the trigram index and sorted it for one page: at 20,000 sources, "billing"'s 1,000
	// matches each fetched and rechecked (×2.2 the cost at 1,000 sources, BENCHMARKS.md,
	// sixth pass), where the walk meets a page of them in about 1,000 index entries.
	// Below the cap the walk is taken only when the matches are dense enough to fill the
	// page within sampleRows entries, spread evenly, with a margin of 2: n / table size ×
	// sampleRows ≥ 2 × need. A page-full search that is rare in a large table ("stream",
	// 50 of 20,000 sources) otherwise walked 5,000 entries, met 13 and fell back to a
	// anyway: 2.3 ms of its 3.3 (BENCHMARKS.md, seventh pass).
	walk, walkCol, estimated := "many", "", "h.walked"
	if q.sampledBelowCap && q.grams != "" {
		walk, estimated = "walk", "h.walked AND NOT h.few"
		walkCol = ", n > " + capSQL + " OR n >= " + need + " AND n * " + rows + "::float8 >= 2 * " + need + " * " + q.tableSizeSQL() + " AS walk"
	}
	return with + "a AS MATERIALIZED (SELECT v.id, " + keyColumns(ks) + " FROM " + q.keys() + q.whereSQL() + "), " +
		"g AS MATERIALIZED (SELECT n <= " + capSQL + " AS few, n > " + capSQL + " AS many, n" + walkCol + " " +
		"FROM (SELECT " + count + " AS n " +
		"OFFSET 0) x), " + // OFFSET 0: n counted once, not once per mention

		"s AS MATERIALIZED (SELECT v.id, " + k + " FROM (SELECT v.id, v.name, " + keyColumns(ks) + " FROM " + q.keys() +
		" ORDER BY " + orderSQL(ks, "") + " LIMIT " + rows + ") v WHERE (SELECT " + walk + " FROM g) AND " + check +
		" LIMIT " + need + "), " +
		// walked: the walk filled the page.
		"h AS MATERIALIZED (SELECT few, n, " + walk + " AND (SELECT count(*) FROM s) >= " + need + " AS walked FROM g), " +
		"ids AS (SELECT id, " + k + " FROM s WHERE (SELECT walked FROM h)" +
		" UNION ALL SELECT id, " + k + " FROM a WHERE (SELECT NOT walked FROM h)) " +
		"SELECT t.total, t.state, v.id IS NOT NULL, v.* FROM (SELECT CASE WHEN h.few THEN h.n " +
		"WHEN NOT h.walked THEN (SELECT count(*) FROM a) " +
		"ELSE " + q.pastCapSQL(totalCap) + " END AS total, " +
		"CASE WHEN " + estimated + " THEN '" + totalEstimate + "' ELSE '" + totalExact + "' END AS state FROM h) t " +
		q.pageByIDs(ks, "ids", limit, offset)
}

// nameSearchSQL serves a search alone in a name order, either way, through the table of
// name grams (q.grams, migration 00013: every 3-character substring of each lowered name,
// beside the name and the id, in a B-tree on (gram, lowered name)). Every match contains
// each gram of the lowered search, so one gram's entries, walked in name order, meet the
// matches in the list's order, with only that gram's other names between them: the page
// costs what the page costs, wherever the matches sort (the name index walked instead
// passes every name before the first match; the matches read instead cost what they
// number).
//
// The walk (s) follows the gram gramCTEs chose, reads at most gramWalkRows entries and
// stops at the page's matches (limit + offset). Then:
//   - the page filled: it is the page. The total is the matches counted up to the
//     cap + 1 (cc): along the same gram when that can tell (past the cap, or the gram
//     within reach whole: gramWhole), else through the trigram index (a). Past the cap
//     it is the estimate (pastCapSQL), marked, as in sampleSQL; otherwise exact.
//   - not filled, the gram within reach whole: every match was met, so the page is what
//     was found, and so is the exact total.
//   - not filled, the gram not within reach (more than gramWalkRows entries: every gram
//     of the search common, the search itself rare), or no gram at all: every match is
//     read through the trigram index and sorted, the total exact, as matchesSQL.
//
// The flags are one-time conditions, as in sampleSQL: a branch not taken does not run.
func (q *listQuery) nameSearchSQL(ks []orderKey, limit, offset, totalCap int) string {
	// need is a parameter, as in sampleSQL: one statement text for every page.
	capSQL, need := strconv.Itoa(totalCap), q.param(int64(limit+offset))
	dir := ""
	if ks[0].desc {
		dir = " DESC"
	}
	// cc: the matches counted up to the cap + 1 (gramCappedCountSQL), read only when the
	// page filled: along the gram, or, when the gram's walk cannot tell, from a, never
	// further than the cap + 1 (past it the total is the estimate, not a count of every
	// match).
	return "WITH RECURSIVE " + q.gramCTEs(totalCap) + ", " +
		"s AS MATERIALIZED (" + q.gramWalkSQL(dir, need) + "), " +
		"a AS MATERIALIZED (SELECT v.id, " + keyColumns(ks) + " FROM " + q.keys() + q.whereSQL() + "), " +
		"cc AS MATERIALIZED (SELECT " + gramCappedCountSQL(totalCap) + " AS n OFFSET 0), " +
		"h AS MATERIALIZED (SELECT found >= " + need + " AS filled, found, CASE WHEN found >= " + need + " THEN false ELSE NOT " + gramWhole +
		" END AS fallback FROM (SELECT count(*) AS found FROM s) f), " +
		"ids AS (SELECT id, k0 FROM s WHERE NOT (SELECT fallback FROM h) UNION ALL SELECT id, k0 FROM a WHERE (SELECT fallback FROM h)) " +
		"SELECT t.total, t.state, v.id IS NOT NULL, v.* FROM (SELECT CASE WHEN h.fallback THEN (SELECT count(*) FROM a) " +
		"WHEN NOT h.filled THEN h.found " +
		"WHEN (SELECT n FROM cc) > " + capSQL + " THEN " + q.pastCapSQL(totalCap) + " " +
		"ELSE (SELECT n FROM cc) END AS total, " +
		"CASE WHEN NOT h.fallback AND h.filled AND (SELECT n FROM cc) > " + capSQL + " THEN '" + totalEstimate + "' ELSE '" + totalExact +
		"' END AS state FROM h) t " +
		q.pageByIDs(ks, "ids", limit, offset)
}

// cappedCountSQL counts the matches (a) up to the cap + 1: all the cap's promise needs.
func cappedCountSQL(totalCap int) string {
	return "(SELECT count(*) FROM (SELECT 1 FROM a LIMIT " + strconv.Itoa(totalCap+1) + ") c)"
}

// gramCappedCountSQL is cappedCountSQL made along the search's gram where that can tell
// (cn, gramCTEs): past the cap, or the gram's entries all within the walk's reach.
// Otherwise (fewer than the cap met along part of a common gram) the matches are
// counted from a, still no further than the cap + 1.
func gramCappedCountSQL(totalCap int) string {
	return "CASE WHEN (SELECT n FROM cn) > " + strconv.Itoa(totalCap) + " OR " + gramWhole + " THEN (SELECT n FROM cn) ELSE " +
		cappedCountSQL(totalCap) + " END"
}

// pastCapSQL is a search's total once more than the cap matched (marked an estimate):
// the planner's share of the names matched (nameShareSQL) times the table's size, never
// below the cap + 1 that were counted.
func (q *listQuery) pastCapSQL(totalCap int) string {
	return "greatest(" + strconv.Itoa(totalCap) + " + 1, (" + q.nameShareSQL() + " * " + q.tableSizeSQL() + ")::bigint)"
}

// gramCTEs are the common table expressions (for a WITH RECURSIVE) through which a
// search reads the table of name grams (q.grams: gram, lname and the id, q.gramsID):
//   - term: the search lowered by the database's lower(), as ILIKE lowers both sides in
//     a UTF-8 database (PostgreSQL's like.c), so a name contains it (gramHit, strpos:
//     every character literal, no pattern) exactly when ILIKE matches.
//   - gr: the rarest of up to gramCandidates of its grams (those holding the most digits
//     first, then the later ones: identifiers end searches, and their grams are rarer
//     than words'), each counted no further than the rarest so far and at most
//     gramCountBound (r, recursive), so the choice costs a bounded count per gram,
//     whatever the fleet. Any gram of the search finds every match: the choice only
//     weighs on the cost. None when the lowered search is shorter than three characters.
//   - cn: the matches met along gr's entries (at most gramWalkRows of them, index-only),
//     counted up to the cap + 1.
//   - nr: whether gr has no more than gramWalkRows entries, so that a walk of it met
//     every match (gramWhole); counted only when gramWhole cannot tell from gr's count.
//
// Every read of the grams is ORDER BY lname, the key's order, though a count needs
// none: it keeps the planner on the key's (index-only) scan, which stops at the LIMIT.
// Without it, where the gram table's pages were not yet all-visible (bulk-inserted,
// not yet vacuumed), the planner counted each candidate gram by a bitmap scan of all its
// entries: 20,000 for "sou" among 20,000 "source-NNNNN", 4.9 ms per suggestion for
// "source-150" where it is 1.0 (BenchmarkPipelineFormPage/suggestions, seventh pass).
func (q *listQuery) gramCTEs(totalCap int) string {
	walk, bound := strconv.Itoa(gramWalkRows), strconv.Itoa(gramCountBound)
	return "term AS MATERIALIZED (SELECT lower(" + q.param(q.text) + "::text) AS lt), " +
		"cand AS MATERIALIZED (SELECT gram, row_number() OVER (ORDER BY char_length(translate(gram, '0123456789', '')), pos DESC) AS i " +
		"FROM (SELECT substr(lt, p, 3) AS gram, max(p) AS pos FROM term, generate_series(1, char_length(lt) - 2) AS p GROUP BY 1) g " +
		"ORDER BY i LIMIT " + strconv.Itoa(gramCandidates) + "), " +
		"r AS (SELECT 0::bigint AS i, NULL::text AS gram, " + bound + "::bigint AS n " +
		"UNION ALL SELECT c.i, CASE WHEN r.gram IS NULL OR k.n < r.n THEN c.gram ELSE r.gram END, least(k.n, r.n) " +
		"FROM r JOIN cand c ON c.i = r.i + 1, " +
		"LATERAL (SELECT count(*) AS n FROM (SELECT 1 FROM " + q.grams + " x WHERE x.gram = c.gram ORDER BY x.lname LIMIT r.n) y) k), " +
		"gr AS MATERIALIZED (SELECT gram, n FROM r WHERE gram IS NOT NULL ORDER BY i DESC LIMIT 1), " +
		"cn AS MATERIALIZED (SELECT count(*) AS n FROM (SELECT 1 FROM (SELECT lname FROM " + q.grams + " WHERE gram = (SELECT gram FROM gr)" +
		" ORDER BY lname LIMIT " + walk + ") x WHERE " + gramHit + " LIMIT " + strconv.Itoa(totalCap+1) + ") y), " +
		"nr AS MATERIALIZED (SELECT count(*) <= " + walk + " AND EXISTS (SELECT 1 FROM gr) AS whole FROM (SELECT 1 FROM " + q.grams +
		" WHERE gram = (SELECT gram FROM gr) ORDER BY lname LIMIT " + walk + " + 1) y)"
}

// gramWalkSQL walks the rarest gram of the search (gramCTEs' gr) in name order (dir: ""
// or " DESC"), at most gramWalkRows index-only entries, and keeps the first need (a SQL
// expression) whose names contain the search: their ids and lowered names (k0).
func (q *listQuery) gramWalkSQL(dir, need string) string {
	return "SELECT x." + q.gramsID + " AS id, x.lname AS k0 FROM (SELECT lname, " + q.gramsID + " FROM " + q.grams +
		" WHERE gram = (SELECT gram FROM gr) ORDER BY lname" + dir + " LIMIT " + strconv.Itoa(gramWalkRows) + ") x WHERE " + gramHit +
		" LIMIT " + need
}

// gramHit: the gram entry x's name contains the search (gramCTEs' term).
const gramHit = "strpos(x.lname, (SELECT lt FROM term)) > 0"

// gramWhole: a walk of gr's entries (at most gramWalkRows) met all of them. Known from
// gr's own count when under gramCountBound; otherwise nr counts them (only if asked).
var gramWhole = "(coalesce((SELECT n < " + strconv.Itoa(gramCountBound) + " FROM gr), false) OR (SELECT whole FROM nr))"

// exec makes a statement one-shot (the unnamed statement, planned with its values): a
// cached prepared statement may switch to a generic plan, which cannot see how
// selective a search or a filter is.
func exec(args []any) []any { return append([]any{pgx.QueryExecModeExec}, args...) }

// listExec is exec for a list's page: still the unnamed statement, planned with its
// values on every request, but with the statement's description (parameter and column
// types) cached per connection by its text, so that pgx asks for the rows in binary.
// exec cannot: without a description it must take every column as text, and a page of
// 50 rows then costs PostgreSQL a text rendering of every timestamp and id, and pgx
// the parsing of them back (about a fifth of the server's CPU on the console's
// pipelines page, BENCHMARKS.md, issue 12, fifth pass). The description costs one more
// round trip, once per connection and statement shape (the shapes are bounded: one per
// sort and set of conditions, never per value).
func listExec(args []any) []any { return append([]any{pgx.QueryExecModeCacheDescribe}, args...) }

// list runs the page and its total. The total is exact up to the service's cap (and
// above it when a search read every match anyway: see listSQL); otherwise the planner's
// estimate.
func list[T any](ctx context.Context, s *Service, q listQuery, p ListParams, fields fieldsFunc[T]) ([]T, int64, bool, error) {
	return runList(ctx, s.pool, s.totalCap, q, p.Sort, p.Limit, p.Offset, fields)
}

func runList[T any](ctx context.Context, pool *db.Pool, totalCap int, q listQuery, sort string, limit, offset int,
	fields fieldsFunc[T]) ([]T, int64, bool, error) {
	sql, args, err := q.listSQL(sort, limit, offset, totalCap)
	if err != nil {
		return nil, 0, false, err
	}
	opts := listExec(args)
	if len(args) == 0 {
		// Only the default view is written without parameters (preparedPage).
		opts = []any{pgx.QueryExecModeCacheStatement}
	}
	rows, err := pool.Query(ctx, sql, opts...)
	if err != nil {
		return nil, 0, false, err
	}
	var (
		n     int64
		state string
		dest  []any
	)
	items := make([]T, 0, max(0, min(limit, MaxLimit)))
	// Each row is scanned once, straight into its item, through one slice of
	// destinations reused row after row: the leading columns are read from the first row
	// only (every row repeats them), then nil, which pgx skips without re-planning the
	// column; the item columns keep the first row's plans. This is a list's hottest loop
	// (BENCHMARKS.md, issue 12): no reflection and no allocation per row but the values'.
	for rows.Next() {
		if dest == nil {
			dest = make([]any, listHeadColumns, len(rows.FieldDescriptions()))
			dest[0], dest[1] = &n, &state
		} else {
			dest[0], dest[1] = nil, nil
		}
		if !rowHasItem(rows) {
			// An empty page: its one row carries only the total.
			if err := rows.Scan(append(dest, make([]any, len(rows.FieldDescriptions())-listHeadColumns)...)...); err != nil {
				rows.Close()
				return nil, 0, false, err
			}
			continue
		}
		var zero T
		items = append(items, zero)
		if err := rows.Scan(fields(&items[len(items)-1], dest[:listHeadColumns])...); err != nil {
			rows.Close()
			return nil, 0, false, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, false, err
	}
	switch state {
	case totalExact:
		return items, n, false, nil
	case totalEstimate:
		return items, n, true, nil
	}
	// A filtered total above the cap: the planner's estimate for the conditions, the
	// one case a list takes a second statement.
	est, err := estimate(ctx, pool, q)
	if err != nil {
		return nil, 0, false, err
	}
	// Above the cap by construction, whatever the statistics say (they may be stale).
	return items, max(est, n), true, nil
}

// rowHasItem reads the row's third leading column (v.id IS NOT NULL, never NULL itself)
// from its raw bytes, before any scan: a boolean's text is "t" or "f", its binary form
// one byte. Only an empty page's row has no item.
func rowHasItem(rows pgx.Rows) bool {
	raw := rows.RawValues()[listHeadColumns-1]
	return len(raw) == 1 && (raw[0] == 't' || raw[0] == 1)
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
	return &NewestFirst{q: listQuery{table: table, from: table + " v", countFrom: table + " v",
		order: map[string][]orderKey{"": desc(key("v.id"))}}}
}

// Where adds a condition on the table's columns (as v.column); each %s in format
// becomes the next value's parameter.
func (l *NewestFirst) Where(format string, vals ...any) { l.q.cond(format, vals...) }

// CollectNewestFirst reads one page and the total into T, a flat struct whose fields are
// the table's columns in order (an sqlc model of it).
func CollectNewestFirst[T any](ctx context.Context, pool *db.Pool, l *NewestFirst, limit, offset int) (items []T, total int64, estimated bool, err error) {
	return runList(ctx, pool, DefaultExactTotalCap, l.q, "", limit, offset, byPosition[T]())
}
