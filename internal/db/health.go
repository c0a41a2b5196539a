package db

import (
	"context"
	"time"
)

// Health is the readiness view of the database.
type Health struct {
	Reachable        bool
	Latency          time.Duration
	MigrationVersion int64
	Error            error
	TotalConns       int32
	IdleConns        int32
	AcquiredConns    int32
	MaxConns         int32
}

// CheckHealth pings the database and reads the applied migration version, bounded by
// ctx: a readiness probe must answer, not hang, when the database is gone.
func (p *Pool) CheckHealth(ctx context.Context) Health {
	st := p.Stat()
	h := Health{TotalConns: st.TotalConns(), IdleConns: st.IdleConns(), AcquiredConns: st.AcquiredConns(), MaxConns: st.MaxConns()}
	start := time.Now()
	err := p.QueryRow(ctx, `SELECT coalesce(max(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&h.MigrationVersion)
	h.Latency = time.Since(start)
	if err != nil {
		h.Error = err
		return h
	}
	h.Reachable = true
	return h
}
