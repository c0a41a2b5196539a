package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/web"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// concretePath fills a route pattern's parameters with values that exist nowhere: the
// access check comes before the handler, so a permitted request ends in 404 or 422,
// never in 401 or 403.
func concretePath(pattern string) string {
	parts := strings.Split(pattern, "/")
	for i, p := range parts {
		switch {
		case strings.HasPrefix(p, ":"):
			parts[i] = "987654"
		case p == "*":
			parts[i] = "css/app.css"
		}
	}
	return strings.Join(parts, "/")
}

// isAPIPath: JSON under /api/; /api/docs is a page for people (signed out, it sends
// them to the login page).
// isAPIPath: the API, and /metrics (read by a scraper), answer a missing principal with 401.
func isAPIPath(p string) bool {
	return (strings.HasPrefix(p, "/api/") && p != "/api/docs") || p == "/metrics"
}

// refusedAnonymously reports whether r is the refusal of a request without a principal:
// 401 with WWW-Authenticate: Bearer for the API, a trip to the login page for the console.
func refusedAnonymously(path string, r *webtest.Response) bool {
	if isAPIPath(path) {
		return r.Code == http.StatusUnauthorized && strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer")
	}
	return r.Code == http.StatusSeeOther && strings.HasPrefix(r.Header.Get("Location"), "/login")
}

func refused(r *webtest.Response) bool {
	return r.Code == http.StatusUnauthorized || r.Code == http.StatusForbidden ||
		(r.Code == http.StatusSeeOther && strings.HasPrefix(r.Header.Get("Location"), "/login?next="))
}

func registeredRoutes(a *webtest.App) []string {
	var out []string
	for _, r := range a.Server.Echo.Routes() {
		if r.Method == "echo_route_not_found" {
			continue
		}
		out = append(out, r.Method+" "+r.Path)
	}
	sort.Strings(out)
	return out
}

// TestEveryRouteIsInThePermissionTable fails for a route someone registered without
// deciding who may call it (the middleware refuses such a route to everyone), and for a
// table entry that matches no route.
func TestEveryRouteIsInThePermissionTable(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	routes := registeredRoutes(a)
	if len(routes) < 50 {
		t.Fatalf("only %d routes registered: %v", len(routes), routes)
	}
	table := web.Permissions()
	for _, rt := range routes {
		if _, ok := table[rt]; !ok {
			t.Errorf("%s has no entry in the permission table (web/access_table.go)", rt)
		}
	}
	registered := map[string]bool{}
	for _, rt := range routes {
		registered[rt] = true
	}
	// A stale entry is a rule nobody checks: it would silently apply to whatever route
	// someone later registers under that pattern.
	for rt := range table {
		if !registered[rt] {
			t.Errorf("permission table entry %s matches no registered route: remove it (web/access_table.go)", rt)
		}
	}
}

// TestPermissionTableFollowsThePolicy checks the table against the policy stated in
// words, independently of how it was written: only probes and assets are open; reading
// is for viewers; changing sources, destinations and pipelines is for operators; users
// are for admins.
func TestPermissionTableFollowsThePolicy(t *testing.T) {
	t.Parallel()
	open := map[string]bool{"GET /health": true, "GET /static/*": true, "HEAD /static/*": true}
	public := map[string]bool{"GET /login": true, "POST /login": true, "GET /api/v1/health": true}
	for rt, acc := range web.Permissions() {
		method, path, _ := strings.Cut(rt, " ")
		rest := strings.TrimPrefix(path, "/api/v1")
		catalogRoute := strings.HasPrefix(rest, "/sources") || strings.HasPrefix(rest, "/destinations") || strings.HasPrefix(rest, "/pipelines")
		var want web.Access
		switch {
		case open[rt]:
			want = web.Open
		case public[rt]:
			want = web.Public
		case strings.HasPrefix(rest, "/users"):
			want = web.AdminAccess
		case catalogRoute && method != http.MethodGet:
			want = web.OperatorAccess
		case catalogRoute && (strings.HasSuffix(path, "/new") || strings.HasSuffix(path, "/edit") ||
			strings.HasSuffix(path, "/pause") || strings.HasSuffix(path, "/refresh")):
			// forms that lead only to an operator's change (a GET on an action's URL is
			// its confirmation page)
			want = web.OperatorAccess
		default:
			want = web.ViewerAccess
		}
		if acc != want {
			t.Errorf("%s is %s, the policy says %s", rt, acc, want)
		}
	}
}

// TestEveryRouteRefusesWhoItShould sends every registered route as nobody, a viewer,
// an operator and an admin, and checks each gets exactly what the table grants.
func TestEveryRouteRefusesWhoItShould(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	// The anonymous caller is a real browser without a session: it holds a CSRF token,
	// so what refuses it is the missing principal, not the missing token.
	anon := a.NewBrowser()
	anon.Get("/login")
	callers := []struct {
		name string
		role auth.Role
		do   func(method, path string) *webtest.Response
	}{
		{"anonymous", "", func(m, p string) *webtest.Response { return anon.Do(m, p, nil) }},
		{"viewer", auth.Viewer, func(m, p string) *webtest.Response { return a.As(auth.Viewer).Do(m, p, nil) }},
		{"operator", auth.Operator, func(m, p string) *webtest.Response { return a.As(auth.Operator).Do(m, p, nil) }},
		{"admin", auth.Admin, func(m, p string) *webtest.Response { return a.As(auth.Admin).Do(m, p, nil) }},
	}
	n := 0
	for _, rt := range registeredRoutes(a) {
		method, pattern, _ := strings.Cut(rt, " ")
		if rt == "POST /logout" {
			continue // checked below: it would end the anonymous browser's CSRF cookie
		}
		acc, ok := web.AccessFor(method, pattern)
		if !ok {
			t.Errorf("%s: not in the permission table", rt)
			continue
		}
		path := concretePath(pattern)
		for _, c := range callers {
			r := c.do(method, path)
			var min auth.Role
			switch acc {
			case web.ViewerAccess, web.OperatorAccess, web.AdminAccess:
				min = auth.Role(acc)
			}
			switch {
			case min == "" && c.role != "" && method != http.MethodGet && method != http.MethodHead:
				// A public form (sign-in) is a browser's: an API token neither signs it
				// in nor stands in for the form's CSRF token.
				if r.Code != http.StatusForbidden || !strings.Contains(string(r.Body), "reload the page") {
					t.Errorf("%s as %s through a token: %d, want the CSRF refusal", rt, c.name, r.Code)
				}
			case min == "" && refused(r):
				t.Errorf("%s as %s: %d (Location %q), want it open", rt, c.name, r.Code, r.Header.Get("Location"))
			case min != "" && c.role == "" && !refusedAnonymously(path, r):
				t.Errorf("%s as %s: %d (Location %q), want it refused for want of a principal", rt, c.name, r.Code, r.Header.Get("Location"))
			case min != "" && c.role != "" && c.role.AtLeast(min) && refused(r):
				t.Errorf("%s as %s: %d %s, want it allowed (needs %s)", rt, c.name, r.Code, r.Body, min)
			case min != "" && c.role != "" && !c.role.AtLeast(min) && r.Code != http.StatusForbidden:
				t.Errorf("%s as %s: %d, want 403 (needs %s)", rt, c.name, r.Code, min)
			}
			n++
		}
	}
	if n < 200 {
		t.Errorf("only %d requests made", n)
	}
	// logout: anonymous is sent to sign in, anyone signed in is signed out
	if r := a.Anonymous().Do(http.MethodPost, "/logout", nil); r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Errorf("anonymous logout: %d %q", r.Code, r.Header.Get("Location"))
	}
	// an API problem for 401 and 403
	p := expectProblem(t, a.Anonymous().Do(http.MethodGet, "/api/v1/sources", nil), http.StatusUnauthorized)
	if p.Code != "unauthorized" {
		t.Errorf("401 code %q", p.Code)
	}
	p = expectProblem(t, a.As(auth.Viewer).Do(http.MethodPost, "/api/v1/pipelines/1/start", nil), http.StatusForbidden)
	if p.Code != "forbidden" || !strings.Contains(p.Detail, "operator") {
		t.Errorf("403 problem %+v", p)
	}
}

// TestRolesInPractice walks the policy's examples with real entities, so a permitted
// request is seen to succeed, not merely not to be refused.
func TestRolesInPractice(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	viewer, operator, admin := a.As(auth.Viewer), a.As(auth.Operator), a.As(auth.Admin)

	src := operator.Do("POST", "/api/v1/sources", sourceBody("orders")).Expect(t, http.StatusCreated).Map(t)
	dst := operator.Do("POST", "/api/v1/destinations", destBody("wh")).Expect(t, http.StatusCreated).Map(t)
	pl := operator.Do("POST", "/api/v1/pipelines", map[string]any{"name": "p", "source_id": src["id"], "destination_id": dst["id"]}).
		Expect(t, http.StatusCreated).Map(t)
	id := fmt.Sprint(pl["id"])

	viewer.Do("GET", "/api/v1/sources", nil).Expect(t, http.StatusOK)
	viewer.Do("GET", "/api/v1/pipelines/"+id, nil).Expect(t, http.StatusOK)
	viewer.Do("GET", "/pipelines/"+id, nil).Expect(t, http.StatusOK)
	viewer.Do("GET", "/api/v1/audit", nil).Expect(t, http.StatusOK)
	expectProblem(t, viewer.Do("POST", "/api/v1/pipelines/"+id+"/start", nil), http.StatusForbidden)
	expectProblem(t, viewer.Do("POST", "/api/v1/sources", sourceBody("nope")), http.StatusForbidden)
	expectProblem(t, viewer.Do("DELETE", "/api/v1/pipelines/"+id, nil), http.StatusForbidden)
	viewer.Do("POST", "/pipelines/"+id+"/pause", "", "Content-Type: application/x-www-form-urlencoded").Expect(t, http.StatusForbidden)
	viewer.Do("GET", "/sources/new", nil).Expect(t, http.StatusForbidden)

	operator.Do("POST", "/api/v1/pipelines/"+id+"/pause", nil).Expect(t, http.StatusOK)
	operator.Do("GET", "/users", nil).Expect(t, http.StatusForbidden)
	operator.Do("POST", "/users", url.Values{"email": {"x@example.com"}, "role": {"admin"}, "password": {"long-enough-password"}}.Encode(),
		"Content-Type: application/x-www-form-urlencoded").Expect(t, http.StatusForbidden)

	admin.Do("POST", "/users", url.Values{"email": {"new@example.com"}, "role": {"viewer"}, "password": {"long-enough-password"}}.Encode(),
		"Content-Type: application/x-www-form-urlencoded").Expect(t, http.StatusSeeOther)
	if _, err := a.Auth.UserByEmail(a.Ctx(), "new@example.com"); err != nil {
		t.Errorf("the admin's new user: %v", err)
	}
	// nobody wrote anything the viewer tried
	var n int
	if err := a.Pool.QueryRow(context.Background(), `SELECT count(*) FROM sources WHERE name = 'nope'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("viewer's refused create left %d rows (%v)", n, err)
	}
}

// TestConsoleHidesWhatTheRoleCannotDo: a viewer's pages offer no create, edit, delete
// or action buttons, and the admin-only Users link shows only for admins.
func TestConsoleHidesWhatTheRoleCannotDo(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	src := a.Do("POST", "/api/v1/sources", sourceBody("orders")).Expect(t, http.StatusCreated).Map(t)
	dst := a.Do("POST", "/api/v1/destinations", destBody("wh")).Expect(t, http.StatusCreated).Map(t)
	pl := a.Do("POST", "/api/v1/pipelines", map[string]any{"name": "p", "source_id": src["id"], "destination_id": dst["id"]}).
		Expect(t, http.StatusCreated).Map(t)

	viewer := a.Browser(auth.Viewer)
	for _, path := range []string{"/sources", fmt.Sprintf("/sources/%v", src["id"]), "/pipelines", fmt.Sprintf("/pipelines/%v", pl["id"])} {
		doc := viewer.Get(path).Expect(t, http.StatusOK).Doc(t)
		if n := doc.Find(`main form[method=post]`).Length(); n != 0 {
			h, _ := doc.Find(`main form[method=post]`).First().Parent().Html()
			t.Errorf("viewer sees %d action forms on %s: %s", n, path, h)
		}
		if doc.Find(`a[href$="/new"], a[href$="/edit"]`).Length() != 0 {
			t.Errorf("viewer sees new/edit links on %s", path)
		}
		if doc.Find(`a[href="/users"]`).Length() != 0 {
			t.Errorf("viewer sees the Users link on %s", path)
		}
	}
	doc := a.Browser(auth.Admin).Get("/").Expect(t, http.StatusOK).Doc(t)
	if doc.Find(`a[href="/users"]`).Length() != 1 {
		t.Error("admin does not see the Users link")
	}
	if doc.Find(`[data-testid="user-menu"]`).Text() == "" {
		t.Error("no user menu for a signed-in admin")
	}
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
