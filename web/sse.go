package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/labstack/echo/v4"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
)

// Live WAL updates as server-sent events: GET /sources/{id}/wal/stream (the console's
// chart, with the session) and GET /api/v1/metrics/wal/stream (API clients, with a
// token). Each event is one stored sample:
//
//	id: <sample id>
//	event: sample
//	data: <the sample as /api/v1/metrics/wal returns it>
//
// A reconnecting client sends Last-Event-ID (EventSource does it by itself) and first
// receives, from the table, every sample it missed. The order is subscribe, then
// backfill, then live events with ids above the last backfilled one: a sample stored
// during the backfill arrives exactly once.

// DefaultSSEHeartbeat is the interval of the heartbeat comment that keeps proxies from
// closing an idle stream and lets the server notice a vanished client.
const DefaultSSEHeartbeat = 15 * time.Second

// sseBackfillPage is how many missed samples one backfill read returns.
const sseBackfillPage = 1000

// sseBackfillMax bounds a whole backfill: a client gone for days reloads the page
// (the chart reads ranges from /api/v1/metrics/wal) rather than replaying a month.
const sseBackfillMax = 50_000

func (s *Server) sseRoutes() {
	e := s.Echo
	e.GET("/sources/:id/wal/stream", s.sourceWALStream)
	e.GET("/api/v1/metrics/wal/stream", s.apiWALStream)
	s.documentWALStream()
}

// CloseStreams ends every open stream. `rosetta serve` registers it with
// http.Server.RegisterOnShutdown: Shutdown waits for handlers, and a stream's handler
// would otherwise only return when its client goes away.
func (s *Server) CloseStreams() { s.stopStreams() }

func (s *Server) sourceWALStream(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if _, err := s.deps.Catalog.GetSource(ctxOf(c), id); err != nil {
		return err
	}
	after, err := lastEventID(c, false)
	if err != nil {
		return err
	}
	return s.serveWALStream(c, &id, after)
}

func (s *Server) apiWALStream(c echo.Context) error {
	var f apperr.Fields
	var sourceID *int64
	if v := c.QueryParam("source_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 1 {
			f.Add("source_id", "must be a positive integer")
		} else {
			sourceID = &id
		}
	}
	after, err := lastEventID(c, true)
	if err != nil {
		f.Add("last_event_id", "must be a sample id (a non-negative integer)")
	}
	if err := f.Err(); err != nil {
		return err
	}
	if sourceID != nil {
		if _, err := s.deps.Catalog.GetSource(ctxOf(c), *sourceID); err != nil {
			if apperr.CodeOf(err) == apperr.NotFound {
				f.Add("source_id", "no source has id %d", *sourceID)
				return f.Err()
			}
			return err
		}
	}
	return s.serveWALStream(c, sourceID, after)
}

// lastEventID reads the Last-Event-ID header (and, for the API, the last_event_id query
// parameter, for clients that cannot set headers); 0 = none.
func lastEventID(c echo.Context, query bool) (int64, error) {
	v := strings.TrimSpace(c.Request().Header.Get("Last-Event-ID"))
	if v == "" && query {
		v = c.QueryParam("last_event_id")
	}
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 0 {
		return 0, apperr.E(apperr.Invalid, "Last-Event-ID must be a sample id (a non-negative integer)")
	}
	return id, nil
}

func (s *Server) serveWALStream(c echo.Context, sourceID *int64, after int64) error {
	hub := s.deps.WALHub
	if hub == nil {
		return apperr.E(apperr.Unavailable, "live WAL updates are not running on this instance")
	}
	// Subscribe before the backfill: a sample stored meanwhile is queued, not lost.
	sub, err := hub.Subscribe(sourceID)
	if err != nil {
		return apperr.E(apperr.Unavailable, "live WAL updates are not running on this instance")
	}
	defer sub.Close()

	ctx, cancel := context.WithCancel(ctxOf(c))
	defer cancel()
	stop := context.AfterFunc(s.streams, cancel) // shutdown closes streams first
	defer stop()

	w := c.Response()
	h := w.Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set(echo.HeaderCacheControl, "no-cache")
	// nginx and similar proxies buffer responses unless told not to.
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// retry: how long EventSource waits before reconnecting after the stream ends.
	if _, err := fmt.Fprint(w, "retry: 3000\n\n"); err != nil {
		return nil
	}
	w.Flush()

	last := after
	if after > 0 {
		for sent := 0; sent < sseBackfillMax; {
			missed, err := hub.Since(ctx, sourceID, last, sseBackfillPage)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				loggerOf(c).Warn("WAL stream backfill", "err", err)
				return nil // the status is sent; ending the stream makes the client retry
			}
			for _, m := range missed {
				if writeSample(w, m) != nil {
					return nil
				}
				last = m.ID
			}
			w.Flush()
			sent += len(missed)
			if len(missed) < sseBackfillPage {
				break
			}
		}
	}

	beat := time.NewTicker(s.heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case m, ok := <-sub.C():
			if !ok {
				// Dropped for being slow, or the hub stopped: the client reconnects
				// with Last-Event-ID and backfills.
				return nil
			}
			if m.ID <= last {
				continue // already sent by the backfill
			}
			if writeEvent(w, m.ID, m.Data) != nil {
				return nil
			}
			last = m.ID
			w.Flush()
		case <-beat.C:
			if _, err := fmt.Fprint(w, ": heartbeat\n\n"); err != nil {
				return nil
			}
			w.Flush()
		}
	}
}

func writeSample(w *echo.Response, m catalog.WALSample) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return writeEvent(w, m.ID, b)
}

// writeEvent writes one sample event whose data is already encoded (live samples are
// encoded once by the hub for every stream).
func writeEvent(w *echo.Response, id int64, data []byte) error {
	buf := make([]byte, 0, len(data)+48)
	buf = append(buf, "id: "...)
	buf = strconv.AppendInt(buf, id, 10)
	buf = append(buf, "\nevent: sample\ndata: "...)
	buf = append(buf, data...)
	buf = append(buf, "\n\n"...)
	_, err := w.Write(buf)
	return err
}

// documentWALStream adds the API stream to the OpenAPI document. huma does not serve
// it (echo does, so the stream controls its own flushing and shutdown); the document
// still tells clients what it sends.
func (s *Server) documentWALStream() {
	reg := s.API.OpenAPI().Components.Schemas
	sample := reg.Schema(reflect.TypeOf(catalog.WALSample{}), true, "WALSample")
	desc := "Server-sent events (text/event-stream), one per stored WAL sample: `id:` is the sample id, " +
		"`event: sample`, `data:` the sample as JSON (the same object /metrics/wal lists). " +
		"A comment line (`: heartbeat`) every 15 s keeps the connection alive. A reconnecting client sends " +
		"the last id it received as the `Last-Event-ID` header (or `last_event_id`) and first receives " +
		"every sample stored since, then live ones. A client that cannot keep up is disconnected and " +
		"should reconnect the same way. Example: `curl -N -H \"Authorization: Bearer $TOKEN\" " +
		"https://rosetta.example/api/v1/metrics/wal/stream?source_id=1`"
	s.API.OpenAPI().AddOperation(&huma.Operation{
		OperationID: "stream-wal-metrics", Method: http.MethodGet, Path: "/metrics/wal/stream",
		Summary: "Live WAL samples (server-sent events)", Description: desc, Tags: []string{"metrics"},
		Parameters: []*huma.Param{
			{Name: "source_id", In: "query", Description: "Only this source's samples (default: every source)",
				Schema: &huma.Schema{Type: "integer", Format: "int64", Minimum: ptr(1.0)}},
			{Name: "last_event_id", In: "query", Description: "Same as the Last-Event-ID header, for clients that cannot set headers",
				Schema: &huma.Schema{Type: "integer", Format: "int64", Minimum: ptr(0.0)}},
			{Name: "Last-Event-ID", In: "header", Description: "The id of the last sample received: the samples stored after it are sent first",
				Schema: &huma.Schema{Type: "integer", Format: "int64", Minimum: ptr(0.0)}},
		},
		Responses: map[string]*huma.Response{
			"200": {Description: "The event stream; each event's data is a WALSample", Content: map[string]*huma.MediaType{
				"text/event-stream": {Schema: &huma.Schema{Type: "string", Description: "id: <sample id>\\nevent: sample\\ndata: <WALSample JSON>"}},
			}},
			"400": problemResponse("A malformed request"),
			"401": problemResponse("No or an invalid API token"),
			"403": problemResponse("The token's role may not read metrics"),
			"422": problemResponse("A bad parameter (the field is named) or an unknown source_id"),
			"500": problemResponse("An internal error (the request id is in the answer and the log)"),
			"503": problemResponse("Live updates are not running on this instance"),
		},
		Extensions: map[string]any{"x-event-data-schema": sample},
	})
}

func problemResponse(desc string) *huma.Response {
	return &huma.Response{Description: desc, Content: map[string]*huma.MediaType{
		"application/problem+json": {Schema: &huma.Schema{Ref: "#/components/schemas/ErrorModel"}},
	}}
}

func ptr[T any](v T) *T { return &v }
