package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	gojson "github.com/goccy/go-json"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
)

// The bare server is the single read's reference, not a budget: the same request (path,
// bearer token, statement, JSON body) served by the least a Go program needs to serve it
// — net/http's mux, a pgxpool, the token looked up in a map, the JSON encoded by the
// encoder Rosetta uses and written with one Write and a Content-Length. It runs as its
// own process, as `rosetta serve` does, so its ratio to the raw primary-key read says
// what any Go HTTP server reaches on the machine, and Rosetta's gap to it is what
// Rosetta adds (framework, access, logging, metrics). It is a hidden subcommand of the
// bench binary, never part of the rosetta binary:
//
//	rosetta-bench bare-server   (HTTP_ADDR, DATABASE_URL, BARE_TOKEN, BARE_POOL_SIZE)
const bareCommand = "bare-server"

func bareServe() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	pc, err := pgxpool.ParseConfig(os.Getenv("DATABASE_URL"))
	if err != nil {
		// pgx's message can quote the URL, which may hold a password (as internal/db does)
		return errors.New("bare-server: cannot parse DATABASE_URL")
	}
	if n, err := strconv.Atoi(os.Getenv("BARE_POOL_SIZE")); err == nil && n > 0 {
		pc.MaxConns = int32(n)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return err
	}
	defer pool.Close()
	token := os.Getenv("BARE_TOKEN")
	if token == "" {
		return errors.New("BARE_TOKEN is empty")
	}
	tokens := map[string]bool{token: true}
	q := db.New(pool)
	bufs := sync.Pool{New: func() any { return new(bytes.Buffer) }}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	mux.HandleFunc("GET /api/v1/sources/{id}", func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !tokens[tok] {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		src, err := bareGetSource(r.Context(), q, id)
		if errors.Is(err, pgx.ErrNoRows) {
			http.NotFound(w, r)
			return
		} else if err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		buf := bufs.Get().(*bytes.Buffer)
		defer bufs.Put(buf)
		buf.Reset()
		enc := gojson.NewEncoder(buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(src); err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(buf.Len()))
		_, _ = w.Write(buf.Bytes())
	})
	if addr := os.Getenv("PPROF_ADDR"); addr != "" {
		// -cpuprofile profiles the floor too, on its own listener as rosetta's is.
		prof := http.NewServeMux()
		prof.HandleFunc("/debug/pprof/profile", pprof.Profile)
		go func() { _ = http.ListenAndServe(addr, prof) }()
	}
	srv := &http.Server{Addr: os.Getenv("HTTP_ADDR"), Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// bareGetSource runs the handler's statement and fills the API's JSON shape
// (catalog.Source) from it, field for field, without the catalog's service.
func bareGetSource(ctx context.Context, q *db.Queries, id int64) (catalog.Source, error) {
	r, err := q.GetSource(ctx, id)
	if err != nil {
		return catalog.Source{}, err
	}
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC()
		return &u
	}
	out := catalog.Source{
		ID: r.ID, Name: r.Name, PgHost: r.PgHost, PgPort: int(r.PgPort), PgDatabase: r.PgDatabase,
		PgUsername: r.PgUsername, PgPasswordSet: len(r.PgPassword) > 0, PublicationName: r.PublicationName,
		ReplicationID: r.ReplicationID, TLSMode: r.TlsMode, TLSCACert: r.TlsCaCert,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		LastProbeError: r.LastProbeError, LastProbeErrorAt: utc(r.LastProbeErrorAt), LastProbeAt: utc(r.LastProbeAt),
		LastProbeReason: r.LastProbeReason, ProbeFailures: int(r.ProbeFailures),
		ProbeFailingSince: utc(r.ProbeFailingSince), WALAlertThresholdBytes: r.WalAlertThresholdBytes,
		ActiveAlerts: append([]string{}, r.ActiveAlerts...),
	}
	switch {
	case r.LastProbeAt == nil:
		out.ProbeState = catalog.ProbeNever
	case r.LastProbeError != nil:
		out.ProbeState = catalog.ProbeFailing
	default:
		out.ProbeState = catalog.ProbeOK
	}
	if r.LatestSampleID != nil && r.LatestSizeBytes != nil && r.LatestRecordedAt != nil {
		out.LatestWAL = &catalog.WALSample{ID: *r.LatestSampleID, SourceID: r.ID, SizeBytes: *r.LatestSizeBytes,
			RetainedBytes: r.LatestRetainedBytes, SlotActive: r.LatestSlotActive, WALStatus: r.LatestWalStatus,
			SafeWALSize: r.LatestSafeWalSize, RecordedAt: r.LatestRecordedAt.UTC()}
	}
	return out, nil
}
