package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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
	actx, cancel := context.WithTimeout(ctx, p.acquireTimeout)
	defer cancel()
	c, err := p.Pool.Acquire(actx)
	if err != nil && ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
		return nil, fmt.Errorf("%w (%s)", ErrPoolTimeout, p.acquireTimeout)
	}
	return c, err
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
	return &releasingRow{row: c.QueryRow(ctx, sql, args...), conn: c}
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
	row  pgx.Row
	conn *pgxpool.Conn
}

func (r *releasingRow) Scan(dest ...any) error {
	defer r.conn.Release()
	return r.row.Scan(dest...)
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
