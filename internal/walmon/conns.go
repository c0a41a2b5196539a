package walmon

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/pgsource"
)

// session is an open connection to one source.
type session struct {
	sourceID int64
	key      string // pgsource.Conn.Key of the settings it was opened with
	conn     *pgx.Conn
	lastUsed time.Time
	reused   bool // taken from the cache rather than opened for this probe
}

// conns holds the monitor's sessions to sources under one global cap: every open
// session, busy or idle, holds one of the cap's slots. With a short interval a source's
// session is kept between cycles, saving a TLS/SCRAM handshake per probe; it is closed
// when it has been idle too long, when the source's connection settings change (its
// Conn.Key), or when a new session needs its slot.
type conns struct {
	slots chan struct{}
	keep  bool // keep sessions between cycles
	// scram keeps each source's SCRAM keys between cycles, sessions kept or not, so a new
	// session's login skips the PBKDF2 derivation (pgsource.SCRAMCache says when an entry
	// is used, replaced or dropped).
	scram *pgsource.SCRAMCache

	mu   sync.Mutex
	idle map[int64]*session
}

func newConns(max int, keep bool) *conns {
	return &conns{slots: make(chan struct{}, max), keep: keep, idle: map[int64]*session{}, scram: pgsource.NewSCRAMCache()}
}

// get returns a session to t: its cached one when the settings are unchanged, else a new
// one, waiting for a free slot.
func (c *conns) get(ctx context.Context, t catalog.ProbeTarget) (*session, error) {
	c.mu.Lock()
	s := c.idle[t.ID]
	delete(c.idle, t.ID)
	c.mu.Unlock()
	if s != nil {
		if s.key == t.Conn.Key() && !s.conn.IsClosed() {
			s.reused = true
			return s, nil
		}
		c.close(s)
	}
	if err := c.acquire(ctx); err != nil {
		return nil, err
	}
	conn, err := pgsource.ConnectCached(ctx, t.Conn, c.scram, t.ID)
	if err != nil {
		<-c.slots
		return nil, err
	}
	return &session{sourceID: t.ID, key: t.Conn.Key(), conn: conn}, nil
}

// put gives a session back after a probe: cached when it worked and sessions are kept,
// closed otherwise.
func (c *conns) put(s *session, ok bool) {
	c.mu.Lock()
	if !ok || !c.keep {
		c.mu.Unlock()
		c.close(s)
		return
	}
	s.lastUsed, s.reused = time.Now(), false
	old := c.idle[s.sourceID]
	c.idle[s.sourceID] = s
	c.mu.Unlock()
	if old != nil {
		c.close(old)
	}
}

// acquire takes a slot, closing the longest-idle cached session when all are taken.
func (c *conns) acquire(ctx context.Context) error {
	for {
		select {
		case c.slots <- struct{}{}:
			return nil
		default:
		}
		if c.evictOldest() {
			continue
		}
		// Every slot is busy probing: wait for one, looking again now and then because a
		// busy session may come back to the cache instead of freeing its slot.
		t := time.NewTimer(20 * time.Millisecond)
		select {
		case c.slots <- struct{}{}:
			t.Stop()
			return nil
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

func (c *conns) evictOldest() bool {
	c.mu.Lock()
	var oldest *session
	for _, s := range c.idle {
		if oldest == nil || s.lastUsed.Before(oldest.lastUsed) {
			oldest = s
		}
	}
	if oldest != nil {
		delete(c.idle, oldest.sourceID)
	}
	c.mu.Unlock()
	if oldest == nil {
		return false
	}
	c.close(oldest)
	return true
}

// sweep closes cached sessions idle since before cutoff and those of sources not in keep,
// and forgets the SCRAM keys of sources not in keep (nil keep: every source's).
func (c *conns) sweep(cutoff time.Time, keep map[int64]bool) {
	c.scram.Retain(keep)
	c.mu.Lock()
	var gone []*session
	for id, s := range c.idle {
		if s.lastUsed.Before(cutoff) || (keep != nil && !keep[id]) {
			gone = append(gone, s)
			delete(c.idle, id)
		}
	}
	c.mu.Unlock()
	for _, s := range gone {
		c.close(s)
	}
}

// closeAll closes every cached session (busy ones close when they come back).
func (c *conns) closeAll() {
	c.mu.Lock()
	c.keep = false
	c.scram.Retain(nil)
	gone := c.idle
	c.idle = map[int64]*session{}
	c.mu.Unlock()
	for _, s := range gone {
		c.close(s)
	}
}

// open is the number of sessions open now (busy and cached).
func (c *conns) open() int { return len(c.slots) }

func (c *conns) close(s *session) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	_ = s.conn.Close(ctx)
	cancel()
	<-c.slots
}
