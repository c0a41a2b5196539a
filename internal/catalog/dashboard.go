package catalog

import "context"

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
	// WAL holds sources with their latest sample, the most WAL retained first.
	WAL []Source
}

func (s *Service) Dashboard(ctx context.Context) (Dashboard, error) {
	var d Dashboard
	var err error
	if d.Counts, err = s.Counts(ctx); err != nil {
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
	byWAL, err := s.q.ListSourcesByLatestWAL(ctx, DashboardLimit)
	if err != nil {
		return d, translate(err, "source", "")
	}
	if d.WAL, err = s.withLatestWAL(ctx, byWAL); err != nil {
		return d, err
	}
	return d, nil
}
