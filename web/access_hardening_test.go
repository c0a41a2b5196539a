package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/web"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// Bad input is a 4xx naming the field, never a 500 and never silently altered: NUL and
// invalid UTF-8 in every query parameter of every list, offsets past 2^31-1 (once cut to
// 32 bits, answering another page), and the same in every JSON body and console form.
func TestBadInputIs4xxNamingTheField(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	src := a.Do("POST", "/api/v1/sources", sourceBody("orders")).Expect(t, http.StatusCreated).Map(t)
	dst := a.Do("POST", "/api/v1/destinations", destBody("warehouse")).Expect(t, http.StatusCreated).Map(t)
	pipe := a.Do("POST", "/api/v1/pipelines", map[string]any{"name": "p", "source_id": src["id"], "destination_id": dst["id"]}).
		Expect(t, http.StatusCreated).Map(t)
	viewer := a.NewUser(auth.Viewer)
	sid, did, pid := int64(src["id"].(float64)), int64(dst["id"].(float64)), int64(pipe["id"].(float64))

	t.Run("API lists", func(t *testing.T) {
		lists := []string{"/api/v1/sources", "/api/v1/destinations", "/api/v1/pipelines", "/api/v1/audit",
			"/api/v1/tokens", "/api/v1/users", "/api/v1/metrics/wal"}
		bad := []struct{ query, field string }{
			{"q=a%00b", "q"}, {"q=%FF", "q"}, {"sort=%00", "sort"}, {"sort=na%C3me", "sort"},
			{"actor=%00", "actor"}, {"action=x%00", "action"}, {"action=%E9", "action"}, {"entity_kind=%00", "entity_kind"},
			{"offset=4294967297", "offset"}, {"offset=2147483648", "offset"}, {"offset=-1", "offset"},
			{"offset=99999999999999999999", "offset"}, {"limit=0", "limit"}, {"limit=501", "limit"},
			{"nonsense%00=1", `nonsense\0`},
		}
		for _, list := range lists {
			for _, b := range bad {
				if list == "/api/v1/metrics/wal" && (b.field == "offset" || b.field == "limit") {
					continue // a time-range endpoint without offsets; its limit has its own range (TestWALMetrics)
				}
				path := list + "?" + b.query
				r := a.Do("GET", path, nil)
				if r.Code < 400 || r.Code >= 500 {
					t.Errorf("GET %s: status %d, want 4xx; body %s", path, r.Code, r.Body)
					continue
				}
				p := expectProblem(t, r, r.Code)
				if _, ok := fieldsOf(p)[b.field]; !ok {
					t.Errorf("GET %s: %d problem does not name %q: %+v", path, r.Code, b.field, p.Errors)
				}
			}
		}
		// the largest offset a list accepts still answers (an empty page)
		a.Do("GET", "/api/v1/sources?offset=2147483647", nil).Expect(t, http.StatusOK)
	})

	t.Run("API bodies", func(t *testing.T) {
		with := func(body map[string]any, k string, v any) map[string]any {
			out := map[string]any{}
			for kk, vv := range body {
				out[kk] = vv
			}
			out[k] = v
			return out
		}
		cases := []struct {
			method, path string
			body         any
			field        string
		}{
			{"POST", "/api/v1/sources", with(sourceBody("s1"), "pg_password", "hunter2\x00secret"), "pg_password"},
			{"POST", "/api/v1/sources", `{"name":"s2","pg_host":"db","pg_database":"d","pg_username":"u","pg_password":"hunter2-` + "\xff" + `","publication_name":"p","replication_id":"r"}`, "pg_password"},
			{"POST", "/api/v1/sources", `{"name":"s3\ud800","pg_host":"db","pg_database":"d","pg_username":"u","pg_password":"x","publication_name":"p","replication_id":"r"}`, "name"},
			{"POST", "/api/v1/sources", with(sourceBody("s4"), "pg_database", "or\x00ders"), "pg_database"},
			{"PATCH", fmt.Sprintf("/api/v1/sources/%d", sid), map[string]any{"pg_password": "new\x00password"}, "pg_password"},
			{"POST", "/api/v1/destinations", with(destBody("d1"), "snowflake_private_key_passphrase", "pass\x00phrase"), "snowflake_private_key_passphrase"},
			{"PATCH", fmt.Sprintf("/api/v1/destinations/%d", did), `{"snowflake_private_key_passphrase":"pass` + "\xc3" + `"}`, "snowflake_private_key_passphrase"},
			{"POST", "/api/v1/pipelines", map[string]any{"name": "p\x00", "source_id": sid, "destination_id": did}, "name"},
			{"PATCH", fmt.Sprintf("/api/v1/pipelines/%d", pid), `{"name":"` + "\xfe" + `"}`, "name"},
			{"POST", "/api/v1/tokens", map[string]any{"name": "ci\x00"}, "name"},
			{"POST", "/api/v1/users", map[string]any{"email": "a\x00@example.com", "role": "viewer", "password": "correct horse battery"}, "email"},
			{"POST", "/api/v1/users", `{"email":"b@example.com","role":"viewer","password":"correct horse ` + "\xff" + `battery"}`, "password"},
			{"PATCH", fmt.Sprintf("/api/v1/users/%d", viewer.ID), map[string]any{"password": "correct horse\x00battery"}, "password"},
			{"POST", "/api/v1/sources", `{"name":"s5","nested":{"a":["ok","bad` + "\xff" + `"]}}`, "nested.a[1]"},
		}
		for _, c := range cases {
			r := a.Do(c.method, c.path, c.body)
			p := expectProblem(t, r, http.StatusUnprocessableEntity)
			if _, ok := fieldsOf(p)[c.field]; !ok {
				t.Errorf("%s %s: problem does not name %q: %+v", c.method, c.path, c.field, p.Errors)
			}
		}
		// U+FFFD written by the sender, raw or escaped, is text like any other
		a.Do("PATCH", fmt.Sprintf("/api/v1/pipelines/%d", pid), `{"name":"p \ufffd �"}`).Expect(t, http.StatusOK)
		// nothing was stored or changed by any of them
		if n := a.Do("GET", "/api/v1/sources", nil).Map(t)["total"].(float64); n != 1 {
			t.Errorf("%v sources after refused creates, want 1", n)
		}
		// the viewer's password was not replaced by an altered one
		b := a.NewBrowser()
		b.Login(viewer.Email, viewer.Password).Expect(t, http.StatusSeeOther)
	})

	t.Run("console lists", func(t *testing.T) {
		b := a.Browser(auth.Admin)
		cases := []struct{ path, field string }{
			{"/sources?q=%00", "q"}, {"/destinations?q=%FF", "q"}, {"/pipelines?sort=%00", "sort"}, {"/?q=%00", "q"},
			{"/wal?q=%ff", "q"},
			{"/sources?offset=4294967297", "offset"}, {"/destinations?offset=2147483648", "offset"},
			{"/pipelines?offset=99999999999999999999", "offset"},
			{"/audit?actor=%00", "actor"}, {"/audit?action=%FF", "action"}, {"/audit?entity_kind=%00", "entity_kind"},
			{"/audit?offset=4294967297", "offset"}, {"/users?x=%00", "x"}, {"/settings/tokens?x=%ff", "x"},
			{fmt.Sprintf("/sources/%d?x=%%00", sid), "x"},
		}
		for _, c := range cases {
			r := b.Get(c.path)
			if r.Code < 400 || r.Code >= 500 {
				t.Errorf("GET %s: status %d, want 4xx", c.path, r.Code)
				continue
			}
			if text := r.Doc(t).Find("main").Text(); !strings.Contains(text, c.field) {
				t.Errorf("GET %s: %d page does not name %q: %s", c.path, r.Code, c.field, text)
			}
		}
	})

	t.Run("console forms", func(t *testing.T) {
		b := a.Browser(auth.Admin)
		source := url.Values{"name": {"c1"}, "pg_host": {"db"}, "pg_port": {"5432"}, "pg_database": {"d"}, "pg_username": {"u"},
			"pg_password": {"pw"}, "publication_name": {"p"}, "replication_id": {"r"}}
		with := func(v url.Values, k, val string) url.Values {
			out := url.Values{}
			for kk, vv := range v {
				out[kk] = vv
			}
			out.Set(k, val)
			return out
		}
		cases := []struct {
			path  string
			form  url.Values
			field string
		}{
			{"/sources", with(source, "name", "c\xff"), "name"},
			{"/sources", with(source, "pg_password", "pw\x00"), "pg_password"},
			{fmt.Sprintf("/sources/%d", sid), with(source, "pg_host", "db\xc3"), "pg_host"},
			{"/destinations", url.Values{"name": {"d\x00"}}, "name"},
			{fmt.Sprintf("/destinations/%d", did), url.Values{"snowflake_private_key_passphrase": {"\xff"}}, "snowflake_private_key_passphrase"},
			{"/pipelines", url.Values{"name": {"p\xfe"}}, "name"},
			{fmt.Sprintf("/pipelines/%d", pid), url.Values{"name": {"\x00"}}, "name"},
			{fmt.Sprintf("/pipelines/%d/start", pid), url.Values{"x": {"\xff"}}, "x"},
			{fmt.Sprintf("/sources/%d/test", sid), url.Values{"x": {"\x00"}}, "x"},
			{"/settings/tokens", url.Values{"name": {"t\x00"}, "expires": {"30d"}}, "name"},
			{"/users", url.Values{"email": {"\xff@example.com"}, "role": {"viewer"}, "password": {"correct horse battery"}}, "email"},
			{fmt.Sprintf("/users/%d/role", viewer.ID), url.Values{"role": {"view\x00er"}}, "role"},
		}
		for _, c := range cases {
			r := b.PostForm(c.path, c.form)
			if r.Code < 400 || r.Code >= 500 {
				t.Errorf("POST %s: status %d, want 4xx", c.path, r.Code)
				continue
			}
			if text := r.Doc(t).Find("main").Text(); !strings.Contains(text, c.field) {
				t.Errorf("POST %s: %d page does not name %q: %s", c.path, r.Code, c.field, text)
			}
		}
		// sign-in, signed out
		anon := a.NewBrowser()
		anon.Get("/login").Expect(t, http.StatusOK)
		for _, form := range []url.Values{
			{"email": {"ada\x00@example.com"}, "password": {"whatever-password"}},
			{"email": {viewer.Email}, "password": {viewer.Password + "\xff"}},
		} {
			r := anon.PostForm("/login", form)
			if r.Code < 400 || r.Code >= 500 || r.Code == http.StatusUnauthorized {
				t.Errorf("sign-in with %q: status %d, want 422", form.Get("email"), r.Code)
			}
		}
	})
}

// A password typed into the email field (with an "@" or not) of a failed sign-in is
// recorded nowhere: the audit log says the account is unknown, and the lockout counts
// the attempt under a hash.
func TestFailedSignInWithUnknownAccountRecordsNoTypedText(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	op := a.NewUser(auth.Operator)
	b := a.NewBrowser()
	b.Get("/login")
	typed := []string{"Tr0ub4dor&3@home", "correct-horse-battery"}
	for _, email := range typed {
		b.PostForm("/login", url.Values{"email": {email}, "password": {"x-password-x"}}).Expect(t, http.StatusUnauthorized)
	}
	b.PostForm("/login", url.Values{"email": {op.Email}, "password": {"wrong-password"}}).Expect(t, http.StatusUnauthorized)

	var events []struct {
		Action     string `json:"action"`
		ActorEmail string `json:"actor_email"`
		EntityName string `json:"entity_name"`
	}
	var page struct {
		Items *[]struct {
			Action     string `json:"action"`
			ActorEmail string `json:"actor_email"`
			EntityName string `json:"entity_name"`
		} `json:"items"`
	}
	page.Items = &events
	a.As(auth.Viewer).Do("GET", "/api/v1/audit?action=login_failed", nil).Expect(t, http.StatusOK).Decode(t, &page)
	if len(events) != 3 {
		t.Fatalf("%d login_failed events, want 3: %+v", len(events), events)
	}
	unknown := 0
	for _, e := range events {
		switch {
		case e.ActorEmail == auth.UnknownAccount && e.EntityName == auth.UnknownAccount:
			unknown++
		case e.ActorEmail == op.Email && e.EntityName == op.Email:
		default:
			t.Errorf("failed sign-in recorded as %+v", e)
		}
	}
	if unknown != 2 {
		t.Errorf("%d events say the account is unknown, want 2", unknown)
	}
	page2 := a.Browser(auth.Viewer).Get("/audit").Expect(t, http.StatusOK)
	var stored string
	if err := a.Pool.QueryRow(t.Context(),
		`SELECT coalesce(string_agg(actor_email || entity_name || changes::text, ' '), '') FROM audit_events`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	var keys string
	if err := a.Pool.QueryRow(t.Context(), `SELECT string_agg(email, ' ') FROM login_failures`).Scan(&keys); err != nil {
		t.Fatal(err)
	}
	for _, secret := range typed {
		for where, text := range map[string]string{"audit page": string(page2.Body), "audit table": stored,
			"login_failures": keys, "log": a.Logs.String()} {
			if strings.Contains(strings.ToLower(text), strings.ToLower(secret)) {
				t.Errorf("the text typed as email (%q) is in the %s", secret, where)
			}
		}
	}
	if strings.Contains(keys, op.Email) {
		t.Error("login_failures keeps an email in clear")
	}
}

// signedIn reports whether a browser is still signed in: a console page answers 200
// rather than sending it to the login page.
func signedIn(t *testing.T, b *webtest.Browser) bool {
	t.Helper()
	r := b.Get("/settings/tokens")
	switch r.Code {
	case http.StatusOK:
		return true
	case http.StatusSeeOther:
		if !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Fatalf("signed-out browser sent to %q", r.Header.Get("Location"))
		}
		return false
	}
	t.Fatalf("status %d", r.Code)
	return false
}

// An admin's password reset (console or API) and disabling end every console session of
// the user, for good; a user's own change ends their other sessions and keeps this one.
// API tokens survive a reset (see the README).
func TestResetsEndSessions(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	admin := a.Browser(auth.Admin)

	t.Run("admin reset in the console", func(t *testing.T) {
		u := a.NewUser(auth.Operator)
		b1, b2 := a.BrowserFor(u), a.BrowserFor(u)
		if !signedIn(t, b1) || !signedIn(t, b2) {
			t.Fatal("not signed in to begin with")
		}
		doc := admin.Get("/users").Expect(t, http.StatusOK).Doc(t)
		form := doc.Find(fmt.Sprintf(`tr[data-user-id="%d"] form[data-testid="reset-password"]`, u.ID))
		action, _ := form.Attr("action")
		if action == "" {
			t.Fatal("no reset-password form on the users page")
		}
		admin.PostForm(action, url.Values{"password": {"a brand new password"}}).Expect(t, http.StatusSeeOther)
		if signedIn(t, b1) || signedIn(t, b2) {
			t.Error("a browser of the user is still signed in after the reset")
		}
		if !signedIn(t, admin) {
			t.Error("the admin was signed out")
		}
		a.AsUser(u).Do("GET", "/api/v1/me", nil).Expect(t, http.StatusOK) // tokens survive
		fresh := a.NewBrowser()
		fresh.Login(u.Email, u.Password).Expect(t, http.StatusUnauthorized)
		fresh.Login(u.Email, "a brand new password").Expect(t, http.StatusSeeOther)
		if !signedIn(t, fresh) {
			t.Error("cannot sign in with the new password")
		}
		// an admin cannot reset their own password here (it would sign them out)
		doc = admin.Get("/users").Doc(t)
		if doc.Find(fmt.Sprintf(`tr[data-user-id="%d"] form[data-testid="reset-password"]`, a.Admin.ID)).Length() != 0 {
			t.Error("the admin's own row offers a reset that would sign them out")
		}
	})

	t.Run("admin reset through the API", func(t *testing.T) {
		u := a.NewUser(auth.Viewer)
		b := a.BrowserFor(u)
		a.Do("PATCH", fmt.Sprintf("/api/v1/users/%d", u.ID), map[string]any{"password": "another new password"}).Expect(t, http.StatusOK)
		if signedIn(t, b) {
			t.Error("still signed in after PATCH /users/{id} password")
		}
	})

	t.Run("own change keeps this session only", func(t *testing.T) {
		u := a.NewUser(auth.Viewer)
		here, other := a.BrowserFor(u), a.BrowserFor(u)
		here.Get("/settings/password").Expect(t, http.StatusOK)
		r := here.PostForm("/settings/password", url.Values{"current_password": {"not it at all"}, "password": {"my new password!"}}).
			Expect(t, http.StatusUnprocessableEntity)
		if r.Doc(t).Find(`[data-testid="field-current_password"]`).Text() == "" {
			t.Error("a wrong current password is not reported beside its field")
		}
		if !signedIn(t, other) {
			t.Fatal("a refused change signed the other browser out")
		}
		before := here.Cookie(sessionCookie)
		here.PostForm("/settings/password", url.Values{"current_password": {u.Password}, "password": {"my new password!"}}).
			Expect(t, http.StatusSeeOther)
		if here.Cookie(sessionCookie) == before {
			t.Error("the session token was not renewed")
		}
		if !signedIn(t, here) {
			t.Error("the browser that changed the password was signed out")
		}
		if signedIn(t, other) {
			t.Error("the user's other browser is still signed in")
		}
	})

	t.Run("disable ends sessions for good", func(t *testing.T) {
		u := a.NewUser(auth.Viewer)
		b := a.BrowserFor(u)
		admin.PostForm(fmt.Sprintf("/users/%d/disable", u.ID), nil).Expect(t, http.StatusSeeOther)
		admin.PostForm(fmt.Sprintf("/users/%d/enable", u.ID), nil).Expect(t, http.StatusSeeOther)
		if signedIn(t, b) {
			t.Error("re-enabling revived a session from before the disable")
		}
	})
}

// The API limit has no side door: a console session calling the API is limited per
// user like a token, and an address sending bad tokens is refused (429, Retry-After)
// before its next token is looked up.
func TestAPIRateLimitsCoverSessionsAndBadTokens(t *testing.T) {
	t.Parallel()
	a := webtest.New(t,
		webtest.WithEnv(map[string]string{"TRUSTED_PROXIES": "192.0.2.1/32"}),
		webtest.WithAccess(web.AccessOptions{SessionRate: 0.01, SessionBurst: 3, BadTokenRate: 0.01, BadTokenBurst: 3}))

	t.Run("sessions", func(t *testing.T) {
		viewer := a.NewUser(auth.Viewer)
		b := a.BrowserFor(viewer)
		for range 3 {
			b.Get("/api/v1/sources").Expect(t, http.StatusOK)
		}
		r := b.Get("/api/v1/sources")
		p := expectProblem(t, r, http.StatusTooManyRequests)
		if p.Code != "rate_limited" || r.Header.Get("Retry-After") == "" {
			t.Errorf("session over the limit: %+v, Retry-After %q", p, r.Header.Get("Retry-After"))
		}
		b.Get("/sources").Expect(t, http.StatusOK)                        // console pages are not API calls
		a.AsUser(viewer).Do("GET", "/api/v1/sources", nil).Expect(t, 200) // the user's token has its own limit
		a.Browser(auth.Operator).Get("/api/v1/sources").Expect(t, http.StatusOK)
	})

	t.Run("bad tokens", func(t *testing.T) {
		from := func(addr string) string { return "X-Forwarded-For: " + addr }
		bad := "Authorization: Bearer rst_" + strings.Repeat("x", 43)
		for range 3 {
			expectProblem(t, a.Do("GET", "/api/v1/sources", nil, bad, from("203.0.113.7")), http.StatusUnauthorized)
		}
		r := a.Do("GET", "/api/v1/sources", nil, bad, from("203.0.113.7"))
		p := expectProblem(t, r, http.StatusTooManyRequests)
		if p.Code != "rate_limited" || r.Header.Get("Retry-After") == "" {
			t.Errorf("bad tokens over the limit: %+v, Retry-After %q", p, r.Header.Get("Retry-After"))
		}
		// refused before the lookup: even a good token from that address waits
		expectProblem(t, a.Do("GET", "/api/v1/sources", nil, from("203.0.113.7")), http.StatusTooManyRequests)
		// other addresses are unaffected, and good tokens never spend the allowance
		for range 5 {
			a.Do("GET", "/api/v1/sources", nil, from("203.0.113.8")).Expect(t, http.StatusOK)
		}
		expectProblem(t, a.Do("GET", "/api/v1/sources", nil, bad, from("203.0.113.8")), http.StatusUnauthorized)
	})
}

// The flash cookie is signed: a well-formed message with no (or another) signature is
// not shown, so nobody who can set a cookie can make Rosetta speak. A genuine one is.
func TestFlashCookieIsSigned(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	b := a.Browser(auth.Operator)
	b.PostForm("/destinations", url.Values{"name": {"analytics"}, "snowflake_account": {"acme-analytics"},
		"snowflake_user": {"ROSETTA"}, "snowflake_database": {"RAW"}, "snowflake_schema": {"ORDERS"},
		"snowflake_role": {"LOADER"}, "snowflake_private_key_path": {"/etc/rosetta/key.p8"}}).Expect(t, http.StatusSeeOther)
	genuine := b.Cookie("rosetta_flash")
	payload, sig, ok := strings.Cut(genuine, ".")
	if !ok || sig == "" {
		t.Fatalf("flash cookie %q carries no signature", genuine)
	}
	// the same JSON shape a genuine flash has, written by someone else
	forged := "W3siayI6InN1Y2Nlc3MiLCJtIjoiWW91ciBhY2NvdW50IGlzIGxvY2tlZDogY2FsbCArMSA1NTUgMDEwMCJ9XQ" // [{"k":"success","m":"Your account is locked: call +1 555 0100"}]
	for _, v := range []string{forged, forged + "." + sig, payload, payload + ".AAAA"} {
		b.SetCookie("rosetta_flash", v)
		if txt := b.Get("/").Doc(t).Find(`[data-testid="flash"]`).Text(); txt != "" {
			t.Errorf("cookie %q shows flash %q", v, txt)
		}
	}
	b.SetCookie("rosetta_flash", genuine)
	if txt := b.Get("/").Doc(t).Find(`[data-testid="flash"]`).Text(); !strings.Contains(txt, "analytics") {
		t.Errorf("the genuine flash is not shown: %q", txt)
	}
}

// A CSRF token is good only with the session it was issued to: a token and CSRF cookie
// taken from one signed-in browser are refused in another session, even one of the
// same user, and a token from before sign-in is refused after it.
func TestCSRFTokenIsTiedToTheSession(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	u := a.NewUser(auth.Operator)
	attacker, victim := a.BrowserFor(u), a.BrowserFor(u)
	attacker.Get("/sources")
	victim.Get("/sources")
	// the attacker plants their CSRF cookie in the victim's browser and uses their token
	victim.SetCookie("rosetta_csrf", attacker.Cookie("rosetta_csrf"))
	form := url.Values{"_csrf": {attacker.CSRFToken()}, "name": {"x"}}
	victim.PostForm("/pipelines", form).Expect(t, http.StatusForbidden)
	// a token issued before sign-in is worth nothing after it
	b := a.NewBrowser()
	b.Get("/login")
	pre, preCookie := b.CSRFToken(), b.Cookie("rosetta_csrf")
	b.Login(u.Email, u.Password).Expect(t, http.StatusSeeOther)
	b.SetCookie("rosetta_csrf", preCookie)
	b.PostForm("/pipelines", url.Values{"_csrf": {pre}}).Expect(t, http.StatusForbidden)
	// the browser's own token works
	victim2 := a.BrowserFor(u)
	victim2.Get("/sources")
	if r := victim2.PostForm("/pipelines", url.Values{"name": {"x"}}); r.Code == http.StatusForbidden {
		t.Errorf("the session's own token refused: %s", r.Body)
	}
}

// /api/docs is a page: signed out, it leads to the login page and back.
func TestAPIDocsSignedOutGoesToLogin(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	r := a.NewBrowser().Get("/api/docs").Expect(t, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/login?next=%2Fapi%2Fdocs" {
		t.Errorf("signed out /api/docs goes to %q", loc)
	}
	// the JSON beside it still answers 401 problem JSON
	expectProblem(t, a.Anonymous().Do("GET", "/api/v1/openapi.json", nil), http.StatusUnauthorized)
	a.Browser(auth.Viewer).Get("/api/docs").Expect(t, http.StatusOK)
}

// Without a usable client id every answer gets a fresh one: 32 letters, as echo's
// RequestID middleware made them, never the same twice, on routed and unrouted paths,
// and the same id in the request's log line.
func TestFreshRequestIDs(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	seen := map[string]bool{}
	for _, sent := range []string{"", "bad\x7fid"} {
		for _, path := range []string{"/health", "/api/v1/nowhere", "/api/v1/sources"} {
			r := a.Do("GET", path, nil, "X-Request-ID: "+sent)
			got := r.Header.Get("X-Request-ID")
			if len(got) != 32 || strings.Trim(got, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != "" {
				t.Errorf("%s: X-Request-ID %q, want 32 letters", path, got)
			}
			if seen[got] {
				t.Errorf("%s: X-Request-ID %q given twice", path, got)
			}
			seen[got] = true
			if !strings.Contains(a.Logs.String(), "request_id="+got) {
				t.Errorf("%s: the log has no line with request_id=%s", path, got)
			}
		}
	}
}

// A client's X-Request-ID is kept only as printable ASCII of at most 200 characters.
func TestRequestIDIsCapped(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	long := strings.Repeat("a", 5000)
	cases := []struct{ sent, want string }{
		{"trace-42", "trace-42"},
		{long, long[:200]},
	}
	for _, c := range cases {
		for _, path := range []string{"/health", "/api/v1/nowhere"} {
			r := a.Do("GET", path, nil, "X-Request-ID: "+c.sent)
			if got := r.Header.Get("X-Request-ID"); got != c.want {
				t.Errorf("%s: X-Request-ID %d characters (%.20q…), want %d", path, len(got), got, len(c.want))
			}
			if strings.Contains(string(r.Body), long[:201]) {
				t.Errorf("%s: the long id is in the body", path)
			}
		}
	}
	r := a.Do("GET", "/health", nil, "X-Request-ID: bad\x7fid")
	if got := r.Header.Get("X-Request-ID"); got == "" || strings.Contains(got, "bad") {
		t.Errorf("a non-printable id was kept or none made: %q", got)
	}
	if strings.Contains(a.Logs.String(), long[:201]) {
		t.Error("the long id is in the log")
	}
}
