package catalog

import (
	"context"
	"time"

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
	// Causes are why pipelines are in ERROR and sources fail their probes, one entry per
	// cause (a source's wrong password, not each of its pipelines), most pipelines first.
	Causes ErrorCauses
	// AlertSources are sources with an alert raised (failing N cycles, slot inactive or
	// lost, retention over threshold), read from the state the monitor stores.
	AlertSources []Source
	// WAL holds sources with their latest sample, the most WAL retained first.
	WAL []Source
	// FlaggedSources is how many sources the WAL fleet overview (/wal) flags; above the
	// list cap, an estimate (FlaggedIsEstimate).
	FlaggedSources    int64
	FlaggedIsEstimate bool
}

func (s *Service) Dashboard(ctx context.Context) (Dashboard, error) {
	var d Dashboard
	var err error
	if d.Counts, err = s.Counts(ctx); err != nil {
		return d, err
	}
	if d.FlaggedSources, d.FlaggedIsEstimate, err = s.FlaggedSources(ctx); err != nil {
		return d, err
	}
	if d.Pipelines, err = s.ListPipelines(ctx, ListParams{Limit: DashboardLimit, Sort: "status"}, PipelineFilter{}); err != nil {
		return d, err
	}
	if d.Causes, err = s.ErrorCauses(ctx, DashboardLimit); err != nil {
		return d, err
	}
	alerting, err := s.q.ListSourcesWithAlerts(ctx, DashboardLimit)
	if err != nil {
		return d, translate(err, "source", "")
	}
	d.AlertSources = sourcesFromRows(ctx, alerting)
	byWAL, err := s.q.ListSourcesByLatestWAL(ctx, DashboardLimit)
	if err != nil {
		return d, translate(err, "source", "")
	}
	d.WAL = sourcesFromRows(ctx, byWAL)
	return d, nil
}

// Where an error cause is fixed: the kinds ErrorCause.Kind takes.
const (
	// CauseProbe: the WAL monitor cannot probe the source, or its slot is lost; the
	// source's probe state says why and "Probe now" tries again once it is fixed.
	CauseProbe = "probe"
	// CauseSource: a start or refresh failed one of the source's checks.
	CauseSource = "source"
	// CauseDestination: a start or refresh failed one of the destination's checks.
	CauseDestination = "destination"
)

// destinationCheckPrefix starts the last error of a start that failed a destination
// check: the dashboard groups those under the destination (ListErrorCauses matches it).
const destinationCheckPrefix = "destination check "

// ErrorCause is one reason things fail, with how many pipelines it holds in ERROR.
type ErrorCause struct {
	Kind string // CauseProbe, CauseSource or CauseDestination
	// EntityID and EntityName are the source (probe, source) or destination where the
	// cause is fixed.
	EntityID   int64
	EntityName string
	// Message is the error; its network detail only for those who may edit the source.
	Message   string
	Pipelines int64
	LastAt    time.Time
}

// ErrorCauses is a bounded list of causes and how many there are in all.
type ErrorCauses struct {
	Items []ErrorCause
	Total int64
}

// More is how many causes the list leaves out.
func (c ErrorCauses) More() int64 { return c.Total - int64(len(c.Items)) }

// ErrorCauses groups failing pipelines and failing probes by where they are fixed, in
// SQL: limit rows are read however many pipelines fail.
func (s *Service) ErrorCauses(ctx context.Context, limit int32) (ErrorCauses, error) {
	rows, err := s.q.ListErrorCauses(ctx, db.ListErrorCausesParams{DestinationPrefix: destinationCheckPrefix, Lim: limit})
	if err != nil {
		return ErrorCauses{}, translate(err, "pipeline", "")
	}
	out := ErrorCauses{Items: make([]ErrorCause, 0, len(rows))}
	detail := seesNetworkDetail(ctx)
	for _, r := range rows {
		msg := r.Message
		if detail && r.Detail != "" {
			msg = r.Detail
		}
		out.Items = append(out.Items, ErrorCause{Kind: r.Kind, EntityID: r.EntityID, EntityName: r.EntityName,
			Message: msg, Pipelines: r.Pipelines, LastAt: utc(r.LastAt)})
		out.Total = r.Total
	}
	return out, nil
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
