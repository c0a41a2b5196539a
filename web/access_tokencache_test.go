package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/web"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// stepClock is the token cache's clock in these tests: time moves only when the test
// says, so "within the TTL" and "after the TTL" are exact, with no sleeps.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// twoInstances is one database behind two Rosetta instances, each with its own token
// cache of API_TOKEN_CACHE_TTL=2s on a clock the test steps.
func twoInstances(t *testing.T) (*webtest.App, http.Handler, *stepClock) {
	clock := &stepClock{now: time.Now()}
	a := webtest.New(t, webtest.WithEnv(map[string]string{"API_TOKEN_CACHE_TTL": "2"}), webtest.WithAuth(auth.WithClock(clock.Now)))
	return a, a.NewInstance().Handler(), clock
}

const cacheTTL = 2 * time.Second

// call sends one request with a bearer token to an instance and returns the status.
func call(h http.Handler, method, path, token string) int {
	req := httptest.NewRequest(method, path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func TestRevokedTokenStopsWithinTheCacheTTLOnEveryInstance(t *testing.T) {
	t.Parallel()
	a, other, clock := twoInstances(t)
	u := a.NewUser(auth.Operator)
	here := a.Server.Handler()
	for name, h := range map[string]http.Handler{"this instance": here, "other instance": other} {
		if code := call(h, "GET", "/api/v1/sources", u.Token); code != http.StatusOK {
			t.Fatalf("%s before the revocation: %d", name, code)
		}
	}

	if _, err := a.Auth.RevokeToken(a.Ctx(), u.TokenID); err != nil {
		t.Fatal(err)
	}
	// The instance that revoked it evicts at once.
	if code := call(here, "GET", "/api/v1/sources", u.Token); code != http.StatusUnauthorized {
		t.Errorf("this instance right after the revocation: %d, want 401", code)
	}
	// The other answers from its cache until the TTL runs out (this is the documented
	// bound, and shows the cache spares the database a lookup)...
	if code := call(other, "GET", "/api/v1/sources", u.Token); code != http.StatusOK {
		t.Errorf("other instance within the TTL: %d, want the cached 200", code)
	}
	// ...and no longer.
	clock.Add(cacheTTL)
	if code := call(other, "GET", "/api/v1/sources", u.Token); code != http.StatusUnauthorized {
		t.Errorf("other instance after the TTL: %d, want 401", code)
	}
	// A bad token is never cached: it fails on every request, on both.
	for _, h := range []http.Handler{here, other} {
		if code := call(h, "GET", "/api/v1/sources", u.Token); code != http.StatusUnauthorized {
			t.Errorf("revoked token: %d, want 401", code)
		}
	}
}

func TestCachedTokenSeesRoleDowngradeAndDisabledOwner(t *testing.T) {
	t.Parallel()
	a, other, clock := twoInstances(t)
	here := a.Server.Handler()
	u := a.NewUser(auth.Operator)
	// Deleting a source that does not exist: an operator gets 404, a viewer 403 (the
	// permission check comes first).
	operatorOnly := fmt.Sprintf("/api/v1/sources/%d", 1<<40)
	for _, h := range []http.Handler{here, other} {
		if code := call(h, "DELETE", operatorOnly, u.Token); code != http.StatusNotFound {
			t.Fatalf("operator before the change: %d, want 404", code)
		}
	}

	if _, err := a.Auth.SetRole(a.Ctx(), u.ID, string(auth.Viewer)); err != nil {
		t.Fatal(err)
	}
	if code := call(here, "DELETE", operatorOnly, u.Token); code != http.StatusForbidden {
		t.Errorf("this instance right after the downgrade: %d, want 403", code)
	}
	clock.Add(cacheTTL)
	if code := call(other, "DELETE", operatorOnly, u.Token); code != http.StatusForbidden {
		t.Errorf("other instance after the TTL: %d, want 403 (the cached role must not outlive it)", code)
	}
	// Reads still work for the viewer: the token itself is fine.
	if code := call(other, "GET", "/api/v1/sources", u.Token); code != http.StatusOK {
		t.Errorf("viewer read: %d", code)
	}

	if _, err := a.Auth.SetDisabled(a.Ctx(), u.ID, true); err != nil {
		t.Fatal(err)
	}
	if code := call(here, "GET", "/api/v1/sources", u.Token); code != http.StatusUnauthorized {
		t.Errorf("this instance right after disabling the owner: %d, want 401", code)
	}
	clock.Add(cacheTTL)
	if code := call(other, "GET", "/api/v1/sources", u.Token); code != http.StatusUnauthorized {
		t.Errorf("other instance after the TTL: %d, want 401 for a disabled owner", code)
	}
}

// API_TOKEN_CACHE_TTL=0 turns the cache off: a revocation elsewhere applies on the next
// request, with no time passing at all.
func TestTokenCacheOff(t *testing.T) {
	t.Parallel()
	a := webtest.New(t, webtest.WithEnv(map[string]string{"API_TOKEN_CACHE_TTL": "0"}))
	other := a.NewInstance().Handler()
	u := a.NewUser(auth.Viewer)
	if code := call(other, "GET", "/api/v1/sources", u.Token); code != http.StatusOK {
		t.Fatalf("before: %d", code)
	}
	if _, err := a.Auth.RevokeToken(a.Ctx(), u.TokenID); err != nil {
		t.Fatal(err)
	}
	if code := call(other, "GET", "/api/v1/sources", u.Token); code != http.StatusUnauthorized {
		t.Errorf("after the revocation, no cache: %d, want 401", code)
	}
}

// API_RATE_LIMIT and API_RATE_BURST limit each token; a 429 says how long to wait, and a
// client that waits that long loses nothing.
func TestAPIRateLimitSettingAndRetryAfter(t *testing.T) {
	t.Parallel()
	a := webtest.New(t, webtest.WithEnv(map[string]string{"API_RATE_LIMIT": "10", "API_RATE_BURST": "10"}))
	op := a.As(auth.Operator)
	const n = 35
	refused := 0
	for i := 0; i < n; {
		r := op.Do("POST", "/api/v1/sources", sourceBody(fmt.Sprintf("script-%02d", i)))
		if r.Code == http.StatusTooManyRequests {
			refused++
			secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
			if err != nil || secs < 1 {
				t.Fatalf("429 without a usable Retry-After: %q", r.Header.Get("Retry-After"))
			}
			time.Sleep(time.Duration(secs) * time.Second)
			continue
		}
		r.Expect(t, http.StatusCreated)
		i++
	}
	if refused == 0 {
		t.Error("35 creates in a row at 10/s with bursts of 10 were never refused: the limit is not applied")
	}
	var count int
	if err := a.Pool.QueryRow(context.Background(), `SELECT count(*) FROM sources WHERE name LIKE 'script-%'`).Scan(&count); err != nil {
		t.Fatal(err)
	}
	if count != n {
		t.Errorf("%d sources created, want %d", count, n)
	}
}

func TestAPIRateLimitZeroIsOff(t *testing.T) {
	t.Parallel()
	// A burst of 1 would refuse the second request if the limit applied; 150 requests
	// are also past the default burst of 100.
	a := webtest.New(t, webtest.WithEnv(map[string]string{"API_RATE_LIMIT": "0", "API_RATE_BURST": "1"}))
	v := a.As(auth.Viewer)
	for i := range 150 {
		if r := v.Do("GET", "/api/v1/sources", nil); r.Code != http.StatusOK {
			t.Fatalf("request %d: %d, want 200 with API_RATE_LIMIT=0", i, r.Code)
		}
	}
	// The console session's API calls follow the same setting.
	b := a.Browser(auth.Viewer)
	for i := range 150 {
		if r := b.Get("/api/v1/sources"); r.Code != http.StatusOK {
			t.Fatalf("session request %d: %d, want 200 with API_RATE_LIMIT=0", i, r.Code)
		}
	}
}

// A page view does not write the session back just to nudge its idle expiry: the row is
// left alone until the expiry would move by 1/60 of the idle timeout, then renewed.
func TestPageViewsDoNotRewriteAnUnchangedSession(t *testing.T) {
	t.Parallel()
	const idle = 6 * time.Second // renewed at most every 100 ms
	a := webtest.New(t, webtest.WithAccess(web.AccessOptions{SessionIdleTimeout: idle}))
	b := a.Browser(auth.Viewer)
	b.Get("/").Expect(t, http.StatusOK)
	rowVersion := func() (string, time.Time) {
		t.Helper()
		sum := sha256.Sum256([]byte(b.Cookie(sessionCookie)))
		var xmin string
		var expiry time.Time
		if err := a.Pool.QueryRow(context.Background(), `SELECT xmin::text, expiry FROM sessions WHERE token = $1`,
			base64.RawURLEncoding.EncodeToString(sum[:])).Scan(&xmin, &expiry); err != nil {
			t.Fatalf("the browser's session: %v", err)
		}
		return xmin, expiry
	}
	// The next view leaves the row as it is, unless the expiry truly had to move by the
	// slack (a very slow machine), which is then a renewal, not a defect.
	x0, e0 := rowVersion()
	b.Get("/sources").Expect(t, http.StatusOK)
	if x1, e1 := rowVersion(); x1 != x0 && e1.Sub(e0) < idle/60 {
		t.Errorf("a page view rewrote the session (xmin %s → %s) to move its expiry by %s", x0, x1, e1.Sub(e0))
	}
	// Once the expiry would move by more than the slack, activity still renews it.
	waitPast(t, a, e0.Add(-idle).Add(2*idle/60))
	b.Get("/sources").Expect(t, http.StatusOK)
	if _, e2 := rowVersion(); !e2.After(e0) {
		t.Errorf("activity no longer renews the idle timeout: expiry %s, was %s", e2, e0)
	}
}
