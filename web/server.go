// Package web is Rosetta's HTTP face: one echo server carrying the console (html/) and
// the JSON API (api/), with one route table (routes.go), one error handler and one
// render helper.
package web

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/audit"
	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/config"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/logs"
	"github.com/rosetta-cdc/rosetta/internal/metrics"
	"github.com/rosetta-cdc/rosetta/internal/walhub"
	"github.com/rosetta-cdc/rosetta/web/api"
)

// Deps are the parts the server is wired from; internal/app builds them, and New
// refuses to start without any of them rather than fill one in by itself.
type Deps struct {
	Config  *config.Config
	Logger  *slog.Logger
	Pool    *db.Pool
	Catalog *catalog.Service
	Version string
	// Auth and Audit are access control and the audit log; Access tunes sessions and
	// rate limits (zero values mean the defaults).
	Auth   *auth.Service
	Audit  *audit.Service
	Access AccessOptions
	// WALHub feeds the live WAL streams (sse.go); nil answers them 503.
	WALHub *walhub.Hub
	// SSEHeartbeat is the streams' heartbeat interval (DefaultSSEHeartbeat when 0).
	SSEHeartbeat time.Duration
	// Metrics is served at /metrics (a private registry is made when nil); Monitor
	// feeds /api/v1/health's scheduler part (nil: "off").
	Metrics *metrics.Metrics
	Monitor api.MonitorStatusFunc
}

// validate names every missing dependency at once.
func (d Deps) validate() error {
	var missing []string
	for name, absent := range map[string]bool{
		"Config": d.Config == nil, "Logger": d.Logger == nil, "Pool": d.Pool == nil, "Catalog": d.Catalog == nil,
		"Version": d.Version == "", "Auth": d.Auth == nil, "Audit": d.Audit == nil,
	} {
		if absent {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("web.New: missing %s", strings.Join(missing, ", "))
	}
	return nil
}

type Server struct {
	// Echo is for registering routes; serve Handler(), which adds the trailing-slash
	// rewrite in front of it.
	Echo   *echo.Echo
	API    huma.API
	deps   Deps
	access *accessState
	// trusted are the TRUSTED_PROXIES networks (see isHTTPS and ipExtractor).
	trusted []*net.IPNet
	// streams ends when CloseStreams is called (shutdown); every stream watches it.
	streams     context.Context
	stopStreams context.CancelFunc
	heartbeat   time.Duration
}

// New builds the echo server with every route registered.
func New(d Deps) (*Server, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	installHumaErrors()
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger = echoLogger{Logger: e.Logger, slog: d.Logger}
	s := &Server{Echo: e, deps: d, heartbeat: d.SSEHeartbeat}
	if s.heartbeat <= 0 {
		s.heartbeat = DefaultSSEHeartbeat
	}
	s.streams, s.stopStreams = context.WithCancel(context.Background())
	e.HTTPErrorHandler = s.handleError
	s.trusted = trustedNets(d.Config.TrustedProxies)
	e.IPExtractor = ipExtractor(s.trusted)
	s.setupAccess()

	if s.deps.Metrics == nil {
		s.deps.Metrics = metrics.New()
		if s.deps.Pool != nil {
			s.deps.Metrics.WatchPool(s.deps.Pool.Pool)
		}
	}
	// No e.Pre middleware: with any, echo builds the whole chain again on every request
	// (a closure per middleware, issue 12). Trailing slashes are handled by Handler
	// before echo sees the request.
	//
	// Chained once here rather than by e.Use, which chains its middleware again on every
	// request (a closure each). In this order:
	e.Use(chainOnce(
		// Request metrics first, so that requests every later middleware refuses (401,
		// 403, 429) and unrouted ones count too, with the status the client got.
		s.deps.Metrics.Middleware(),
		requestIDs,
		s.securityHeaders(), s.cors(),
		s.requestLogger(),
		middleware.RecoverWithConfig(middleware.RecoverConfig{
			LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
				loggerOf(c).Error("panic", "err", err, "stack", string(stack))
				return err
			},
		}),
		middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: "1M",
			// A request without a body (net/http's NoBody: most reads) has nothing to
			// limit; left unwrapped, checkInput also sees at once that there is none.
			Skipper: func(c echo.Context) bool { return c.Request().Body == http.NoBody },
		}),
		// Who may call what: one permission table for both faces (access_table.go).
		s.guard(),
		// Every input is text (valid UTF-8, no NUL) or the request is refused naming the field.
		checkInput(),
	))

	s.routes()
	s.sealRoutes()
	return s, nil
}

// requestLogger writes one line per request (handlers and the error handler log with
// the request id through loggerOf).
//
// The line is written by logs.WriteAccess: on the process's logger it prints what slog's
// handler would for the same record, without slog.Logger's lookup of the caller
// (runtime.Callers, once half of the line's CPU) or its handler's general machinery (the
// fast path takes a quarter of the handler's time; issue 12). The request-scoped logger is made only when
// something logs through it, not for every request.
func (s *Server) requestLogger() echo.MiddlewareFunc {
	log := s.deps.Logger
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				// Let the error handler write the response now, so the status we log is
				// the one the client gets.
				c.Error(err)
			}
			status := c.Response().Status
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			req := c.Request()
			ctx := req.Context()
			if !logs.Enabled(ctx, log, level) {
				return nil
			}
			end := time.Now()
			logs.WriteAccess(ctx, log, end, level, logs.Access{
				Method: req.Method,
				// the path only: query strings may carry tokens or search terms
				Path:      req.URL.Path,
				Status:    status,
				Duration:  end.Sub(start),
				RequestID: requestID(c),
				Remote:    c.RealIP(),
			})
			return nil
		}
	}
}

// maxRequestIDLen bounds a client's X-Request-ID: the id is echoed in every response,
// log line and error page, and a client must not make those arbitrarily large.
const maxRequestIDLen = 200

// chainOnce composes mws (first outermost, as e.Use(mws...) runs them) a single time,
// around the handler routing chose for the request. echo's e.Use middleware wrap
// c.Handler() right after routing, on every request; nothing here changes the handler
// (nothing calls SetHandler), so calling c.Handler() at the end of a chain built at
// start-up runs the same code without building the chain again per request (issue 12:
// a closure per middleware per request). TestChainOnceRunsAsEchoUse compares the two.
func chainOnce(mws ...echo.MiddlewareFunc) echo.MiddlewareFunc {
	h := func(c echo.Context) error { return c.Handler()(c) }
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return func(echo.HandlerFunc) echo.HandlerFunc { return h }
}

// requestIDs gives every request its id, echoed as X-Request-ID on the answer. A
// client's id (so a proxy's id follows the request through) is kept only as printable
// ASCII, cut to maxRequestIDLen; anything else is dropped and a fresh id made instead,
// in the format echo's RequestID middleware made before (32 letters, unbiased). One
// middleware instead of two, and the id built in one allocation, because it runs on
// every request (issue 12: Rosetta's overhead over a bare server).
func requestIDs(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header
		id := h.Get(echo.HeaderXRequestID)
		if len(id) > maxRequestIDLen {
			id = id[:maxRequestIDLen]
		}
		if strings.IndexFunc(id, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0 {
			id = ""
		}
		if id == "" {
			h.Del(echo.HeaderXRequestID)
			id = newRequestID()
		} else {
			h.Set(echo.HeaderXRequestID, id)
		}
		// The canonical key directly: Header.Set would canonicalise it on every request.
		c.Response().Header()[headerXRequestID] = []string{id}
		return next(c)
	}
}

// headerXRequestID is echo.HeaderXRequestID in net/http's canonical form.
var headerXRequestID = http.CanonicalHeaderKey(echo.HeaderXRequestID)

const requestIDLetters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newRequestID is 32 letters from crypto/rand. Bytes above the largest multiple of 52
// are skipped, so every letter is equally likely.
func newRequestID() string {
	const n, limit = 32, 256 - 256%len(requestIDLetters)
	var out [n]byte
	var buf [48]byte
	i := 0
	for i < n {
		_, _ = rand.Read(buf[:]) // crypto/rand.Read never fails (Go 1.24+): it crashes the program instead
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			out[i] = requestIDLetters[int(b)%len(requestIDLetters)]
			if i++; i == n {
				break
			}
		}
	}
	return string(out[:])
}

// loggerOf is the logger for what happens while serving c: every line carries the
// request id, as the request's own line does.
func loggerOf(c echo.Context) *slog.Logger {
	if e := c.Echo(); e != nil {
		if l, ok := e.Logger.(echoLogger); ok && l.slog != nil {
			return l.slog.With("request_id", requestID(c))
		}
	}
	return slog.Default()
}

// echoLogger carries the server's logger on its echo instance, where loggerOf finds it
// from any request, huma's process-wide error hook included. It was stored on every
// request (c.Set) instead, which cost each request a map (issue 12). echo's own logger
// stays the one it embeds.
type echoLogger struct {
	echo.Logger
	slog *slog.Logger
}

func isAPI(c echo.Context) bool {
	p := c.Request().URL.Path
	return p == "/api" || strings.HasPrefix(p, "/api/")
}

// handleError is the one echo error handler: problem JSON under /api/, an error page
// (or fragment for htmx) elsewhere.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status := http.StatusInternalServerError
	msg := "internal error"
	var he *echo.HTTPError
	var errs []error
	switch {
	case errors.As(err, &he):
		status = he.Code
		if m, ok := he.Message.(string); ok {
			msg = m
		} else {
			msg = http.StatusText(status)
		}
		if status == http.StatusNotFound {
			msg = "no such page or resource: " + c.Request().URL.Path
		}
	default:
		errs = []error{err}
		if ae := apperr.As(err); ae == nil {
			// an error no service classified is a bug: log it, show only the id
			errs = []error{apperr.Wrap(err, "internal error")}
		}
	}
	p := problemFromError(status, msg, errs, requestID(c), loggerOf(c))
	if isAPI(c) {
		if werr := writeProblem(c, p); werr != nil {
			loggerOf(c).Warn("write error response", "err", werr)
		}
		return
	}
	if werr := s.renderErrorPage(c, p); werr != nil {
		loggerOf(c).Warn("write error page", "err", werr)
	}
}

// SetSSEHeartbeat changes the streams' heartbeat interval; call it before serving
// (tests use a short one).
func (s *Server) SetSSEHeartbeat(d time.Duration) { s.heartbeat = d }

// Handler is the http.Handler to serve.
func (s *Server) Handler() http.Handler { return s }

// ServeHTTP is echo behind the trailing-slash rewrite (serve the Server or Handler(),
// never its Echo field directly): /api/v1/sources/ and
// /api/v1/sources are the same resource, so the slash is dropped, not redirected (a
// redirect would drop a POST body). Done here rather than as echo's RemoveTrailingSlash
// Pre middleware, whose mere presence makes echo build its chain per request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.Path; len(p) > 1 && p[len(p)-1] == '/' {
		r.URL.Path = p[:len(p)-1]
		// Routing reads the escaped form when there is one: it loses the slash too.
		r.URL.RawPath = strings.TrimSuffix(r.URL.RawPath, "/")
		r.RequestURI = r.URL.RequestURI()
	}
	s.Echo.ServeHTTP(w, r)
}

// apiConfig is huma's configuration: OpenAPI 3.1 at /api/v1/openapi.json, the strict
// JSON decoder, and no $schema links (clients echoing them back would trip the decoder).
func (s *Server) apiConfig() huma.Config {
	cfg := huma.DefaultConfig("Rosetta API", s.deps.Version)
	cfg.OpenAPI.Info.Description = "Control plane for PostgreSQL → Snowflake change-data-capture pipelines. " +
		"Every error is an RFC 9457 problem (application/problem+json)."
	cfg.OpenAPI.Servers = []*huma.Server{{URL: "/api/v1"}}
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", BearerFormat: "rst_…",
			Description: "An API token: create one under API tokens in the console, with `rosetta token create`, or POST /tokens."},
	}
	cfg.OpenAPI.Security = []map[string][]string{{"bearer": {}}}
	cfg.OpenAPIPath = "/openapi"
	cfg.DocsPath = "" // the docs page is ours, with assets from npm: /api/docs
	cfg.SchemasPath = ""
	cfg.CreateHooks = nil
	cfg.Formats = map[string]huma.Format{"application/json": jsonFormat, "json": jsonFormat}
	return cfg
}
