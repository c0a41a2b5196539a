// Package layout holds the console's page shell: Base (head, header with navigation and
// user menu, the flash region, main, footer) and FlashOOB for htmx responses.
package layout

import "github.com/rosetta-cdc/rosetta/views/components"

// Nav values: the section a page belongs to, marked aria-current in the header.
const (
	NavDashboard    = "dashboard"
	NavSources      = "sources"
	NavDestinations = "destinations"
	NavPipelines    = "pipelines"
	NavWAL          = "wal"
	NavAudit        = "audit"
	NavAPIDocs      = "apidocs"
	NavTokens       = "tokens" // user menu: /settings/tokens
	NavUsers        = "users"  // user menu: /users (admins)
)

// FlashRegionID is the id of the live region that holds flash messages.
const FlashRegionID = "flash"

// Flash is one flash message; see components.Flash.
type Flash = components.Flash

// UserInfo is the signed-in principal as the header shows it.
type UserInfo struct {
	Email string
	Role  string // "admin", "operator" or "viewer", as shown; what it allows is Access's to say
}

// Access reports whether the signed-in user may call a route, named as web's permission
// table names it: the method, a space and the pattern as registered ("GET /users",
// "POST /pipelines/:id/start"). web answers from that table, so a page offers exactly
// the links and forms the server would accept from this user.
type Access func(route string) bool

// PageMeta is everything the layout needs besides the page's own content.
type PageMeta struct {
	Title     string    // page title; the document title becomes "Title · Rosetta"
	Nav       string    // active section, one of the Nav constants
	Flash     []Flash   // messages shown above the content
	CSRFToken string    // for the logout form and, via <meta name="csrf-token">, htmx
	User      *UserInfo // nil: not signed in; the header shows no navigation
	Access    Access    // nil: nothing that needs a role is offered
	// Styles and Scripts add page-specific assets, named relative to static/ (e.g.
	// "vendor/uPlot.min.css", "js/wal.js"). Scripts load deferred, after htmx and app.js.
	Styles  []string
	Scripts []string
}

// May reports whether the page may offer a link or form to route (see Access).
func (p PageMeta) May(route string) bool { return p.Access != nil && p.Access(route) }

func (p PageMeta) documentTitle() string {
	if p.Title == "" {
		return "Rosetta"
	}
	return p.Title + " · Rosetta"
}

type navItem struct {
	key, href, label string
}

var navItems = []navItem{
	{NavDashboard, "/", "Dashboard"},
	{NavSources, "/sources", "Sources"},
	{NavDestinations, "/destinations", "Destinations"},
	{NavPipelines, "/pipelines", "Pipelines"},
	{NavWAL, "/wal", "WAL"},
	{NavAudit, "/audit", "Audit"},
	{NavAPIDocs, "/api/docs", "API docs"},
}

// htmxConfig is merged into htmx.config from <meta name="htmx-config">:
//   - includeIndicatorStyles false: htmx would inject a <style>, which CSP forbids;
//     app.css styles .htmx-indicator instead.
//   - allowEval / allowScriptTags false: no eval (hx-on, js: values, trigger filters)
//     and no scripts from swapped HTML, matching a CSP without 'unsafe-eval'.
//   - historyCacheSize 0 + refreshOnHistoryMiss: Back reloads the page from the server
//     rather than restoring a snapshot from sessionStorage, so pipeline states are
//     never stale and no page content lingers in the browser.
//   - historyRestoreAsHxRequest false: a history restore is never mistaken for a
//     fragment request (web.Render checks HX-History-Restore-Request as well).
//   - responseHandling: error answers are swapped too (422 re-renders a form with its
//     messages; other errors show the error fragment) while still firing
//     htmx:responseError; 204 swaps nothing.
const htmxConfig = `{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,` +
	`"selfRequestsOnly":true,"historyCacheSize":0,"refreshOnHistoryMiss":true,` +
	`"historyRestoreAsHxRequest":false,"reportValidityOfForms":true,` +
	`"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},` +
	`{"code":"[45]..","swap":true,"error":true},{"code":"...","swap":false}]}`
