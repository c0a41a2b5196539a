package catalog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/pgsource"
)

// PipelineSorts are the pipeline list's sort keys, the default first.
var PipelineSorts = []string{"name", "-name", "created_at", "-created_at", "status"}

type PipelineInput struct {
	Name          string `json:"name" minLength:"1" maxLength:"100" doc:"Unique name (case-insensitive), 1-100 characters" example:"orders-to-snowflake"`
	SourceID      int64  `json:"source_id" doc:"Id of an existing source" example:"1"`
	DestinationID int64  `json:"destination_id" doc:"Id of an existing destination" example:"1"`
}

// PipelinePatch changes the fields given. Source and destination can only change while
// the pipeline is not running.
type PipelinePatch struct {
	Name          *string `json:"name,omitempty"`
	SourceID      *int64  `json:"source_id,omitempty"`
	DestinationID *int64  `json:"destination_id,omitempty"`
}

// EntityRef is the summary of a related entity embedded in a pipeline.
type EntityRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

type PipelineMetadata struct {
	Status      string     `json:"status" enum:"RUNNING,PAUSED,ERROR" doc:"Runtime status observed by Rosetta"`
	LastError   *string    `json:"last_error,omitempty" doc:"Why the pipeline is in ERROR; a failed connection's network detail only for operators and admins"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
	LastStartAt *time.Time `json:"last_start_at,omitempty"`
	// PreflightWarning is set when the last start or refresh went ahead without
	// reaching Snowflake.
	PreflightWarning *string `json:"preflight_warning,omitempty" doc:"Set when the last start or refresh could not reach Snowflake to check the destination's sign-in"`
}

type Pipeline struct {
	ID            int64            `json:"id"`
	Name          string           `json:"name"`
	Status        string           `json:"status" enum:"START,PAUSE,REFRESH" doc:"Desired status, as last asked by an operator"`
	SourceID      int64            `json:"source_id"`
	DestinationID int64            `json:"destination_id"`
	Source        EntityRef        `json:"source"`
	Destination   EntityRef        `json:"destination"`
	Metadata      PipelineMetadata `json:"metadata"`
	CreatedAt     time.Time        `json:"created_at"`
	UpdatedAt     time.Time        `json:"updated_at"`
}

// ActionResult is the outcome of start / pause / refresh.
type ActionResult struct {
	Pipeline Pipeline `json:"pipeline"`
	// Changed is false when the action was a no-op (starting a running pipeline).
	Changed bool `json:"changed"`
	// Preflight holds the source checks when the action ran them.
	Preflight []pgsource.Check `json:"preflight,omitempty"`
	// DestinationPreflight holds the destination's checks when the action ran them.
	DestinationPreflight []pgsource.Check `json:"destination_preflight,omitempty"`
}

// PipelineFilter narrows a pipeline list.
type PipelineFilter struct {
	Status        string // desired status
	RuntimeStatus string
	SourceID      *int64
	DestinationID *int64
	// SourceName and DestinationName filter by an exact name, case-insensitive (what an
	// operator typed into the console's filter), resolved inside the list's statement so
	// a filtered page is still one round trip. A name nobody has matches no pipeline.
	SourceName, DestinationName string
}

// pipelineFromView is a pipeline as the caller in ctx may see it: the last error's network
// detail (a failed connection's address and reason) only for those who may edit.
func pipelineFromView(ctx context.Context, r db.PipelineView) Pipeline {
	lastError := r.LastError
	if lastError != nil && r.LastErrorDetail != nil && seesNetworkDetail(ctx) {
		lastError = r.LastErrorDetail
	}
	return Pipeline{
		ID: r.ID, Name: r.Name, Status: r.Status, SourceID: r.SourceID, DestinationID: r.DestinationID,
		Source: EntityRef{ID: r.SourceID, Name: r.SourceName}, Destination: EntityRef{ID: r.DestinationID, Name: r.DestinationName},
		Metadata: PipelineMetadata{Status: r.RuntimeStatus, LastError: lastError, LastErrorAt: utcPtr(r.LastErrorAt),
			LastStartAt: utcPtr(r.LastStartAt), PreflightWarning: r.PreflightWarning},
		CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt),
	}
}

func (s *Service) GetPipeline(ctx context.Context, id int64) (Pipeline, error) {
	return s.getPipeline(ctx, s.q, id)
}

func (s *Service) getPipeline(ctx context.Context, q *db.Queries, id int64) (Pipeline, error) {
	row, err := q.GetPipelineView(ctx, id)
	if err != nil {
		return Pipeline{}, translate(err, "pipeline", "")
	}
	return pipelineFromView(ctx, row), nil
}

func (s *Service) ListPipelines(ctx context.Context, p ListParams, f PipelineFilter) (Page[Pipeline], error) {
	q, err := pipelineListQuery(&p, f)
	if err != nil {
		return Page[Pipeline]{}, err
	}
	rows, total, estimated, err := list(ctx, s, q, p, pipelineViewFields)
	if err != nil {
		return Page[Pipeline]{}, translate(err, "pipeline", "")
	}
	items := make([]Pipeline, len(rows))
	for i, r := range rows {
		items[i] = pipelineFromView(ctx, r)
	}
	return Page[Pipeline]{Items: items, Total: total, TotalIsEstimate: estimated, Limit: p.Limit, Offset: p.Offset}, nil
}

// pipelineListQuery validates the list controls and filters and builds the statement.
func pipelineListQuery(p *ListParams, f PipelineFilter) (listQuery, error) {
	var fe apperr.Fields
	if err := p.normalize(PipelineSorts); err != nil {
		fe = apperr.As(err).Fields
	}
	status := optEnum(&fe, "status", strings.ToUpper(f.Status), DesiredStatuses)
	runtime := optEnum(&fe, "runtime_status", strings.ToUpper(f.RuntimeStatus), RuntimeStatuses)
	if err := fe.Err(); err != nil {
		return listQuery{}, err
	}
	// The runtime status's rank is kept on pipelines (migration 00011), so every sort,
	// filter and count reads pipelines alone; the page joins the view for its 50 rows.
	q := listQuery{table: "pipelines", from: "pipeline_view v", countFrom: "pipelines v", keysFrom: "pipelines v",
		order: pipelineOrder, sampled: pipelineSampled, grams: "pipeline_name_grams", gramsID: "pipeline_id"}
	q.search(p.Q)
	if status != nil {
		q.cond("v.status = %s", *status)
	}
	if runtime != nil {
		// As the rank pipelines keeps (one per runtime status), so the status sort's index
		// serves it and the count needs no join.
		q.cond("v.status_rank = pipeline_status_rank(%s)", *runtime)
	}
	if f.SourceID != nil {
		q.cond("v.source_id = %s", *f.SourceID)
	}
	if f.DestinationID != nil {
		q.cond("v.destination_id = %s", *f.DestinationID)
	}
	if f.SourceName != "" {
		q.cond("v.source_id = (SELECT s.id FROM sources s WHERE lower(s.name) = lower(%s))", f.SourceName)
	}
	if f.DestinationName != "" {
		q.cond("v.destination_id = (SELECT d.id FROM destinations d WHERE lower(d.name) = lower(%s))", f.DestinationName)
	}
	return q, nil
}

func optEnum(f *apperr.Fields, field, v string, allowed []string) *string {
	if v == "" {
		return nil
	}
	for _, a := range allowed {
		if v == a {
			return &v
		}
	}
	f.Add(field, "must be one of %s", strings.Join(allowed, ", "))
	return nil
}

// checkRefs verifies the referenced source and destination exist, as field errors.
func checkRefs(ctx context.Context, q *db.Queries, f *apperr.Fields, sourceID, destinationID int64) error {
	if sourceID <= 0 {
		f.Add("source_id", "is required")
	} else if _, err := q.GetSource(ctx, sourceID); errors.Is(err, pgx.ErrNoRows) {
		f.Add("source_id", "no source has id %d", sourceID)
	} else if err != nil {
		return err
	}
	if destinationID <= 0 {
		f.Add("destination_id", "is required")
	} else if _, err := q.GetDestination(ctx, destinationID); errors.Is(err, pgx.ErrNoRows) {
		f.Add("destination_id", "no destination has id %d", destinationID)
	} else if err != nil {
		return err
	}
	return nil
}

func (s *Service) CreatePipeline(ctx context.Context, in PipelineInput) (Pipeline, error) {
	name := trimmed(in.Name)
	var out Pipeline
	err := s.pool.InTx(ctx, func(q *db.Queries, tx pgx.Tx) error {
		var f apperr.Fields
		validName(&f, "name", name)
		if err := checkRefs(ctx, q, &f, in.SourceID, in.DestinationID); err != nil {
			return err
		}
		if err := f.Err(); err != nil {
			return err
		}
		row, err := q.CreatePipeline(ctx, db.CreatePipelineParams{Name: name, SourceID: in.SourceID, DestinationID: in.DestinationID})
		if err != nil {
			return fkAsInvalid(err)
		}
		if err := q.CreatePipelineMetadata(ctx, row.ID); err != nil {
			return err
		}
		if out, err = s.getPipeline(ctx, q, row.ID); err != nil {
			return err
		}
		return s.record(ctx, tx, AuditEvent{Action: "create", EntityKind: KindPipeline, EntityID: row.ID, EntityName: name,
			Changes: map[string]any{"name": name, "source_id": in.SourceID, "destination_id": in.DestinationID}})
	})
	return out, translate(err, "pipeline", name)
}

// lockPipeline takes the pipeline's row lock for the rest of the transaction, then reads
// its runtime state. The order matters: read after the lock, the state cannot change
// before the caller's decision on it commits, so concurrent transitions serialise.
func lockPipeline(ctx context.Context, q *db.Queries, id int64) (db.Pipeline, db.PipelineView, error) {
	cur, err := q.GetPipelineForUpdate(ctx, id)
	if err != nil {
		return db.Pipeline{}, db.PipelineView{}, err
	}
	v, err := q.GetPipelineView(ctx, id)
	return cur, v, err
}

// fkAsInvalid reports a source or destination deleted between the existence check and
// the insert as the same field error the check would have given.
func fkAsInvalid(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" {
		field := "source_id"
		if strings.Contains(pgErr.ConstraintName, "destination") {
			field = "destination_id"
		}
		var f apperr.Fields
		f.Add(field, "refers to a %s that no longer exists", strings.TrimSuffix(field, "_id"))
		return f.Err()
	}
	return err
}

func (s *Service) UpdatePipeline(ctx context.Context, id int64, in PipelinePatch) (Pipeline, error) {
	var out Pipeline
	var name string
	err := s.pool.InTx(ctx, func(q *db.Queries, tx pgx.Tx) error {
		cur, md, err := lockPipeline(ctx, q, id)
		if err != nil {
			return err
		}
		name = cur.Name
		setStr(&name, trimmedPtr(in.Name))
		src, dst := cur.SourceID, cur.DestinationID
		if in.SourceID != nil {
			src = *in.SourceID
		}
		if in.DestinationID != nil {
			dst = *in.DestinationID
		}
		var f apperr.Fields
		validName(&f, "name", name)
		if err := checkRefs(ctx, q, &f, src, dst); err != nil {
			return err
		}
		if err := f.Err(); err != nil {
			return err
		}
		if (src != cur.SourceID || dst != cur.DestinationID) && !CanRepoint(md.RuntimeStatus) {
			return apperr.E(apperr.Conflict, "pipeline %q is running: pause it before changing its source or destination", cur.Name)
		}
		if src != cur.SourceID && HoldsSlot(cur.Status) {
			// A pipeline still asked to run (in ERROR, so it may be re-pointed) takes its
			// claim on a slot along: the new source's slot must be free.
			row, err := q.GetSource(ctx, src)
			if err != nil {
				return err
			}
			if err := claimSlot(ctx, q, id, slotOf(row), true); err != nil {
				return err
			}
		}
		if _, err := q.UpdatePipeline(ctx, db.UpdatePipelineParams{ID: id, Name: name, SourceID: src, DestinationID: dst}); err != nil {
			return fkAsInvalid(err)
		}
		changes := map[string]any{}
		diff(changes, "name", cur.Name, name)
		diff(changes, "source_id", cur.SourceID, src)
		diff(changes, "destination_id", cur.DestinationID, dst)
		if out, err = s.getPipeline(ctx, q, id); err != nil {
			return err
		}
		if len(changes) == 0 {
			return nil
		}
		return s.record(ctx, tx, AuditEvent{Action: "update", EntityKind: KindPipeline, EntityID: id, EntityName: name, Changes: changes})
	})
	return out, translate(err, "pipeline", name)
}

// DeletePipeline refuses a running pipeline: deleting it would orphan a replication slot
// that keeps retaining WAL. Pause first.
func (s *Service) DeletePipeline(ctx context.Context, id int64) error {
	err := s.pool.InTx(ctx, func(q *db.Queries, tx pgx.Tx) error {
		cur, v, err := lockPipeline(ctx, q, id)
		if err != nil {
			return err
		}
		if !CanDelete(v.RuntimeStatus) {
			return apperr.E(apperr.Conflict, "pipeline %q is running: pause it before deleting it", cur.Name)
		}
		if _, err := q.DeletePipeline(ctx, id); err != nil {
			return err
		}
		return s.record(ctx, tx, AuditEvent{Action: "delete", EntityKind: KindPipeline, EntityID: id, EntityName: cur.Name})
	})
	return translate(err, "pipeline", "")
}

// Start moves a pipeline to START. The preflight runs before the transaction (it talks
// to the source and may take seconds); the transition itself happens under the row lock,
// re-reading the state so concurrent calls serialise and status and metadata agree.
func (s *Service) Start(ctx context.Context, id int64) (ActionResult, error) {
	return s.Act(ctx, id, ActionStart)
}

func (s *Service) Refresh(ctx context.Context, id int64) (ActionResult, error) {
	return s.Act(ctx, id, ActionRefresh)
}

func (s *Service) Pause(ctx context.Context, id int64) (ActionResult, error) {
	return s.Act(ctx, id, ActionPause)
}

// Act takes action on the pipeline, as Decide rules for its state; an unknown action
// is an Invalid error.
func (s *Service) Act(ctx context.Context, id int64, action Action) (ActionResult, error) {
	if _, err := ParseAction(string(action)); err != nil {
		return ActionResult{}, err
	}
	return s.transition(ctx, id, action)
}

func (s *Service) transition(ctx context.Context, id int64, action Action) (ActionResult, error) {
	before, err := s.GetPipeline(ctx, id)
	if err != nil {
		return ActionResult{}, err
	}
	if o, err := Decide(action, before.Status, before.Metadata.Status); o == Refused {
		return ActionResult{}, err
	} else if o == NoOp {
		return ActionResult{Pipeline: before}, nil
	}

	var checks []pgsource.Check
	var dst DestinationTestResult
	if action.runsPreflight() {
		conn, srcRow, err := s.sourceConn(ctx, before.SourceID)
		if err != nil {
			return ActionResult{}, err
		}
		// Refused early when another pipeline holds the slot: no preflight for a start
		// that cannot win (asked again under the lock below).
		if err := claimSlot(ctx, s.q, id, slotOf(srcRow), false); err != nil {
			return ActionResult{}, translate(err, "pipeline", "")
		}
		checks = s.preflight(ctx, conn.Conn, conn.publication, conn.slot)
		// Then the destination's: a start that cannot load into Snowflake is an error now,
		// not after the first batch.
		row, err := s.q.GetDestination(ctx, before.DestinationID)
		if err != nil {
			return ActionResult{}, translate(err, "destination", "")
		}
		if dst, err = s.checkDestination(ctx, row); err != nil {
			return ActionResult{}, err
		}
	}
	// A source failure is stored once as two sentences (pipelineFromView picks one per
	// reader): failMsg without network detail, failDetail with it when they differ.
	var failMsg string
	var failDetail *string
	if failed, hasFailure := pgsource.FirstFailure(checks); hasFailure {
		failMsg = fmt.Sprintf("preflight check %q failed: %s", failed.Name, failed.PublicMessage())
		if failed.PublicMessage() != failed.Message {
			d := fmt.Sprintf("preflight check %q failed: %s", failed.Name, failed.Message)
			failDetail = &d
		}
	}
	blocking, warning := destinationVerdict(dst)
	if failMsg == "" && blocking != nil {
		failMsg = fmt.Sprintf(destinationCheckPrefix+"%q failed: %s", blocking.Name, blocking.Message)
	}

	res := ActionResult{Preflight: checks, DestinationPreflight: preflightView(dst)}
	err = s.pool.InTx(ctx, func(q *db.Queries, tx pgx.Tx) error {
		cur, v, err := lockPipeline(ctx, q, id)
		if err != nil {
			return err
		}
		if cur.SourceID != before.SourceID || cur.DestinationID != before.DestinationID {
			return apperr.E(apperr.Conflict, "the pipeline's source or destination changed while it was being checked; try again")
		}
		// Another call may have got here first: re-decide on the locked state.
		if o, err := Decide(action, cur.Status, v.RuntimeStatus); o == Refused {
			return err
		} else if o == NoOp {
			res.Pipeline = pipelineFromView(ctx, v)
			return nil
		}
		if action.runsPreflight() {
			src, err := q.GetSource(ctx, cur.SourceID)
			if err != nil {
				return err
			}
			if err := claimSlot(ctx, q, id, slotOf(src), true); err != nil {
				return err
			}
		}
		desired := action.Desired()
		if err := q.SetPipelineStatus(ctx, db.SetPipelineStatusParams{ID: id, Status: desired}); err != nil {
			return err
		}
		changes := map[string]any{"status": map[string]any{"from": cur.Status, "to": desired}}
		switch {
		case action == ActionPause:
			err = q.SetPipelinePaused(ctx, id)
			changes["runtime_status"] = RuntimePaused
		case failMsg != "":
			err = q.SetPipelineError(ctx, db.SetPipelineErrorParams{PipelineID: id, LastError: &failMsg, LastErrorDetail: failDetail})
			if err == nil {
				err = q.SetPipelinePreflightWarning(ctx, db.SetPipelinePreflightWarningParams{PipelineID: id})
			}
			changes["runtime_status"] = RuntimeError
			// The audit log is readable by viewers: it gets the sentence without network detail.
			changes["error"] = failMsg
		default:
			err = q.SetPipelineRunning(ctx, id)
			if err == nil {
				// Replaces (or clears) the previous start's warning.
				err = q.SetPipelinePreflightWarning(ctx, db.SetPipelinePreflightWarningParams{PipelineID: id, Warning: nilIfEmpty(warning)})
			}
			changes["runtime_status"] = RuntimeRunning
			if warning != "" {
				changes["warning"] = warning
			}
		}
		if err != nil {
			return err
		}
		res.Changed = true
		if res.Pipeline, err = s.getPipeline(ctx, q, id); err != nil {
			return err
		}
		return s.record(ctx, tx, AuditEvent{Action: string(action), EntityKind: KindPipeline, EntityID: id, EntityName: cur.Name, Changes: changes})
	})
	if err != nil {
		return ActionResult{}, translate(err, "pipeline", "")
	}
	return res, nil
}

// Counts feed the dashboard.
type Counts struct {
	Sources           int64            `json:"sources"`
	Destinations      int64            `json:"destinations"`
	Pipelines         int64            `json:"pipelines"`
	PipelinesByStatus map[string]int64 `json:"pipelines_by_status"`
	SourcesFailing    int64            `json:"sources_failing"`
	// SourcesHealthy and SourcesNeverChecked complete SourcesFailing: a source never
	// probed is neither, so "none failing" is never mistaken for "all healthy".
	SourcesHealthy      int64 `json:"sources_healthy"`
	SourcesNeverChecked int64 `json:"sources_never_checked"`
}

func (s *Service) Counts(ctx context.Context) (Counts, error) {
	var c Counts
	var err error
	if c.Sources, err = s.q.CountSources(ctx); err != nil {
		return c, translate(err, "source", "")
	}
	if c.Destinations, err = s.q.CountDestinations(ctx); err != nil {
		return c, translate(err, "destination", "")
	}
	rows, err := s.q.CountPipelinesByRuntimeStatus(ctx)
	if err != nil {
		return c, translate(err, "pipeline", "")
	}
	c.PipelinesByStatus = map[string]int64{RuntimeRunning: 0, RuntimePaused: 0, RuntimeError: 0}
	for _, r := range rows {
		c.PipelinesByStatus[r.Status] = r.N
		c.Pipelines += r.N
	}
	health, err := s.q.CountSourcesByProbeState(ctx)
	if err != nil {
		return c, translate(err, "source", "")
	}
	c.SourcesFailing, c.SourcesHealthy, c.SourcesNeverChecked = health.Failing, health.Healthy, health.Never
	return c, nil
}

// applySourceHealth is the runtime-status rule the WAL monitor applies to a source's
// pipelines: when the source is broken (failing its probes, or its slot lost), every
// RUNNING pipeline becomes ERROR with the reason (detail, when set, is the same with
// network detail, shown only to operators and admins); when it is healthy again, a pipeline the
// monitor itself put in ERROR returns to RUNNING if its desired status is still START or
// REFRESH. An ERROR from a failed preflight is left alone: only a new start clears it.
// Each move is one transaction with the pipeline row locked, audited as the monitor. ps
// are the source's pipelines as the cycle read them; each move is decided again on the
// locked row.
func (s *Service) applySourceHealth(ctx context.Context, sourceID int64, ps []db.ListPipelinesOfSourcesRow, healthy bool, reason, detail string) ([]Transition, error) {
	ctx = monitorContext(ctx)
	var out []Transition
	var errs []error
	for _, p := range ps {
		if !monitorMoves(healthy, p.DesiredStatus, p.RuntimeStatus, p.MonitorError) {
			continue
		}
		var t *Transition
		err := s.pool.InTx(ctx, func(q *db.Queries, tx pgx.Tx) error {
			t = nil
			cur, err := q.GetPipelineRuntimeForUpdate(ctx, p.ID)
			if err != nil {
				return err
			}
			// Re-decided on the locked row: an operator may have acted meanwhile.
			if cur.SourceID != sourceID || !monitorMoves(healthy, cur.DesiredStatus, cur.RuntimeStatus, cur.MonitorError) {
				return nil
			}
			tr := Transition{PipelineID: cur.ID, PipelineName: cur.Name, SourceID: sourceID, From: cur.RuntimeStatus}
			changes := map[string]any{"runtime_status": map[string]any{"from": cur.RuntimeStatus}}
			if healthy {
				tr.To, tr.Reason = RuntimeRunning, "the source is healthy again"
				err = q.ClearPipelineMonitorError(ctx, cur.ID)
			} else {
				tr.To, tr.Reason = RuntimeError, reason
				msg := reason
				err = q.SetPipelineMonitorError(ctx, db.SetPipelineMonitorErrorParams{PipelineID: cur.ID, LastError: &msg,
					LastErrorDetail: optText(detail)})
				changes["error"] = reason
			}
			if err != nil {
				return err
			}
			changes["runtime_status"].(map[string]any)["to"] = tr.To
			t = &tr
			action := map[bool]string{true: "monitor_recover", false: "monitor_error"}[healthy]
			return s.record(ctx, tx, AuditEvent{Action: action, EntityKind: "pipeline", EntityID: cur.ID, EntityName: cur.Name, Changes: changes})
		})
		if err != nil {
			errs = append(errs, translate(err, "pipeline", ""))
			continue
		}
		if t != nil {
			out = append(out, *t)
		}
	}
	return out, errors.Join(errs...)
}

// monitorMoves says whether the monitor changes a pipeline in this state.
func monitorMoves(healthy bool, desired, runtime string, monitorError bool) bool {
	if healthy {
		return runtime == RuntimeError && monitorError && (desired == DesiredStart || desired == DesiredRefresh)
	}
	return runtime == RuntimeRunning
}
