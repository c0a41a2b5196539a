package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/web"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

const sessionCookie = "rosetta_session"

// TestLoginWritesTheSessionCookieThroughEcho signs in through the real form and checks
// the Set-Cookie echo sent: scs's own middleware wraps http.ResponseWriter, which echo
// bypasses, so this is where a session silently never reaching the browser would show.
func TestLoginWritesTheSessionCookieThroughEcho(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	u := a.NewUser(auth.Operator)
	b := a.NewBrowser()
	page := b.Get("/login").Expect(t, http.StatusOK)
	if page.Cookie(sessionCookie) != nil {
		t.Error("the login page started a session for an anonymous visitor")
	}
	r := b.Login(u.Email, u.Password).Expect(t, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/" {
		t.Errorf("after sign-in: Location %q", loc)
	}
	ck := r.Cookie(sessionCookie)
	if ck == nil || ck.Value == "" {
		t.Fatalf("no session cookie after sign-in; Set-Cookie: %v", r.Header.Values("Set-Cookie"))
	}
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/, not Secure over plain HTTP in test", ck)
	}
	if len(r.Header.Values("Set-Cookie")) > 0 && strings.Count(strings.Join(r.Header.Values("Set-Cookie"), "\n"), sessionCookie+"=") != 1 {
		t.Errorf("the session cookie is set more than once: %v", r.Header.Values("Set-Cookie"))
	}
	// the cookie is what signs the browser in
	doc := b.Get("/").Expect(t, http.StatusOK).Doc(t)
	if got := strings.TrimSpace(doc.Find(`[data-testid="user-menu"] summary`).Text()); got != u.Email {
		t.Errorf("user menu shows %q, want %s", got, u.Email)
	}
	// the database holds a hash of the token, never the token
	var n int
	ctx := context.Background()
	if err := a.Pool.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE token = $1`, ck.Value).Scan(&n); err != nil || n != 0 {
		t.Errorf("the raw session token is stored (%d rows, %v)", n, err)
	}
	if err := a.Pool.QueryRow(ctx, `SELECT count(*) FROM sessions`).Scan(&n); err != nil || n != 1 {
		t.Errorf("sessions rows = %d (%v), want 1", n, err)
	}
	// the next path survives sign-in, but only when it is a local path
	b2 := a.NewBrowser()
	r = b2.Get("/pipelines?sort=status")
	if loc := r.Header.Get("Location"); r.Code != http.StatusSeeOther || loc != "/login?next="+url.QueryEscape("/pipelines?sort=status") {
		t.Fatalf("anonymous page: %d %q", r.Code, loc)
	}
	b2.Get(r.Header.Get("Location"))
	r = b2.PostForm("/login", url.Values{"email": {u.Email}, "password": {u.Password}, "next": {"/pipelines?sort=status"}})
	if loc := r.Header.Get("Location"); loc != "/pipelines?sort=status" {
		t.Errorf("next not followed: %q", loc)
	}
	b3 := a.NewBrowser()
	b3.Get("/login")
	r = b3.PostForm("/login", url.Values{"email": {u.Email}, "password": {u.Password}, "next": {"//evil.example/x"}})
	if loc := r.Header.Get("Location"); loc != "/" {
		t.Errorf("open redirect: Location %q", loc)
	}
}

func TestProductionCookiesAreSecureAndHostPrefixed(t *testing.T) {
	t.Parallel()
	// Behind a TLS-terminating proxy (httptest's peer address is 192.0.2.1).
	a := webtest.New(t, webtest.WithEnv(map[string]string{"APP_ENV": "production", "TRUSTED_PROXIES": "192.0.2.1"}))
	u := a.NewUser(auth.Viewer)
	b := a.NewBrowser()
	page := b.Get("/login", "X-Forwarded-Proto: https").Expect(t, http.StatusOK)
	if hsts := page.Header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
		t.Errorf("no HSTS in production: %q", hsts)
	}
	if c := page.Cookie("__Host-rosetta_csrf"); c == nil || !c.Secure || !c.HttpOnly || c.Path != "/" || c.Domain != "" {
		t.Errorf("production CSRF cookie: %+v", c)
	}
	r := b.Login(u.Email, u.Password).Expect(t, http.StatusSeeOther)
	ck := r.Cookie("__Host-" + sessionCookie)
	if ck == nil || !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" {
		t.Fatalf("production session cookie: %+v (Set-Cookie %v)", ck, r.Header.Values("Set-Cookie"))
	}
	b.Get("/").Expect(t, http.StatusOK)

	dev := webtest.New(t, webtest.WithEnv(map[string]string{"APP_ENV": "development"}))
	if h := dev.Do("GET", "/health", nil).Header.Get("Strict-Transport-Security"); h != "" {
		t.Errorf("HSTS in development: %q", h)
	}
}

func TestLoginFailureAndLockout(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	u := a.NewUser(auth.Operator)
	b := a.NewBrowser()
	b.Get("/login")

	r := b.PostForm("/login", url.Values{"email": {u.Email}, "password": {"wrong-password-1"}}).Expect(t, http.StatusUnauthorized)
	doc := r.Doc(t)
	if msg := doc.Find(`[data-testid="login-error"]`).Text(); !strings.Contains(msg, "incorrect") {
		t.Errorf("failure message %q", msg)
	}
	if v, _ := doc.Find(`input[name="email"]`).Attr("value"); v != u.Email {
		t.Errorf("the email typed is not kept: %q", v)
	}
	if doc.Find(`input[name="password"][value]`).Length() != 0 || strings.Contains(string(r.Body), "wrong-password-1") {
		t.Error("the password is rendered back")
	}
	if r.Cookie(sessionCookie) != nil {
		t.Error("a failed sign-in set a session cookie")
	}
	// an unknown account answers exactly alike
	r2 := b.PostForm("/login", url.Values{"email": {"nobody@example.com"}, "password": {"whatever-password"}}).Expect(t, http.StatusUnauthorized)
	if r2.Doc(t).Find(`[data-testid="login-error"]`).Text() != doc.Find(`[data-testid="login-error"]`).Text() {
		t.Error("unknown email and wrong password answer differently")
	}

	limit := auth.DefaultLoginLimits.PerAccount
	for i := 2; i <= limit; i++ {
		b.PostForm("/login", url.Values{"email": {strings.ToUpper(u.Email)}, "password": {"wrong-password-" + strconv.Itoa(i)}}).
			Expect(t, http.StatusUnauthorized)
	}
	// locked: even the right password is refused, with a clear message and Retry-After
	r = b.PostForm("/login", url.Values{"email": {u.Email}, "password": {u.Password}}).Expect(t, http.StatusTooManyRequests)
	if msg := r.Doc(t).Find(`[data-testid="login-error"]`).Text(); !strings.Contains(msg, "Too many failed sign-in attempts") || !strings.Contains(msg, "minute") {
		t.Errorf("lockout message %q", msg)
	}
	if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 60 || ra > 15*60 {
		t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	if r.Cookie(sessionCookie) != nil {
		t.Error("a locked-out sign-in set a session cookie")
	}

	// The lockout lives in PostgreSQL: a second instance on the same database refuses too.
	other := a.NewInstance()
	b.Get("/login")
	form := url.Values{"email": {u.Email}, "password": {u.Password}, "_csrf": {b.CSRFToken()}}
	req, _ := http.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "rosetta_csrf", Value: b.Cookie("rosetta_csrf")})
	rec := newRecorder()
	other.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusTooManyRequests {
		t.Errorf("second instance: %d, want 429", rec.Code)
	}

	// other accounts are unaffected, and the audit log has the failures (never a password)
	v := a.NewUser(auth.Viewer)
	a.BrowserFor(v)
	var failures int
	var changes string
	if err := a.Pool.QueryRow(context.Background(),
		`SELECT count(*), string_agg(changes::text, ' ') FROM audit_events WHERE action = 'login_failed' AND actor_email = $1`, u.Email).
		Scan(&failures, &changes); err != nil {
		t.Fatal(err)
	}
	if failures < 1 || strings.Contains(changes, "wrong-password") {
		t.Errorf("login_failed rows: %d, changes %s", failures, changes)
	}
}

func TestLoginLockoutPerAddress(t *testing.T) {
	t.Parallel()
	a := webtest.New(t, webtest.WithLoginLimits(auth.LoginLimits{PerAccount: 100, PerAddress: 3, Window: time.Minute}))
	b := a.NewBrowser()
	b.Get("/login")
	for i := range 3 {
		b.PostForm("/login", url.Values{"email": {"guess" + strconv.Itoa(i) + "@example.com"}, "password": {"some-password-x"}}).
			Expect(t, http.StatusUnauthorized)
	}
	u := a.NewUser(auth.Viewer)
	r := b.PostForm("/login", url.Values{"email": {u.Email}, "password": {u.Password}}).Expect(t, http.StatusTooManyRequests)
	if !strings.Contains(r.Doc(t).Find(`[data-testid="login-error"]`).Text(), "from your address") {
		t.Errorf("per-address message: %s", r.Doc(t).Find(`[data-testid="login-error"]`).Text())
	}
	// X-Forwarded-For is not believed without TRUSTED_PROXIES: it cannot dodge the limit
	r = b.PostForm("/login", url.Values{"email": {u.Email}, "password": {u.Password}}, "X-Forwarded-For: 203.0.113.9")
	if r.Code != http.StatusTooManyRequests {
		t.Errorf("X-Forwarded-For walked past the lockout: %d", r.Code)
	}
}

func TestSuccessfulLoginClearsTheAccountsFailures(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	u := a.NewUser(auth.Viewer)
	b := a.NewBrowser()
	b.Get("/login")
	for range auth.DefaultLoginLimits.PerAccount - 1 {
		b.PostForm("/login", url.Values{"email": {u.Email}, "password": {"not-the-password"}}).Expect(t, http.StatusUnauthorized)
	}
	b.Login(u.Email, u.Password).Expect(t, http.StatusSeeOther)
	b2 := a.NewBrowser()
	b2.Get("/login")
	for range auth.DefaultLoginLimits.PerAccount - 1 {
		b2.PostForm("/login", url.Values{"email": {u.Email}, "password": {"not-the-password"}}).Expect(t, http.StatusUnauthorized)
	}
	b2.Login(u.Email, u.Password).Expect(t, http.StatusSeeOther)
}

// TestSessionFixation: a session token planted in a browser before sign-in is worthless
// afterwards; signing in always issues a new one.
func TestSessionFixation(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	attacker := a.BrowserFor(a.NewUser(auth.Viewer))
	planted := attacker.Cookie(sessionCookie)
	if planted == "" {
		t.Fatal("no session cookie")
	}
	victim := a.NewBrowser()
	victim.SetCookie(sessionCookie, planted)
	v := a.NewUser(auth.Operator)
	victim.Login(v.Email, v.Password).Expect(t, http.StatusSeeOther)
	if got := victim.Cookie(sessionCookie); got == "" || got == planted {
		t.Fatalf("session token not renewed at sign-in: %q", got)
	}
	// the planted token no longer signs anyone in
	probe := a.NewBrowser()
	probe.SetCookie(sessionCookie, planted)
	if r := probe.Get("/"); r.Code != http.StatusSeeOther {
		t.Errorf("planted token still works: %d", r.Code)
	}
	// the victim is the operator, not the attacker's viewer
	doc := victim.Get("/").Expect(t, http.StatusOK).Doc(t)
	if got := strings.TrimSpace(doc.Find(`[data-testid="user-menu"] summary`).Text()); got != v.Email {
		t.Errorf("victim signed in as %q", got)
	}
	// re-signing in renews the token too
	before := victim.Cookie(sessionCookie)
	victim.Login(v.Email, v.Password).Expect(t, http.StatusSeeOther)
	if victim.Cookie(sessionCookie) == before {
		t.Error("token not renewed on a second sign-in")
	}
}

func TestLogoutEndsTheSession(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	b := a.Browser(auth.Viewer)
	old := b.Cookie(sessionCookie)
	r := b.PostForm("/logout", nil).Expect(t, http.StatusSeeOther)
	if r.Header.Get("Location") != "/login" {
		t.Errorf("logout goes to %q", r.Header.Get("Location"))
	}
	if b.Cookie(sessionCookie) != "" {
		t.Error("session cookie not cleared")
	}
	replay := a.NewBrowser()
	replay.SetCookie(sessionCookie, old)
	if r := replay.Get("/sources"); r.Code != http.StatusSeeOther {
		t.Errorf("a signed-out token still works: %d", r.Code)
	}
	// the login page says so
	if txt := b.Get("/login").Doc(t).Find(`[data-testid="flash"]`).Text(); !strings.Contains(txt, "signed out") {
		t.Errorf("no signed-out flash: %q", txt)
	}
}

// sessionExpiry is the expiry stored for the session behind b's cookie (scs stores the
// token's SHA-256, base64url, never the token).
func sessionExpiry(t *testing.T, a *webtest.App, b *webtest.Browser) time.Time {
	t.Helper()
	sum := sha256.Sum256([]byte(b.Cookie(sessionCookie)))
	var expiry time.Time
	if err := a.Pool.QueryRow(context.Background(), `SELECT expiry FROM sessions WHERE token = $1`,
		base64.RawURLEncoding.EncodeToString(sum[:])).Scan(&expiry); err != nil {
		t.Fatalf("the browser's session: %v", err)
	}
	return expiry
}

// waitPast waits until PostgreSQL's clock, which judges expiry, has passed at: an
// explicit wait for the condition, not a sleep that hopes to be long enough.
func waitPast(t *testing.T, a *webtest.App, at time.Time) {
	t.Helper()
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		var past bool
		if err := a.Pool.QueryRow(context.Background(), `SELECT current_timestamp > $1`, at).Scan(&past); err != nil {
			t.Fatal(err)
		}
		if past {
			return
		}
		if time.Since(start) > time.Minute {
			t.Fatalf("the database clock never passed %s", at)
		}
	}
}

func TestSessionTimeouts(t *testing.T) {
	t.Parallel()
	t.Run("idle", func(t *testing.T) {
		t.Parallel()
		a := webtest.New(t, webtest.WithAccess(web.AccessOptions{SessionIdleTimeout: 2 * time.Second}))
		b := a.Browser(auth.Viewer)
		b.Get("/").Expect(t, http.StatusOK)
		expiry := sessionExpiry(t, a, b)
		if expiry.After(time.Now().Add(time.Minute)) {
			t.Fatalf("session expires at %s: the idle timeout was not applied", expiry)
		}
		waitPast(t, a, expiry)
		if r := b.Get("/"); r.Code != http.StatusSeeOther {
			t.Errorf("after the idle timeout: %d", r.Code)
		}
	})
	t.Run("absolute", func(t *testing.T) {
		t.Parallel()
		a := webtest.New(t, webtest.WithAccess(web.AccessOptions{SessionLifetime: 5 * time.Second}))
		b := a.Browser(auth.Viewer)
		deadline := sessionExpiry(t, a, b)
		// Activity renews the idle timeout (an hour) but never moves the deadline.
		for range 3 {
			b.Get("/").Expect(t, http.StatusOK)
			if e := sessionExpiry(t, a, b); !e.Equal(deadline) {
				t.Fatalf("a request moved the session's expiry from %s to %s", deadline, e)
			}
		}
		waitPast(t, a, deadline)
		if r := b.Get("/"); r.Code != http.StatusSeeOther {
			t.Errorf("an active session outlived its absolute lifetime: %d", r.Code)
		}
	})
}

func TestDisabledUserIsSignedOut(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	u := a.NewUser(auth.Operator)
	b := a.BrowserFor(u)
	b.Get("/").Expect(t, http.StatusOK)
	a.AsUser(u).Do("GET", "/api/v1/sources", nil).Expect(t, http.StatusOK)
	if _, err := a.Auth.SetDisabled(a.Ctx(), u.ID, true); err != nil {
		t.Fatal(err)
	}
	if r := b.Get("/"); r.Code != http.StatusSeeOther {
		t.Errorf("disabled user's session: %d", r.Code)
	}
	expectProblem(t, a.AsUser(u).Do("GET", "/api/v1/sources", nil), http.StatusUnauthorized)
	b.Get("/login")
	b.PostForm("/login", url.Values{"email": {u.Email}, "password": {u.Password}}).Expect(t, http.StatusUnauthorized)
	// and a role change applies at once
	w := a.NewUser(auth.Operator)
	wb := a.BrowserFor(w)
	wb.Get("/sources/new").Expect(t, http.StatusOK)
	if _, err := a.Auth.SetRole(a.Ctx(), w.ID, "viewer"); err != nil {
		t.Fatal(err)
	}
	wb.Get("/sources/new").Expect(t, http.StatusForbidden)
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	b := a.Browser(auth.Operator)
	b.Get("/sources")
	form := url.Values{"name": {"wh"}, "snowflake_account": {"acme"}, "snowflake_user": {"U"}, "snowflake_database": {"D"},
		"snowflake_schema": {"S"}, "snowflake_role": {"R"}, "snowflake_private_key_path": {"/k.p8"}}

	noToken := url.Values{"_csrf": {""}}
	for k, v := range form {
		noToken[k] = v
	}
	r := b.PostForm("/destinations", noToken).Expect(t, http.StatusForbidden)
	if !strings.Contains(string(r.Body), "reload the page") {
		t.Errorf("CSRF refusal does not say what to do: %s", r.Body)
	}
	forged := url.Values{"_csrf": {a.Browser(auth.Viewer).CSRFToken()}} // someone else's token
	for k, v := range form {
		forged[k] = v
	}
	b.PostForm("/destinations", forged).Expect(t, http.StatusForbidden)
	garbage := url.Values{"_csrf": {"bm90LWEtdG9rZW4"}}
	for k, v := range form {
		garbage[k] = v
	}
	b.PostForm("/destinations", garbage).Expect(t, http.StatusForbidden)
	// htmx without the header is refused; with it, accepted
	b.Do("POST", "/pipelines/1/start", "", "HX-Request: true", "X-CSRF-Token: ").Expect(t, http.StatusForbidden)
	// a same-token request from another site is refused (Sec-Fetch-Site)
	b.PostForm("/destinations", form, "Sec-Fetch-Site: cross-site").Expect(t, http.StatusForbidden)
	// the API through the session (Swagger UI's Try it out) needs the token too
	b.Do("POST", "/api/v1/destinations", destBody("x"), "X-CSRF-Token: ").Expect(t, http.StatusForbidden)
	b.Do("POST", "/api/v1/destinations", destBody("via-session")).Expect(t, http.StatusCreated)

	var n int
	if err := a.Pool.QueryRow(context.Background(), `SELECT count(*) FROM destinations WHERE name = 'wh'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a refused post wrote %d rows (%v)", n, err)
	}
	b.PostForm("/destinations", form).Expect(t, http.StatusSeeOther)
	b.HTMX("POST", "/destinations", url.Values{"name": {"wh2"}, "snowflake_account": {"acme"}, "snowflake_user": {"U"},
		"snowflake_database": {"D"}, "snowflake_schema": {"S"}, "snowflake_role": {"R"}, "snowflake_private_key_path": {"/k.p8"}}).
		Expect(t, http.StatusNoContent)
	// the sign-in form is protected as well (login CSRF)
	anon := a.NewBrowser()
	anon.Get("/login")
	anon.PostForm("/login", url.Values{"email": {"x@example.com"}, "password": {"whatever-pass"}, "_csrf": {""}}).Expect(t, http.StatusForbidden)
	// a bearer token is exempt: browsers never send one on their own
	a.As(auth.Operator).Do("POST", "/destinations/"+"987654"+"/delete", "", "Content-Type: application/x-www-form-urlencoded").
		Expect(t, http.StatusNotFound)
	// the token changes at sign-in
	before := b.Cookie("rosetta_csrf")
	op := a.NewUser(auth.Operator)
	b.Login(op.Email, op.Password).Expect(t, http.StatusSeeOther)
	if b.Cookie("rosetta_csrf") == before {
		t.Error("the CSRF secret survived sign-in")
	}
}

// A bearer header exempts a request from CSRF only when its token is verified. The
// sign-in form does not look at tokens, so a made-up "Authorization: Bearer" must not
// let a forged sign-in (login CSRF) through — it gets the CSRF refusal like any other.
func TestBearerHeaderDoesNotExemptPublicFormsFromCSRF(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	u := a.NewUser(auth.Viewer)
	form := url.Values{"email": {u.Email}, "password": {u.Password}}.Encode()
	r := a.Anonymous().Do("POST", "/login", form,
		"Content-Type: application/x-www-form-urlencoded", "Authorization: Bearer rst_made-up")
	if r.Code != http.StatusForbidden || !strings.Contains(string(r.Body), "reload the page") {
		t.Fatalf("forged sign-in with a bearer header: %d %s", r.Code, r.Body)
	}
	if r.Cookie(sessionCookie) != nil {
		t.Error("a forged sign-in got a session cookie")
	}
	// the real form, with its CSRF token, still signs in whatever headers come along
	b := a.NewBrowser()
	b.Get("/login")
	b.PostForm("/login", url.Values{"email": {u.Email}, "password": {u.Password}, "_csrf": {b.CSRFToken()}},
		"Authorization: Bearer rst_made-up").Expect(t, http.StatusSeeOther)
}
