package walmon

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// The advisory lock that makes one instance the leader, as two int4 keys ("ROSE",
// "WALM") so it cannot collide with a single-bigint lock another application takes.
const (
	lockKey1 int32 = 0x524F5345
	lockKey2 int32 = 0x57414C4D
)

// ElectionAppName marks the lock's session in pg_stat_activity.
const ElectionAppName = "rosetta wal-monitor election"

// ErrNotLeader is IsLeader's answer on a follower.
var ErrNotLeader = errors.New("walmon: another instance holds the WAL monitor lock")

// Elector is gocron's distributed elector on a PostgreSQL advisory lock, held by a
// session on a dedicated connection (outside the pool, which would hand it to others).
// Every IsLeader call checks again that the connection is alive and that its backend
// still holds the lock in pg_locks; nothing is cached. A dead connection is a lost lock:
// the server released it when the session ended, and another instance may hold it now.
type Elector struct {
	cfg      *pgx.ConnConfig
	onChange func(bool)

	mu     sync.Mutex
	conn   *pgx.Conn
	leader bool
	closed bool
}

// NewElector builds an elector that connects with cfg (copied). onChange, if not nil, is
// called when leadership is gained or lost.
func NewElector(cfg *pgx.ConnConfig, onChange func(leader bool)) *Elector {
	c := cfg.Copy()
	if c.RuntimeParams == nil {
		c.RuntimeParams = map[string]string{}
	}
	c.RuntimeParams["application_name"] = ElectionAppName
	return &Elector{cfg: c, onChange: onChange}
}

// IsLeader implements gocron.Elector: nil when this instance holds the lock (taking it
// when it is free).
func (e *Elector) IsLeader(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		e.set(false)
		return ErrNotLeader
	}
	ok, err := e.check(ctx)
	e.set(ok)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotLeader
	}
	return nil
}

// Leader reports the outcome of the last check, for status pages only; the scheduler
// always asks IsLeader.
func (e *Elector) Leader() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leader
}

const heldSQL = `SELECT EXISTS (
    SELECT 1 FROM pg_locks
    WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND classid = $1::int4::oid AND objid = $2::int4::oid AND objsubid = 2)`

func (e *Elector) check(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if e.conn == nil || e.conn.IsClosed() {
		e.conn = nil
		conn, err := pgx.ConnectConfig(ctx, e.cfg.Copy())
		if err != nil {
			return false, err
		}
		e.conn = conn
	}
	var held bool
	if err := e.conn.QueryRow(ctx, heldSQL, lockKey1, lockKey2).Scan(&held); err != nil {
		e.drop()
		return false, err
	}
	if held {
		return true, nil
	}
	var got bool
	if err := e.conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2)`, lockKey1, lockKey2).Scan(&got); err != nil {
		e.drop()
		return false, err
	}
	return got, nil
}

// drop closes a connection that failed: whatever it held, it holds no more.
func (e *Elector) drop() {
	if e.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = e.conn.Close(ctx)
		cancel()
		e.conn = nil
	}
}

func (e *Elector) set(leader bool) {
	if leader == e.leader {
		return
	}
	e.leader = leader
	if e.onChange != nil {
		e.onChange(leader)
	}
}

// Close ends the session, which releases the lock at once for another instance.
func (e *Elector) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	e.drop()
	e.set(false)
}
