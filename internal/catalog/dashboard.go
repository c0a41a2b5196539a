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

// withLatestWAL converts rows to Sources carrying their newest WAL sample.
func (s *Service) withLatestWAL(ctx context.Context, rows []db.Source) ([]Source, error) {
	items := make([]Source, len(rows))
	ids := make([]int64, len(rows))
	for i, r := range rows {
		items[i] = sourceFromRow(r)
		ids[i] = r.ID
	}
	if len(ids) == 0 {
		return items, nil
	}
	ws, err := s.q.LatestWALForSources(ctx, ids)
	if err != nil {
		return nil, translate(err, "source", "")
	}
	byID := make(map[int64]WALSample, len(ws))
	for _, w := range ws {
		byID[w.SourceID] = walFromRow(w)
	}
	for i := range items {
		if w, ok := byID[items[i].ID]; ok {
			items[i].LatestWAL = &w
		}
	}
	return items, nil
}
