package db

import "github.com/jackc/pgx/v5/pgtype"

// CachedScanPlans is how many scan plans the pool's QueryRow keeps for the type map m.
func CachedScanPlans(m *pgtype.Map) int {
	n := 0
	scanPlans.plans.Range(func(k, _ any) bool {
		if k.(planKey).m == m {
			n++
		}
		return true
	})
	return n
}
