package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/walhub"
	"github.com/rosetta-cdc/rosetta/internal/walhub/walhubtest"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// sseApp is a server with a running WAL hub, its heartbeat set to hb.
func sseApp(t *testing.T, hb time.Duration) (*webtest.App, *walhub.Hub) {
	t.Helper()
	a := webtest.New(t, webtest.WithLiveWAL())
	if hb > 0 {
		a.Server.SetSSEHeartbeat(hb)
	}
	return a, a.WALHub
}

// serveStreams serves a on a real socket until the test ends. Streams close first, as
// on shutdown: httptest's Close waits for every open request.
func serveStreams(t testing.TB, a *webtest.App) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(a.Server.Handler())
	t.Cleanup(func() {
		a.Server.CloseStreams()
		srv.Close()
	})
	return srv
}

// sseEvent is one parsed server-sent event, or a comment.
type sseEvent struct {
	ID, Event, Data, Comment string
}

// sseClient reads a real stream over a real socket.
type sseClient struct {
	t      *testing.T
	resp   *http.Response
	events chan sseEvent
	done   chan error
}

func openStream(t *testing.T, url, token string, headers ...string) *sseClient {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("stream %s: status %d: %s", url, resp.StatusCode, b)
	}
	c := &sseClient{t: t, resp: resp, events: make(chan sseEvent, 1024), done: make(chan error, 1)}
	go c.read()
	t.Cleanup(func() { resp.Body.Close() })
	return c
}

func (c *sseClient) read() {
	r := bufio.NewReader(c.resp.Body)
	var ev sseEvent
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			close(c.events)
			c.done <- err
			return
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "":
			if ev != (sseEvent{}) {
				c.events <- ev
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, ":"):
			c.events <- sseEvent{Comment: strings.TrimSpace(line[1:])}
		default:
			k, v, _ := strings.Cut(line, ":")
			v = strings.TrimPrefix(v, " ")
			switch k {
			case "id":
				ev.ID = v
			case "event":
				ev.Event = v
			case "data":
				ev.Data = v
			}
		}
	}
}

// samples reads n sample events (skipping comments and the retry hint).
func (c *sseClient) samples(n int) []catalog.WALSample {
	c.t.Helper()
	var out []catalog.WALSample
	timer := time.NewTimer(walhubtest.WaitFor)
	defer timer.Stop()
	for len(out) < n {
		select {
		case ev, ok := <-c.events:
			if !ok {
				c.t.Fatalf("stream ended after %d of %d samples", len(out), n)
			}
			if ev.Event != "sample" {
				continue
			}
			var s catalog.WALSample
			if err := json.Unmarshal([]byte(ev.Data), &s); err != nil {
				c.t.Fatalf("event data %q: %v", ev.Data, err)
			}
			if ev.ID != strconv.FormatInt(s.ID, 10) {
				c.t.Fatalf("event id %q is not the sample id %d", ev.ID, s.ID)
			}
			out = append(out, s)
		case <-timer.C:
			c.t.Fatalf("received %d of %d samples", len(out), n)
		}
	}
	return out
}

// noMoreSamplesBefore checks that the next sample is marker: events arrive in order, so
// a duplicate of an earlier sample would come first.
func (c *sseClient) noMoreSamplesBefore(marker int64) {
	c.t.Helper()
	got := c.samples(1)
	if got[0].ID != marker {
		c.t.Fatalf("got sample %d before the marker %d: a duplicate or a stray", got[0].ID, marker)
	}
}

func walSource(t testing.TB, a *webtest.App, name string) int64 {
	t.Helper()
	port := 5432
	s, err := a.Catalog.CreateSource(a.Ctx(), catalog.SourceInput{Name: name, PgHost: "127.0.0.1", PgPort: &port,
		PgDatabase: "app", PgUsername: "app", PgPassword: "secret", PublicationName: "pub_" + name, ReplicationID: "slot_" + name})
	if err != nil {
		t.Fatal(err)
	}
	return s.ID
}

func TestWALStreamDeliversSamplesStoredAfterTheClientConnected(t *testing.T) {
	a, hub := sseApp(t, 0)
	srv := serveStreams(t, a)
	src, other := walSource(t, a, "alpha"), walSource(t, a, "beta")
	viewer := a.NewUser(auth.Viewer)

	console := openStream(t, fmt.Sprintf("%s/sources/%d/wal/stream", srv.URL, src), viewer.Token)
	if ct := console.resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type = %q", ct)
	}
	if ce := console.resp.Header.Get("Content-Encoding"); ce != "" {
		t.Fatalf("a stream must not be compressed: Content-Encoding %q", ce)
	}
	api := openStream(t, srv.URL+"/api/v1/metrics/wal/stream", viewer.Token)
	apiOne := openStream(t, fmt.Sprintf("%s/api/v1/metrics/wal/stream?source_id=%d", srv.URL, other), viewer.Token)
	waitSubscribers(t, hub, 3)

	s1 := walhubtest.Store(t, a.Pool, src, 1000)
	s2 := walhubtest.Store(t, a.Pool, other, 2000)

	if got := console.samples(1); got[0].ID != s1[0].ID || got[0].SizeBytes != 1000 || got[0].SourceID != src {
		t.Fatalf("console stream got %+v, want sample %d", got[0], s1[0].ID)
	}
	if got := walhubtest.IDs(api.samples(2)); !slices.Equal(got, []int64{s1[0].ID, s2[0].ID}) {
		t.Fatalf("all-sources stream got %v", got)
	}
	if got := apiOne.samples(1); got[0].ID != s2[0].ID {
		t.Fatalf("source_id stream got %d, want %d", got[0].ID, s2[0].ID)
	}
}

func waitSubscribers(t *testing.T, hub *walhub.Hub, n int) {
	t.Helper()
	deadline := time.Now().Add(walhubtest.WaitFor)
	for hub.Subscribers() < n {
		if time.Now().After(deadline) {
			t.Fatalf("subscribers = %d, want %d", hub.Subscribers(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWALStreamReconnectWithLastEventIDReceivesExactlyTheMissedSamples(t *testing.T) {
	a, hub := sseApp(t, 0)
	srv := serveStreams(t, a)
	src, other := walSource(t, a, "alpha"), walSource(t, a, "beta")
	url := fmt.Sprintf("%s/sources/%d/wal/stream", srv.URL, src)

	first := openStream(t, url, a.Admin.Token)
	waitSubscribers(t, hub, 1)
	s2 := walhubtest.Store(t, a.Pool, src, 2)
	if got := first.samples(1); got[0].ID != s2[0].ID {
		t.Fatalf("first connection got %d, want %d", got[0].ID, s2[0].ID)
	}
	first.resp.Body.Close()
	waitSubscribers0(t, hub)

	// Stored while the client was away.
	missed := walhubtest.Store(t, a.Pool, src, 3, 4)
	walhubtest.Store(t, a.Pool, other, 99) // another source's: never on this stream

	again := openStream(t, url, a.Admin.Token, "Last-Event-ID: "+strconv.FormatInt(s2[0].ID, 10))
	api := openStream(t, fmt.Sprintf("%s/api/v1/metrics/wal/stream?source_id=%d&last_event_id=%d", srv.URL, src, s2[0].ID), a.Admin.Token)
	waitSubscribers(t, hub, 2)
	live := walhubtest.Store(t, a.Pool, src, 5)
	want := append(walhubtest.IDs(missed), live[0].ID)
	for name, c := range map[string]*sseClient{"console": again, "api": api} {
		if got := walhubtest.IDs(c.samples(3)); !slices.Equal(got, want) {
			t.Fatalf("%s reconnect got %v, want %v (the missed ones, then the live one)", name, got, want)
		}
	}
	marker := walhubtest.Store(t, a.Pool, src, 6)[0].ID
	again.noMoreSamplesBefore(marker)
	api.noMoreSamplesBefore(marker)
}

func waitSubscribers0(t *testing.T, hub *walhub.Hub) {
	t.Helper()
	deadline := time.Now().Add(walhubtest.WaitFor)
	for hub.Subscribers() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("subscribers = %d after the client left", hub.Subscribers())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWALStreamShutdownWithOpenStreamsFinishesInSeconds(t *testing.T) {
	a, hub := sseApp(t, 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: a.Server.Handler(), ReadHeaderTimeout: 5 * time.Second}
	hs.RegisterOnShutdown(a.Server.CloseStreams)
	go func() { _ = hs.Serve(ln) }()
	base := "http://" + ln.Addr().String()
	src := walSource(t, a, "alpha")
	var clients []*sseClient
	for range 3 {
		clients = append(clients, openStream(t, fmt.Sprintf("%s/sources/%d/wal/stream", base, src), a.Admin.Token))
	}
	clients = append(clients, openStream(t, base+"/api/v1/metrics/wal/stream", a.Admin.Token))
	waitSubscribers(t, hub, 4)

	// Without CloseStreams, Shutdown would wait for these clients until its deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with open streams: %v", err)
	}
	for i, c := range clients {
		select {
		case err := <-c.done:
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("stream %d ended with %v", i, err)
			}
		case <-time.After(walhubtest.WaitFor):
			t.Fatalf("stream %d is still open after shutdown", i)
		}
	}
	if n := hub.Subscribers(); n != 0 {
		t.Fatalf("%d subscribers left after shutdown", n)
	}
}

func TestWALStreamSendsHeartbeatComments(t *testing.T) {
	a, _ := sseApp(t, 20*time.Millisecond)
	srv := serveStreams(t, a)
	c := openStream(t, srv.URL+"/api/v1/metrics/wal/stream", a.Admin.Token)
	timer := time.NewTimer(walhubtest.WaitFor)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				t.Fatal("stream ended")
			}
			if ev.Comment == "heartbeat" {
				return
			}
		case <-timer.C:
			t.Fatal("no heartbeat")
		}
	}
}

func TestWALStreamRefusesBadInputAndStrangers(t *testing.T) {
	a, _ := sseApp(t, 0)
	src := walSource(t, a, "alpha")
	for _, tc := range []struct {
		path, header string
		status       int
		field        string
	}{
		{"/api/v1/metrics/wal/stream?source_id=abc", "", http.StatusUnprocessableEntity, "source_id"},
		{"/api/v1/metrics/wal/stream?source_id=0", "", http.StatusUnprocessableEntity, "source_id"},
		{"/api/v1/metrics/wal/stream?source_id=999999", "", http.StatusUnprocessableEntity, "source_id"},
		{"/api/v1/metrics/wal/stream?last_event_id=-3", "", http.StatusUnprocessableEntity, "last_event_id"},
		{"/api/v1/metrics/wal/stream", "Last-Event-ID: yesterday", http.StatusUnprocessableEntity, "last_event_id"},
	} {
		var headers []string
		if tc.header != "" {
			headers = append(headers, tc.header)
		}
		r := a.Do(http.MethodGet, tc.path, nil, headers...)
		if r.Code != tc.status || !strings.Contains(string(r.Body), tc.field) {
			t.Errorf("%s (%s): %d %s; want %d naming %s", tc.path, tc.header, r.Code, r.Body, tc.status, tc.field)
		}
	}
	if r := a.Do(http.MethodGet, "/sources/999999/wal/stream", nil); r.Code != http.StatusNotFound {
		t.Errorf("unknown source's stream: %d, want 404", r.Code)
	}
	if r := a.Anonymous().Do(http.MethodGet, "/api/v1/metrics/wal/stream", nil); r.Code != http.StatusUnauthorized {
		t.Errorf("stream without a token: %d, want 401", r.Code)
	}
	if r := a.NewBrowser().Get(fmt.Sprintf("/sources/%d/wal/stream", src)); r.Code == http.StatusOK {
		t.Errorf("console stream without a session answered 200")
	}
}

func TestWALStreamWithoutAHubAnswers503(t *testing.T) {
	a := webtest.New(t)
	r := a.Do(http.MethodGet, "/api/v1/metrics/wal/stream", nil)
	if r.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d: %s", r.Code, r.Body)
	}
}

func TestWALStreamIsInTheOpenAPIDocument(t *testing.T) {
	a := webtest.New(t)
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Responses   map[string]struct {
				Content map[string]any `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
	}
	a.Do(http.MethodGet, "/api/v1/openapi.json", nil).Decode(t, &doc)
	op, ok := doc.Paths["/metrics/wal/stream"]["get"]
	if !ok {
		t.Fatal("/metrics/wal/stream is not documented")
	}
	if _, ok := op.Responses["200"].Content["text/event-stream"]; !ok || op.OperationID != "stream-wal-metrics" {
		t.Fatalf("operation %q, 200 content %v", op.OperationID, op.Responses["200"].Content)
	}
}
