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
//
// With a cache TTL (SESSION_CACHE_TTL, stores made by Service.NewSessionStore), a
// session read from the database is answered from memory for that long: a page view
// then costs no access round trip at all (SessionPrincipal caches the user alike). A
// sign-out on this instance forgets the session at once; on another instance it takes
// effect here within the TTL. A session known to this store is renewed with an UPDATE,
// never an upsert, so a session ended elsewhere is not brought back by a renewal here.
type SessionStore struct {
	*pgxstore.PostgresStore
	pool       *db.Pool
	renewEvery time.Duration
	cacheTTL   time.Duration
	now        func() time.Time

	mu    sync.Mutex
	read  map[string]readSession // by stored token (scs hashes it), as of the last Find
	sweep time.Time
}

type readSession struct {
	data   []byte // as stored: scs's gob encoding
	expiry time.Time
	at     time.Time // when it was last read from (or written to) the database
}

type freshSessionKey struct{}

// FreshSession makes the session store read the database, not its cache, for loads
// under ctx: before a cached session is ended for good (its user's epoch moved on),
// the row is read again, since it may have been renewed on another instance.
func FreshSession(ctx context.Context) context.Context {
	return context.WithValue(ctx, freshSessionKey{}, true)
}

// NewSessionStore is a session store on the service's pool whose cache lives as long as
// the service's SESSION_CACHE_TTL, on the service's clock.
func (s *Service) NewSessionStore(renewEvery time.Duration) *SessionStore {
	st := NewSessionStore(s.pool, renewEvery)
	st.cacheTTL, st.now = s.sessionTTL, s.now
	return st
}

// maxReadSessions bounds that memory; past it every commit is written as before.
const maxReadSessions = 100_000

// NewSessionStore wraps pool. Expired rows are removed by Service.Purge, not by a
// goroutine per store. renewEvery is how far an unchanged session's expiry must move
// before it is written again (0: every commit is written).
func NewSessionStore(pool *db.Pool, renewEvery time.Duration) *SessionStore {
	return &SessionStore{PostgresStore: pgxstore.NewWithCleanupInterval(pool.Pool, 0), pool: pool,
		renewEvery: renewEvery, now: time.Now, read: map[string]readSession{}}
}

func (s *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	if b, ok := s.cached(ctx, token); ok {
		return b, true, nil
	}
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

// cached is the session as last read, when the cache is on, the read is recent enough
// and ctx does not ask for a fresh read.
func (s *SessionStore) cached(ctx context.Context, token string) ([]byte, bool) {
	if s.cacheTTL <= 0 || ctx.Value(freshSessionKey{}) != nil {
		return nil, false
	}
	now := s.now()
	s.mu.Lock()
	r, ok := s.read[token]
	s.mu.Unlock()
	if !ok || !now.Before(r.at.Add(s.cacheTTL)) || !now.Before(r.expiry) {
		return nil, false
	}
	return bytes.Clone(r.data), true
}

func (s *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	if s.unchanged(token, b, expiry) {
		return nil
	}
	if s.known(token) {
		// The row was read or written here: update it, but a row deleted since (signed
		// out or ended on another instance) stays deleted.
		tag, err := s.pool.Exec(ctx, "UPDATE sessions SET data = $2, expiry = $3 WHERE token = $1", token, b, expiry)
		switch {
		case err != nil:
			return err
		case tag.RowsAffected() == 0:
			s.forget(token)
		default:
			s.remember(token, b, expiry)
		}
		return nil
	}
	_, err := s.pool.Exec(ctx, "INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3) "+
		"ON CONFLICT (token) DO UPDATE SET data = EXCLUDED.data, expiry = EXCLUDED.expiry", token, b, expiry)
	if err == nil {
		s.remember(token, b, expiry)
	}
	return err
}

func (s *SessionStore) known(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.read[token]
	return ok
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
	if s.renewEvery <= 0 && s.cacheTTL <= 0 {
		return
	}
	now := s.now()
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
	s.read[token] = readSession{data: bytes.Clone(b), expiry: expiry, at: now}
}

func (s *SessionStore) forget(token string) {
	s.mu.Lock()
	delete(s.read, token)
	s.mu.Unlock()
}
