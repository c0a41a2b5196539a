package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
)

// recorder is a pgx tracer that, while on, keeps the statements the app sends, so the
// raw side replays exactly the SQL a handler ran (whatever its queries are today).
type recorder struct {
	on    atomic.Bool
	mu    sync.Mutex
	stmts []statement
}

type statement struct {
	sql  string
	args []any
}

func (r *recorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if r.on.Load() {
		r.mu.Lock()
		r.stmts = append(r.stmts, statement{sql: d.SQL, args: d.Args})
		r.mu.Unlock()
	}
	return ctx
}

func (r *recorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// accessSQL matches the statements of authentication and sessions (token lookup, the
// session row, the signed-in user): the raw side is the page's own SQL, without them, so
// the ratio shows what access costs too.
var accessSQL = regexp.MustCompile(`(?is)\b(api_tokens|sessions|users)\b|^\s*(begin|commit|rollback)\b`)

// record sends one request and returns the data statements the app ran for it.
func (b *bench) record(ctx context.Context, t target) ([]statement, error) {
	b.rec.mu.Lock()
	b.rec.stmts = nil
	b.rec.mu.Unlock()
	b.rec.on.Store(true)
	status, err := b.do(ctx, t, 0)
	b.rec.on.Store(false)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("%s: status %d", t.name, status)
	}
	b.rec.mu.Lock()
	defer b.rec.mu.Unlock()
	if b.o.keepLogs {
		b.progress("%s ran: %s", t.name, strings.Join(stmtNames(b.rec.stmts), ", "))
	}
	var out []statement
	for _, s := range b.rec.stmts {
		if !accessSQL.MatchString(s.sql) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: recorded no data statement", t.name)
	}
	if b.o.explain {
		for _, st := range out {
			b.explain(ctx, t.name, st)
		}
	}
	return out, nil
}

// explain prints the plan of one recorded statement, run once more with its arguments.
func (b *bench) explain(ctx context.Context, name string, st statement) {
	rows, err := b.raw.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+st.sql, st.args...)
	if err != nil {
		b.progress("explain %s: %v", name, err)
		return
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err == nil {
			plan = append(plan, "    "+line)
		}
	}
	b.progress("%s — %s:\n%s", name, strings.Join(stmtNames([]statement{st}), ""), strings.Join(plan, "\n"))
}

type bench struct {
	o        options
	client   *http.Client
	raw      *pgxpool.Pool
	base     string
	rec      *recorder
	creds    credentials
	fleet    fleet
	progress func(string, ...any)
}

// target is one kind of request: its path (i picks among the fleet) and how it
// authenticates.
type target struct {
	name    string
	path    func(i int) string
	session bool // console session cookies instead of the bearer token
}

func (b *bench) do(ctx context.Context, t target, i int) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.base+t.path(i), nil)
	if err != nil {
		return 0, err
	}
	if t.session {
		req.Header.Set("Cookie", b.creds.cookies)
	} else {
		req.Header.Set("Authorization", "Bearer "+b.creds.token)
	}
	res, err := b.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, err
}

// stat is one measurement: requests (or query batches) per second and latencies.
type stat struct {
	n        int
	errs     int
	elapsed  time.Duration
	p50, p99 time.Duration
	lats     []time.Duration
}

func (s stat) rate() float64 { return float64(s.n) / s.elapsed.Seconds() }

// add merges another slice of the same measurement.
func (s stat) add(o stat) stat {
	s.n += o.n
	s.errs += o.errs
	s.elapsed += o.elapsed
	s.lats = append(s.lats, o.lats...)
	slices.Sort(s.lats)
	if len(s.lats) > 0 {
		s.p50 = s.lats[len(s.lats)*50/100]
		s.p99 = s.lats[min(len(s.lats)-1, len(s.lats)*99/100)]
	}
	return s
}

// work is one request (or one replay of statements); i numbers the iterations.
type work func(ctx context.Context, i int) error

// rounds is how many slices each measurement is cut into: the sides of a comparison
// alternate, so a change in the machine's load (it is shared) weighs on both alike
// instead of on whichever ran second.
const rounds = 4

// compare runs each side for the duration in alternating slices and returns their stats.
func (b *bench) compare(ctx context.Context, sides ...work) []stat {
	out := make([]stat, len(sides))
	slice := b.o.duration / rounds
	for range rounds {
		for i, w := range sides {
			out[i] = out[i].add(b.load(ctx, slice, w))
		}
	}
	return out
}

// load runs w from conns workers for d and collects every latency. Requests in flight
// at the end are waited for and counted (cutting them off would drop exactly the slow
// ones), and the elapsed time runs until the last one ends.
func (b *bench) load(ctx context.Context, d time.Duration, w work) stat {
	lats := make([][]time.Duration, b.o.conns)
	errs := make([]int, b.o.conns)
	var wg sync.WaitGroup
	start := time.Now()
	stop := start.Add(d)
	for k := range b.o.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := k; ctx.Err() == nil && time.Now().Before(stop); i += b.o.conns {
				t0 := time.Now()
				if err := w(ctx, i); err != nil {
					errs[k]++
					continue
				}
				lats[k] = append(lats[k], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	s := stat{elapsed: time.Since(start)}
	for k := range lats {
		s.lats = append(s.lats, lats[k]...)
		s.errs += errs[k]
	}
	s.n = len(s.lats)
	return s
}

func (b *bench) http(t target) work {
	return func(ctx context.Context, i int) error {
		status, err := b.do(ctx, t, i)
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("status %d", status)
		}
		return err
	}
}

// replay runs the recorded statements one after another per iteration, reading every row,
// as the handler did.
func (b *bench) replay(stmts []statement) work {
	return func(ctx context.Context, _ int) error {
		for _, s := range stmts {
			rows, err := b.raw.Query(ctx, s.sql, s.args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				if _, err := rows.Values(); err != nil {
					rows.Close()
					return err
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	}
}

// row is one line of the table.
type row struct {
	what      string
	rosetta   stat
	raw       stat
	rawWhat   string
	minRatio  float64       // budget: Rosetta's rate at least this share of raw (0: none)
	maxP99    time.Duration // budget on Rosetta's p99 (0: none)
	statement int           // statements per request on the raw side
	// footprint rows carry a value and its budget instead
	value, budget string
	pass          *bool
}

func (r row) ratio() float64 {
	if r.raw.n == 0 {
		return 0
	}
	return r.rosetta.rate() / r.raw.rate()
}

func (r row) ok() bool {
	if r.pass != nil {
		return *r.pass
	}
	ok := r.rosetta.errs == 0 && r.raw.errs == 0 && r.rosetta.n > 0
	if r.minRatio > 0 && r.ratio() < r.minRatio {
		ok = false
	}
	if r.maxP99 > 0 && r.rosetta.p99 >= r.maxP99 {
		ok = false
	}
	return ok
}

func (b *bench) measureAll(ctx context.Context) ([]row, error) {
	var rows []row
	ids := b.fleet.sourceIDs
	if len(ids) == 0 {
		return nil, errors.New("no sources seeded")
	}
	// Warm both sides (connections, prepared statements, caches) before any figure.
	single := target{name: "GET /api/v1/sources/{id}", path: func(i int) string { return fmt.Sprintf("/api/v1/sources/%d", ids[i%len(ids)]) }}
	for i := range 200 {
		if _, err := b.do(ctx, single, i); err != nil {
			return nil, err
		}
	}

	// (1) the single read, against the primary-key read through raw pgxpool.
	b.progress("1: %s", single.name)
	singleSQL, err := b.record(ctx, single)
	if err != nil {
		return nil, err
	}
	r := row{what: "`GET /api/v1/sources/{id}`, bearer token", minRatio: 0.40, rawWhat: "primary-key read (`GetSource`)", statement: 1}
	q := db.New(b.raw)
	pk := func(ctx context.Context, i int) error {
		_, err := q.GetSource(ctx, ids[i%len(ids)])
		return err
	}
	if b.o.cpuProf != "" {
		f, err := os.Create(b.o.cpuProf)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		b.load(ctx, b.o.duration, b.http(single))
		pprof.StopCPUProfile()
		f.Close()
	}
	st := b.compare(ctx, b.http(single), pk, b.replay(singleSQL))
	r.rosetta, r.raw = st[0], st[1]
	rows = append(rows, r)
	// The same request against its own statements: what HTTP, access and JSON cost on
	// top of the query (no budget; it tells the query's cost from the server's).
	rows = append(rows, row{what: "`GET /api/v1/sources/{id}` (same run, vs its own SQL)",
		rawWhat: "the handler's SQL (" + strings.Join(stmtNames(singleSQL), ", ") + ")",
		rosetta: st[0], raw: st[2], statement: len(singleSQL)})

	// (2) the pipeline list, default order and every sort the API offers.
	for _, sort := range append([]string{""}, catalog.PipelineSorts...) {
		path := "/api/v1/pipelines?limit=50"
		label := "default order"
		if sort != "" {
			path += "&sort=" + sort
			label = "sort=" + sort
		}
		t := target{name: "GET " + path, path: func(int) string { return path }}
		b.progress("2: %s", t.name)
		stmts, err := b.record(ctx, t)
		if err != nil {
			return nil, err
		}
		r := row{what: "`GET /api/v1/pipelines?limit=50`, " + label, minRatio: 0.70, rawWhat: "the handler's SQL (list + total)", statement: len(stmts)}
		st := b.compare(ctx, b.http(t), b.replay(stmts))
		r.rosetta, r.raw = st[0], st[1]
		rows = append(rows, r)
	}

	// (3) the console page, signed in, through the full middleware stack.
	page := target{name: "GET /pipelines (console)", path: func(int) string { return "/pipelines" }, session: true}
	b.progress("3: %s", page.name)
	stmts, err := b.record(ctx, page)
	if err != nil {
		return nil, err
	}
	r = row{what: "console `/pipelines` (50 rows, signed in)", minRatio: 0.60, maxP99: 20 * time.Millisecond,
		rawWhat: "the page's SQL (" + strings.Join(stmtNames(stmts), ", ") + ")", statement: len(stmts)}
	st = b.compare(ctx, b.http(page), b.replay(stmts))
	r.rosetta, r.raw = st[0], st[1]
	rows = append(rows, r)
	return rows, nil
}

var sqlcName = regexp.MustCompile(`-- name: (\w+)`)

// stmtNames are the sqlc names of statements (or "SQL" for one without).
func stmtNames(stmts []statement) []string {
	var out []string
	for _, s := range stmts {
		n := "SQL[" + strings.Join(strings.Fields(s.sql), " ")[:min(60, len(strings.Join(strings.Fields(s.sql), " ")))] + "]"
		if m := sqlcName.FindStringSubmatch(s.sql); m != nil {
			n = m[1]
		}
		out = append(out, n)
	}
	return out
}
