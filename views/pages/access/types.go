// Package access holds the console pages of access control: sign-in, API tokens, users
// and the audit log.
package access

import (
	"strconv"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/audit"
	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/views/components"
	"github.com/rosetta-cdc/rosetta/views/partials"
)

// LoginForm is the sign-in form as submitted (never the password).
type LoginForm struct {
	Email string
	Next  string // where to go after signing in; a local path
	Error string // why the last attempt failed
	// PlainHTTP, when set, explains that this production console was reached over
	// plain HTTP, where signing in cannot work, and what to change.
	PlainHTTP string
}

// TokenForm is the create-token form.
type TokenForm struct {
	Name    string
	Expires string // a lifetime option value ("30d", "never"…)
	Errors  map[string]string
}

// TokenLifetimes are the choices of the create-token form.
var TokenLifetimes = []components.Option{
	{Value: "7d", Label: "7 days"}, {Value: "30d", Label: "30 days"}, {Value: "90d", Label: "90 days"},
	{Value: "365d", Label: "1 year"}, {Value: "never", Label: "Never"},
}

// TokensPage is /settings/tokens.
type TokensPage struct {
	Tokens []auth.Token
	// ShowOwner: an admin sees everyone's tokens, with their owner.
	ShowOwner bool
	// Created is the token just issued, shown this once.
	Created *auth.NewToken
	Form    TokenForm
	Now     time.Time
}

// UserForm is the create-user form as submitted (never the password).
type UserForm struct {
	Email   string
	Role    string
	Errors  map[string]string
	Message string
}

// UsersPage is /users.
type UsersPage struct {
	Users  []auth.User
	Form   UserForm
	SelfID int64
}

// RoleOptions are the roles a select offers, strongest last.
func RoleOptions() []components.Option {
	out := make([]components.Option, len(auth.Roles))
	for i, r := range auth.Roles {
		out[i] = components.Option{Value: string(r), Label: string(r)}
	}
	return out
}

// AuditFilter is the audit page's filter form as submitted.
type AuditFilter struct {
	EntityKind string
	EntityID   string
	Actor      string
	Action     string
}

// AuditPage is /audit.
type AuditPage struct {
	Events  catalog.Page[audit.Event]
	Filter  AuditFilter
	Errors  map[string]string
	BaseURL string // the request URI, for pagination links
}

// EntityKindOptions are the kinds the filter offers.
func EntityKindOptions() []components.Option {
	out := make([]components.Option, len(audit.EntityKinds))
	for i, k := range audit.EntityKinds {
		out[i] = components.Option{Value: k, Label: k}
	}
	return out
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

func optID(n *int64) string {
	if n == nil {
		return ""
	}
	return strconv.FormatInt(*n, 10)
}

// entityURL links an audited entity's page when it has one.
func entityURL(kind string, n *int64) string {
	if n == nil {
		return ""
	}
	switch kind {
	case "source", "destination", "pipeline":
		return partials.RelatedURL(kind, *n)
	}
	return "" // users and tokens have no page of their own
}

// RevokeConfirm is the confirmation of revoking token t: the tokens table asks with it in
// place, the no-JavaScript page (GET …/revoke) shows it opened.
func RevokeConfirm(t auth.Token, csrf string) components.Confirm {
	return components.Confirm{Name: "revoke", Summary: "Revoke…", Button: "Revoke now", Danger: true,
		Question: "Revoke token “" + t.Name + "”?",
		Consequence: "Every script or job that sends it is refused from its next request on. " +
			"This cannot be undone: a replacement is a new token.",
		Action: "/settings/tokens/" + strconv.FormatInt(t.ID, 10) + "/revoke", CSRFToken: csrf}
}
