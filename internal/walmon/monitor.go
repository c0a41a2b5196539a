// Package walmon is the WAL monitor: a gocron v2 scheduler that, on the one instance
// holding the leader lock, probes every source's WAL and replication slot once per
// interval (concurrently, bounded, with retries), stores the cycle's samples in one batch
// and hands the outcomes to the catalog, which records each source's probe state, raises
// alerts and moves pipelines between RUNNING and ERROR. A second job keeps wal_metrics'
// daily partitions: created ahead, dropped whole past the retention.
package walmon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-co-op/gocron/v2"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/config"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/pgsource"
)

// Observer receives what the monitor does, for metrics. Every method must return
// quickly; a nil Observer is allowed.
type Observer interface {
	ProbeDone(sourceID int64, sourceName string, d time.Duration, err error) // once per probe after retries
	CycleDone(d time.Duration, sources, failed, samples int, err error)
	LeaderChanged(leader bool)
	SourceWAL(sourceID int64, sourceName string, sizeBytes int64, retainedBytes *int64)
}

// Job names, set explicitly so logs and gocron's own bookkeeping say what runs.
const (
	CycleJobName     = "wal-monitor-cycle"
	PartitionJobName = "wal-metrics-partitions"
)

// Options configure a Monitor. Zero values take the defaults noted.
type Options struct {
	Interval       time.Duration // 300 s
	Concurrency    int           // 32 probes at once (config.WALMonitorConcurrency says why)
	MaxRetries     int           // retries after a failed attempt; negative = none (0 means 0)
	MaxConnections int           // sessions open to sources at once; default 2 × Concurrency
	Retention      time.Duration // 30 days of samples
	// BackoffBase is the unit of the retry delay base·2^n plus up to one base of jitter
	// (1 s in production, so 2 s, 4 s, 8 s…; tests shorten it).
	BackoffBase time.Duration
	// PartitionsAhead is how many days of partitions exist ahead of today (3).
	PartitionsAhead int
	// PartitionEvery is the partition job's period (1 h).
	PartitionEvery time.Duration
	Observer       Observer
	Logger         *slog.Logger
	// OnRetry, if set, is told of each retry before its delay (logs and tests).
	OnRetry func(sourceID int64, attempt int, delay time.Duration, err error)
}

// FromConfig maps the environment's settings onto Options.
func FromConfig(c *config.Config) Options {
	return Options{Interval: c.WALMonitorInterval.D(), Concurrency: c.WALMonitorConcurrency, MaxRetries: c.WALMonitorMaxRetries,
		MaxConnections: c.WALMonitorMaxConnections, Retention: c.WALRetention.D()}
}

// keepSessionsBelow: with an interval this short, a source's session is kept between
// cycles; with longer ones a session would sit idle on the operator's server for minutes
// to save one handshake, so each probe connects afresh.
const keepSessionsBelow = 2 * time.Minute

// Status is the scheduler's state for /api/v1/health.
type Status struct {
	Running           bool          `json:"running"`
	Leader            bool          `json:"leader"`
	LastCycleAt       time.Time     `json:"last_cycle_at"`
	LastCycleDuration time.Duration `json:"last_cycle_duration"`
	LastCycleErr      string        `json:"last_cycle_error,omitempty"`
	Sources           int           `json:"sources"`
	Failed            int           `json:"failed"`
	Samples           int           `json:"samples"`
	Interval          time.Duration `json:"interval"`
	OpenConnections   int           `json:"open_connections"`
}

// Monitor runs the cycle. Build it with New, run it with Run.
type Monitor struct {
	cat     *catalog.Service
	o       Options
	log     *slog.Logger
	elector *Elector
	conns   *conns
	sem     chan struct{}
	running atomic.Bool

	mu     sync.Mutex
	status Status
}

// New builds a monitor on the application's pool (its connection settings are reused for
// the election's dedicated session) and catalog.
func New(pool *db.Pool, cat *catalog.Service, o Options) *Monitor {
	if o.Interval <= 0 {
		o.Interval = 300 * time.Second
	}
	if o.Concurrency < 1 {
		o.Concurrency = 32
	}
	if o.MaxRetries < 0 {
		o.MaxRetries = 0
	}
	if o.MaxConnections < o.Concurrency {
		o.MaxConnections = 2 * o.Concurrency
	}
	if o.Retention <= 0 {
		o.Retention = 30 * 24 * time.Hour
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = time.Second
	}
	if o.PartitionsAhead < 1 {
		o.PartitionsAhead = 3
	}
	if o.PartitionEvery <= 0 {
		o.PartitionEvery = time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	m := &Monitor{cat: cat, o: o, log: o.Logger.With("component", "walmon"),
		conns: newConns(o.MaxConnections, o.Interval < keepSessionsBelow), sem: make(chan struct{}, o.Concurrency)}
	m.status.Interval = o.Interval
	m.elector = NewElector(pool.Config().ConnConfig, m.leaderChanged)
	return m
}

// Elector is the monitor's leader election (gocron.Elector).
func (m *Monitor) Elector() *Elector { return m.elector }

func (m *Monitor) leaderChanged(leader bool) {
	m.mu.Lock()
	m.status.Leader = leader
	m.mu.Unlock()
	if leader {
		m.log.Info("this instance now leads the WAL monitor")
	} else {
		m.log.Info("this instance does not lead the WAL monitor")
		// A follower must not keep sessions to sources open.
		m.conns.sweep(time.Now().Add(time.Hour), nil)
	}
	if m.o.Observer != nil {
		m.o.Observer.LeaderChanged(leader)
	}
}

// Status is a snapshot for health checks.
func (m *Monitor) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.status
	s.Running = m.running.Load()
	s.OpenConnections = m.conns.open()
	return s
}

// Run schedules the cycle and the partition job and blocks until ctx ends; then it stops
// the scheduler (waiting for a running cycle to notice), then the election (releasing the
// lock for another instance), then closes the cached source sessions.
func (m *Monitor) Run(ctx context.Context) error {
	s, err := gocron.NewScheduler(
		gocron.WithDistributedElector(m.elector),
		gocron.WithStopTimeout(30*time.Second),
	)
	if err != nil {
		return fmt.Errorf("walmon: scheduler: %w", err)
	}
	jobs := []struct {
		name  string
		every time.Duration
		fn    func(context.Context)
	}{
		{CycleJobName, m.o.Interval, func(ctx context.Context) { _ = m.Cycle(ctx) }},
		{PartitionJobName, m.o.PartitionEvery, m.maintainPartitions},
	}
	for _, j := range jobs {
		if _, err := s.NewJob(gocron.DurationJob(j.every), gocron.NewTask(j.fn),
			gocron.WithName(j.name),
			// A cycle that overruns its interval is never run twice at once: the
			// overlapping run is skipped, not queued.
			gocron.WithSingletonMode(gocron.LimitModeReschedule),
			gocron.WithStartAt(gocron.WithStartImmediately()),
			gocron.WithContext(ctx),
		); err != nil {
			_ = s.Shutdown()
			return fmt.Errorf("walmon: job %s: %w", j.name, err)
		}
	}
	m.running.Store(true)
	m.log.Info("WAL monitor started", "interval", m.o.Interval, "concurrency", m.o.Concurrency,
		"max_retries", m.o.MaxRetries, "max_connections", m.o.MaxConnections)
	s.Start()
	<-ctx.Done()
	err = s.Shutdown()
	m.elector.Close()
	m.conns.closeAll()
	m.running.Store(false)
	if err != nil {
		return fmt.Errorf("walmon: stop scheduler: %w", err)
	}
	return nil
}

// Cycle probes every source once and records the outcome. The scheduler calls it on the
// leader; tests call it directly.
func (m *Monitor) Cycle(ctx context.Context) error {
	start := time.Now()
	targets, broken, err := m.cat.ProbeTargets(ctx)
	if err != nil {
		m.cycleDone(start, 0, 0, 0, err)
		return err
	}
	results := make([]catalog.ProbeResult, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = m.probe(ctx, t)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		// Shutting down (or leadership handed over) mid-cycle: keep the samples taken, but
		// record no failure the cancellation caused, or a restart would count as an outage.
		results = slices.DeleteFunc(results, func(r catalog.ProbeResult) bool { return r.Sample == nil })
	} else {
		results = append(results, broken...)
	}

	failed := 0
	for _, r := range results {
		if r.Err != nil {
			failed++
			m.log.Warn("WAL probe failed", "source_id", r.SourceID, "source", r.SourceName, "attempts", r.Attempts, "err", r.Err.Error())
		}
		if m.o.Observer != nil {
			m.o.Observer.ProbeDone(r.SourceID, r.SourceName, r.Duration, r.Err)
			if r.Sample != nil {
				m.o.Observer.SourceWAL(r.SourceID, r.SourceName, r.Sample.SizeBytes, r.Sample.RetainedBytes)
			}
		}
	}
	// Recording must finish even when shutdown starts now: the samples are taken.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	rep, err := m.cat.RecordProbes(wctx, results)
	m.report(rep)

	keep := make(map[int64]bool, len(targets))
	for _, t := range targets {
		keep[t.ID] = true
	}
	m.conns.sweep(time.Now().Add(-2*m.o.Interval), keep)
	m.cycleDone(start, len(results), failed, len(rep.Samples), err)
	return err
}

func (m *Monitor) report(rep catalog.ProbeReport) {
	for _, a := range rep.Alerts {
		if a.Raised {
			m.log.Warn("WAL monitor alert", "alert", a.Alert, "source_id", a.SourceID, "source", a.SourceName, "message", a.Message)
		} else {
			m.log.Info("WAL monitor alert cleared", "alert", a.Alert, "source_id", a.SourceID, "source", a.SourceName)
		}
	}
	for _, t := range rep.Transitions {
		lvl := slog.LevelInfo
		if t.To == catalog.RuntimeError {
			lvl = slog.LevelWarn
		}
		m.log.Log(context.Background(), lvl, "pipeline runtime status changed by the WAL monitor",
			"pipeline_id", t.PipelineID, "pipeline", t.PipelineName, "from", t.From, "to", t.To, "reason", t.Reason)
	}
}

func (m *Monitor) cycleDone(start time.Time, sources, failed, samples int, err error) {
	d := time.Since(start)
	m.mu.Lock()
	m.status.LastCycleAt, m.status.LastCycleDuration = start.UTC(), d
	m.status.Sources, m.status.Failed, m.status.Samples = sources, failed, samples
	m.status.LastCycleErr = ""
	if err != nil {
		m.status.LastCycleErr = err.Error()
	}
	m.mu.Unlock()
	if err != nil {
		m.log.Error("WAL monitor cycle failed", "err", err.Error(), "duration", d)
	} else {
		m.log.Debug("WAL monitor cycle done", "sources", sources, "failed", failed, "samples", samples, "duration", d)
	}
	if m.o.Observer != nil {
		m.o.Observer.CycleDone(d, sources, failed, samples, err)
	}
}

// probe takes one source's sample, retrying failed attempts after base·2^n plus jitter.
// The concurrency slot is held only while an attempt runs, never during a backoff, so
// sources in retry do not hold up the others.
func (m *Monitor) probe(ctx context.Context, t catalog.ProbeTarget) catalog.ProbeResult {
	start := time.Now()
	res := catalog.ProbeResult{SourceID: t.ID, SourceName: t.Name}
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			delay := m.backoff(attempt)
			if m.o.OnRetry != nil {
				m.o.OnRetry(t.ID, attempt, delay, res.Err)
			}
			m.log.Debug("retrying WAL probe", "source_id", t.ID, "source", t.Name, "attempt", attempt, "delay", delay, "err", res.Err.Error())
			timer := time.NewTimer(delay)
			select {
			case <-timer.C:
			case <-ctx.Done():
				timer.Stop()
				res.Duration = time.Since(start)
				return res
			}
		}
		res.Attempts++
		w, err := m.attempt(ctx, t)
		res.At = time.Now()
		if err == nil {
			res.Sample, res.Err = &w, nil
			break
		}
		res.Err = err
		if attempt >= m.o.MaxRetries || ctx.Err() != nil {
			break
		}
	}
	res.Duration = time.Since(start)
	return res
}

// backoff is the delay before retry n (1-based): base·2^n plus up to one base of jitter,
// so instances retrying the same outage do not hit it in step.
func (m *Monitor) backoff(n int) time.Duration {
	return m.o.BackoffBase<<n + rand.N(m.o.BackoffBase)
}

// attempt is one try: on the cached session if there is one (a stale one is replaced
// once at no cost to the retry budget), else on a new one.
func (m *Monitor) attempt(ctx context.Context, t catalog.ProbeTarget) (pgsource.WALSample, error) {
	select {
	case m.sem <- struct{}{}:
	case <-ctx.Done():
		return pgsource.WALSample{}, ctx.Err()
	}
	defer func() { <-m.sem }()
	for {
		s, err := m.conns.get(ctx, t)
		if err != nil {
			return pgsource.WALSample{}, err
		}
		w, err := pgsource.SampleWAL(ctx, s.conn, t.Conn, t.Slot)
		reused := s.reused
		m.conns.put(s, err == nil)
		if err != nil && reused && ctx.Err() == nil {
			continue // the cached session had died (server restart, idle timeout)
		}
		return w, err
	}
}

func (m *Monitor) maintainPartitions(ctx context.Context) {
	created, dropped, err := m.cat.MaintainWALPartitions(ctx, time.Now(), m.o.PartitionsAhead, m.o.Retention)
	if err != nil && !errors.Is(ctx.Err(), context.Canceled) {
		m.log.Error("WAL sample partition maintenance failed", "err", err.Error())
		return
	}
	if created > 0 || len(dropped) > 0 {
		m.log.Info("WAL sample partitions maintained", "created", created, "dropped", dropped)
	}
}
