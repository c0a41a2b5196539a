package walmon_test

import (
	"context"
)

// wantStatusRank checks the status sort's key that pipelines keeps (migration 00011)
// followed the monitor's move of pipeline id.
func (e *env) wantStatusRank(step string, id int64, want int16) {
	e.t.Helper()
	var got int16
	if err := e.pool.QueryRow(context.Background(), `SELECT status_rank FROM pipelines WHERE id = $1`, id).Scan(&got); err != nil {
		e.t.Fatal(err)
	}
	if got != want {
		e.t.Errorf("%s: status_rank %d, want %d", step, got, want)
	}
}
