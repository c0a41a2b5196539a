package auth

import (
	"context"
	"sync"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/db"
)

// AuditEvent is one access change for the audit log (same shape as catalog's).
// ActorEmail overrides the principal's for events that have none: a failed sign-in
// records the account tried (UnknownAccount when no account matched).
type AuditEvent struct {
	Action     string // login, login_failed, logout, create, update, disable, enable, revoke
	EntityKind string // user, api_token
	EntityID   int64
	EntityName string
	Changes    map[string]any
	ActorEmail string
}

// AuditFunc records an event on tx (inside the change's transaction when there is one);
// the actor and address come from ctx.
type AuditFunc func(ctx context.Context, tx db.DBTX, e AuditEvent) error

// LoginLimits bound failed sign-ins inside Window: per account (the email typed, whether
// or not it exists) and per client address.
type LoginLimits struct {
	PerAccount int
	PerAddress int
	Window     time.Duration
}

// DefaultLoginLimits: five wrong passwords lock an account for up to 15 minutes; one
// address gets more tries, since several people may share it.
var DefaultLoginLimits = LoginLimits{PerAccount: 5, PerAddress: 20, Window: 15 * time.Minute}

type Service struct {
	pool   *db.Pool
	q      *db.Queries
	audit  AuditFunc
	params PasswordParams
	limits LoginLimits

	dummyOnce sync.Once
	dummy     string

	// tokens caches verified API tokens (see tokenCache); ttl 0 = off.
	tokenTTL time.Duration
	now      func() time.Time
	tokens   *tokenCache
	// sessionTTL bounds the session caches: sessionUsers here, and the session rows
	// kept by the SessionStore this service makes (SESSION_CACHE_TTL; 0 = off).
	sessionTTL   time.Duration
	sessionUsers *sessionUserCache
}

type Option func(*Service)

// WithPasswordParams sets the cost of new password hashes (tests use a cheap one).
func WithPasswordParams(p PasswordParams) Option { return func(s *Service) { s.params = p } }

// WithTokenCacheTTL lets a verified API token be trusted for d without asking the
// database again (API_TOKEN_CACHE_TTL); 0, the default, asks on every request.
func WithTokenCacheTTL(d time.Duration) Option { return func(s *Service) { s.tokenTTL = d } }

// WithSessionCacheTTL lets a console session and its user be trusted for d without
// asking the database again (SESSION_CACHE_TTL); 0, the default, asks on every request.
func WithSessionCacheTTL(d time.Duration) Option { return func(s *Service) { s.sessionTTL = d } }

// WithClock replaces time.Now for the token and session caches (tests step time instead of sleeping).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLoginLimits replaces DefaultLoginLimits.
func WithLoginLimits(l LoginLimits) Option { return func(s *Service) { s.limits = l } }

// New builds the service. The audit recorder (internal/audit's ForAuth) is a required
// argument, not an option: sign-ins and changes to who may do what must never go
// unrecorded because a caller forgot it, so a nil recorder is refused at start-up.
func New(pool *db.Pool, audit AuditFunc, opts ...Option) *Service {
	if pool == nil || audit == nil {
		panic("auth.New: pool and audit recorder are both required")
	}
	s := &Service{pool: pool, q: db.New(pool), audit: audit, params: DefaultPasswordParams, limits: DefaultLoginLimits, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	s.tokens = newPrincipalCache[[32]byte](s.tokenTTL, s.now)
	s.sessionUsers = newPrincipalCache[sessionUserKey](s.sessionTTL, s.now)
	return s
}

// LoginLimits are the limits in force.
func (s *Service) LoginLimits() LoginLimits { return s.limits }

func (s *Service) record(ctx context.Context, tx db.DBTX, e AuditEvent) error {
	return s.audit(ctx, tx, e)
}

// require returns the principal in ctx when it holds at least min. It backs up the web
// permission table for the operations that change who may do what.
func require(ctx context.Context, min Role) (Principal, error) {
	p, ok := FromContext(ctx)
	if !ok {
		return Principal{}, apperr.E(apperr.Unauthorized, "sign in first")
	}
	if !p.Role.AtLeast(min) {
		return p, apperr.E(apperr.Forbidden, "this needs the %s role; you are %s", min, p.Role)
	}
	return p, nil
}

// Purge deletes expired sessions and failed sign-ins older than the lockout window.
// Every instance may run it; the deletes are idempotent.
func (s *Service) Purge(ctx context.Context) (sessions, failures int64, err error) {
	if sessions, err = s.q.DeleteExpiredSessions(ctx); err != nil {
		return 0, 0, db.Translate(err, "session")
	}
	failures, err = s.q.DeleteOldLoginFailures(ctx, s.limits.Window.Seconds())
	return sessions, failures, db.Translate(err, "sign-in record")
}
