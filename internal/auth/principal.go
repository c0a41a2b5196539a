package auth

import (
	"context"
	"os/user"
)

// Principal is who a request (or a command) acts as.
type Principal struct {
	UserID int64 // 0 for the command line, which acts as no stored user
	Email  string
	Role   Role
	// TokenID is set when the request authenticated with an API token, so the audit
	// log can tell a person's clicks from their automation.
	TokenID *int64
	// SessionEpoch is the user's session epoch when the principal was loaded (sign-in
	// stores it in the session; see SessionPrincipal).
	SessionEpoch int64
}

type ctxKey int

const (
	principalKey ctxKey = iota
	remoteAddrKey
)

// WithPrincipal returns ctx carrying p; services and the audit recorder read it back.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// FromContext returns the principal in ctx, if any.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey).(Principal)
	return p, ok
}

// WithRemoteAddr records the client address (as the web layer trusts it) for the audit
// log and sign-in lockout.
func WithRemoteAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, remoteAddrKey, addr)
}

// RemoteAddr is the client address in ctx, "" when there is none (the command line).
func RemoteAddr(ctx context.Context) string {
	s, _ := ctx.Value(remoteAddrKey).(string)
	return s
}

// CommandLine is the principal of `rosetta user|token …`: whoever can run the binary
// against the database already holds every key, so it acts as an admin. The operating
// system user is recorded in the audit log.
func CommandLine() Principal {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	return Principal{Email: "cli:" + name, Role: Admin}
}
