// Package webtest builds a complete Rosetta server on a fresh test database (real
// PostgreSQL from internal/testdb) and drives it with real HTTP requests, for the tests
// of both faces.
package webtest

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/config"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/secrets"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
	"github.com/rosetta-cdc/rosetta/web"
)

// App is a server wired exactly as `rosetta serve` wires it, on its own database.
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
	pool func(t testing.TB) *db.Pool
}

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
	cfg, err := config.LoadFrom(map[string]string{"APP_ENV": "test", "SECRET_KEY": "test-secret-key-0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	a.Config = cfg
	a.Box, err = secrets.NewBox(cfg.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	a.Catalog = catalog.New(a.Pool, a.Box)
	log := slog.New(slog.NewTextHandler(a.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a.Server = web.New(web.Deps{Config: cfg, Logger: log, Pool: a.Pool, Catalog: a.Catalog, Version: "test"})
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

// Do sends a request through the full middleware stack. body may be nil, a string (sent
// as is) or any value (sent as JSON). headers are "Name: value" strings.
func (a *App) Do(method, path string, body any, headers ...string) *Response {
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
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
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
