package catalog

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/db"
)

// SparkPoint is one bucket of a sparkline: the peak retained WAL in the bucket that
// starts at At.
type SparkPoint struct {
	At            time.Time
	RetainedBytes int64
}

// MaxSparkPoints bounds a sparkline: a few dozen points are all a row-high line shows.
const MaxSparkPoints = 200

// WALSparklines is the retained WAL of each listed source over span (ending now), folded
// into at most points buckets (each its peak, so a spike is never averaged away), oldest
// first. One query for every source: the fleet overview asks once per page. A source
// without samples (or without a slot) is absent from the map.
func (s *Service) WALSparklines(ctx context.Context, sourceIDs []int64, span time.Duration, points int) (map[int64][]SparkPoint, error) {
	var f apperr.Fields
	if points < 2 || points > MaxSparkPoints {
		f.Add("points", "must be between 2 and %d", MaxSparkPoints)
	}
	if span < time.Minute {
		f.Add("span", "must be at least a minute")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	out := map[int64][]SparkPoint{}
	if len(sourceIDs) == 0 {
		return out, nil
	}
	// Whole seconds, so the buckets line up the same way on every request.
	bucket := (span / time.Duration(points)).Truncate(time.Second)
	start := time.Now().Add(-span).Truncate(bucket)
	rows, err := s.q.ListWALSparklines(ctx, db.ListWALSparklinesParams{
		Bucket:    pgtype.Interval{Microseconds: bucket.Microseconds(), Valid: true},
		StartAt:   start,
		SourceIds: sourceIDs,
	})
	if err != nil {
		return nil, translate(err, "WAL sample", "")
	}
	for _, r := range rows {
		out[r.SourceID] = append(out[r.SourceID], SparkPoint{At: r.BucketAt.UTC(), RetainedBytes: r.RetainedBytes})
	}
	return out, nil
}
