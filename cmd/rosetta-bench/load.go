package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
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
// raw side replays exactly the SQL a handler ran (whatever its queries are today). The
// statements of a pgx.Batch are kept with their batch's number, and replayed as one
// batch (one round trip), as the app sent them.
type recorder struct {
	on      atomic.Bool
	mu      sync.Mutex
	stmts   []statement
	batches int
}

type statement struct {
	sql   string
	args  []any
	batch int // 0: sent alone; n: the n-th batch recorded
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

func (r *recorder) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	if r.on.Load() && d.Batch != nil {
		r.mu.Lock()
		r.batches++
		for _, q := range d.Batch.QueuedQueries {
			r.stmts = append(r.stmts, statement{sql: q.SQL, args: q.Arguments, batch: r.batches})
		}
		r.mu.Unlock()
	}
	return ctx
}

func (r *recorder) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (r *recorder) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

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
	client   *http.Client // net/http, for recording against the in-process app only
	raw      *pgxpool.Pool
	base     string // the in-process app (recording)
	rec      *recorder
	creds    credentials
	fleet    fleet
	progress func(string, ...any)
	srv      *server // rosetta serve, the process under load
	bare     *server // the single read's bare reference server (bare.go), when measured
}

// target is one kind of request: its path (i picks among the fleet) and how it
// authenticates.
type target struct {
	name    string
	path    func(i int) string
	paths   int  // how many different paths path gives (pre-built requests)
	session bool // console session cookies instead of the bearer token
}

func (t target) header(c credentials) string {
	if t.session {
		return "Cookie: " + c.cookies
	}
	return "Authorization: Bearer " + c.token
}

// do sends one request to the in-process app through net/http (recording, warm-up).
func (b *bench) do(ctx context.Context, t target, i int) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.base+t.path(i), nil)
	if err != nil {
		return 0, err
	}
	name, value, _ := strings.Cut(t.header(b.creds), ": ")
	req.Header.Set(name, value)
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
	conns    int
	n        int
	errs     int
	elapsed  time.Duration
	p50, p99 time.Duration
	lats     []time.Duration
	// serverCPU is the CPU time the server process used during the measurement and
	// clientCPU the load driver's (HTTP sides only): per request, the load-independent
	// figures.
	serverCPU, clientCPU time.Duration
	firstErr             error
}

func (s stat) rate() float64 { return float64(s.n) / s.elapsed.Seconds() }

func perRequest(d time.Duration, n int) time.Duration {
	if n == 0 {
		return 0
	}
	return d / time.Duration(n)
}

// add merges another slice of the same measurement.
func (s stat) add(o stat) stat {
	s.conns = o.conns
	s.n += o.n
	s.errs += o.errs
	s.elapsed += o.elapsed
	s.serverCPU += o.serverCPU
	s.clientCPU += o.clientCPU
	if s.firstErr == nil {
		s.firstErr = o.firstErr
	}
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

// side is one side of a comparison: worker(k) makes the k-th worker's work (an HTTP
// worker owns its connection); http sides have the server's CPU measured.
type side struct {
	worker func(k int) (work, func())
	http   bool
	proc   *server // the server process an http side loads, whose CPU is measured
}

// rounds is how many slices each measurement is cut into: the sides of a comparison
// alternate, so a change in the machine's load (it is shared) weighs on both alike
// instead of on whichever ran second.
const rounds = 4

// compare runs each side for the duration in alternating slices at conns workers and
// returns their stats.
func (b *bench) compare(ctx context.Context, conns int, sides ...side) []stat {
	out := make([]stat, len(sides))
	slice := b.o.duration / rounds
	for range rounds {
		for i, sd := range sides {
			out[i] = out[i].add(b.load(ctx, slice, conns, sd))
		}
	}
	return out
}

// load runs sd from conns workers for d and collects every latency. Requests in flight
// at the end are waited for and counted (cutting them off would drop exactly the slow
// ones), and the elapsed time runs until the last one ends.
func (b *bench) load(ctx context.Context, d time.Duration, conns int, sd side) stat {
	lats := make([][]time.Duration, conns)
	errs := make([]int, conns)
	firstErr := make([]error, conns)
	works := make([]work, conns)
	for k := range conns {
		w, done := sd.worker(k)
		works[k] = w
		defer done()
	}
	var wg sync.WaitGroup
	srv0, self0 := b.serverCPU(sd), selfCPU()
	start := time.Now()
	stop := start.Add(d)
	for k := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lats[k] = make([]time.Duration, 0, 4096)
			for i := k; ctx.Err() == nil && time.Now().Before(stop); i += conns {
				t0 := time.Now()
				if err := works[k](ctx, i); err != nil {
					errs[k]++
					if firstErr[k] == nil {
						firstErr[k] = err
					}
					continue
				}
				lats[k] = append(lats[k], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	s := stat{conns: conns, elapsed: time.Since(start)}
	if sd.http {
		s.serverCPU, s.clientCPU = b.serverCPU(sd)-srv0, selfCPU()-self0
	}
	for k := range lats {
		s.lats = append(s.lats, lats[k]...)
		s.errs += errs[k]
		if s.firstErr == nil {
			s.firstErr = firstErr[k]
		}
	}
	s.n = len(s.lats)
	return s
}

func (b *bench) serverCPU(sd side) time.Duration {
	if !sd.http {
		return 0
	}
	d, err := processCPU(sd.proc.pid())
	if err != nil {
		b.progress("server CPU: %v", err)
	}
	return d
}

// http is the side sending t to the server process: each worker its own keep-alive
// connection, the requests built once.
func (b *bench) http(t target) side { return b.httpTo(b.srv, t) }

// httpTo is http against another server process (the bare reference server).
func (b *bench) httpTo(srv *server, t target) side {
	n := max(t.paths, 1)
	reqs := make([][]byte, n)
	for i := range n {
		reqs[i] = buildRequest(srv.addr, t.path(i), t.header(b.creds))
	}
	return side{http: true, proc: srv, worker: func(int) (work, func()) {
		c := &httpConn{addr: srv.addr}
		return func(_ context.Context, i int) error {
			status, err := c.roundTrip(reqs[i%n])
			if err == nil && status != http.StatusOK {
				err = fmt.Errorf("status %d", status)
			}
			return err
		}, c.close
	}}
}

// plain is a side that needs no per-worker state (the raw pgxpool side).
func plain(w work) side {
	return side{worker: func(int) (work, func()) { return w, func() {} }}
}

// replay runs the recorded statements one after another per iteration, reading every row,
// as the handler did; a recorded batch is sent as one pgx.Batch.
func (b *bench) replay(stmts []statement) side {
	return plain(func(ctx context.Context, _ int) error {
		for i := 0; i < len(stmts); {
			if stmts[i].batch == 0 {
				rows, err := b.raw.Query(ctx, stmts[i].sql, stmts[i].args...)
				if err != nil {
					return err
				}
				if err := drain(rows); err != nil {
					return err
				}
				i++
				continue
			}
			var batch pgx.Batch
			j := i
			for ; j < len(stmts) && stmts[j].batch == stmts[i].batch; j++ {
				batch.Queue(stmts[j].sql, stmts[j].args...)
			}
			res := b.raw.SendBatch(ctx, &batch)
			for range j - i {
				rows, err := res.Query()
				if err != nil {
					res.Close()
					return err
				}
				if err := drain(rows); err != nil {
					res.Close()
					return err
				}
			}
			if err := res.Close(); err != nil {
				return err
			}
			i = j
		}
		return nil
	})
}

// drain reads every row's values, as a handler scanning them would, and closes rows.
func drain(rows pgx.Rows) error {
	defer rows.Close()
	for rows.Next() {
		if _, err := rows.Values(); err != nil {
			return err
		}
	}
	return rows.Err()
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
	note      string        // shown instead of "info" for a row without a budget
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

// plan is what will be measured: every target with the statements it ran, recorded
// against the in-process app before the server process starts.
type plan struct {
	single, page target
	singleSQL    []statement
	lists        []listPlan
	pageSQL      []statement
}

type listPlan struct {
	t     target
	label string
	stmts []statement
}

// recordAll sends each target once to the in-process app, whose pool carries the
// recording tracer, and keeps the data statements each ran.
func (b *bench) recordAll(ctx context.Context) (plan, error) {
	var p plan
	ids := b.fleet.sourceIDs
	if len(ids) == 0 {
		return p, errors.New("no sources seeded")
	}
	p.single = target{name: "GET /api/v1/sources/{id}", paths: len(ids),
		path: func(i int) string { return fmt.Sprintf("/api/v1/sources/%d", ids[i%len(ids)]) }}
	var err error
	if p.singleSQL, err = b.record(ctx, p.single); err != nil {
		return p, err
	}
	for _, sort := range append([]string{""}, catalog.PipelineSorts...) {
		path := "/api/v1/pipelines?limit=50"
		label := "default order"
		if sort != "" {
			path += "&sort=" + sort
			label = "sort=" + sort
		}
		t := target{name: "GET " + path, path: func(int) string { return path }}
		stmts, err := b.record(ctx, t)
		if err != nil {
			return p, err
		}
		p.lists = append(p.lists, listPlan{t: t, label: label, stmts: stmts})
	}
	p.page = target{name: "GET /pipelines (console)", path: func(int) string { return "/pipelines" }, session: true}
	if p.pageSQL, err = b.record(ctx, p.page); err != nil {
		return p, err
	}
	return p, nil
}

// consoleConns is the operator-realistic concurrency at which the console page's p99
// budget is read: at 32 connections on 2 cores latency is concurrency ÷ throughput
// (raw's own p50 there is tens of milliseconds), so a 20 ms p99 cannot hold there.
const consoleConns = 4

// profiled runs t alone against the server while fetching a CPU profile of the server
// process, when -cpuprofile is given (name is inserted before the file's extension).
func (b *bench) profiled(ctx context.Context, name string, t target) error {
	return b.profiledOn(ctx, b.srv, name, t)
}

// profiledOn is profiled against srv (the bare reference server, for a profile of the
// floor beside Rosetta's).
func (b *bench) profiledOn(ctx context.Context, srv *server, name string, t target) error {
	if b.o.cpuProf == "" {
		return nil
	}
	ext := filepath.Ext(b.o.cpuProf)
	path := strings.TrimSuffix(b.o.cpuProf, ext) + "-" + name + ext
	d := max(b.o.duration, 2*time.Second).Round(time.Second)
	errc := make(chan error, 1)
	go func() { errc <- srv.profile(ctx, d, path) }()
	st := b.load(ctx, d+200*time.Millisecond, b.o.conns, b.httpTo(srv, t))
	if err := <-errc; err != nil {
		return err
	}
	b.progress("profile %s: %s (%d requests, server CPU %.0f µs per request)", name, path, st.n,
		float64(perRequest(st.serverCPU, st.n).Nanoseconds())/1000)
	return nil
}

// wants reports whether group (single, list, console) is to be measured (-only).
func (b *bench) wants(group string) bool {
	return b.o.only == "" || slices.Contains(strings.Split(b.o.only, ","), group)
}

func (b *bench) measureAll(ctx context.Context, p plan) ([]row, error) {
	var rows []row
	// Warm both sides (connections, prepared statements, caches) before any figure.
	b.load(ctx, 300*time.Millisecond, b.o.conns, b.http(p.single))
	if b.bare != nil {
		if err := b.sameBody(ctx, p.single); err != nil {
			return nil, err
		}
		b.load(ctx, 300*time.Millisecond, b.o.conns, b.httpTo(b.bare, p.single))
	}

	rows = append(rows, b.measureSingle(ctx, p)...)
	if b.wants("list") {
		r, err := b.measureLists(ctx, p)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r...)
	}
	if b.wants("console") {
		r, err := b.measureConsole(ctx, p)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r...)
	}
	return rows, nil
}

// sameBody checks that the bare reference server answers t's requests with Rosetta's
// bytes: a reference serving another body would not measure the same work.
func (b *bench) sameBody(ctx context.Context, t target) error {
	get := func(srv *server, i int) (string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.base+t.path(i), nil)
		if err != nil {
			return "", err
		}
		name, value, _ := strings.Cut(t.header(b.creds), ": ")
		req.Header.Set(name, value)
		res, err := b.client.Do(req)
		if err != nil {
			return "", err
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err == nil && res.StatusCode != http.StatusOK {
			err = fmt.Errorf("status %d", res.StatusCode)
		}
		return string(body), err
	}
	for _, i := range []int{0, max(t.paths, 1) / 2} {
		want, err := get(b.srv, i)
		if err != nil {
			return fmt.Errorf("%s from rosetta: %w", t.path(i), err)
		}
		got, err := get(b.bare, i)
		if err != nil {
			return fmt.Errorf("%s from the bare server: %w", t.path(i), err)
		}
		if got != want {
			return fmt.Errorf("the bare server's body for %s differs from rosetta's:\n%s\n%s", t.path(i), got, want)
		}
	}
	return nil
}

func (b *bench) measureSingle(ctx context.Context, p plan) []row {
	if !b.wants("single") {
		return nil
	}
	var rows []row
	ids := b.fleet.sourceIDs
	// (1) the single read, against the primary-key read through raw pgxpool.
	b.progress("1: %s", p.single.name)
	if err := b.profiled(ctx, "single", p.single); err != nil {
		b.progress("profile: %v", err)
	}
	if b.bare != nil {
		if err := b.profiledOn(ctx, b.bare, "single-bare", p.single); err != nil {
			b.progress("profile: %v", err)
		}
	}
	r := row{what: "`GET /api/v1/sources/{id}`, bearer token", minRatio: 0.40, rawWhat: "primary-key read (`GetSource`)", statement: 1}
	q := db.New(b.raw)
	pk := plain(func(ctx context.Context, i int) error {
		_, err := q.GetSource(ctx, ids[i%len(ids)])
		return err
	})
	sides := []side{b.http(p.single), pk, b.replay(p.singleSQL)}
	if b.bare != nil {
		sides = append(sides, b.httpTo(b.bare, p.single))
	}
	st := b.compare(ctx, b.o.conns, sides...)
	r.rosetta, r.raw = st[0], st[1]
	rows = append(rows, r)
	// The same request against its own statements: what HTTP, access and JSON cost on
	// top of the query (no budget; it tells the query's cost from the server's).
	rows = append(rows, row{what: "`GET /api/v1/sources/{id}` (same run, vs its own SQL)",
		rawWhat: "the handler's SQL (" + strings.Join(stmtNames(p.singleSQL), ", ") + ")",
		rosetta: st[0], raw: st[2], statement: len(p.singleSQL)})
	if b.bare != nil {
		// The floor, not a budget: the same request served by a bare Go server, against
		// the same primary-key read. Its "Rosetta" columns are the bare server's.
		rows = append(rows, row{what: "reference, not Rosetta: the same request from a bare Go server (net/http + pgxpool, token in a map, same statement and JSON)",
			rawWhat: "primary-key read (`GetSource`)", rosetta: st[3], raw: st[1], statement: len(p.singleSQL), note: "reference"})
	}
	return rows
}

func (b *bench) measureLists(ctx context.Context, p plan) ([]row, error) {
	var rows []row
	// (2) the pipeline list, default order and every sort the API offers.
	for i, l := range p.lists {
		b.progress("2: %s", l.t.name)
		if i == 0 {
			if err := b.profiled(ctx, "list", l.t); err != nil {
				return nil, err
			}
		}
		r := row{what: "`GET /api/v1/pipelines?limit=50`, " + l.label, minRatio: 0.70, rawWhat: "the handler's SQL (list + total)", statement: len(l.stmts)}
		st := b.compare(ctx, b.o.conns, b.http(l.t), b.replay(l.stmts))
		r.rosetta, r.raw = st[0], st[1]
		rows = append(rows, r)
	}
	return rows, nil
}

func (b *bench) measureConsole(ctx context.Context, p plan) ([]row, error) {
	var rows []row
	// (3) the console page, signed in, through the full middleware stack: the ratio at
	// the common concurrency, the p99 budget at an operator's.
	b.progress("3: %s", p.page.name)
	if err := b.profiled(ctx, "console", p.page); err != nil {
		return nil, err
	}
	rawWhat := "the page's SQL (" + strings.Join(stmtNames(p.pageSQL), ", ") + ")"
	r := row{what: "console `/pipelines` (50 rows, signed in)", minRatio: 0.60, rawWhat: rawWhat, statement: len(p.pageSQL)}
	st := b.compare(ctx, b.o.conns, b.http(p.page), b.replay(p.pageSQL))
	r.rosetta, r.raw = st[0], st[1]
	rows = append(rows, r)
	r = row{what: "console `/pipelines` (50 rows, signed in)", maxP99: 20 * time.Millisecond, rawWhat: rawWhat, statement: len(p.pageSQL)}
	st = b.compare(ctx, consoleConns, b.http(p.page), b.replay(p.pageSQL))
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
