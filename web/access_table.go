package web

import (
	"net/http"

	"github.com/rosetta-cdc/rosetta/internal/auth"
)

// Access is what a route requires. The roles are ordered: a route open to viewers is
// open to operators and admins too.
type Access string

const (
	// Open routes skip authentication entirely and never touch the database: liveness
	// and static assets must answer even when PostgreSQL is down.
	Open Access = "open"
	// Public routes need no principal, but a signed-in browser is recognised (the
	// layout shows who is signed in); CSRF still applies to their POSTs.
	Public         Access = "public"
	ViewerAccess   Access = Access(auth.Viewer)
	OperatorAccess Access = Access(auth.Operator)
	AdminAccess    Access = Access(auth.Admin)
)

// role is the least role the access level needs ("" for Open and Public).
func (a Access) role() auth.Role {
	switch a {
	case ViewerAccess, OperatorAccess, AdminAccess:
		return auth.Role(a)
	}
	return ""
}

// permissions is the one table of who may call what, for both faces, keyed by method
// and route pattern exactly as registered in echo (c.Path()). The access middleware
// refuses a registered route that is missing here (fail closed);
// TestEveryRouteIsInThePermissionTable fails for it, and for an entry here that no
// registered route matches (add the entry with its route, in the same change).
//
// The rules: reading is for viewers; changing sources, destinations and pipelines (and
// running their actions and connection tests, which use stored credentials) is for
// operators, as are the forms that only lead to such changes; users are for admins.
// API tokens are every signed-in user's own business (the token service lets an admin
// see and revoke everyone's). The audit log is readable by every signed-in user: it
// records who did what, never a secret value. The OpenAPI document and the docs page
// are for signed-in users like everything else (Swagger UI fetches the document with
// the browser's session; a script with its token). Readiness (/api/v1/health) is the
// one public exception beyond sign-in: load balancers probe it without credentials, and
// it reports only up/down, latency, pool counts and the schema version.
var permissions = map[string]Access{
	// ---- probes and assets
	"GET /health":        Open,
	"GET /static/*":      Open,
	"HEAD /static/*":     Open,
	"GET /api/v1/health": Public,
	"GET /metrics":       ViewerAccess, // Prometheus sends a viewer's token; or METRICS_ADDR
	// huma serves the OpenAPI document under these names
	"GET /api/v1/openapi.json":     ViewerAccess,
	"GET /api/v1/openapi.yaml":     ViewerAccess,
	"GET /api/v1/openapi-3.0.json": ViewerAccess,
	"GET /api/v1/openapi-3.0.yaml": ViewerAccess,
	"GET /api/docs":                ViewerAccess,

	// ---- signing in and out
	"GET /login":   Public,
	"POST /login":  Public,
	"POST /logout": ViewerAccess,

	// ---- console
	"GET /":    ViewerAccess,
	"GET /wal": ViewerAccess,

	"GET /sources":             ViewerAccess,
	"GET /sources/new":         OperatorAccess,
	"POST /sources":            OperatorAccess,
	"GET /sources/:id":         ViewerAccess,
	"GET /sources/:id/edit":    OperatorAccess,
	"POST /sources/:id":        OperatorAccess,
	"POST /sources/:id/delete": OperatorAccess,
	"POST /sources/:id/test":   OperatorAccess,
	"POST /sources/:id/probe":  OperatorAccess,
	"GET /sources/:id/wal":     ViewerAccess,
	// live WAL samples (server-sent events), read like the pages and the API they feed
	"GET /sources/:id/wal/stream": ViewerAccess,

	"GET /destinations":             ViewerAccess,
	"GET /destinations/new":         OperatorAccess,
	"POST /destinations":            OperatorAccess,
	"GET /destinations/:id":         ViewerAccess,
	"GET /destinations/:id/edit":    OperatorAccess,
	"POST /destinations/:id":        OperatorAccess,
	"POST /destinations/:id/delete": OperatorAccess,
	"POST /destinations/:id/test":   OperatorAccess,

	"GET /pipelines":              ViewerAccess,
	"GET /pipelines/new":          OperatorAccess,
	"POST /pipelines":             OperatorAccess,
	"GET /pipelines/:id":          ViewerAccess,
	"GET /pipelines/:id/edit":     OperatorAccess,
	"POST /pipelines/:id":         OperatorAccess,
	"POST /pipelines/:id/delete":  OperatorAccess,
	"POST /pipelines/:id/start":   OperatorAccess,
	"POST /pipelines/:id/pause":   OperatorAccess,
	"GET /pipelines/:id/pause":    OperatorAccess,
	"GET /pipelines/:id/refresh":  OperatorAccess,
	"POST /pipelines/:id/refresh": OperatorAccess,
	// the list's filter suggestions: names a viewer of the list already sees in its rows
	"GET /pipelines/filter/sources":      ViewerAccess,
	"GET /pipelines/filter/destinations": ViewerAccess,

	"GET /audit": ViewerAccess,

	"GET /settings/tokens":             ViewerAccess,
	"POST /settings/tokens":            ViewerAccess,
	"POST /settings/tokens/:id/revoke": ViewerAccess,
	"GET /settings/tokens/:id/revoke":  ViewerAccess,
	"GET /users":                       AdminAccess,
	"POST /users":                      AdminAccess,
	"POST /users/:id/role":             AdminAccess,
	"POST /users/:id/disable":          AdminAccess,
	"POST /users/:id/enable":           AdminAccess,
	"POST /users/:id/password":         AdminAccess,
	"GET /settings/password":           ViewerAccess,
	"POST /settings/password":          ViewerAccess,

	// ---- JSON API
	"GET /api/v1/sources":            ViewerAccess,
	"POST /api/v1/sources":           OperatorAccess,
	"GET /api/v1/sources/:id":        ViewerAccess,
	"PUT /api/v1/sources/:id":        OperatorAccess,
	"PATCH /api/v1/sources/:id":      OperatorAccess,
	"DELETE /api/v1/sources/:id":     OperatorAccess,
	"POST /api/v1/sources/:id/test":  OperatorAccess,
	"POST /api/v1/sources/test":      OperatorAccess,
	"POST /api/v1/sources/:id/probe": OperatorAccess,

	"GET /api/v1/destinations":           ViewerAccess,
	"POST /api/v1/destinations":          OperatorAccess,
	"GET /api/v1/destinations/:id":       ViewerAccess,
	"PUT /api/v1/destinations/:id":       OperatorAccess,
	"PATCH /api/v1/destinations/:id":     OperatorAccess,
	"DELETE /api/v1/destinations/:id":    OperatorAccess,
	"POST /api/v1/destinations/:id/test": OperatorAccess,
	"POST /api/v1/destinations/test":     OperatorAccess,

	"GET /api/v1/pipelines":              ViewerAccess,
	"POST /api/v1/pipelines":             OperatorAccess,
	"GET /api/v1/pipelines/:id":          ViewerAccess,
	"PUT /api/v1/pipelines/:id":          OperatorAccess,
	"PATCH /api/v1/pipelines/:id":        OperatorAccess,
	"DELETE /api/v1/pipelines/:id":       OperatorAccess,
	"POST /api/v1/pipelines/:id/start":   OperatorAccess,
	"POST /api/v1/pipelines/:id/pause":   OperatorAccess,
	"POST /api/v1/pipelines/:id/refresh": OperatorAccess,

	"GET /api/v1/metrics/wal":        ViewerAccess,
	"GET /api/v1/metrics/wal/stream": ViewerAccess,
	"GET /api/v1/audit":              ViewerAccess,

	// ---- API: who am I, tokens (everyone's own; the service lets admins manage all), users
	"GET /api/v1/me":            ViewerAccess,
	"GET /api/v1/tokens":        ViewerAccess,
	"POST /api/v1/tokens":       ViewerAccess,
	"DELETE /api/v1/tokens/:id": ViewerAccess,
	"GET /api/v1/users":         AdminAccess,
	"POST /api/v1/users":        AdminAccess,
	"GET /api/v1/users/:id":     AdminAccess,
	"PATCH /api/v1/users/:id":   AdminAccess,
}

// AccessFor returns the access rule of a route (method and pattern as registered).
func AccessFor(method, path string) (Access, bool) {
	a, ok := permissions[method+" "+path]
	return a, ok
}

// allows reports whether a principal with role may call route ("GET /users"), by the
// rule the access middleware enforces; pages ask it (layout.PageMeta.Access) so they
// offer exactly the links and forms the server accepts. A route not in the table is
// refused, as the middleware refuses it.
func allows(role auth.Role, route string) bool {
	a, ok := permissions[route]
	if !ok {
		return false
	}
	min := a.role()
	return min == "" || role.AtLeast(min)
}

// Permissions returns a copy of the table, for tests and documentation.
func Permissions() map[string]Access {
	out := make(map[string]Access, len(permissions))
	for k, v := range permissions {
		out[k] = v
	}
	return out
}

// isSafeMethod: requests that must not change anything, hence need no CSRF token.
func isSafeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions || m == http.MethodTrace
}
