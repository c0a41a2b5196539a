// Package metrics is Rosetta's Prometheus face: HTTP requests by route template, the
// PostgreSQL pool, and the WAL monitor (it implements the monitor's Observer). Every
// Metrics has its own registry rather than the process-wide default, so several servers
// in one process (parallel tests, two instances in one test) never collide, and a
// scrape shows exactly what this instance registered.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const namespace = "rosetta"

// Metrics holds the registry and every metric Rosetta exports. Its methods are safe for
// concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec

	probeDuration *prometheus.HistogramVec
	probeFailures *prometheus.CounterVec
	cycles        *prometheus.CounterVec
	cycleDuration prometheus.Gauge
	cycleAt       prometheus.Gauge
	cycleOK       prometheus.Gauge
	cycleSources  prometheus.Gauge
	cycleFailed   prometheus.Gauge
	samples       prometheus.Counter
	leader        prometheus.Gauge
	walSize       *prometheus.GaugeVec
	slotRetained  *prometheus.GaugeVec

	// Per-source series are dropped when a source stops being probed (deleted or
	// renamed), so a scrape never shows a source that no longer exists. seen collects
	// the sources reported since the last completed cycle; series holds every label set
	// currently exported.
	mu     sync.Mutex
	seen   map[sourceKey]bool
	series map[sourceKey]bool
}

type sourceKey struct {
	id   string
	name string
}

func key(id int64, name string) sourceKey {
	return sourceKey{id: strconv.FormatInt(id, 10), name: name}
}

// httpBuckets span a fast JSON read (a few ms) to a slow preflight against a remote
// source (seconds); probe buckets go further because a probe includes connecting.
var (
	httpBuckets  = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	probeBuckets = []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
)

// New builds a Metrics with its own registry, including the Go runtime and process
// collectors (memory and goroutines are the first thing to look at on a slow instance).
func New() *Metrics {
	m := &Metrics{
		reg:    prometheus.NewRegistry(),
		seen:   map[sourceKey]bool{},
		series: map[sourceKey]bool{},
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests answered, by method, route template and status code.",
		}, []string{"method", "route", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method, route template and status code (event streams count until they close).",
			Buckets: httpBuckets,
		}, []string{"method", "route", "status"}),
		probeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "walmon", Name: "probe_duration_seconds",
			Help:    "Time a source's WAL probe took, retries included.",
			Buckets: probeBuckets,
		}, []string{"source_id", "source"}),
		probeFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "walmon", Name: "probe_failures_total",
			Help: "WAL probes that failed after all their retries.",
		}, []string{"source_id", "source"}),
		cycles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "walmon", Name: "cycles_total",
			Help: "Monitor cycles run by this instance, by outcome (ok, or error when the cycle itself failed).",
		}, []string{"outcome"}),
		cycleDuration: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "walmon", Name: "last_cycle_duration_seconds",
			Help: "Wall time of the last monitor cycle this instance ran.",
		}),
		cycleAt: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "walmon", Name: "last_cycle_timestamp_seconds",
			Help: "Unix time the last monitor cycle on this instance finished (0: none yet).",
		}),
		cycleOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "walmon", Name: "last_cycle_success",
			Help: "1 when the last monitor cycle completed without error, else 0.",
		}),
		cycleSources: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "walmon", Name: "last_cycle_sources",
			Help: "Sources the last monitor cycle probed.",
		}),
		cycleFailed: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "walmon", Name: "last_cycle_failed_sources",
			Help: "Sources whose probe failed (after retries) in the last monitor cycle.",
		}),
		samples: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "walmon", Name: "samples_written_total",
			Help: "WAL samples this instance stored.",
		}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "walmon", Name: "leader",
			Help: "1 while this instance holds the monitor's leadership (runs the cycles), else 0.",
		}),
		walSize: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "source", Name: "wal_size_bytes",
			Help: "Latest sampled WAL position of a source: pg_wal_lsn_diff(current LSN, '0/0').",
		}, []string{"source_id", "source"}),
		slotRetained: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "source", Name: "slot_retained_wal_bytes",
			Help: "WAL the source's replication slot retains (current LSN − restart_lsn) at the latest sample; absent when the slot does not exist.",
		}, []string{"source_id", "source"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration,
		m.probeDuration, m.probeFailures, m.cycles, m.cycleDuration, m.cycleAt, m.cycleOK,
		m.cycleSources, m.cycleFailed, m.samples, m.leader, m.walSize, m.slotRetained,
	)
	return m
}

// Registry is the registry behind Handler, for registering more collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// WatchPool exports the pool's statistics (read at every scrape).
func (m *Metrics) WatchPool(p *pgxpool.Pool) {
	m.reg.MustRegister(newPoolCollector(p.Stat))
}

// Handler serves the registry in the Prometheus exposition format. A collector error
// answers 500 rather than a partial scrape, so a gap in the data is visible as a failed
// scrape, not as silently missing series.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		Registry:          m.reg, // promhttp_metric_handler_errors_total
		ErrorHandling:     promhttp.HTTPErrorOnError,
		EnableOpenMetrics: false,
	})
}

// ListenerHandler is what the separate METRICS_ADDR listener serves: /metrics and
// nothing else, without authentication (it is meant for a private network that only
// Prometheus reaches).
func (m *Metrics) ListenerHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	return mux
}

// ---- the WAL monitor's Observer

// ProbeDone records one source's probe, once per probe after its retries.
func (m *Metrics) ProbeDone(sourceID int64, sourceName string, d time.Duration, err error) {
	m.mark(sourceID, sourceName)
	id := strconv.FormatInt(sourceID, 10)
	m.probeDuration.WithLabelValues(id, sourceName).Observe(d.Seconds())
	// Touch the failure counter on success too, so it exists at 0 and rate() works
	// from the first failure on.
	c := m.probeFailures.WithLabelValues(id, sourceName)
	if err != nil {
		c.Inc()
	}
}

// CycleDone records a finished cycle and drops the series of sources it no longer saw.
func (m *Metrics) CycleDone(d time.Duration, sources, failed, samples int, err error) {
	m.cycleDuration.Set(d.Seconds())
	m.cycleAt.Set(float64(time.Now().UnixNano()) / 1e9)
	m.cycleSources.Set(float64(sources))
	m.cycleFailed.Set(float64(failed))
	m.samples.Add(float64(samples))
	if err != nil {
		m.cycleOK.Set(0)
		m.cycles.WithLabelValues("error").Inc()
	} else {
		m.cycleOK.Set(1)
		m.cycles.WithLabelValues("ok").Inc()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// A cycle that failed as a whole (say, it could not list the sources) saw nothing:
	// pruning then would drop every source's series for an outage of our own.
	if err == nil {
		for k := range m.series {
			if !m.seen[k] {
				m.forget(k)
			}
		}
	}
	m.seen = map[sourceKey]bool{}
}

// LeaderChanged records whether this instance now leads.
func (m *Metrics) LeaderChanged(leader bool) {
	if leader {
		m.leader.Set(1)
	} else {
		m.leader.Set(0)
	}
}

// SourceWAL records a source's latest sample; retainedBytes is nil when the source has
// no replication slot, which removes the retention series.
func (m *Metrics) SourceWAL(sourceID int64, sourceName string, sizeBytes int64, retainedBytes *int64) {
	m.mark(sourceID, sourceName)
	id := strconv.FormatInt(sourceID, 10)
	m.walSize.WithLabelValues(id, sourceName).Set(float64(sizeBytes))
	if retainedBytes != nil {
		m.slotRetained.WithLabelValues(id, sourceName).Set(float64(*retainedBytes))
	} else {
		m.slotRetained.DeleteLabelValues(id, sourceName)
	}
}

func (m *Metrics) mark(id int64, name string) {
	k := key(id, name)
	m.mu.Lock()
	m.seen[k] = true
	m.series[k] = true
	m.mu.Unlock()
}

// forget deletes every per-source series of k; m.mu is held.
func (m *Metrics) forget(k sourceKey) {
	for _, v := range []interface {
		DeleteLabelValues(...string) bool
	}{m.probeDuration, m.probeFailures, m.walSize, m.slotRetained} {
		v.DeleteLabelValues(k.id, k.name)
	}
	delete(m.series, k)
}
