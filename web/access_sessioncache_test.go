package web_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// The session cache (SESSION_CACHE_TTL) follows the token cache's rules: a change made on
// one instance applies there at once and on every other instance within the TTL, never
// later. These tests run two instances on one database with SESSION_CACHE_TTL=2s on a
// clock the test steps.

func twoSessionInstances(t *testing.T) (*webtest.App, http.Handler, *stepClock) {
	clock := &stepClock{now: time.Now()}
	a := webtest.New(t, webtest.WithEnv(map[string]string{"SESSION_CACHE_TTL": "2"}), webtest.WithAuth(auth.WithClock(clock.Now)))
	return a, a.NewInstance().Handler(), clock
}

// page loads a console page on an instance with the browser's session cookie and
// returns the status: 200 signed in, 303 (to /login) signed out.
func page(h http.Handler, b *webtest.Browser, path string) int {
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Cookie", sessionCookie+"="+b.Cookie(sessionCookie))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func TestSignOutEndsTheSessionWithinTheCacheTTLOnEveryInstance(t *testing.T) {
	t.Parallel()
	a, other, clock := twoSessionInstances(t)
	here := a.Server.Handler()
	b := a.Browser(auth.Operator)
	stolen := b.Cookie(sessionCookie) // what a copy of the cookie would still send
	for name, h := range map[string]http.Handler{"this instance": here, "other instance": other} {
		if code := page(h, b, "/pipelines"); code != http.StatusOK {
			t.Fatalf("%s before signing out: %d", name, code)
		}
	}

	b.Get("/pipelines") // for the page's CSRF token
	b.PostForm("/logout", nil).Expect(t, http.StatusSeeOther)
	b.SetCookie(sessionCookie, stolen)
	// The instance that signed out forgets the session at once.
	if code := page(here, b, "/pipelines"); code != http.StatusSeeOther {
		t.Errorf("this instance right after signing out: %d, want 303 to /login", code)
	}
	// The other answers from its cache until the TTL runs out (the documented bound,
	// and the proof that a page view there costs no session lookup)...
	if code := page(other, b, "/pipelines"); code != http.StatusOK {
		t.Errorf("other instance within the TTL: %d, want the cached 200", code)
	}
	// ...and no longer.
	clock.Add(2 * time.Second)
	if code := page(other, b, "/pipelines"); code != http.StatusSeeOther {
		t.Errorf("other instance after the TTL: %d, want 303 to /login", code)
	}
}

func TestDisabledUserAndRoleChangeReachCachedSessions(t *testing.T) {
	t.Parallel()
	a, other, clock := twoSessionInstances(t)
	here := a.Server.Handler()
	op := a.NewUser(auth.Operator)
	b := a.BrowserFor(op)
	// /sources/new is an operator's page: a viewer gets 403.
	for _, h := range []http.Handler{here, other} {
		if code := page(h, b, "/sources/new"); code != http.StatusOK {
			t.Fatalf("operator before the change: %d", code)
		}
	}

	if _, err := a.Auth.SetRole(a.Ctx(), op.ID, string(auth.Viewer)); err != nil {
		t.Fatal(err)
	}
	if code := page(here, b, "/sources/new"); code != http.StatusForbidden {
		t.Errorf("this instance right after the downgrade: %d, want 403", code)
	}
	clock.Add(2 * time.Second)
	if code := page(other, b, "/sources/new"); code != http.StatusForbidden {
		t.Errorf("other instance after the TTL: %d, want 403 (the cached role must not outlive it)", code)
	}
	if code := page(other, b, "/pipelines"); code != http.StatusOK {
		t.Fatalf("viewer read on the other instance: %d", code)
	}

	if _, err := a.Auth.SetDisabled(a.Ctx(), op.ID, true); err != nil {
		t.Fatal(err)
	}
	if code := page(here, b, "/pipelines"); code != http.StatusSeeOther {
		t.Errorf("this instance right after disabling: %d, want 303", code)
	}
	clock.Add(2 * time.Second)
	if code := page(other, b, "/pipelines"); code != http.StatusSeeOther {
		t.Errorf("other instance after the TTL: %d, want 303", code)
	}
	// Re-enabling revives no session: the epoch moved on when the user was disabled.
	if _, err := a.Auth.SetDisabled(a.Ctx(), op.ID, false); err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]http.Handler{"this instance": here, "other instance": other} {
		if code := page(h, b, "/pipelines"); code != http.StatusSeeOther {
			t.Errorf("%s after re-enabling: %d, want 303", name, code)
		}
	}
}

func TestPasswordResetEndsCachedSessionsAtOnceHereAndWithinTheTTLElsewhere(t *testing.T) {
	t.Parallel()
	a, other, clock := twoSessionInstances(t)
	here := a.Server.Handler()
	op := a.NewUser(auth.Operator)
	b := a.BrowserFor(op)
	for _, h := range []http.Handler{here, other} {
		if code := page(h, b, "/pipelines"); code != http.StatusOK {
			t.Fatalf("before the reset: %d", code)
		}
	}
	if err := a.Auth.SetPassword(a.Ctx(), op.ID, "a brand new password 1"); err != nil {
		t.Fatal(err)
	}
	if code := page(here, b, "/pipelines"); code != http.StatusSeeOther {
		t.Errorf("this instance right after the reset: %d, want 303", code)
	}
	clock.Add(2 * time.Second)
	if code := page(other, b, "/pipelines"); code != http.StatusSeeOther {
		t.Errorf("other instance after the TTL: %d, want 303", code)
	}
}

func TestSessionCacheOff(t *testing.T) {
	t.Parallel()
	a := webtest.New(t, webtest.WithEnv(map[string]string{"SESSION_CACHE_TTL": "0"}))
	other := a.NewInstance().Handler()
	b := a.Browser(auth.Operator)
	stolen := b.Cookie(sessionCookie)
	if code := page(other, b, "/pipelines"); code != http.StatusOK {
		t.Fatalf("before signing out: %d", code)
	}
	b.Get("/pipelines")
	b.PostForm("/logout", nil).Expect(t, http.StatusSeeOther)
	b.SetCookie(sessionCookie, stolen)
	// With no cache, the other instance reads the session on every request.
	if code := page(other, b, "/pipelines"); code != http.StatusSeeOther {
		t.Errorf("other instance right after signing out, no cache: %d, want 303", code)
	}
}
