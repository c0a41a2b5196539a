package db

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PoolOptions are the seed's pool settings as pgxpool understands them.
type PoolOptions struct {
	MaxConns int32
	// AcquireTimeout bounds the wait for a free connection (the seed's DB_POOL_TIMEOUT):
	// pgxpool itself waits as long as the caller's context allows.
	AcquireTimeout time.Duration
	// Recycle is the maximum lifetime of a connection (the seed's pool recycle).
	Recycle time.Duration
}

// ErrPoolTimeout reports that no connection became free within AcquireTimeout.
var ErrPoolTimeout = errors.New("database: no connection available within the pool timeout")

// Pool is a pgxpool with an acquire timeout. It satisfies DBTX, so sqlc queries run on it.
type Pool struct {
	*pgxpool.Pool
	acquireTimeout time.Duration
}

// NewPool opens a pool. It does not wait for the database to answer: a server that is down
// at start-up shows up as 503s and a failing readiness check, not as a crash loop.
func NewPool(ctx context.Context, url string, o PoolOptions) (*Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message can quote the URL, which may hold a password
		return nil, errors.New("database: cannot parse the connection URL")
	}
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	}
	if o.Recycle > 0 {
		cfg.MaxConnLifetime = o.Recycle
		cfg.MaxConnLifetimeJitter = o.Recycle / 10
	}
	cfg.MaxConnIdleTime = 10 * time.Minute
	cfg.HealthCheckPeriod = 30 * time.Second
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "rosetta"
	}
	// JIT off for Rosetta's own statements: they are short OLTP reads and writes, and
	// PostgreSQL decides to compile by estimated cost, not by rows actually read, so a
	// statement that merely looks expensive pays tens to hundreds of milliseconds of LLVM
	// compilation per execution (the fleet statement before migration 00008 spent 1.0 s
	// of its 2.4 s in JIT; BENCHMARKS.md). No statement of Rosetta's runs long enough for
	// compiled expressions to pay back. A jit setting in DATABASE_URL still wins.
	if _, set := cfg.ConnConfig.RuntimeParams["jit"]; !set {
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	// A connection's scan plans (scanPlans) go with it.
	cfg.BeforeClose = func(c *pgx.Conn) { scanPlans.forget(c.TypeMap()) }
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	return &Pool{Pool: p, acquireTimeout: o.AcquireTimeout}, nil
}

// Wrap gives an existing pgxpool the acquire timeout (tests build pools themselves).
func Wrap(p *pgxpool.Pool, acquireTimeout time.Duration) *Pool {
	return &Pool{Pool: p, acquireTimeout: acquireTimeout}
}

func (p *Pool) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	if p.acquireTimeout <= 0 {
		return p.Pool.Acquire(ctx)
	}
	actx := &acquireCtx{Context: ctx, timeout: p.acquireTimeout}
	defer actx.stop()
	c, err := p.Pool.Acquire(actx)
	timedOut := actx.timedOut()
	if err != nil && ctx.Err() == nil && timedOut {
		return nil, fmt.Errorf("%w (%s)", ErrPoolTimeout, p.acquireTimeout)
	}
	return c, err
}

// acquireCtx bounds one pool acquire by the pool timeout, arming the timer only when the
// acquire is about to wait. context.WithTimeout armed one on every query, though nearly
// every acquire finds an idle connection at once; that timer (started, registered with
// the caller's context, stopped) was about 5 % of the single read's server CPU in its
// profile (issue 12).
//
// puddle asks for Done once, for a non-blocking check, before it takes an idle
// connection. Whatever is about to wait asks again (for a connection to be released, a
// new one to connect, or pgxpool's ping of a long-idle one) or asks for the Deadline
// first. So the first Done is the caller's own channel, and any later Done or Deadline
// arms the bounded context: from then on the wait ends at the caller's cancellation or
// the timeout, whichever is first. The timeout runs from when the wait starts, which is
// what DB_POOL_TIMEOUT promises. TestAcquireArmsNoTimerForAnIdleConnection fails if a
// pgx upgrade asks more often; TestPoolTimeout* fail if one waits on the first channel.
// (So would a pgxpool AcquireTracer that derives a cancellable context from it and
// waits on that: the pool sets none.)
type acquireCtx struct {
	context.Context // the caller's: values always, cancellation until a wait starts
	timeout         time.Duration

	mu      sync.Mutex // puddle's constructor goroutine may ask while Acquire does
	asked   bool
	bounded context.Context
	cancel  context.CancelFunc
}

func (c *acquireCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.asked && c.bounded == nil {
		c.asked = true
		return c.Context.Done()
	}
	return c.boundLocked().Done()
}

func (c *acquireCtx) Deadline() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.boundLocked().Deadline()
}

func (c *acquireCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bounded != nil {
		return c.bounded.Err()
	}
	return c.Context.Err()
}

func (c *acquireCtx) boundLocked() context.Context {
	if c.bounded == nil {
		c.bounded, c.cancel = context.WithTimeout(c.Context, c.timeout)
	}
	return c.bounded
}

// timedOut reports whether the acquire's own timeout (not the caller's) ended its wait.
func (c *acquireCtx) timedOut() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bounded != nil && errors.Is(c.bounded.Err(), context.DeadlineExceeded)
}

// stop releases the timer, if one was armed.
func (c *acquireCtx) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil {
		c.cancel()
	}
}

func (p *Pool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	c, err := p.acquire(ctx)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer c.Release()
	return c.Exec(ctx, sql, args...)
}

func (p *Pool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	c, err := p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := c.Query(ctx, sql, args...)
	if err != nil {
		c.Release()
		return nil, err
	}
	return &releasingRows{Rows: rows, conn: c}, nil
}

func (p *Pool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	c, err := p.acquire(ctx)
	if err != nil {
		return errRow{err}
	}
	// pgx's QueryRow is Query plus a Scan of the first row (its error, if any, surfaces
	// from the rows); the Scan is ours, to reuse scan plans (scanPlans).
	rows, _ := c.Query(ctx, sql, args...)
	return &releasingRow{rows: rows, conn: c, sql: sql}
}

// Begin starts a transaction on a connection acquired under the timeout.
func (p *Pool) Begin(ctx context.Context) (pgx.Tx, error) {
	c, err := p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := c.Begin(ctx)
	if err != nil {
		c.Release()
		return nil, err
	}
	return &releasingTx{Tx: tx, conn: c}, nil
}

// InTx runs fn in one transaction with queries bound to it, committing when fn returns
// nil and rolling back on an error or a panic. tx is there for what sqlc does not
// generate (locks, audit rows written by other packages).
func (p *Pool) InTx(ctx context.Context, fn func(q *Queries, tx pgx.Tx) error) error {
	tx, err := p.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit this is a no-op
	if err := fn(New(tx), tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

type releasingRows struct {
	pgx.Rows
	conn *pgxpool.Conn
	done bool
}

func (r *releasingRows) Close() {
	r.Rows.Close()
	if !r.done {
		r.done = true
		r.conn.Release()
	}
}

func (r *releasingRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

type releasingRow struct {
	rows pgx.Rows
	conn *pgxpool.Conn
	sql  string
}

// Scan is pgx's QueryRow Scan (ErrNoRows, ScanArgError, the statement's error from
// Close), with each column's scan plan taken from scanPlans instead of planned again:
// pgx v5 plans every column of every query, which for the single read's 29 columns
// (a source row) was a tenth of the request's CPU in process (BENCHMARKS.md, issue 12,
// fifth pass). A single destination may be a pgx.RowScanner: that, and short rows where
// planning is cheap, go through pgx's own Scan. DriverBytes cannot outlive the row, so
// it is refused before reading, with pgx's QueryRow's own error.
func (r *releasingRow) Scan(dest ...any) error {
	defer r.conn.Release()
	rows := r.rows
	defer rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if anyDriverBytes(dest) {
		return errors.New("cannot scan into *pgtype.DriverBytes from QueryRow")
	}
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if len(dest) < planCacheMinColumns {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		rows.Close()
		return rows.Err()
	}
	fields := rows.FieldDescriptions()
	if len(fields) != len(dest) {
		return fmt.Errorf("number of field descriptions must equal number of destinations, got %d and %d", len(fields), len(dest))
	}
	values := rows.RawValues()
	for i, p := range scanPlans.get(r.conn.Conn().TypeMap(), r.sql, fields, dest) {
		if p.plan == nil {
			continue
		}
		if err := p.plan.Scan(values[i], dest[i]); err != nil {
			return pgx.ScanArgError{ColumnIndex: i, FieldName: fields[i].Name, Err: err}
		}
	}
	rows.Close()
	return rows.Err()
}

// planCacheMinColumns: below this many columns a row goes through pgx's Scan.
const planCacheMinColumns = 4

func anyDriverBytes(dest []any) bool {
	for _, d := range dest {
		if _, ok := d.(*pgtype.DriverBytes); ok {
			return true
		}
	}
	return false
}

// planCache keeps a row's pgtype scan plans, one per column, by connection type map and
// statement text: what pgx's rows keep for one result's rows (a plan is reused for any
// destination of the type it was made for, one row after another), kept across
// statements, so a row's plans cost one lookup. One text can come back with other
// columns (another exec mode's formats, a changed table behind *) or be scanned into
// other destinations, so what a key holds is checked column by column (type, format,
// destination type) before it is used, and planned again when it does not match. Plans are only used by the connection
// whose map made them, so never concurrently. Connections come and go (pool
// recycling): a closed connection's plans are dropped as it closes (forget, NewPool's
// BeforeClose), so its type map is not kept alive; a pool built elsewhere (Wrap) has no
// such hook, and the cache is emptied when it outgrows planCacheMax, which bounds it
// either way.
type planCache struct {
	rows sync.Map // rowKey → []colPlan, never changed once stored
	n    atomic.Int64
}

type rowKey struct {
	m   *pgtype.Map
	sql string
}

type colPlan struct {
	oid    uint32
	format int16
	dest   reflect.Type
	plan   pgtype.ScanPlan // nil for a nil destination (the column is skipped)
}

const planCacheMax = 1 << 12

var scanPlans planCache

// get returns a plan for each of dest (len(dest) == len(fields) > 0).
func (c *planCache) get(m *pgtype.Map, sql string, fields []pgconn.FieldDescription, dest []any) []colPlan {
	k := rowKey{m: m, sql: sql}
	if v, ok := c.rows.Load(k); ok {
		if plans := v.([]colPlan); plansFit(plans, fields, dest) {
			return plans
		}
	}
	plans := make([]colPlan, len(dest))
	for i, d := range dest {
		f := fields[i]
		plans[i] = colPlan{oid: f.DataTypeOID, format: f.Format, dest: reflect.TypeOf(d)}
		if d != nil {
			plans[i].plan = m.PlanScan(f.DataTypeOID, f.Format, d)
		}
	}
	// Replacing a key's plans (another destination type) adds no entry.
	if _, replaced := c.rows.Swap(k, plans); !replaced && c.n.Add(1) > planCacheMax {
		c.rows.Clear()
		c.rows.Store(k, plans)
		c.n.Store(1)
	}
	return plans
}

func plansFit(plans []colPlan, fields []pgconn.FieldDescription, dest []any) bool {
	if len(plans) != len(dest) {
		return false
	}
	for i, p := range plans {
		if p.oid != fields[i].DataTypeOID || p.format != fields[i].Format || p.dest != reflect.TypeOf(dest[i]) {
			return false
		}
	}
	return true
}

// forget drops the plans made by the type map m (a connection's, as it closes).
func (c *planCache) forget(m *pgtype.Map) {
	c.rows.Range(func(k, _ any) bool {
		if k.(rowKey).m == m {
			if _, loaded := c.rows.LoadAndDelete(k); loaded {
				c.n.Add(-1)
			}
		}
		return true
	})
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

type releasingTx struct {
	pgx.Tx
	conn *pgxpool.Conn
	done bool
}

func (t *releasingTx) release() {
	if !t.done {
		t.done = true
		t.conn.Release()
	}
}

func (t *releasingTx) Commit(ctx context.Context) error {
	defer t.release()
	return t.Tx.Commit(ctx)
}

func (t *releasingTx) Rollback(ctx context.Context) error {
	err := t.Tx.Rollback(ctx)
	// Rollback after Commit returns ErrTxClosed and must not release twice.
	t.release()
	return err
}
