package auth

import (
	"context"
	"errors"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/db"
)

// SessionStore is scs's pgxstore over the sessions table, plus the context-aware methods
// scs prefers when a store has them: pgxstore's own queries run on
// context.Background(), so during a database outage a request would wait for the pool
// with no deadline. These run on the request's context and the pool's acquire timeout,
// with the same statements.
type SessionStore struct {
	*pgxstore.PostgresStore
	pool *db.Pool
}

// NewSessionStore wraps pool. Expired rows are removed by Service.Purge, not by a
// goroutine per store.
func NewSessionStore(pool *db.Pool) *SessionStore {
	return &SessionStore{PostgresStore: pgxstore.NewWithCleanupInterval(pool.Pool, 0), pool: pool}
}

func (s *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var b []byte
	err := s.pool.QueryRow(ctx, "SELECT data FROM sessions WHERE token = $1 AND current_timestamp < expiry", token).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

func (s *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	_, err := s.pool.Exec(ctx, "INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3) "+
		"ON CONFLICT (token) DO UPDATE SET data = EXCLUDED.data, expiry = EXCLUDED.expiry", token, b, expiry)
	return err
}

func (s *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	_, err := s.pool.Exec(ctx, "DELETE FROM sessions WHERE token = $1", token)
	return err
}
