package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// unmatchedRoute labels requests no route matched. Using the raw URL instead would let
// any client create series at will (and put whatever it typed into the metrics).
const unmatchedRoute = "unmatched"

// Middleware counts and times every request by its route template (echo's c.Path(),
// e.g. /sources/:id), never the raw URL. Make it the first middleware (web.New does):
// it then sees requests every later middleware refuses (401, 403, 429), and unrouted
// ones, with the status the client got.
//
// The series of each method, route and status is looked up once and kept: the label
// values' hash and the vectors' locks are otherwise paid twice on every request. The
// series are never deleted, and routes, the standard methods and statuses are few, so
// the cache is as bounded as the series themselves.
func (m *Metrics) Middleware() echo.MiddlewareFunc {
	type key struct {
		method, route string
		status        int
	}
	type series struct {
		requests prometheus.Counter
		duration prometheus.Observer
	}
	var cache sync.Map // key → series
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				// Write the error response now so the status recorded is the one sent.
				c.Error(err)
			}
			route := c.Path()
			if route == "" {
				route = unmatchedRoute
			}
			k := key{knownMethod(c.Request().Method), route, c.Response().Status}
			v, ok := cache.Load(k)
			if !ok {
				status := strconv.Itoa(k.status)
				v, _ = cache.LoadOrStore(k, series{
					requests: m.httpRequests.WithLabelValues(k.method, route, status),
					duration: m.httpDuration.WithLabelValues(k.method, route, status),
				})
			}
			s := v.(series)
			s.requests.Inc()
			s.duration.Observe(time.Since(start).Seconds())
			return nil
		}
	}
}

// knownMethod keeps the method label to the standard verbs for the same reason.
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}
