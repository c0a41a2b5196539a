package catalog

import (
	"context"
	"math"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/db"
)

const (
	DefaultWALLimit = 1000
	MaxWALLimit     = 10000
)

// WALQuery selects WAL samples. Start and End bound recorded_at inclusively.
type WALQuery struct {
	SourceID *int64
	Start    *time.Time
	End      *time.Time
	Limit    int
}

// WALSeries is the answer: newest first, and when more samples matched than Limit, one
// point per time bucket per source (the bucket's peak sample), computed in SQL.
type WALSeries struct {
	Items         []WALSample `json:"items"`
	Matched       int64       `json:"matched" doc:"Samples matching the filters before downsampling"`
	Downsampled   bool        `json:"downsampled"`
	BucketSeconds int64       `json:"bucket_seconds,omitempty" doc:"Width of each downsampling bucket"`
	Limit         int         `json:"limit"`
}

func (s *Service) WALMetrics(ctx context.Context, in WALQuery) (WALSeries, error) {
	var f apperr.Fields
	if in.Limit == 0 {
		in.Limit = DefaultWALLimit
	}
	if in.Limit < 1 || in.Limit > MaxWALLimit {
		f.Add("limit", "must be between 1 and %d", MaxWALLimit)
	}
	if in.Start != nil && in.End != nil && in.End.Before(*in.Start) {
		f.Add("end", "must not be before start")
	}
	if in.SourceID != nil {
		if _, err := s.q.GetSource(ctx, *in.SourceID); err != nil {
			if apperr.CodeOf(translate(err, "source", "")) == apperr.NotFound {
				f.Add("source_id", "no source has id %d", *in.SourceID)
			} else {
				return WALSeries{}, translate(err, "source", "")
			}
		}
	}
	if err := f.Err(); err != nil {
		return WALSeries{}, err
	}
	ext, err := s.q.WALMetricsExtent(ctx, db.WALMetricsExtentParams{SourceID: in.SourceID, StartAt: in.Start, EndAt: in.End})
	if err != nil {
		return WALSeries{}, translate(err, "WAL sample", "")
	}
	out := WALSeries{Matched: ext.N, Limit: in.Limit, Items: []WALSample{}}
	var rows []db.WalMetric
	if ext.N <= int64(in.Limit) {
		rows, err = s.q.ListWALMetrics(ctx, db.ListWALMetricsParams{SourceID: in.SourceID, StartAt: in.Start, EndAt: in.End, Lim: int32(in.Limit)})
	} else {
		bucket := bucketFor(ext.LastAt.Sub(ext.FirstAt), in.Limit, ext.Sources)
		out.Downsampled, out.BucketSeconds = true, int64(bucket/time.Second)
		rows, err = s.q.ListWALMetricsBinned(ctx, db.ListWALMetricsBinnedParams{
			Bucket: pgtype.Interval{Microseconds: bucket.Microseconds(), Valid: true},
			Origin: ext.FirstAt, SourceID: in.SourceID, StartAt: in.Start, EndAt: in.End, Lim: int32(in.Limit)})
	}
	if err != nil {
		return WALSeries{}, translate(err, "WAL sample", "")
	}
	for _, r := range rows {
		out.Items = append(out.Items, walFromRow(r))
	}
	return out, nil
}

// bucketFor picks a whole-second bucket wide enough that every source's series fits in
// limit points together: span / (limit / sources), rounded up.
func bucketFor(span time.Duration, limit int, sources int64) time.Duration {
	if sources < 1 {
		sources = 1
	}
	perSource := float64(limit) / float64(sources)
	if perSource < 1 {
		perSource = 1
	}
	// +1: date_bin's buckets are half-open, so n buckets must cover span inclusively.
	secs := math.Ceil(span.Seconds()/math.Max(perSource-1, 1)) + 1
	return time.Duration(secs) * time.Second
}

// NewWALSample is one measurement to store.
type NewWALSample struct {
	SourceID      int64
	SizeBytes     int64
	RetainedBytes *int64
	SlotActive    *bool
	WALStatus     *string
	RecordedAt    time.Time
}

// RecordWALSample stores one sample (the WAL monitor batches its own; tests and the
// API's fixtures use this).
func (s *Service) RecordWALSample(ctx context.Context, in NewWALSample) (WALSample, error) {
	if in.RecordedAt.IsZero() {
		in.RecordedAt = time.Now()
	}
	row, err := s.q.InsertWALMetric(ctx, db.InsertWALMetricParams{SourceID: in.SourceID, SizeBytes: in.SizeBytes,
		RetainedBytes: in.RetainedBytes, SlotActive: in.SlotActive, WalStatus: in.WALStatus, RecordedAt: in.RecordedAt})
	if err != nil {
		return WALSample{}, translate(err, "WAL sample", "")
	}
	return walFromRow(row), nil
}
