// Package auth is who may do what: users with a role, password hashing, API tokens,
// sign-in with lockout, and the principal a request acts as. The HTTP faces decide
// which role each route needs (web's permission table); this package answers who is
// asking and keeps the object-level rules (a token is revoked by its owner or an admin,
// the last admin cannot be demoted).
package auth

import "strings"

// Role is what a user may do. Roles are ordered: each includes the ones below it.
type Role string

const (
	// Viewer reads everything except secrets (which nobody reads back).
	Viewer Role = "viewer"
	// Operator also manages sources, destinations and pipelines and runs their actions.
	Operator Role = "operator"
	// Admin also manages users and everyone's API tokens.
	Admin Role = "admin"
)

// Roles lists every role, weakest first.
var Roles = []Role{Viewer, Operator, Admin}

func (r Role) rank() int {
	switch r {
	case Viewer:
		return 1
	case Operator:
		return 2
	case Admin:
		return 3
	}
	return 0
}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// AtLeast reports whether r includes min. An unknown role includes nothing.
func (r Role) AtLeast(min Role) bool { return r.rank() > 0 && r.rank() >= min.rank() }

// ParseRole accepts a role name in any case.
func ParseRole(s string) (Role, bool) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	return r, r.Valid()
}

// The kinds of entity auth records in the audit log (audit.EntityKinds lists them with
// the catalog's).
const (
	KindUser     = "user"
	KindAPIToken = "api_token"
)
