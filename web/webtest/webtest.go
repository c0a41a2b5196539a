// Package webtest builds a complete Rosetta server on a fresh test database (real
// PostgreSQL from internal/testdb) and drives it with real HTTP requests, for the tests
// of both faces.
//
// Every route except /health, /login and static assets needs a principal, so:
//
//   - a.Do(method, path, body, headers...) acts as an admin with an API token
//     (Authorization: Bearer …), on the API and the console alike. Tokens are exempt
//     from CSRF, so console form posts through a.Do need no _csrf field. Pass an
//     "Authorization: …" header to replace the token (an empty value sends none).
//   - a.As(auth.Viewer).Do(…) (or auth.Operator, auth.Admin) acts as a user of that role,
//     created on first use; a.Anonymous().Do(…) sends no credentials.
//   - a.NewUser(role) creates another user with a password and an API token (User).
//   - a.Browser(role) (or a.BrowserFor(user)) is a signed-in browser: it logged in through
//     the real /login form, keeps cookies (session, CSRF, flash) and sends the CSRF
//     token like the console does: b.Get(path), b.PostForm(path, url.Values) (adds
//     _csrf), b.Do(method, path, body, headers...) (adds X-CSRF-Token), b.HTMX(…).
//     a.NewBrowser() is one that has not signed in; b.Login(email, password) signs in.
//   - a.Ctx() is a context acting as the admin, for calling services directly.
//   - r.Doc(t) parses an HTML answer with goquery.
//
// For a real browser (chromedp), sign in through /login with a.Admin.Email and
// a.Admin.Password.
package webtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/app"
	"github.com/rosetta-cdc/rosetta/internal/audit"
	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/config"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/logs"
	"github.com/rosetta-cdc/rosetta/internal/secrets"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
	"github.com/rosetta-cdc/rosetta/internal/walhub"
	"github.com/rosetta-cdc/rosetta/internal/walhub/walhubtest"
	"github.com/rosetta-cdc/rosetta/web"
	"github.com/rosetta-cdc/rosetta/web/api"
)

// App is a server wired exactly as `rosetta serve` wires it (through internal/app), on
// its own database.
type App struct {
	T       testing.TB
	DB      *testdb.DB
	Pool    *db.Pool
	Box     *secrets.Box
	Catalog *catalog.Service
	Server  *web.Server
	Config  *config.Config
	// Logs collects everything the server logged, for tests that check what never
	// appears in a log line.
	Logs *SyncBuffer
	// Auth and Audit are the access services the server uses.
	Auth  *auth.Service
	Audit *audit.Service
	// WALHub feeds the SSE streams (running only WithLiveWAL).
	WALHub *walhub.Hub
	// Admin is the user a.Do acts as.
	Admin User

	usersMu sync.Mutex
	byRole  map[auth.Role]User
	opts    app.Options
}

// NewInstance builds a second server on the same database, as a scaled-out deployment
// runs one per instance: what lives in PostgreSQL (sessions, lockouts) is shared, what
// lives in memory is not.
func (a *App) NewInstance() *web.Server {
	a.T.Helper()
	o := a.opts
	o.Version = "other"
	core, err := app.New(context.Background(), a.Config, o)
	if err != nil {
		a.T.Fatal(err)
	}
	return core.Server
}

// NewLiveInstance is NewInstance with its own WAL hub running (its own LISTEN
// connection) until the test ends: a second instance whose event streams deliver what
// any instance stores.
func (a *App) NewLiveInstance() (*web.Server, *walhub.Hub) {
	a.T.Helper()
	o := a.opts
	o.Version = "other"
	core, err := app.New(context.Background(), a.Config, o)
	if err != nil {
		a.T.Fatal(err)
	}
	walhubtest.Run(a.T, core.WALHub)
	return core.Server, core.WALHub
}

// SyncBuffer is a goroutine-safe bytes.Buffer.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Option adjusts the app before the server is built.
type Option func(*options)

type options struct {
	pool    func(t testing.TB) *db.Pool
	env     map[string]string
	access  web.AccessOptions
	limits  *auth.LoginLimits
	liveWAL bool
	mon     api.MonitorStatusFunc
	auth    []auth.Option
	log     *slog.Logger
}

// WithLogger logs through l instead of into a.Logs (benchmarks log as production does:
// info level, to a sink, so the buffer's growth is not what they measure).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithAuth adds options to the access service (e.g. auth.WithClock, to step the token
// cache's time instead of sleeping); NewInstance builds with them too.
func WithAuth(opts ...auth.Option) Option {
	return func(o *options) { o.auth = append(o.auth, opts...) }
}

// WithEnv adds or overrides configuration variables (e.g. APP_ENV=production).
func WithEnv(env map[string]string) Option { return func(o *options) { o.env = env } }

// WithAccess sets session timeouts and API rate limits.
func WithAccess(ao web.AccessOptions) Option { return func(o *options) { o.access = ao } }

// WithLoginLimits sets the sign-in lockout limits.
func WithLoginLimits(l auth.LoginLimits) Option { return func(o *options) { o.limits = &l } }

// WithLiveWAL runs the app's WAL hub (its LISTEN connection) for the test, so the SSE
// streams deliver; without it they answer 503 like an instance whose hub stopped.
func WithLiveWAL() Option { return func(o *options) { o.liveWAL = true } }

// WithMonitor reports this WAL monitor status in /api/v1/health.
func WithMonitor(f api.MonitorStatusFunc) Option { return func(o *options) { o.mon = f } }

// WithPool uses the given pool (e.g. on a cluster the test stops) instead of a fresh
// database on the shared test server.
func WithPool(f func(t testing.TB) *db.Pool) Option { return func(o *options) { o.pool = f } }

func New(t testing.TB, opts ...Option) *App {
	t.Helper()
	var o options
	for _, f := range opts {
		f(&o)
	}
	a := &App{T: t, Logs: &SyncBuffer{}}
	if o.pool != nil {
		a.Pool = o.pool(t)
	} else {
		a.DB = testdb.New(t)
		a.Pool = db.Wrap(a.DB.Pool, 5*time.Second)
	}
	env := map[string]string{"APP_ENV": "test", "SECRET_KEY": "test-secret-key-0123456789abcdef"}
	for k, v := range o.env {
		env[k] = v
	}
	if env["APP_ENV"] == "production" && env["DATABASE_URL"] == "" {
		env["DATABASE_URL"] = "postgres://unused.invalid/rosetta" // the pool is the test's own
	}
	cfg, err := config.LoadFrom(env)
	if err != nil {
		t.Fatal(err)
	}
	a.Config = cfg
	log := logs.New(a.Logs, logs.Options{Level: slog.LevelDebug})
	if o.log != nil {
		log = o.log
	}
	access := o.access
	if _, limited := env["API_RATE_LIMIT"]; access.TokenRate == 0 && !limited {
		// Tests fire requests far faster than any script should; tests of the limit
		// set their own (WithAccess, or API_RATE_LIMIT through WithEnv).
		access.TokenRate, access.TokenBurst = 1e6, 1e6
	}
	// Cheap hashes: tests create users by the hundred; the cost is read from each hash.
	authOpts := []auth.Option{auth.WithPasswordParams(auth.PasswordParams{Memory: 64, Time: 1, Threads: 1})}
	if o.limits != nil {
		authOpts = append(authOpts, auth.WithLoginLimits(*o.limits))
	}
	authOpts = append(authOpts, o.auth...)
	a.opts = app.Options{What: app.Everything, Logger: log, Version: "test", Pool: a.Pool, Auth: authOpts, Access: access, Monitor: o.mon}
	core, err := app.New(t.Context(), cfg, a.opts)
	if err != nil {
		t.Fatal(err)
	}
	a.Box, a.Catalog, a.Auth, a.Audit, a.Server = core.Box, core.Catalog, core.Auth, core.Audit, core.Server
	a.WALHub = core.WALHub
	if o.liveWAL {
		walhubtest.Run(t, a.WALHub)
	}
	a.byRole = map[auth.Role]User{}
	a.Admin = a.userFor(auth.Admin)
	return a
}

// Response is a recorded answer.
type Response struct {
	Code   int
	Header http.Header
	Body   []byte
}

// Decode unmarshals the body as JSON into v, failing the test when it cannot.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %d response %q: %v", r.Code, r.Body, err)
	}
}

// Map decodes the body into a generic JSON object.
func (r *Response) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.Decode(t, &m)
	return m
}

// Do sends a request through the full middleware stack as the admin (API token). body
// may be nil, a string (sent as is) or any value (sent as JSON). headers are
// "Name: value" strings; an Authorization header replaces the token.
func (a *App) Do(method, path string, body any, headers ...string) *Response {
	a.T.Helper()
	return a.send(method, path, body, withBearer(a.Admin.Token, headers)...)
}

// send is Do without credentials of its own.
func (a *App) send(method, path string, body any, headers ...string) *Response {
	a.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			a.T.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		if v = strings.TrimSpace(v); v == "" {
			req.Header.Del(strings.TrimSpace(k))
			continue
		}
		req.Header.Set(strings.TrimSpace(k), v)
	}
	rec := httptest.NewRecorder()
	a.Server.Handler().ServeHTTP(rec, req)
	return &Response{Code: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// Expect fails the test unless the response has the given status.
func (r *Response) Expect(t testing.TB, code int) *Response {
	t.Helper()
	if r.Code != code {
		t.Fatalf("status = %d, want %d; body: %s", r.Code, code, r.Body)
	}
	return r
}
