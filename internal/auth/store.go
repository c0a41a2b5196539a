package auth

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"sync"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/db"
)

// SessionStore is scs's pgxstore over the sessions table, plus the context-aware methods
// scs prefers when a store has them: pgxstore's own queries run on
// context.Background(), so during a database outage a request would wait for the pool
// with no deadline. These run on the request's context and the pool's acquire timeout,
// with the same statements.
//
// With an idle timeout, scs re-commits the session on every request only to push its
// expiry forward: a write per page view. The store skips that write when the data is
// what it just read and the expiry would move by less than renewEvery, so a session
// may end up to renewEvery before its idle timeout, never after.
type SessionStore struct {
	*pgxstore.PostgresStore
	pool       *db.Pool
	renewEvery time.Duration

	mu    sync.Mutex
	read  map[string]readSession // by stored token (scs hashes it), as of the last Find
	sweep time.Time
}

type readSession struct {
	data   []byte // as stored: scs's gob encoding
	expiry time.Time
}

// maxReadSessions bounds that memory; past it every commit is written as before.
const maxReadSessions = 100_000

// NewSessionStore wraps pool. Expired rows are removed by Service.Purge, not by a
// goroutine per store. renewEvery is how far an unchanged session's expiry must move
// before it is written again (0: every commit is written).
func NewSessionStore(pool *db.Pool, renewEvery time.Duration) *SessionStore {
	return &SessionStore{PostgresStore: pgxstore.NewWithCleanupInterval(pool.Pool, 0), pool: pool,
		renewEvery: renewEvery, read: map[string]readSession{}}
}

func (s *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var b []byte
	var expiry time.Time
	err := s.pool.QueryRow(ctx, "SELECT data, expiry FROM sessions WHERE token = $1 AND current_timestamp < expiry", token).Scan(&b, &expiry)
	if errors.Is(err, pgx.ErrNoRows) {
		s.forget(token)
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	s.remember(token, b, expiry)
	return b, true, nil
}

func (s *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	if s.unchanged(token, b, expiry) {
		return nil
	}
	_, err := s.pool.Exec(ctx, "INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3) "+
		"ON CONFLICT (token) DO UPDATE SET data = EXCLUDED.data, expiry = EXCLUDED.expiry", token, b, expiry)
	if err == nil {
		s.remember(token, b, expiry)
	}
	return err
}

func (s *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	s.forget(token)
	_, err := s.pool.Exec(ctx, "DELETE FROM sessions WHERE token = $1", token)
	return err
}

// unchanged reports whether committing b with expiry would only nudge the expiry of the
// row as last read (or written) by less than renewEvery.
func (s *SessionStore) unchanged(token string, b []byte, expiry time.Time) bool {
	if s.renewEvery <= 0 {
		return false
	}
	s.mu.Lock()
	r, ok := s.read[token]
	s.mu.Unlock()
	if !ok || expiry.Before(r.expiry) || expiry.Sub(r.expiry) >= s.renewEvery {
		return false
	}
	return sameSessionData(r.data, b)
}

// sameSessionData compares two encodings of a session by what they hold. Equal bytes
// are the same session; but scs encodes its values map with gob, which writes a map in
// Go's random iteration order, so one session with two or more values encodes
// differently from one commit to the next, and only the decoded values can tell.
func sameSessionData(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	ta, va, errA := scs.GobCodec{}.Decode(a)
	tb, vb, errB := scs.GobCodec{}.Decode(b)
	return errA == nil && errB == nil && ta.Equal(tb) && reflect.DeepEqual(va, vb)
}

func (s *SessionStore) remember(token string, b []byte, expiry time.Time) {
	if s.renewEvery <= 0 {
		return
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.sweep) > time.Minute {
		s.sweep = now
		for k, r := range s.read {
			if r.expiry.Before(now) {
				delete(s.read, k)
			}
		}
	}
	if _, ok := s.read[token]; !ok && len(s.read) >= maxReadSessions {
		return
	}
	s.read[token] = readSession{data: bytes.Clone(b), expiry: expiry}
}

func (s *SessionStore) forget(token string) {
	s.mu.Lock()
	delete(s.read, token)
	s.mu.Unlock()
}
