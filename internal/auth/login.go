package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/db"
)

// ErrBadCredentials answers every failed sign-in alike (unknown email, wrong password,
// disabled account), so the form does not tell which accounts exist.
var ErrBadCredentials = apperr.E(apperr.Unauthorized, "the email or password is incorrect")

// RetryAfterError is the cause inside a rate_limited error: when to try again.
type RetryAfterError struct{ After time.Duration }

func (e *RetryAfterError) Error() string { return fmt.Sprintf("retry after %s", e.After) }

// RetryAfter extracts the wait from a rate_limited error.
func RetryAfter(err error) (time.Duration, bool) {
	var r *RetryAfterError
	if errors.As(err, &r) {
		return r.After, true
	}
	return 0, false
}

// failureKey is how an attempted email is counted: case-folded and hashed. What was
// typed may be a password in the wrong field (with an "@" or not), so the text itself is
// never stored; the hash still counts every attempt at one account together.
func failureKey(email string) string {
	h := sha256.Sum256([]byte(strings.ToLower(normalizeEmail(email))))
	return "sha256:" + hex.EncodeToString(h[:])
}

// UnknownAccount is what the audit log shows as the actor and entity of a failed
// sign-in whose email matches no account: never the text typed, which may be a password.
const UnknownAccount = "(unknown account)"

// Login checks an email and password and returns the user's principal. Failures are
// counted per account and per address (RemoteAddr(ctx)) in the database, so a lockout
// holds across instances; past the limits it answers rate_limited with a RetryAfterError.
// Every outcome except a lockout is audited.
func (s *Service) Login(ctx context.Context, email, password string) (Principal, error) {
	// Text that no account can have (invalid UTF-8, NUL) is refused before it reaches
	// the database, which would reject it as an error of its own.
	var f apperr.Fields
	f.Text("email", email)
	f.Text("password", password)
	if err := f.Err(); err != nil {
		return Principal{}, err
	}
	key, addr := failureKey(email), RemoteAddr(ctx)
	// The attempt is counted before the password is checked: parallel guesses then all
	// see each other, and no burst gets more tries than the limit.
	failID, err := s.q.RecordLoginFailure(ctx, db.RecordLoginFailureParams{Email: key, RemoteAddr: addr})
	if err != nil {
		return Principal{}, db.Translate(err, "user")
	}
	st, err := s.q.LoginFailureStats(ctx, db.LoginFailureStatsParams{Email: key, RemoteAddr: addr, WindowSeconds: s.limits.Window.Seconds()})
	if err != nil {
		return Principal{}, db.Translate(err, "user")
	}
	if locked := s.lockout(st); locked != nil {
		// A refused attempt is not a guess: it must not extend the lockout.
		_ = s.q.DeleteLoginFailure(ctx, failID)
		return Principal{}, locked
	}

	row, err := s.q.GetUserByEmail(ctx, normalizeEmail(email))
	found := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		_ = s.q.DeleteLoginFailure(ctx, failID)
		return Principal{}, db.Translate(err, "user")
	}
	hash := row.PasswordHash
	if !found {
		// Hash anyway, so an unknown email takes as long as a wrong password.
		hash = s.dummyHash(ctx)
	}
	ok := false
	if len(password) <= MaxPasswordLen {
		ok, err = VerifyPassword(ctx, password, hash)
		if err != nil && found {
			return Principal{}, apperr.Wrap(err, "cannot verify the password of user %d", row.ID)
		}
	}
	if !found || !ok || row.DisabledAt != nil {
		reason := "wrong password"
		switch {
		case !found:
			reason = "unknown account"
		case ok:
			reason = "account disabled"
		}
		ev := AuditEvent{Action: "login_failed", EntityKind: KindUser, EntityName: UnknownAccount,
			ActorEmail: UnknownAccount, Changes: map[string]any{"reason": reason}}
		if found {
			ev.EntityID, ev.EntityName, ev.ActorEmail = row.ID, row.Email, row.Email
		}
		if err := s.record(ctx, s.pool, ev); err != nil {
			return Principal{}, db.Translate(err, "user")
		}
		return Principal{}, ErrBadCredentials
	}

	p := Principal{UserID: row.ID, Email: row.Email, Role: Role(row.Role), SessionEpoch: row.SessionEpoch}
	err = s.pool.InTx(WithPrincipal(ctx, p), func(q *db.Queries, tx pgx.Tx) error {
		if err := q.ClearLoginFailures(ctx, key); err != nil {
			return err
		}
		if err := q.RecordLogin(ctx, row.ID); err != nil {
			return err
		}
		return s.record(WithPrincipal(ctx, p), tx, AuditEvent{Action: "login", EntityKind: KindUser, EntityID: row.ID, EntityName: row.Email})
	})
	if err != nil {
		return Principal{}, db.Translate(err, "user")
	}
	return p, nil
}

func (s *Service) lockout(st db.LoginFailureStatsRow) error {
	now := time.Now()
	wait := func(oldest time.Time) time.Duration {
		d := oldest.Add(s.limits.Window).Sub(now)
		return max(d, time.Second)
	}
	var d time.Duration
	var msg string
	switch {
	case st.AccountFailures > int64(s.limits.PerAccount):
		d = wait(st.AccountOldest)
		msg = "too many failed sign-in attempts for this account"
	case st.AddressFailures > int64(s.limits.PerAddress):
		d = wait(st.AddressOldest)
		msg = "too many failed sign-in attempts from your address"
	default:
		return nil
	}
	return &apperr.Error{Code: apperr.RateLimited, Message: fmt.Sprintf("%s; try again in %s", msg, humanWait(d)), Err: &RetryAfterError{After: d}}
}

func humanWait(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d seconds", int(math.Ceil(d.Seconds())))
	}
	m := int(math.Ceil(d.Minutes()))
	if m == 1 {
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", m)
}

func (s *Service) dummyHash(ctx context.Context) string {
	s.dummyOnce.Do(func() {
		s.dummy, _ = HashPassword(ctx, GeneratePassword(), s.params)
	})
	return s.dummy
}

// SessionPrincipal returns the principal of a signed-in user, re-read from the database
// at most every SESSION_CACHE_TTL (see sessionUserCache), so a disabled user or a changed
// role takes effect at once on this instance and within the TTL on others. epoch is the
// session epoch stored in the session at sign-in: a password reset or change, or
// disabling, moves the user's epoch on, and every session signed in before it is over.
func (s *Service) SessionPrincipal(ctx context.Context, userID, epoch int64) (Principal, error) {
	key := sessionUserKey{userID, epoch}
	if p, ok := s.sessionUsers.get(key); ok {
		return p, nil
	}
	row, err := s.q.GetUser(ctx, userID)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && (row.DisabledAt != nil || row.SessionEpoch != epoch)) {
		return Principal{}, apperr.E(apperr.Unauthorized, "your session has ended; sign in again")
	}
	if err != nil {
		return Principal{}, db.Translate(err, "user")
	}
	p := Principal{UserID: row.ID, Email: row.Email, Role: Role(row.Role), SessionEpoch: row.SessionEpoch}
	s.sessionUsers.put(key, p, nil)
	return p, nil
}

// Logout records the end of a console session.
func (s *Service) Logout(ctx context.Context) error {
	p, ok := FromContext(ctx)
	if !ok {
		return nil
	}
	return db.Translate(s.record(ctx, s.pool, AuditEvent{Action: "logout", EntityKind: KindUser, EntityID: p.UserID, EntityName: p.Email}), "user")
}
