package web_test

import (
	"strings"
	"testing"
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
