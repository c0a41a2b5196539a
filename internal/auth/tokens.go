package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/db"
)

// TokenPrefix starts every API token, so secret scanners (and people) recognise one.
const TokenPrefix = "rst_"

const (
	tokenRandomBytes = 32 // 256 bits
	tokenLen         = len(TokenPrefix) + 43
	shownPrefixLen   = len(TokenPrefix) + 6
	// MaxTokenLifetime bounds --expires: a token meant to live longer should be a
	// deliberate "never".
	MaxTokenLifetime = 5 * 365 * 24 * time.Hour
)

// Token is an API token as lists show it: never the secret, never its hash.
type Token struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"user_id"`
	OwnerEmail string     `json:"owner_email"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix" doc:"The token's first characters, to recognise it"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// Active reports whether the token is usable at now.
func (t Token) Active(now time.Time) bool {
	return t.RevokedAt == nil && (t.ExpiresAt == nil || t.ExpiresAt.After(now))
}

// State is "active", "revoked" or "expired".
func (t Token) State(now time.Time) string {
	switch {
	case t.RevokedAt != nil:
		return "revoked"
	case t.ExpiresAt != nil && !t.ExpiresAt.After(now):
		return "expired"
	}
	return "active"
}

// NewToken is a just-created token with its secret, which is shown this once.
type NewToken struct {
	Token
	Secret string `json:"token"`
}

// TokenInput creates a token for UserID (0 = the principal's own).
type TokenInput struct {
	UserID    int64
	Name      string
	ExpiresIn time.Duration // 0 = never expires
	// Expires, when set, is a lifetime as people type it ("30d", "never"), parsed by
	// ParseLifetime in place of ExpiresIn, so a bad one is reported with the other fields.
	Expires string
}

func generateToken() (secret string, hash []byte) {
	b := make([]byte, tokenRandomBytes)
	_, _ = rand.Read(b) // crypto/rand never returns an error (it crashes instead)
	secret = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, hashToken(secret)
}

func hashToken(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// LooksLikeToken tells a well-formed token from garbage without touching the database.
func LooksLikeToken(s string) bool {
	if len(s) != tokenLen || !strings.HasPrefix(s, TokenPrefix) {
		return false
	}
	// Any 43 characters of the URL-safe alphabet decode (RawURLEncoding is not strict
	// about the last character's unused bits), so checking the alphabet is checking
	// that it decodes, without decoding into a fresh slice on every API request.
	for _, c := range []byte(s[len(TokenPrefix):]) {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// ParseLifetime reads an expiry like "30d", "12h", "90m" or "never" ("" = never).
func ParseLifetime(s string) (time.Duration, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || s == "never" || s == "0" {
		return 0, nil
	}
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 {
			return 0, fmt.Errorf("%q is not a number of days like 30d", s)
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil || d <= 0 {
			return 0, fmt.Errorf("%q is not a lifetime like 30d, 12h or never", s)
		}
	}
	if d > MaxTokenLifetime {
		return 0, fmt.Errorf("%q is longer than 5 years; use never for a token that does not expire", s)
	}
	return d, nil
}

func tokenFromRow(r db.ApiToken, owner string) Token {
	return Token{ID: r.ID, UserID: r.UserID, OwnerEmail: owner, Name: r.Name, Prefix: r.Prefix, CreatedAt: r.CreatedAt.UTC(),
		LastUsedAt: utcPtr(r.LastUsedAt), ExpiresAt: utcPtr(r.ExpiresAt), RevokedAt: utcPtr(r.RevokedAt)}
}

// CreateToken issues a token for a user: their own, or anyone's for an admin.
func (s *Service) CreateToken(ctx context.Context, in TokenInput) (NewToken, error) {
	p, err := require(ctx, Viewer)
	if err != nil {
		return NewToken{}, err
	}
	if in.UserID == 0 {
		in.UserID = p.UserID
	}
	if in.UserID != p.UserID && !p.Role.AtLeast(Admin) {
		return NewToken{}, apperr.E(apperr.Forbidden, "only an admin may create tokens for someone else")
	}
	name := strings.TrimSpace(in.Name)
	var f apperr.Fields
	switch {
	case !f.Text("name", name):
	case name == "":
		f.Add("name", "is required")
	case len([]rune(name)) > 100:
		f.Add("name", "must be at most 100 characters")
	}
	if f.Text("expires", in.Expires) && in.Expires != "" {
		d, err := ParseLifetime(in.Expires)
		if err != nil {
			f.Add("expires", "%s", err.Error())
		}
		in.ExpiresIn = d
	}
	if in.ExpiresIn < 0 || in.ExpiresIn > MaxTokenLifetime {
		f.Add("expires", "must be between now and 5 years, or never")
	}
	if err := f.Err(); err != nil {
		return NewToken{}, err
	}
	var expires *time.Time
	if in.ExpiresIn > 0 {
		t := time.Now().Add(in.ExpiresIn).UTC()
		expires = &t
	}
	secret, hash := generateToken()
	var out NewToken
	err = s.pool.InTx(ctx, func(q *db.Queries, tx pgx.Tx) error {
		owner, err := q.GetUser(ctx, in.UserID)
		if err != nil {
			return err
		}
		if owner.DisabledAt != nil {
			return apperr.E(apperr.Conflict, "%s is disabled", owner.Email)
		}
		row, err := q.CreateAPIToken(ctx, db.CreateAPITokenParams{UserID: owner.ID, Name: name, TokenHash: hash,
			Prefix: secret[:shownPrefixLen], ExpiresAt: expires})
		if err != nil {
			return err
		}
		out = NewToken{Token: tokenFromRow(row, owner.Email), Secret: secret}
		changes := map[string]any{"owner": owner.Email, "name": row.Name, "prefix": row.Prefix}
		if expires != nil {
			changes["expires_at"] = expires.Format(time.RFC3339)
		}
		return s.record(ctx, tx, AuditEvent{Action: "create", EntityKind: KindAPIToken, EntityID: row.ID, EntityName: row.Name, Changes: changes})
	})
	return out, db.Translate(err, "user")
}

// ListTokens lists the principal's own tokens, or for an admin everyone's (userID
// narrows an admin's list to one owner).
func (s *Service) ListTokens(ctx context.Context, userID int64) ([]Token, error) {
	p, err := require(ctx, Viewer)
	if err != nil {
		return nil, err
	}
	var filter *int64
	switch {
	case !p.Role.AtLeast(Admin):
		filter = &p.UserID
	case userID != 0:
		filter = &userID
	}
	rows, err := s.q.ListAPITokens(ctx, filter)
	if err != nil {
		return nil, db.Translate(err, "token")
	}
	out := make([]Token, len(rows))
	for i, r := range rows {
		out[i] = tokenFromRow(db.ApiToken{ID: r.ID, UserID: r.UserID, Name: r.Name, Prefix: r.Prefix, ExpiresAt: r.ExpiresAt,
			LastUsedAt: r.LastUsedAt, RevokedAt: r.RevokedAt, CreatedAt: r.CreatedAt}, r.OwnerEmail)
	}
	return out, nil
}

// RevokeToken revokes a token: the owner's own, or any for an admin. Someone else's
// token is "not found", so ids do not reveal which tokens exist.
func (s *Service) RevokeToken(ctx context.Context, id int64) (Token, error) {
	p, err := require(ctx, Viewer)
	if err != nil {
		return Token{}, err
	}
	var out Token
	err = s.pool.InTx(ctx, func(q *db.Queries, tx pgx.Tx) error {
		cur, err := q.GetAPIToken(ctx, id)
		if err != nil {
			return err
		}
		if cur.UserID != p.UserID && !p.Role.AtLeast(Admin) {
			return pgx.ErrNoRows
		}
		if cur.RevokedAt != nil {
			out = tokenFromRow(db.ApiToken{ID: cur.ID, UserID: cur.UserID, Name: cur.Name, Prefix: cur.Prefix, ExpiresAt: cur.ExpiresAt,
				LastUsedAt: cur.LastUsedAt, RevokedAt: cur.RevokedAt, CreatedAt: cur.CreatedAt}, cur.OwnerEmail)
			return nil
		}
		row, err := q.RevokeAPIToken(ctx, id)
		if err != nil {
			return err
		}
		out = tokenFromRow(row, cur.OwnerEmail)
		return s.record(ctx, tx, AuditEvent{Action: "revoke", EntityKind: KindAPIToken, EntityID: id, EntityName: row.Name,
			Changes: map[string]any{"owner": cur.OwnerEmail, "prefix": row.Prefix}})
	})
	if err == nil {
		// After the commit, so a request racing the revocation cannot re-cache the
		// token from a snapshot that still had it live.
		s.tokens.evictToken(id)
	}
	return out, db.Translate(err, "token")
}

// ErrBadToken is the answer for every token that cannot be used (unknown, revoked,
// expired, or its owner disabled): one message, so a guesser learns nothing.
var ErrBadToken = apperr.E(apperr.Unauthorized, "the API token is invalid, expired or revoked")

// AuthenticateToken returns the principal a presented token acts as, with its owner's
// current role. A token verified within the cache's TTL is answered from memory (see
// tokenCache for what that bounds).
func (s *Service) AuthenticateToken(ctx context.Context, secret string) (Principal, error) {
	if !LooksLikeToken(secret) {
		return Principal{}, ErrBadToken
	}
	hash := sha256.Sum256([]byte(secret))
	if p, ok := s.tokens.get(hash); ok {
		return p, nil
	}
	row, err := s.q.GetActiveToken(ctx, hash[:])
	if errors.Is(err, pgx.ErrNoRows) {
		return Principal{}, ErrBadToken
	}
	if err != nil {
		return Principal{}, db.Translate(err, "token")
	}
	if row.LastUsedAt == nil || time.Since(*row.LastUsedAt) > time.Minute {
		// Best effort: a failed bookkeeping write must not refuse a valid request.
		_ = s.q.TouchAPIToken(ctx, row.TokenID)
	}
	id := row.TokenID
	p := Principal{UserID: row.UserID, Email: row.Email, Role: Role(row.Role), TokenID: &id}
	s.tokens.put(hash, p, row.ExpiresAt)
	return p, nil
}
