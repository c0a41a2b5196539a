// Package api holds the /api/v1 JSON handlers. Each decodes its input (huma does the
// binding from the typed structs, which also become the OpenAPI document), calls one
// catalog method and returns its result; errors are the catalog's, mapped in web.
package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/pgsource"
)

// Handlers holds what the JSON face needs.
type Handlers struct {
	Catalog *catalog.Service
	Pool    *db.Pool
	Version string
	Started time.Time
	// Monitor reports the WAL monitor's state for readiness; nil means the monitor is
	// not running in this process ("off").
	Monitor MonitorStatusFunc
}

// IDPath is the {id} path parameter.
type IDPath struct {
	ID int64 `path:"id" minimum:"1" doc:"Entity id"`
}

// ListQuery are the list controls shared by every collection.
type ListQuery struct {
	PageQuery
	Q string `query:"q" maxLength:"100" doc:"Case-insensitive substring of the name"`
}

// PageQuery are the paging controls of every list.
type PageQuery struct {
	Limit  PageLimit `query:"limit" doc:"Page size"`
	Offset int       `query:"offset" default:"0" minimum:"0" maximum:"2147483647" doc:"Items to skip"`
}

func (l ListQuery) params(sort string) catalog.ListParams {
	return catalog.ListParams{Limit: int(l.Limit), Offset: l.Offset, Q: l.Q, Sort: sort}
}

// Created is a 201 answer with the new entity's URL.
type Created[T any] struct {
	Location string `header:"Location"`
	Body     T
}

type Body[T any] struct {
	Body T
}

// created answers a create: 201 with the new entity's URL, or the error.
func created[T any](path string, id int64, v T, err error) (*Created[T], error) {
	if err != nil {
		return nil, err
	}
	return &Created[T]{Location: "/api/v1/" + path + "/" + strconv.FormatInt(id, 10), Body: v}, nil
}

// body answers with v, or the error; it takes a service call's two results as they come.
func body[T any](v T, err error) (*Body[T], error) { return &Body[T]{v}, err }

// ---- sources

type SourceListInput struct {
	ListQuery
	Sort SourceSort `query:"sort" doc:"Sort key; - for descending"`
}

func (h *Handlers) ListSources(ctx context.Context, in *SourceListInput) (*Body[catalog.Page[catalog.Source]], error) {
	return body(h.Catalog.ListSources(ctx, in.params(string(in.Sort))))
}

func (h *Handlers) GetSource(ctx context.Context, in *IDPath) (*Body[catalog.Source], error) {
	return body(h.Catalog.GetSource(ctx, in.ID))
}

func (h *Handlers) CreateSource(ctx context.Context, in *Body[catalog.SourceInput]) (*Created[catalog.Source], error) {
	s, err := h.Catalog.CreateSource(ctx, in.Body)
	return created("sources", s.ID, s, err)
}

type SourcePatchInput struct {
	IDPath
	Body catalog.SourcePatch
}

func (h *Handlers) UpdateSource(ctx context.Context, in *SourcePatchInput) (*Body[catalog.Source], error) {
	return body(h.Catalog.UpdateSource(ctx, in.ID, in.Body))
}

func (h *Handlers) DeleteSource(ctx context.Context, in *IDPath) (*struct{}, error) {
	return nil, h.Catalog.DeleteSource(ctx, in.ID)
}

// TestResult is the outcome of a source's connection checks.
type TestResult struct {
	OK     bool             `json:"ok" doc:"True when no check failed (warnings allowed)"`
	Checks []pgsource.Check `json:"checks"`
}

func (h *Handlers) TestSource(ctx context.Context, in *IDPath) (*Body[TestResult], error) {
	checks, err := h.Catalog.TestSource(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	_, failed := pgsource.FirstFailure(checks)
	return &Body[TestResult]{TestResult{OK: !failed, Checks: checks}}, nil
}

// TestNewSource runs the checks on an unsaved source.
func (h *Handlers) TestNewSource(ctx context.Context, in *Body[catalog.SourceInput]) (*Body[TestResult], error) {
	checks, err := h.Catalog.TestNewSource(ctx, in.Body)
	if err != nil {
		return nil, err
	}
	_, failed := pgsource.FirstFailure(checks)
	return &Body[TestResult]{TestResult{OK: !failed, Checks: checks}}, nil
}

// ProbeSource records one WAL sample of the source now and returns it.
func (h *Handlers) ProbeSource(ctx context.Context, in *IDPath) (*Body[catalog.WALSample], error) {
	w, err := h.Catalog.ProbeSource(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &Body[catalog.WALSample]{w}, nil
}

// ---- destinations

type DestinationListInput struct {
	ListQuery
	Sort DestinationSort `query:"sort" doc:"Sort key; - for descending"`
}

func (h *Handlers) ListDestinations(ctx context.Context, in *DestinationListInput) (*Body[catalog.Page[catalog.Destination]], error) {
	return body(h.Catalog.ListDestinations(ctx, in.params(string(in.Sort))))
}

func (h *Handlers) GetDestination(ctx context.Context, in *IDPath) (*Body[catalog.Destination], error) {
	return body(h.Catalog.GetDestination(ctx, in.ID))
}

func (h *Handlers) CreateDestination(ctx context.Context, in *Body[catalog.DestinationInput]) (*Created[catalog.Destination], error) {
	d, err := h.Catalog.CreateDestination(ctx, in.Body)
	return created("destinations", d.ID, d, err)
}

type DestinationPatchInput struct {
	IDPath
	Body catalog.DestinationPatch
}

func (h *Handlers) UpdateDestination(ctx context.Context, in *DestinationPatchInput) (*Body[catalog.Destination], error) {
	return body(h.Catalog.UpdateDestination(ctx, in.ID, in.Body))
}

func (h *Handlers) DeleteDestination(ctx context.Context, in *IDPath) (*struct{}, error) {
	return nil, h.Catalog.DeleteDestination(ctx, in.ID)
}

// DestinationTestResult is the outcome of a destination's checks: the source test's
// shape, plus the key's fingerprint to compare with DESC USER.
type DestinationTestResult struct {
	OK          bool             `json:"ok" doc:"True when no check failed (warnings allowed)"`
	Checks      []pgsource.Check `json:"checks"`
	Fingerprint string           `json:"fingerprint,omitempty" doc:"The public key's fingerprint as Snowflake's DESC USER shows it in RSA_PUBLIC_KEY_FP" example:"SHA256:nvnJ2jQk7oQ3nNl0ZB0lS3mJcvq1vYc1T0yv7m1t2nA="`
}

func (h *Handlers) TestDestination(ctx context.Context, in *IDPath) (*Body[DestinationTestResult], error) {
	return destinationTestResult(h.Catalog.TestDestination(ctx, in.ID))
}

// TestNewDestination runs the checks on an unsaved destination.
func (h *Handlers) TestNewDestination(ctx context.Context, in *Body[catalog.DestinationInput]) (*Body[DestinationTestResult], error) {
	return destinationTestResult(h.Catalog.TestNewDestination(ctx, in.Body))
}

func destinationTestResult(r catalog.DestinationTestResult, err error) (*Body[DestinationTestResult], error) {
	if err != nil {
		return nil, err
	}
	_, failed := pgsource.FirstFailure(r.Checks)
	return &Body[DestinationTestResult]{DestinationTestResult{OK: !failed, Checks: r.Checks, Fingerprint: r.Fingerprint}}, nil
}

// ---- pipelines

type PipelineListInput struct {
	ListQuery
	Sort          PipelineSort  `query:"sort" doc:"Sort key; status puts ERROR first"`
	Status        DesiredStatus `query:"status" doc:"Desired status"`
	RuntimeStatus RuntimeStatus `query:"runtime_status" doc:"Runtime status"`
	SourceID      int64         `query:"source_id" minimum:"1" doc:"Only pipelines reading this source"`
	DestinationID int64         `query:"destination_id" minimum:"1" doc:"Only pipelines writing this destination"`
}

func optID(v int64) *int64 {
	if v == 0 {
		return nil
	}
	return &v
}

func (h *Handlers) ListPipelines(ctx context.Context, in *PipelineListInput) (*Body[catalog.Page[catalog.Pipeline]], error) {
	p, err := h.Catalog.ListPipelines(ctx, in.params(string(in.Sort)), catalog.PipelineFilter{
		Status: string(in.Status), RuntimeStatus: string(in.RuntimeStatus), SourceID: optID(in.SourceID), DestinationID: optID(in.DestinationID)})
	return &Body[catalog.Page[catalog.Pipeline]]{p}, err
}

func (h *Handlers) GetPipeline(ctx context.Context, in *IDPath) (*Body[catalog.Pipeline], error) {
	return body(h.Catalog.GetPipeline(ctx, in.ID))
}

func (h *Handlers) CreatePipeline(ctx context.Context, in *Body[catalog.PipelineInput]) (*Created[catalog.Pipeline], error) {
	p, err := h.Catalog.CreatePipeline(ctx, in.Body)
	return created("pipelines", p.ID, p, err)
}

type PipelinePatchInput struct {
	IDPath
	Body catalog.PipelinePatch
}

func (h *Handlers) UpdatePipeline(ctx context.Context, in *PipelinePatchInput) (*Body[catalog.Pipeline], error) {
	return body(h.Catalog.UpdatePipeline(ctx, in.ID, in.Body))
}

func (h *Handlers) DeletePipeline(ctx context.Context, in *IDPath) (*struct{}, error) {
	return nil, h.Catalog.DeletePipeline(ctx, in.ID)
}

func (h *Handlers) StartPipeline(ctx context.Context, in *IDPath) (*Body[catalog.ActionResult], error) {
	return body(h.Catalog.Start(ctx, in.ID))
}

func (h *Handlers) PausePipeline(ctx context.Context, in *IDPath) (*Body[catalog.ActionResult], error) {
	return body(h.Catalog.Pause(ctx, in.ID))
}

func (h *Handlers) RefreshPipeline(ctx context.Context, in *IDPath) (*Body[catalog.ActionResult], error) {
	return body(h.Catalog.Refresh(ctx, in.ID))
}

// ---- WAL metrics

type WALInput struct {
	SourceID int64     `query:"source_id" minimum:"1" doc:"Only this source's samples"`
	Start    time.Time `query:"start" doc:"Earliest recorded_at (RFC 3339), inclusive"`
	End      time.Time `query:"end" doc:"Latest recorded_at (RFC 3339), inclusive"`
	Limit    WALLimit  `query:"limit" doc:"Most points returned; longer ranges are downsampled"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (h *Handlers) WALMetrics(ctx context.Context, in *WALInput) (*Body[catalog.WALSeries], error) {
	return body(h.Catalog.WALMetrics(ctx, catalog.WALQuery{SourceID: optID(in.SourceID), Start: optTime(in.Start), End: optTime(in.End), Limit: int(in.Limit)}))
}

// ---- health

type HealthBody struct {
	Status           string       `json:"status" enum:"healthy,unhealthy"`
	Version          string       `json:"version"`
	UptimeSeconds    int64        `json:"uptime_seconds"`
	Database         DBState      `json:"database"`
	MigrationVersion int64        `json:"migration_version"`
	Monitor          MonitorState `json:"monitor"`
}

// MonitorStatus is what the WAL monitor says about itself (walmon's Status()).
type MonitorStatus struct {
	Leader            bool
	LastCycleAt       time.Time // zero: no cycle yet on this instance
	LastCycleDuration time.Duration
	LastCycleErr      string
	Running           bool
}

// MonitorStatusFunc reads the monitor's status; it must not block.
type MonitorStatusFunc func() MonitorStatus

// MonitorState is the scheduler part of readiness. It says whether this instance leads
// and how its last cycle went, but never the cycle's error text: the endpoint is public,
// and errors can name hosts and sources (the log and the console have them).
type MonitorState struct {
	Status              string     `json:"status" enum:"leader,follower,off" doc:"leader runs the cycles; follower stands by; off: the monitor is disabled on this instance"`
	LastCycleAt         *time.Time `json:"last_cycle_at,omitempty" doc:"When this instance last finished a cycle"`
	LastCycleDurationMS *float64   `json:"last_cycle_duration_ms,omitempty"`
	LastCycleOutcome    string     `json:"last_cycle_outcome,omitempty" enum:"ok,failed,none" doc:"none: this instance has not run a cycle yet"`
}

func monitorState(f MonitorStatusFunc) MonitorState {
	if f == nil {
		return MonitorState{Status: "off"}
	}
	st := f()
	if !st.Running {
		return MonitorState{Status: "off"}
	}
	out := MonitorState{Status: "follower", LastCycleOutcome: "none"}
	if st.Leader {
		out.Status = "leader"
	}
	if !st.LastCycleAt.IsZero() {
		at := st.LastCycleAt.UTC()
		ms := float64(st.LastCycleDuration.Microseconds()) / 1000
		out.LastCycleAt, out.LastCycleDurationMS = &at, &ms
		out.LastCycleOutcome = "ok"
		if st.LastCycleErr != "" {
			out.LastCycleOutcome = "failed"
		}
	}
	return out
}

type DBState struct {
	Status    string  `json:"status" enum:"up,down"`
	LatencyMS float64 `json:"latency_ms"`
	Error     string  `json:"error,omitempty"`
	Pool      struct {
		Total    int32 `json:"total"`
		Idle     int32 `json:"idle"`
		Acquired int32 `json:"acquired"`
		Max      int32 `json:"max"`
	} `json:"pool"`
}

type HealthOutput struct {
	Status int
	Body   HealthBody
}

// Health answers within 2 s whatever the database does: a readiness probe that hangs
// is worse than one that says "down".
func (h *Handlers) Health(ctx context.Context, _ *struct{}) (*HealthOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer cancel()
	st := h.Pool.CheckHealth(ctx)
	out := &HealthOutput{Status: http.StatusOK, Body: HealthBody{Status: "healthy", Version: h.Version,
		UptimeSeconds: int64(time.Since(h.Started).Seconds()), MigrationVersion: st.MigrationVersion,
		// The monitor's state does not change readiness: an instance serves the console
		// and API fine whatever its last cycle did.
		Monitor: monitorState(h.Monitor)}}
	d := &out.Body.Database
	d.Status = "up"
	d.LatencyMS = float64(st.Latency.Microseconds()) / 1000
	d.Pool.Total, d.Pool.Idle, d.Pool.Acquired, d.Pool.Max = st.TotalConns, st.IdleConns, st.AcquiredConns, st.MaxConns
	if !st.Reachable {
		out.Status = http.StatusServiceUnavailable
		out.Body.Status = "unhealthy"
		d.Status = "down"
		d.Error = "database unreachable"
		if !db.IsUnavailable(st.Error) && ctx.Err() == nil {
			d.Error = "database check failed"
		}
	}
	return out, nil
}
