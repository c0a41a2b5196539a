package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

type meBody struct {
	UserID  int64  `json:"user_id"`
	Email   string `json:"email"`
	Role    string `json:"role"`
	TokenID *int64 `json:"token_id"`
}

// Automation manages its own tokens through the API: create (the secret once, not
// cacheable), use, list (never a secret), revoke; nobody touches another's token.
func TestAPITokenLifecycle(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	viewer := a.NewUser(auth.Viewer)
	other := a.NewUser(auth.Operator)
	v := a.AsUser(viewer)

	var me meBody
	v.Do("GET", "/api/v1/me", nil).Expect(t, http.StatusOK).Decode(t, &me)
	if me.UserID != viewer.ID || me.Role != "viewer" || me.TokenID == nil || *me.TokenID != viewer.TokenID {
		t.Fatalf("me = %+v, want the viewer through token %d", me, viewer.TokenID)
	}

	// every bad field at once
	p := expectProblem(t, v.Do("POST", "/api/v1/tokens", map[string]any{"name": "", "expires": "soon"}), http.StatusUnprocessableEntity)
	if f := fieldsOf(p); f["name"] == "" || !strings.Contains(f["expires"], "30d") {
		t.Errorf("bad token create: %+v", p.Errors)
	}
	// a viewer cannot mint a token for someone else
	expectProblem(t, v.Do("POST", "/api/v1/tokens", map[string]any{"name": "x", "user_id": other.ID}), http.StatusForbidden)

	r := v.Do("POST", "/api/v1/tokens", map[string]any{"name": "nightly export", "expires": "30d"}).Expect(t, http.StatusCreated)
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q on the response carrying a secret", cc)
	}
	var created struct {
		ID        int64   `json:"id"`
		Token     string  `json:"token"`
		Name      string  `json:"name"`
		ExpiresAt *string `json:"expires_at"`
	}
	r.Decode(t, &created)
	if !auth.LooksLikeToken(created.Token) || created.Name != "nightly export" || created.ExpiresAt == nil {
		t.Fatalf("created %+v", created)
	}
	fresh := a.AsUser(webtest.User{Token: created.Token})
	fresh.Do("GET", "/api/v1/me", nil).Expect(t, http.StatusOK).Decode(t, &me)
	if me.UserID != viewer.ID || me.TokenID == nil || *me.TokenID != created.ID {
		t.Errorf("the new token acts as %+v", me)
	}

	// lists: own tokens only for a viewer, everyone's for an admin; secrets never
	list := v.Do("GET", "/api/v1/tokens", nil).Expect(t, http.StatusOK)
	if strings.Contains(string(list.Body), created.Token) || strings.Contains(string(list.Body), `"token"`) {
		t.Errorf("a token list carries a secret: %s", list.Body)
	}
	var page struct {
		Items []struct {
			ID     int64 `json:"id"`
			UserID int64 `json:"user_id"`
		} `json:"items"`
		Total int64 `json:"total"`
	}
	list.Decode(t, &page)
	if page.Total != 2 || len(page.Items) != 2 {
		t.Errorf("viewer lists %d tokens (total %d), want their 2", len(page.Items), page.Total)
	}
	for _, it := range page.Items {
		if it.UserID != viewer.ID {
			t.Errorf("viewer sees token %d of user %d", it.ID, it.UserID)
		}
	}
	a.Do("GET", fmt.Sprintf("/api/v1/tokens?user_id=%d&limit=1", viewer.ID), nil).Expect(t, http.StatusOK).Decode(t, &page)
	if page.Total != 2 || len(page.Items) != 1 {
		t.Errorf("admin's filtered page: %d items of %d", len(page.Items), page.Total)
	}

	// someone else's token is not found, not forbidden: ids reveal nothing
	expectProblem(t, v.Do("DELETE", fmt.Sprintf("/api/v1/tokens/%d", other.TokenID), nil), http.StatusNotFound)
	a.AsUser(other).Do("GET", "/api/v1/me", nil).Expect(t, http.StatusOK)

	v.Do("DELETE", fmt.Sprintf("/api/v1/tokens/%d", created.ID), nil).Expect(t, http.StatusNoContent)
	expectProblem(t, fresh.Do("GET", "/api/v1/me", nil), http.StatusUnauthorized)
	v.Do("GET", "/api/v1/me", nil).Expect(t, http.StatusOK) // the other token still works
}

// Admins manage users through the API; a patch is all or nothing; the last admin
// stays; operators are refused; passwords never come back.
func TestAPIUsers(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	expectProblem(t, a.As(auth.Operator).Do("GET", "/api/v1/users", nil), http.StatusForbidden)
	expectProblem(t, a.As(auth.Operator).Do("POST", "/api/v1/users",
		map[string]any{"email": "x@example.com", "role": "viewer", "password": "long-enough-password"}), http.StatusForbidden)

	p := expectProblem(t, a.Do("POST", "/api/v1/users", map[string]any{"email": "not-an-email", "role": "root", "password": "short"}),
		http.StatusUnprocessableEntity)
	if f := fieldsOf(p); f["email"] == "" || f["role"] == "" || f["password"] == "" {
		t.Errorf("every bad field at once: %+v", p.Errors)
	}
	expectProblem(t, a.Do("POST", "/api/v1/users", map[string]any{"email": "a@example.com", "role": "viewer", "pasword": "typo"}),
		http.StatusBadRequest)

	r := a.Do("POST", "/api/v1/users", map[string]any{"email": "dana@example.com", "role": "viewer", "password": "dana-long-password"}).
		Expect(t, http.StatusCreated)
	if strings.Contains(string(r.Body), "dana-long-password") || strings.Contains(string(r.Body), "password") {
		t.Errorf("the created user echoes its password: %s", r.Body)
	}
	var u struct {
		ID       int64  `json:"id"`
		Role     string `json:"role"`
		Disabled bool   `json:"disabled"`
	}
	r.Decode(t, &u)
	if loc := r.Header.Get("Location"); loc != fmt.Sprintf("/api/v1/users/%d", u.ID) {
		t.Errorf("Location %q", loc)
	}
	expectProblem(t, a.Do("POST", "/api/v1/users", map[string]any{"email": "DANA@example.com", "role": "viewer", "password": "dana-long-password"}),
		http.StatusConflict)

	path := fmt.Sprintf("/api/v1/users/%d", u.ID)
	expectProblem(t, a.Do("PATCH", path, map[string]any{"role": "operator", "password": "short"}), http.StatusUnprocessableEntity)
	a.Do("GET", path, nil).Expect(t, http.StatusOK).Decode(t, &u)
	if u.Role != "viewer" {
		t.Fatalf("a refused patch changed the role to %s", u.Role)
	}
	a.Do("PATCH", path, map[string]any{"role": "operator", "disabled": true}).Expect(t, http.StatusOK).Decode(t, &u)
	if u.Role != "operator" || !u.Disabled {
		t.Errorf("after patch %+v", u)
	}
	expectProblem(t, a.Do("GET", "/api/v1/users/999999", nil), http.StatusNotFound)

	// the only admin (the app's) cannot be demoted
	p = expectProblem(t, a.Do("PATCH", fmt.Sprintf("/api/v1/users/%d", a.Admin.ID), map[string]any{"role": "viewer"}), http.StatusConflict)
	if !strings.Contains(p.Detail, "only active admin") {
		t.Errorf("last admin: %q", p.Detail)
	}
	var list struct {
		Total int64 `json:"total"`
	}
	a.Do("GET", "/api/v1/users", nil).Expect(t, http.StatusOK).Decode(t, &list)
	if list.Total < 3 {
		t.Errorf("users total %d", list.Total)
	}
}
