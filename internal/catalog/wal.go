package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/pgsource"
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
	} else if bucket := bucketFor(ext.LastAt.Sub(ext.FirstAt), in.Limit, ext.Sources); bucket < rollupFrom {
		out.Downsampled, out.BucketSeconds = true, int64(bucket/time.Second)
		rows, err = s.q.ListWALMetricsBinned(ctx, db.ListWALMetricsBinnedParams{
			Bucket: pgtype.Interval{Microseconds: bucket.Microseconds(), Valid: true},
			Origin: ext.FirstAt, SourceID: in.SourceID, StartAt: in.Start, EndAt: in.End, Lim: int32(in.Limit)})
	} else {
		// Wide buckets are read from the hourly rollup: whole hours from an hour boundary,
		// so every hour falls in exactly one bucket, and wide enough for the points to fit
		// from that earlier origin.
		origin := ext.FirstAt.UTC().Truncate(time.Hour)
		bucket = bucketFor(ext.LastAt.Sub(origin), in.Limit, ext.Sources)
		bucket = (bucket + time.Hour - 1).Truncate(time.Hour)
		out.Downsampled, out.BucketSeconds = true, int64(bucket/time.Second)
		var hrows []db.ListWALMetricsHourlyBinnedRow
		hrows, err = s.q.ListWALMetricsHourlyBinned(ctx, db.ListWALMetricsHourlyBinnedParams{
			Bucket: pgtype.Interval{Microseconds: bucket.Microseconds(), Valid: true},
			Origin: origin, SourceID: in.SourceID, StartAt: in.Start, EndAt: in.End,
			FullFrom: hourCeil(in.Start), FullTo: hourFloor(in.End), Lim: int32(in.Limit)})
		for _, r := range hrows {
			rows = append(rows, db.WalMetric(r))
		}
	}
	if err != nil {
		return WALSeries{}, translate(err, "WAL sample", "")
	}
	for _, r := range rows {
		out.Items = append(out.Items, walFromRow(r))
	}
	return out, nil
}

// rollupFrom is the narrowest bucket read from the hourly rollup (rounded up to an hour):
// from half an hour, rounding costs at most half the points asked for, and a 30-day
// chart of 1,000 points (43-minute buckets) reads 720 hourly rows instead of every sample.
const rollupFrom = 30 * time.Minute

// hourCeil is the first whole UTC hour at or after t: where a range starting at t has its
// first hour entirely inside it. nil stays nil (no lower bound).
func hourCeil(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	h := t.UTC().Truncate(time.Hour)
	if h.Before(*t) {
		h = h.Add(time.Hour)
	}
	return &h
}

// hourFloor is the start of t's UTC hour: a range ending at t (inclusive) holds that hour
// only in part. nil stays nil (no upper bound).
func hourFloor(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	h := t.UTC().Truncate(time.Hour)
	return &h
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
	SafeWALSize   *int64
	RecordedAt    time.Time
}

// RecordWALSample stores one sample and announces it on the wal_samples channel in the
// same transaction, exactly as the monitor's batches are announced: every instance's open
// charts show it, and a rolled-back insert is never announced.
func (s *Service) RecordWALSample(ctx context.Context, in NewWALSample) (WALSample, error) {
	if in.RecordedAt.IsZero() {
		in.RecordedAt = time.Now()
	}
	var out WALSample
	err := s.pool.InTx(ctx, func(q *db.Queries, _ pgx.Tx) error {
		// Samples can be back-dated (fixtures, imports): make sure their day has a partition.
		if _, err := q.EnsureWALPartitions(ctx, db.EnsureWALPartitionsParams{FromAt: in.RecordedAt, ToAt: in.RecordedAt}); err != nil {
			return err
		}
		row, err := q.InsertWALMetric(ctx, db.InsertWALMetricParams{SourceID: in.SourceID, SizeBytes: in.SizeBytes,
			RetainedBytes: in.RetainedBytes, SlotActive: in.SlotActive, WalStatus: in.WALStatus, SafeWalSize: in.SafeWALSize,
			RecordedAt: in.RecordedAt})
		if err != nil {
			return err
		}
		out = walFromRow(row)
		return notifySamples(ctx, q, []WALSample{out})
	})
	if err != nil {
		return WALSample{}, translate(err, "WAL sample", "")
	}
	return out, nil
}

// notifySamples announces stored samples on the wal_samples channel (internal/walhub
// listens), one notification per sample with the sample as JSON. Called inside the
// writing transaction: PostgreSQL delivers the notifications at commit, never for a
// rollback.
func notifySamples(ctx context.Context, q *db.Queries, samples []WALSample) error {
	payloads := make([]string, len(samples))
	for i, w := range samples {
		p, err := json.Marshal(w)
		if err != nil {
			return apperr.Wrap(err, "cannot encode a WAL sample notification")
		}
		payloads[i] = string(p)
	}
	return q.NotifyWALSamples(ctx, payloads)
}

// ---- the WAL monitor's side of the catalog: what it probes, and what its results mean

// Probe states of a source, as Source.ProbeState reports them.
const (
	ProbeNever   = "never"
	ProbeOK      = "ok"
	ProbeFailing = "failing"
)

// ProbeStates are the values of Source.ProbeState.
var ProbeStates = []string{ProbeNever, ProbeOK, ProbeFailing}

func probeState(r db.Source) string {
	switch {
	case r.LastProbeAt == nil:
		return ProbeNever
	case r.LastProbeError != nil:
		return ProbeFailing
	}
	return ProbeOK
}

// Alerts a source can raise. Each is logged and audited once when it is raised and once
// when it clears, not every cycle it stays.
const (
	AlertFailing      = "failing"       // the probe failed FailuresToError cycles in a row
	AlertSlotInactive = "slot_inactive" // the slot exists but nothing consumes it
	AlertSlotLost     = "slot_lost"     // wal_status = lost: the slot can no longer stream
	AlertRetention    = "retention"     // the slot retains more WAL than the threshold
)

// MonitorActor is the audit actor of everything the WAL monitor changes.
const MonitorActor = "system:wal-monitor"

// MonitorSettings are the monitor's rules that the catalog applies.
type MonitorSettings struct {
	// FailuresToError is how many failed cycles in a row turn a RUNNING pipeline to ERROR.
	FailuresToError int
	// AlertBytes is the retention threshold of sources without their own.
	AlertBytes int64
}

// DefaultMonitorSettings match the configuration defaults.
var DefaultMonitorSettings = MonitorSettings{FailuresToError: 2, AlertBytes: 10 << 30}

// WithMonitorSettings sets the monitor's rules (from config).
func WithMonitorSettings(m MonitorSettings) Option {
	return func(s *Service) {
		if m.FailuresToError < 1 {
			m.FailuresToError = DefaultMonitorSettings.FailuresToError
		}
		if m.AlertBytes < 1 {
			m.AlertBytes = DefaultMonitorSettings.AlertBytes
		}
		s.monitor = m
	}
}

// monitorContext makes the monitor the actor of what follows (audit), whoever asked.
func monitorContext(ctx context.Context) context.Context {
	return auth.WithPrincipal(ctx, auth.Principal{Email: MonitorActor, Role: auth.Operator})
}

// ProbeTarget is one source as the monitor probes it.
type ProbeTarget struct {
	ID   int64
	Name string
	Conn pgsource.Conn
	Slot string
}

// ProbeTargets lists every source with its opened credentials, for one cycle. A source
// whose password cannot be opened is returned in broken with the reason, so the cycle
// records it as failed instead of skipping it silently.
func (s *Service) ProbeTargets(ctx context.Context) (targets []ProbeTarget, broken []ProbeResult, err error) {
	rows, err := s.q.ListSourcesForProbe(ctx)
	if err != nil {
		return nil, nil, translate(err, "source", "")
	}
	for _, r := range rows {
		t, err := s.probeTarget(r)
		if err != nil {
			broken = append(broken, ProbeResult{SourceID: r.ID, SourceName: r.Name, At: time.Now(), Err: err})
			continue
		}
		targets = append(targets, t)
	}
	return targets, broken, nil
}

func (s *Service) probeTarget(r db.Source) (ProbeTarget, error) {
	c, err := s.connOf(r)
	if err != nil {
		return ProbeTarget{}, err
	}
	return ProbeTarget{ID: r.ID, Name: r.Name, Conn: c, Slot: r.ReplicationID}, nil
}

// ProbeResult is one source's outcome in a cycle, after the monitor's retries.
type ProbeResult struct {
	SourceID   int64
	SourceName string
	At         time.Time
	Sample     *pgsource.WALSample // nil when the probe failed
	Err        error
	Attempts   int
	Duration   time.Duration // the probe with its retries
}

// Alert is a raised or cleared alert, for the monitor's log.
type Alert struct {
	SourceID   int64
	SourceName string
	Alert      string
	Raised     bool // false: cleared
	Message    string
}

// Transition is a pipeline the monitor moved.
type Transition struct {
	PipelineID   int64
	PipelineName string
	SourceID     int64
	From, To     string
	Reason       string
}

// ProbeReport is what recording one cycle's results stored and changed.
type ProbeReport struct {
	Samples     []WALSample
	Alerts      []Alert
	Transitions []Transition
}

// RecordProbes stores one cycle's results: every sample in one batch, each announced on
// the wal_samples channel in the same transaction; every source's probe outcome; alerts
// that appeared or cleared (audited). Then it applies the runtime-status rule to the
// pipelines of each source, one locked, audited transaction per pipeline. A source's
// outcome, alerts and pipelines follow its newest result when results holds several for
// it: every sample is stored, but the set-based update of the successes reads each
// source's state once, so older results must not be judged against it.
func (s *Service) RecordProbes(ctx context.Context, results []ProbeResult) (ProbeReport, error) {
	ctx = monitorContext(ctx)
	outcomes := newestPerSource(results)
	var rep ProbeReport
	type verdict struct {
		id           int64
		name, reason string
		detail       string // reason with network detail, for those who may edit the source
		broken       bool   // ERROR-worthy
		healthy      bool
	}
	var verdicts []verdict
	err := s.pool.InTx(ctx, func(q *db.Queries, tx pgx.Tx) error {
		rep = ProbeReport{}
		verdicts = verdicts[:0]
		samples, err := s.insertSamples(ctx, q, results)
		if err != nil {
			return err
		}
		rep.Samples = samples
		// Every success in one statement: a cycle is mostly successes, and one UPDATE per
		// source was half of the writer's round trips (BENCHMARKS.md, "WAL monitor cycle").
		var ok db.RecordProbeSuccessesParams
		for _, r := range outcomes {
			if r.Sample != nil {
				ok.Ids, ok.Ats = append(ok.Ids, r.SourceID), append(ok.Ats, r.At)
			}
		}
		succeeded := map[int64]db.RecordProbeSuccessesRow{}
		if len(ok.Ids) > 0 {
			rows, err := q.RecordProbeSuccesses(ctx, ok)
			if err != nil {
				return err
			}
			for _, st := range rows {
				succeeded[st.ID] = st
			}
		}
		for _, r := range outcomes {
			var before, after []string
			v := verdict{id: r.SourceID, name: r.SourceName}
			if r.Sample != nil {
				st, found := succeeded[r.SourceID]
				if !found {
					continue // deleted meanwhile
				}
				before = st.AlertsBefore
				after = sampleAlerts(*r.Sample, s.threshold(st.Threshold))
				if r.Sample.WALStatus != nil && *r.Sample.WALStatus == "lost" {
					v.broken, v.reason = true, fmt.Sprintf("the replication slot %q of source %q is lost (wal_status = lost): it can no longer stream and must be recreated", st.ReplicationID, r.SourceName)
				} else {
					v.healthy = true
				}
			} else {
				// Viewers see the public sentence; the detail (addresses, refusals, TLS
				// reasons) is for operators and admins only, chosen when the row is read.
				msg, detail := pgsource.Describe(r.Err)
				st, err := q.RecordProbeFailure(ctx, db.RecordProbeFailureParams{ID: r.SourceID, At: &r.At, Error: &msg,
					Detail: optText(detail), Reason: failureReason(r.Err)})
				if errors.Is(err, pgx.ErrNoRows) {
					continue
				} else if err != nil {
					return err
				}
				before = st.AlertsBefore
				// The slot's state is unknown while the source cannot be reached: its
				// alerts stay as they were.
				for _, a := range before {
					if a != AlertFailing {
						after = append(after, a)
					}
				}
				if int(st.Failures) >= s.monitor.FailuresToError {
					after = append(after, AlertFailing)
					v.broken = true
					v.reason = fmt.Sprintf("the WAL monitor could not probe source %q %d times in a row: %s", r.SourceName, st.Failures, msg)
					v.detail = fmt.Sprintf("the WAL monitor could not probe source %q %d times in a row: %s", r.SourceName, st.Failures, detail)
				}
			}
			verdicts = append(verdicts, v)
			raised, cleared := diffAlerts(before, after)
			if len(raised)+len(cleared) == 0 {
				continue
			}
			if err := q.SetSourceAlerts(ctx, db.SetSourceAlertsParams{ID: r.SourceID, Alerts: after}); err != nil {
				return err
			}
			for _, a := range raised {
				al := Alert{SourceID: r.SourceID, SourceName: r.SourceName, Alert: a, Raised: true, Message: alertMessage(a, r, s.monitor)}
				rep.Alerts = append(rep.Alerts, al)
				if err := s.record(ctx, tx, AuditEvent{Action: "alert", EntityKind: "source", EntityID: r.SourceID, EntityName: r.SourceName,
					Changes: map[string]any{"alert": a, "message": al.Message}}); err != nil {
					return err
				}
			}
			for _, a := range cleared {
				rep.Alerts = append(rep.Alerts, Alert{SourceID: r.SourceID, SourceName: r.SourceName, Alert: a, Message: "cleared"})
				if err := s.record(ctx, tx, AuditEvent{Action: "alert_cleared", EntityKind: "source", EntityID: r.SourceID, EntityName: r.SourceName,
					Changes: map[string]any{"alert": a}}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return ProbeReport{}, translate(err, "WAL sample", "")
	}
	// The pipelines of every source with a verdict, read once for the cycle; only those
	// the rule moves cost a transaction each.
	var ids []int64
	for _, v := range verdicts {
		if v.broken || v.healthy {
			ids = append(ids, v.id)
		}
	}
	if len(ids) == 0 {
		return rep, nil
	}
	ps, err := s.q.ListPipelinesOfSources(ctx, ids)
	if err != nil {
		return rep, translate(err, "pipeline", "")
	}
	bySource := map[int64][]db.ListPipelinesOfSourcesRow{}
	for _, p := range ps {
		bySource[p.SourceID] = append(bySource[p.SourceID], p)
	}
	var errs []error
	for _, v := range verdicts {
		if (!v.broken && !v.healthy) || len(bySource[v.id]) == 0 {
			continue
		}
		ts, err := s.applySourceHealth(ctx, v.id, bySource[v.id], v.healthy, v.reason, v.detail)
		rep.Transitions = append(rep.Transitions, ts...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return rep, errors.Join(errs...)
}

// insertSamples writes the successful results' samples in one statement and announces
// each with pg_notify in the same transaction.
func (s *Service) insertSamples(ctx context.Context, q *db.Queries, results []ProbeResult) ([]WALSample, error) {
	type row struct {
		SourceID      int64     `json:"source_id"`
		SizeBytes     int64     `json:"size_bytes"`
		RetainedBytes *int64    `json:"retained_bytes"`
		SlotActive    *bool     `json:"slot_active"`
		WALStatus     *string   `json:"wal_status"`
		SafeWALSize   *int64    `json:"safe_wal_size"`
		RecordedAt    time.Time `json:"recorded_at"`
	}
	var rows []row
	var first, last time.Time
	for _, r := range results {
		if r.Sample == nil {
			continue
		}
		w := r.Sample
		rows = append(rows, row{r.SourceID, w.SizeBytes, w.RetainedBytes, w.SlotActive, w.WALStatus, w.SafeWALSize, r.At.UTC()})
		if first.IsZero() || r.At.Before(first) {
			first = r.At
		}
		if r.At.After(last) {
			last = r.At
		}
	}
	if len(rows) == 0 {
		return []WALSample{}, nil
	}
	if _, err := q.EnsureWALPartitions(ctx, db.EnsureWALPartitionsParams{FromAt: first, ToAt: last}); err != nil {
		return nil, err
	}
	b, err := json.Marshal(rows)
	if err != nil {
		return nil, apperr.Wrap(err, "cannot encode WAL samples")
	}
	stored, err := q.InsertWALSamples(ctx, b)
	if err != nil {
		return nil, err
	}
	out := make([]WALSample, len(stored))
	for i, m := range stored {
		out[i] = walFromRow(m)
	}
	if err := notifySamples(ctx, q, out); err != nil {
		return nil, err
	}
	return out, nil
}

// threshold is a source's retention alert threshold: its own, else the default.
func (s *Service) threshold(own *int64) int64 {
	if own != nil {
		return *own
	}
	return s.monitor.AlertBytes
}

// sampleAlerts are the slot alerts a successful sample raises.
// newestPerSource is results with one result per source, its newest (the later one in
// results when two have the same time), in the order the sources first appear. The
// monitor sends one per source; a caller recording a backlog may send more.
func newestPerSource(results []ProbeResult) []ProbeResult {
	at := make(map[int64]int, len(results))
	out := make([]ProbeResult, 0, len(results))
	for _, r := range results {
		i, seen := at[r.SourceID]
		switch {
		case !seen:
			at[r.SourceID] = len(out)
			out = append(out, r)
		case !r.At.Before(out[i].At):
			out[i] = r
		}
	}
	return out
}

func sampleAlerts(w pgsource.WALSample, threshold int64) []string {
	var out []string
	if w.WALStatus != nil && *w.WALStatus == "lost" {
		out = append(out, AlertSlotLost)
	} else if w.SlotActive != nil && !*w.SlotActive {
		out = append(out, AlertSlotInactive)
	}
	if w.RetainedBytes != nil && *w.RetainedBytes > threshold {
		out = append(out, AlertRetention)
	}
	return out
}

func diffAlerts(before, after []string) (raised, cleared []string) {
	for _, a := range after {
		if !slices.Contains(before, a) {
			raised = append(raised, a)
		}
	}
	for _, b := range before {
		if !slices.Contains(after, b) {
			cleared = append(cleared, b)
		}
	}
	return raised, cleared
}

func alertMessage(a string, r ProbeResult, m MonitorSettings) string {
	switch a {
	case AlertFailing:
		// The audit log is for every signed-in user: the public sentence, no network detail.
		public, _ := pgsource.Describe(r.Err)
		return fmt.Sprintf("source %q failed its WAL probe %d or more cycles in a row: %s", r.SourceName, m.FailuresToError, public)
	case AlertSlotInactive:
		return fmt.Sprintf("the replication slot of source %q is inactive: nothing consumes it, so it retains WAL", r.SourceName)
	case AlertSlotLost:
		return fmt.Sprintf("the replication slot of source %q is lost (wal_status = lost)", r.SourceName)
	case AlertRetention:
		var retained int64
		if r.Sample != nil && r.Sample.RetainedBytes != nil {
			retained = *r.Sample.RetainedBytes
		}
		return fmt.Sprintf("the replication slot of source %q retains %d bytes of WAL, over its alert threshold", r.SourceName, retained)
	}
	return a
}

func failureReason(err error) *string {
	var ce *pgsource.ConnectError
	r := "query" // connected, but the sample query failed
	if errors.As(err, &ce) {
		r = string(ce.Reason)
	} else if apperr.As(err) != nil {
		r = "credentials" // Rosetta could not open the stored password (SECRET_KEY changed?)
	}
	return &r
}

// ErrProbeFailed marks ProbeSource's error when the source itself could not be probed
// (the failure is recorded on the source), as opposed to Rosetta's own storage failing.
var ErrProbeFailed = errors.New("the source could not be probed")

// ProbeSource is "probe now": one probe of one source, recorded like a cycle's (sample,
// probe state, alerts, runtime status) and returned. A failed probe is recorded, then
// returned as an Unavailable error carrying the reason.
func (s *Service) ProbeSource(ctx context.Context, id int64) (WALSample, error) {
	row, err := s.q.GetSource(ctx, id)
	if err != nil {
		return WALSample{}, translate(err, "source", "")
	}
	res := ProbeResult{SourceID: row.ID, SourceName: row.Name, Attempts: 1}
	t, err := s.probeTarget(row)
	if err == nil {
		var w pgsource.WALSample
		w, err = pgsource.ProbeWAL(ctx, t.Conn, t.Slot)
		if err == nil {
			res.Sample = &w
		}
	}
	res.At, res.Err = time.Now(), err
	rep, recErr := s.RecordProbes(ctx, []ProbeResult{res})
	if res.Err != nil {
		msg, detail := pgsource.Describe(res.Err)
		if seesNetworkDetail(ctx) {
			msg = detail
		}
		return WALSample{}, &apperr.Error{Code: apperr.Unavailable, Err: ErrProbeFailed,
			Message: fmt.Sprintf("probing source %q failed: %s", row.Name, msg)}
	}
	if recErr != nil && len(rep.Samples) == 0 {
		return WALSample{}, recErr
	}
	if len(rep.Samples) == 0 {
		return WALSample{}, apperr.E(apperr.NotFound, "source %d was deleted while it was being probed", id)
	}
	return rep.Samples[0], nil
}

// MaintainWALPartitions creates the daily partitions (of the samples and of their hourly
// rollup) from today through aheadDays ahead and drops every partition whose whole day is
// older than retention; dropped names the samples' partitions dropped. A partition is
// detached CONCURRENTLY first, so readers are never blocked, then dropped: retention
// never deletes samples one by one.
func (s *Service) MaintainWALPartitions(ctx context.Context, now time.Time, aheadDays int, retention time.Duration) (created int, dropped []string, err error) {
	c, err := s.q.EnsureWALPartitions(ctx, db.EnsureWALPartitionsParams{FromAt: now, ToAt: now.AddDate(0, 0, aheadDays)})
	if err != nil {
		return 0, nil, translate(err, "WAL partition", "")
	}
	parts, err := s.q.ListExpiredWALPartitions(ctx, now.Add(-retention))
	if err != nil {
		return int(c), nil, translate(err, "WAL partition", "")
	}
	var through time.Time
	for _, p := range parts {
		parent, id := pgx.Identifier{p.Parent}.Sanitize(), pgx.Identifier{p.Name}.Sanitize()
		// Not in a transaction: DETACH ... CONCURRENTLY refuses to run inside one.
		if _, err := s.pool.Exec(ctx, "ALTER TABLE "+parent+" DETACH PARTITION "+id+" CONCURRENTLY"); err != nil {
			// An earlier detach interrupted half-way leaves the partition pending; finish it.
			if _, err2 := s.pool.Exec(ctx, "ALTER TABLE "+parent+" DETACH PARTITION "+id+" FINALIZE"); err2 != nil {
				return int(c), dropped, translate(err, "WAL partition", "")
			}
		}
		if _, err := s.pool.Exec(ctx, "DROP TABLE "+id); err != nil {
			return int(c), dropped, translate(err, "WAL partition", "")
		}
		if p.Parent == "wal_metrics" {
			dropped = append(dropped, p.Name)
			through = p.DayEnd
		}
	}
	if !through.IsZero() {
		if _, err := s.q.DeleteWALLatestBefore(ctx, through); err != nil {
			return int(c), dropped, translate(err, "WAL sample", "")
		}
	}
	return int(c), dropped, nil
}

// WALPartitions lists wal_metrics' partitions by name (oldest day first).
func (s *Service) WALPartitions(ctx context.Context) ([]string, error) {
	names, err := s.q.ListWALPartitions(ctx)
	return names, translate(err, "WAL partition", "")
}
