package metrics

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// poolCollector reads pgxpool's statistics at scrape time: a snapshot, never a copy kept
// in gauges that could go stale between updates.
type poolCollector struct {
	stat func() *pgxpool.Stat

	acquired, idle, constructing, total, max             *prometheus.Desc
	acquires, canceled, empty, newConns, lifetime, idled *prometheus.Desc
	acquireSeconds                                       *prometheus.Desc
}

func poolDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "db_pool", name), help, nil, nil)
}

func newPoolCollector(stat func() *pgxpool.Stat) *poolCollector {
	return &poolCollector{
		stat:           stat,
		acquired:       poolDesc("acquired_connections", "Connections currently in use."),
		idle:           poolDesc("idle_connections", "Connections open and idle."),
		constructing:   poolDesc("constructing_connections", "Connections being opened."),
		total:          poolDesc("connections", "Connections open (acquired + idle + constructing)."),
		max:            poolDesc("max_connections", "The pool's ceiling (DB_POOL_SIZE + DB_MAX_OVERFLOW)."),
		acquires:       poolDesc("acquires_total", "Successful connection acquisitions."),
		canceled:       poolDesc("canceled_acquires_total", "Acquisitions given up because the caller's context ended (DB_POOL_TIMEOUT included)."),
		empty:          poolDesc("empty_acquires_total", "Acquisitions that had to wait because no idle connection was free."),
		newConns:       poolDesc("new_connections_total", "Connections opened."),
		lifetime:       poolDesc("max_lifetime_closed_total", "Connections closed for reaching DB_POOL_RECYCLE."),
		idled:          poolDesc("max_idle_closed_total", "Connections closed for staying idle too long."),
		acquireSeconds: poolDesc("acquire_wait_seconds_total", "Total time spent acquiring connections."),
	}
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.acquired, c.idle, c.constructing, c.total, c.max,
		c.acquires, c.canceled, c.empty, c.newConns, c.lifetime, c.idled, c.acquireSeconds} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stat()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.acquired, float64(s.AcquiredConns()))
	gauge(c.idle, float64(s.IdleConns()))
	gauge(c.constructing, float64(s.ConstructingConns()))
	gauge(c.total, float64(s.TotalConns()))
	gauge(c.max, float64(s.MaxConns()))
	counter(c.acquires, float64(s.AcquireCount()))
	counter(c.canceled, float64(s.CanceledAcquireCount()))
	counter(c.empty, float64(s.EmptyAcquireCount()))
	counter(c.newConns, float64(s.NewConnsCount()))
	counter(c.lifetime, float64(s.MaxLifetimeDestroyCount()))
	counter(c.idled, float64(s.MaxIdleDestroyCount()))
	counter(c.acquireSeconds, s.AcquireDuration().Seconds())
}
