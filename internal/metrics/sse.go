package metrics

import "github.com/prometheus/client_golang/prometheus"

// SSEHub is what the live-update hub (internal/walhub) tells about its subscribers.
type SSEHub interface {
	// Subscribers is the number of open event streams on this instance now.
	Subscribers() int
	// DroppedTotal is how many subscribers were dropped for falling behind since start.
	DroppedTotal() int64
}

// sseCollector reads the hub at scrape time, like the pool collector: the hub keeps the
// counts already, a copy in gauges could only go stale.
type sseCollector struct {
	hub                  SSEHub
	subscribers, dropped *prometheus.Desc
}

// WatchSSE exports the live WAL updates' stream counts: open subscribers (a gauge) and
// slow clients dropped (a counter). A climbing drop count means browsers or API clients
// cannot keep up with the samples, or the instance cannot write to them fast enough.
func (m *Metrics) WatchSSE(h SSEHub) {
	m.reg.MustRegister(&sseCollector{
		hub: h,
		subscribers: prometheus.NewDesc(prometheus.BuildFQName(namespace, "sse", "subscribers"),
			"Server-sent event streams of live WAL samples open on this instance.", nil, nil),
		dropped: prometheus.NewDesc(prometheus.BuildFQName(namespace, "sse", "dropped_clients_total"),
			"Event stream clients dropped for falling behind (each reconnects and backfills).", nil, nil),
	})
}

func (c *sseCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.subscribers
	ch <- c.dropped
}

func (c *sseCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.subscribers, prometheus.GaugeValue, float64(c.hub.Subscribers()))
	ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(c.hub.DroppedTotal()))
}
