// Package walhub fans the WAL samples every instance stores out to this instance's live
// subscribers (the SSE streams of the console and the API). The WAL monitor announces
// each stored sample with pg_notify('wal_samples', <sample JSON>) in the writing
// transaction; the hub keeps one LISTEN connection per instance (pgxlisten: it reconnects
// by itself after an outage) and, after every (re)connect, reads from the table what it
// missed while it was away, so a database restart loses no sample.
//
// Subscribers get bounded channels. A subscriber whose buffer is full is dropped (its
// channel closed) rather than allowed to block the hub: one stalled browser must not
// delay everyone else's chart. A dropped stream ends; its client reconnects with
// Last-Event-ID and backfills from the table.
package walhub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgxlisten"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
)

// Channel is the notification channel the WAL monitor announces samples on
// (queries/walmon.sql NotifyWALSamples).
const Channel = "wal_samples"

// ApplicationName names the LISTEN connection in pg_stat_activity.
const ApplicationName = "rosetta-walhub"

// DefaultBuffer is how many samples a subscriber may lag behind before it is dropped:
// several monitor cycles of a large fleet.
const DefaultBuffer = 256

// backlogLimit bounds one backlog read after a reconnect; a longer outage is read in
// several pages.
const backlogLimit = 5000

// Options tune a hub; the zero value is production's.
type Options struct {
	Logger *slog.Logger
	// ReconnectDelay is the wait between LISTEN connection attempts (default 2s: a
	// restarted database is back within seconds and the charts should follow).
	ReconnectDelay time.Duration
	// Buffer is each subscriber's channel capacity (default DefaultBuffer).
	Buffer int
}

// Hub is one instance's LISTEN connection and its subscribers.
type Hub struct {
	pool *db.Pool
	log  *slog.Logger
	opt  Options

	mu      sync.Mutex
	subs    map[*Subscription]struct{}
	closed  bool
	running bool  // Run has started (a hub that never ran delivers nothing)
	lastID  int64 // highest sample id published; the backlog reads after it
	started bool  // lastID is meaningful (the first connect sets it)
	// recent dedupes ids the backlog and a late notification may both deliver.
	recent    map[int64]struct{}
	recentIDs []int64

	dropped   atomic.Int64
	connected atomic.Bool
	connects  atomic.Int64
}

// New builds a hub on pool's database. Run starts it.
func New(pool *db.Pool, o Options) *Hub {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ReconnectDelay <= 0 {
		o.ReconnectDelay = 2 * time.Second
	}
	if o.Buffer <= 0 {
		o.Buffer = DefaultBuffer
	}
	return &Hub{pool: pool, log: o.Logger, opt: o, subs: map[*Subscription]struct{}{}, recent: map[int64]struct{}{}}
}

// Run listens until ctx ends, then closes every subscription (so open streams end with
// it) and returns nil.
func (h *Hub) Run(ctx context.Context) error {
	h.mu.Lock()
	h.running = true
	h.mu.Unlock()
	l := &pgxlisten.Listener{
		Connect: func(ctx context.Context) (*pgx.Conn, error) {
			// A dedicated connection, not one of the pool's: LISTEN holds it for good.
			cfg := h.pool.Config().ConnConfig.Copy()
			// Named, so an operator looking at pg_stat_activity sees what holds it.
			cfg.RuntimeParams["application_name"] = ApplicationName
			c, err := pgx.ConnectConfig(ctx, cfg)
			if err == nil {
				h.connects.Add(1)
			}
			return c, err
		},
		LogError: func(ctx context.Context, err error) {
			h.connected.Store(false)
			if ctx.Err() == nil {
				h.log.Warn("WAL live updates: LISTEN connection", "err", err)
			}
		},
		ReconnectDelay: h.opt.ReconnectDelay,
	}
	l.Handle(Channel, handler{h})
	err := l.Listen(ctx)
	h.connected.Store(false)
	h.closeAll()
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// handler is the hub's side of pgxlisten.
type handler struct{ h *Hub }

func (hd handler) HandleNotification(_ context.Context, n *pgconn.Notification, _ *pgx.Conn) error {
	var s catalog.WALSample
	if err := json.Unmarshal([]byte(n.Payload), &s); err != nil {
		return fmt.Errorf("WAL sample notification: %w", err)
	}
	hd.h.publish(s)
	return nil
}

// HandleBacklog runs after every (re)connect, once LISTEN is in place: the first time it
// notes where the table ends (subscribers backfill their own history); after an outage
// it publishes what was stored while the hub was away.
func (hd handler) HandleBacklog(ctx context.Context, _ string, conn *pgx.Conn) error {
	h := hd.h
	q := db.New(conn)
	h.mu.Lock()
	started, after := h.started, h.lastID
	h.mu.Unlock()
	if !started {
		end, err := q.MaxWALMetricID(ctx)
		if err != nil {
			return err
		}
		h.mu.Lock()
		if !h.started {
			h.started = true
			h.lastID = max(h.lastID, end)
		}
		h.mu.Unlock()
		h.connected.Store(true)
		return nil
	}
	for {
		rows, err := q.ListWALMetricsAfter(ctx, db.ListWALMetricsAfterParams{AfterID: after, Lim: backlogLimit})
		if err != nil {
			return err
		}
		for _, r := range rows {
			h.publish(FromRow(r))
			after = r.ID
		}
		if len(rows) < backlogLimit {
			break
		}
	}
	h.connected.Store(true)
	return nil
}

// FromRow is a stored sample as the catalog (and the notification payload) shows it.
func FromRow(m db.WalMetric) catalog.WALSample {
	return catalog.WALSample{ID: m.ID, SourceID: m.SourceID, SizeBytes: m.SizeBytes, RetainedBytes: m.RetainedBytes,
		SlotActive: m.SlotActive, WALStatus: m.WalStatus, SafeWALSize: m.SafeWalSize, RecordedAt: m.RecordedAt.UTC()}
}

// Event is a sample as subscribers receive it, with its JSON encoding made once for all
// of them: a thousand streams write the same bytes rather than encode the sample a
// thousand times.
type Event struct {
	catalog.WALSample
	Data []byte
}

// publish hands s to every subscriber that wants it, dropping those that cannot take it.
func (h *Hub) publish(s catalog.WALSample) {
	data, err := json.Marshal(s)
	if err != nil {
		h.log.Warn("WAL live updates: cannot encode a sample", "id", s.ID, "err", err)
		return
	}
	ev := Event{WALSample: s, Data: data}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, dup := h.recent[s.ID]; dup {
		return
	}
	h.remember(s.ID)
	if s.ID > h.lastID {
		h.lastID = s.ID
	}
	for sub := range h.subs {
		if sub.sourceID != nil && *sub.sourceID != s.SourceID {
			continue
		}
		select {
		case sub.ch <- ev:
		default:
			// Full: the client cannot keep up. Never wait for it.
			delete(h.subs, sub)
			sub.dropped = true
			close(sub.ch)
			h.dropped.Add(1)
			h.log.Info("WAL live updates: dropped a slow subscriber", "buffer", cap(sub.ch))
		}
	}
}

// remember keeps the last few thousand ids, enough to cover one backlog page racing the
// notifications of the same samples.
func (h *Hub) remember(id int64) {
	const keep = 2 * backlogLimit
	h.recent[id] = struct{}{}
	h.recentIDs = append(h.recentIDs, id)
	if len(h.recentIDs) > keep {
		old := h.recentIDs[:len(h.recentIDs)-keep]
		for _, o := range old {
			delete(h.recent, o)
		}
		h.recentIDs = append(h.recentIDs[:0], h.recentIDs[len(old):]...)
	}
}

func (h *Hub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for sub := range h.subs {
		delete(h.subs, sub)
		close(sub.ch)
	}
}

// Subscription is one live subscriber: read C until it closes (the hub stopped, or
// dropped this subscriber for falling behind), and Close it when done.
type Subscription struct {
	h        *Hub
	ch       chan Event
	sourceID *int64
	dropped  bool // guarded by h.mu
	once     sync.Once
}

// ErrStopped is answered to a subscription before the hub runs or after it stopped.
var ErrStopped = errors.New("live WAL updates have stopped")

// Subscribe registers a subscriber to one source's samples (sourceID nil: every
// source's).
func (h *Hub) Subscribe(sourceID *int64) (*Subscription, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || !h.running {
		return nil, ErrStopped
	}
	sub := &Subscription{h: h, ch: make(chan Event, h.opt.Buffer), sourceID: sourceID}
	h.subs[sub] = struct{}{}
	return sub, nil
}

// C delivers the samples; it is closed when the subscription ends.
func (s *Subscription) C() <-chan Event { return s.ch }

// Dropped reports whether the hub dropped this subscriber for being too slow.
func (s *Subscription) Dropped() bool {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	return s.dropped
}

// Close unsubscribes (idempotent).
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.h.mu.Lock()
		defer s.h.mu.Unlock()
		if _, ok := s.h.subs[s]; ok {
			delete(s.h.subs, s)
			close(s.ch)
		}
	})
}

// Subscribers is the number of live subscribers now (for /metrics).
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// DroppedTotal is how many subscribers were dropped for being too slow since start.
func (h *Hub) DroppedTotal() int64 { return h.dropped.Load() }

// Connected reports whether the LISTEN connection is up and caught up.
func (h *Hub) Connected() bool { return h.connected.Load() }

// Connects is how many times the LISTEN connection was (re)established.
func (h *Hub) Connects() int64 { return h.connects.Load() }

// Since reads the samples stored after id (oldest first, at most limit), for a stream's
// Last-Event-ID backfill.
func (h *Hub) Since(ctx context.Context, sourceID *int64, after int64, limit int) ([]catalog.WALSample, error) {
	rows, err := db.New(h.pool).ListWALMetricsAfter(ctx, db.ListWALMetricsAfterParams{AfterID: after, SourceID: sourceID, Lim: int32(limit)})
	if err != nil {
		return nil, err
	}
	out := make([]catalog.WALSample, len(rows))
	for i, r := range rows {
		out[i] = FromRow(r)
	}
	return out, nil
}
