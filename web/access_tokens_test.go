package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/web"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

func TestAPITokensFromTheConsole(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	b := a.Browser(auth.Viewer)
	b.Get("/settings/tokens").Expect(t, http.StatusOK)

	// invalid: every message beside its field
	r := b.PostForm("/settings/tokens", url.Values{"name": {""}, "expires": {"30d"}}).Expect(t, http.StatusUnprocessableEntity)
	if msg := r.Doc(t).Find(`[data-testid="field-name"] [data-testid="field-error"]`).Text(); msg == "" {
		t.Error("no message beside the name")
	}
	r = b.PostForm("/settings/tokens", url.Values{"name": {"ci"}, "expires": {"30d"}}).Expect(t, http.StatusCreated)
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("the page showing a token is cacheable: %q", cc)
	}
	secret := strings.TrimSpace(r.Doc(t).Find(`[data-testid="token-secret"]`).Text())
	if !auth.LooksLikeToken(secret) {
		t.Fatalf("token shown: %q", secret)
	}
	// it works, with the owner's role
	a.AsUser(webtest.User{Token: secret}).Do("GET", "/api/v1/sources", nil).Expect(t, http.StatusOK)
	expectProblem(t, a.AsUser(webtest.User{Token: secret}).Do("POST", "/api/v1/sources", sourceBody("x")), http.StatusForbidden)

	// shown once: the list has name, dates and a prefix, never the secret
	page := b.Get("/settings/tokens").Expect(t, http.StatusOK)
	if strings.Contains(string(page.Body), secret) {
		t.Fatal("the token is shown again")
	}
	doc := page.Doc(t)
	// by the name cell: another token's random prefix may hold "ci" too
	row := doc.Find(`[data-testid="token-row"]`).FilterFunction(func(_ int, s *goquerySelection) bool {
		return strings.TrimSpace(s.Find("td").First().Text()) == "ci"
	})
	if row.Length() != 1 || row.AttrOr("data-state", "") != "active" || !strings.Contains(row.Text(), secret[:10]) {
		t.Fatalf("token row: %d %q", row.Length(), row.Text())
	}
	if !strings.Contains(row.Text(), "in 30 days") && !strings.Contains(row.Text(), "in 29 days") {
		t.Errorf("expiry not listed: %q", row.Text())
	}
	if strings.Contains(row.Find("td").Eq(3).Text(), "never") {
		t.Errorf("last used not recorded: %q", row.Text())
	}
	id := row.AttrOr("data-token-id", "")

	// another viewer can neither see nor revoke it; its owner can
	other := a.Browser(auth.Operator)
	if strings.Contains(string(other.Get("/settings/tokens").Body), secret[:10]) {
		t.Error("someone else's token is listed")
	}
	other.PostForm("/settings/tokens/"+id+"/revoke", nil).Expect(t, http.StatusNotFound)
	a.AsUser(webtest.User{Token: secret}).Do("GET", "/api/v1/sources", nil).Expect(t, http.StatusOK)

	b.Get("/settings/tokens")
	b.PostForm("/settings/tokens/"+id+"/revoke", nil).Expect(t, http.StatusSeeOther)
	p := expectProblem(t, a.AsUser(webtest.User{Token: secret}).Do("GET", "/api/v1/sources", nil), http.StatusUnauthorized)
	if !strings.Contains(p.Detail, "revoked") {
		t.Errorf("revoked token detail %q", p.Detail)
	}
	if st := b.Get("/settings/tokens").Doc(t).Find(`[data-token-id="`+id+`"]`).AttrOr("data-state", ""); st != "revoked" {
		t.Errorf("state after revoke %q", st)
	}

	// an admin sees everyone's tokens, with the owner, and may revoke any
	adminPage := a.Browser(auth.Admin).Get("/settings/tokens").Expect(t, http.StatusOK).Doc(t)
	if !strings.Contains(adminPage.Find(`[data-testid="tokens"]`).Text(), b.User.Email) {
		t.Error("the admin's list lacks the viewer's token")
	}
	victim := a.NewUser(auth.Operator)
	ab := a.Browser(auth.Admin)
	ab.Get("/settings/tokens")
	ab.PostForm(fmt.Sprintf("/settings/tokens/%d/revoke", victim.TokenID), nil).Expect(t, http.StatusSeeOther)
	expectProblem(t, a.AsUser(victim).Do("GET", "/api/v1/sources", nil), http.StatusUnauthorized)
}

// goquerySelection keeps the goquery import in one place.
type goquerySelection = goquery.Selection

func TestExpiredRevokedAndMalformedTokensAre401(t *testing.T) {
	t.Parallel()
	// The expiry is moved with SQL, behind every instance's back: without the token
	// cache it applies at once (the cache's bound is TestRevokedTokenStopsWithin…).
	a := webtest.New(t, webtest.WithEnv(map[string]string{"API_TOKEN_CACHE_TTL": "0"}))
	u := a.NewUser(auth.Operator)
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{UserID: u.ID, Email: u.Email, Role: u.Role})
	tok, err := a.Auth.CreateToken(ctx, auth.TokenInput{Name: "short", ExpiresIn: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	a.AsUser(webtest.User{Token: tok.Secret}).Do("GET", "/api/v1/pipelines", nil).Expect(t, http.StatusOK)
	if _, err := a.Pool.Exec(context.Background(), `UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, tok.ID); err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]string{
		"expired":      "Authorization: Bearer " + tok.Secret,
		"revoked":      "",
		"unknown":      "Authorization: Bearer rst_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"malformed":    "Authorization: Bearer not-a-token",
		"empty":        "Authorization: Bearer ",
		"other scheme": "Authorization: Basic YWRtaW46YWRtaW4=",
	} {
		if name == "revoked" {
			if _, err := a.Auth.RevokeToken(ctx, u.TokenID); err != nil {
				t.Fatal(err)
			}
			h = "Authorization: Bearer " + u.Token
		}
		r := a.Anonymous().Do("GET", "/api/v1/pipelines", nil, h)
		expectProblem(t, r, http.StatusUnauthorized)
		if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: WWW-Authenticate %q", name, r.Header.Get("WWW-Authenticate"))
		}
		// on the console a bad token is refused as well, never treated as a session
		if r := a.Anonymous().Do("GET", "/sources", nil, h); r.Code != http.StatusUnauthorized && r.Code != http.StatusSeeOther {
			t.Errorf("%s token on the console: %d", name, r.Code)
		}
	}
	// tokens are stored hashed: the secret is nowhere in the table
	var n int
	if err := a.Pool.QueryRow(context.Background(), `SELECT count(*) FROM api_tokens t WHERE t::text LIKE '%' || $1 || '%'`, tok.Secret[4:]).Scan(&n); err != nil || n != 0 {
		t.Errorf("token secret stored: %d %v", n, err)
	}
}

func TestTokenRateLimit(t *testing.T) {
	t.Parallel()
	a := webtest.New(t, webtest.WithAccess(web.AccessOptions{TokenRate: 0.01, TokenBurst: 3}))
	v := a.As(auth.Viewer)
	for range 3 {
		v.Do("GET", "/api/v1/sources", nil).Expect(t, http.StatusOK)
	}
	r := v.Do("GET", "/api/v1/sources", nil)
	p := expectProblem(t, r, http.StatusTooManyRequests)
	if p.Code != "rate_limited" || r.Header.Get("Retry-After") == "" {
		t.Errorf("rate limited: %+v, Retry-After %q", p, r.Header.Get("Retry-After"))
	}
	// per token: another token is unaffected
	a.As(auth.Operator).Do("GET", "/api/v1/sources", nil).Expect(t, http.StatusOK)
}

func TestUsersPage(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	b := a.Browser(auth.Admin)
	b.Get("/users").Expect(t, http.StatusOK)
	r := b.PostForm("/users", url.Values{"email": {"not an email"}, "role": {"root"}, "password": {"short"}}).
		Expect(t, http.StatusUnprocessableEntity)
	doc := r.Doc(t)
	for _, f := range []string{"email", "role", "password"} {
		if doc.Find(`[data-testid="field-`+f+`"] [data-testid="field-error"]`).Length() != 1 {
			t.Errorf("no message beside %s", f)
		}
	}
	if strings.Contains(string(r.Body), `value="short"`) {
		t.Error("the password is rendered back")
	}
	b.PostForm("/users", url.Values{"email": {"ada@example.com"}, "role": {"operator"}, "password": {"correct horse battery"}}).
		Expect(t, http.StatusSeeOther)
	b.PostForm("/users", url.Values{"email": {"ADA@example.com"}, "role": {"viewer"}, "password": {"correct horse battery"}}).
		Expect(t, http.StatusConflict)
	u, err := a.Auth.UserByEmail(a.Ctx(), "ada@example.com")
	if err != nil || u.Role != auth.Operator {
		t.Fatalf("created user: %+v %v", u, err)
	}
	// she can sign in
	ada := a.NewBrowser()
	ada.Login("ada@example.com", "correct horse battery").Expect(t, http.StatusSeeOther)
	ada.Get("/sources/new").Expect(t, http.StatusOK)

	b.Get("/users")
	b.PostForm(fmt.Sprintf("/users/%d/role", u.ID), url.Values{"role": {"viewer"}}).Expect(t, http.StatusSeeOther)
	ada.Get("/sources/new").Expect(t, http.StatusForbidden)
	b.PostForm(fmt.Sprintf("/users/%d/disable", u.ID), nil).Expect(t, http.StatusSeeOther)
	if r := ada.Get("/"); r.Code != http.StatusSeeOther {
		t.Errorf("disabled user still signed in: %d", r.Code)
	}
	row := b.Get("/users").Doc(t).Find(fmt.Sprintf(`[data-user-id="%d"]`, u.ID))
	if !strings.Contains(row.Text(), "disabled") {
		t.Errorf("row after disable: %q", row.Text())
	}
	b.PostForm(fmt.Sprintf("/users/%d/enable", u.ID), nil).Expect(t, http.StatusSeeOther)
	ada.Login("ada@example.com", "correct horse battery").Expect(t, http.StatusSeeOther)

	// the last admin can be neither demoted nor disabled
	b.Get("/users")
	b.PostForm(fmt.Sprintf("/users/%d/role", a.Admin.ID), url.Values{"role": {"viewer"}}).Expect(t, http.StatusSeeOther)
	if msg := b.Get("/users").Doc(t).Find(`[data-testid="flash"]`).Text(); !strings.Contains(msg, "only active admin") {
		t.Errorf("last-admin refusal flash %q", msg)
	}
	if me, _ := a.Auth.UserByEmail(a.Ctx(), a.Admin.Email); me.Role != auth.Admin || me.Disabled {
		t.Errorf("the last admin was changed: %+v", me)
	}
	b.PostForm(fmt.Sprintf("/users/%d/disable", a.Admin.ID), nil).Expect(t, http.StatusSeeOther)
	if me, _ := a.Auth.UserByEmail(a.Ctx(), a.Admin.Email); me.Disabled {
		t.Error("the last admin was disabled")
	}
}
