package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// TestBrowserSignInAndAPIDocsUnderCSP: a real Chromium has signed in through the form
// (newBrowser), sees its user menu, renders Swagger UI under the site's CSP, and is sent
// back to the login page after signing out.
func TestBrowserSignInAndAPIDocsUnderCSP(t *testing.T) {
	b := newBrowser(t)
	if got := evalJS[string](b, `document.querySelector('[data-testid="user-menu"] summary').innerText`); !strings.Contains(got, b.app.Admin.Email) {
		t.Errorf("user menu %q", got)
	}
	// the open user menu is read too
	evalJS[bool](b, `(document.querySelector('[data-testid="user-menu"]').open = true)`)
	b.checkContrast("user menu")
	b.nav("/api/docs")
	b.waitFor("Swagger UI renders the API", `!!document.querySelector('#swagger-ui .info .title') && document.querySelectorAll('#swagger-ui .opblock').length > 20`)
	// sign out through the user menu's form
	b.nav("/")
	evalJS[bool](b, `(document.querySelector('[data-testid="user-menu"]').open = true)`)
	b.click(`[data-testid="user-menu"] form[action="/logout"] button`)
	b.waitFor("the login page", `location.pathname === "/login" && !!document.querySelector('[data-testid="login-form"]')`)
	b.checkContrast("login")
	b.screenshot("login")
	b.nav("/sources")
	b.waitFor("a signed-out browser is sent to sign in", `location.pathname === "/login" && location.search === "?next=%2Fsources"`)
}

// TestBrowserPasswordResetSignsTheUserOut: an admin in a real Chromium resets a user's
// password from the Users page; both browsers the user was signed in with (through the
// real login form) are signed out at their next request, and the new password works.
func TestBrowserPasswordResetSignsTheUserOut(t *testing.T) {
	b := newBrowser(t)
	u := b.app.NewUser(auth.Operator)
	laptop, phone := b.app.BrowserFor(u), b.app.BrowserFor(u)
	for _, s := range []*webtest.Browser{laptop, phone} {
		s.Get("/sources").Expect(t, http.StatusOK)
	}

	b.nav("/users")
	row := fmt.Sprintf(`tr[data-user-id="%d"]`, u.ID)
	evalJS[bool](b, fmt.Sprintf(`(document.querySelector('%s details.reset-password').open = true)`, row))
	b.fill(map[string]string{fmt.Sprintf("password-%d", u.ID): "a fresh password for you"})
	b.click(row + ` form[data-testid="reset-password"] button[type="submit"]`)
	b.waitFor("the reset is confirmed", `location.pathname === "/users" && document.body.innerText.includes("is reset")`)

	for name, s := range map[string]*webtest.Browser{"laptop": laptop, "phone": phone} {
		r := s.Get("/sources")
		if r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Errorf("the user's %s is still signed in after the reset: %d %s", name, r.Code, r.Header.Get("Location"))
		}
	}
	again := b.app.NewBrowser()
	again.Login(u.Email, "a fresh password for you").Expect(t, http.StatusSeeOther)
	again.Get("/sources").Expect(t, http.StatusOK)
	// the admin's own browser was not touched
	b.nav("/sources")
	b.waitFor("the admin is still signed in", `location.pathname === "/sources"`)
}
