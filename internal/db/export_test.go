package db

import "github.com/jackc/pgx/v5/pgtype"

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
