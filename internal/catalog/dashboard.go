package catalog

import (
	"context"

	"github.com/rosetta-cdc/rosetta/internal/db"
)

// DashboardLimit bounds each list on the dashboard; the full lists are a click away.
const DashboardLimit = 10

// Dashboard is what the console's landing page shows.
type Dashboard struct {
	Counts Counts
	// Pipelines are the first DashboardLimit pipelines with the ERROR ones first (sort
	// "status"), so a failing pipeline is never below the fold.
	Pipelines Page[Pipeline]
	// FailingSources are sources whose last WAL probe failed, newest failure first.
	FailingSources []Source
	// AlertSources are sources with an alert raised (failing N cycles, slot inactive or
	// lost, retention over threshold), read from the state the monitor stores.
	AlertSources []Source
	// WAL holds sources with their latest sample, the most WAL retained first.
	WAL []Source
	// FlaggedSources is how many sources the WAL fleet overview (/wal) flags.
	FlaggedSources int64
}

func (s *Service) Dashboard(ctx context.Context) (Dashboard, error) {
	var d Dashboard
	var err error
	if d.Counts, err = s.Counts(ctx); err != nil {
		return d, err
	}
	if d.FlaggedSources, err = s.FlaggedSources(ctx); err != nil {
		return d, err
	}
	if d.Pipelines, err = s.ListPipelines(ctx, ListParams{Limit: DashboardLimit, Sort: "status"}, PipelineFilter{}); err != nil {
		return d, err
	}
	failing, err := s.q.ListSourcesWithProbeErrors(ctx, DashboardLimit)
	if err != nil {
		return d, translate(err, "source", "")
	}
	if d.FailingSources, err = s.withLatestWAL(ctx, failing); err != nil {
		return d, err
	}
	alerting, err := s.q.ListSourcesWithAlerts(ctx, DashboardLimit)
	if err != nil {
		return d, translate(err, "source", "")
	}
	if d.AlertSources, err = s.withLatestWAL(ctx, alerting); err != nil {
		return d, err
	}
	byWAL, err := s.q.ListSourcesByLatestWAL(ctx, DashboardLimit)
	if err != nil {
		return d, translate(err, "source", "")
	}
	if d.WAL, err = s.withLatestWAL(ctx, byWAL); err != nil {
		return d, err
	}
	return d, nil
}

// RecentWALLimit is how many samples the slot panels list.
const RecentWALLimit = 20

// RecentWAL is one source's newest samples, newest first, at most RecentWALLimit: one
// indexed, LIMIT-bounded read however many samples the source has.
func (s *Service) RecentWAL(ctx context.Context, sourceID int64) ([]WALSample, error) {
	rows, err := s.q.ListRecentWALSamples(ctx, db.ListRecentWALSamplesParams{SourceID: sourceID, Lim: RecentWALLimit})
	if err != nil {
		return nil, translate(err, "WAL sample", "")
	}
	out := make([]WALSample, 0, len(rows))
	for _, r := range rows {
		out = append(out, walFromRow(r))
	}
	return out, nil
}

// DefaultWALAlertBytes is the retention threshold of sources without their own
// (WAL_RETENTION_ALERT_BYTES), for the form's hint.
func (s *Service) DefaultWALAlertBytes() int64 { return s.threshold(nil) }
