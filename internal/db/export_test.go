package db

import (
	"context"

	"github.com/jackc/pgx/v5/pgtype"
)

// CachedScanPlans is how many scan plans the pool's QueryRow keeps for the type map m.
func CachedScanPlans(m *pgtype.Map) int {
	n := 0
	scanPlans.rows.Range(func(k, v any) bool {
		if k.(rowKey).m == m {
			for _, p := range v.([]colPlan) {
				if p.plan != nil {
					n++
				}
			}
		}
		return true
	})
	return n
}

// AcquireArmsTimer acquires a connection as the pool's queries do and reports whether
// the acquire armed its timeout timer.
func AcquireArmsTimer(ctx context.Context, p *Pool) (armed bool, err error) {
	actx := &acquireCtx{Context: ctx, timeout: p.acquireTimeout}
	c, err := p.Pool.Acquire(actx)
	actx.mu.Lock()
	armed = actx.bounded != nil
	actx.mu.Unlock()
	actx.stop()
	if c != nil {
		c.Release()
	}
	return armed, err
}
