package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// unmatchedRoute labels requests no route matched. Using the raw URL instead would let
// any client create series at will (and put whatever it typed into the metrics).
const unmatchedRoute = "unmatched"

// Middleware counts and times every request by its route template (echo's c.Path(),
// e.g. /sources/:id), never the raw URL. Register it with e.Pre, after any path
// rewriting: it then wraps routing, so it sees requests every later middleware refuses
// (401, 403, 429) with the status the client got.
func (m *Metrics) Middleware() echo.MiddlewareFunc {
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
			status := strconv.Itoa(c.Response().Status)
			method := knownMethod(c.Request().Method)
			m.httpRequests.WithLabelValues(method, route, status).Inc()
			m.httpDuration.WithLabelValues(method, route, status).Observe(time.Since(start).Seconds())
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
