package webtest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/rosetta-cdc/rosetta/internal/auth"
)

// User is a test user with the secrets a test needs to act as them.
type User struct {
	ID       int64
	Email    string
	Role     auth.Role
	Password string
	Token    string // an API token of theirs
	TokenID  int64
}

var userSeq atomic.Int64

// Ctx is a context acting as the admin (for calling services directly).
func (a *App) Ctx() context.Context {
	return auth.WithPrincipal(context.Background(), auth.Principal{UserID: a.Admin.ID, Email: a.Admin.Email, Role: auth.Admin})
}

// NewUser creates a user of role with a password and an API token.
func (a *App) NewUser(role auth.Role) User {
	a.T.Helper()
	n := userSeq.Add(1)
	u := User{Email: fmt.Sprintf("%s%d@test.rosetta", role, n), Role: role, Password: fmt.Sprintf("pw-%s-%d-long-enough", role, n)}
	// The first user (the admin) is made by the command-line principal, as in real life.
	ctx := auth.WithPrincipal(context.Background(), auth.CommandLine())
	created, err := a.Auth.CreateUser(ctx, auth.UserInput{Email: u.Email, Role: string(role), Password: u.Password})
	if err != nil {
		a.T.Fatalf("webtest: create %s user: %v", role, err)
	}
	u.ID = created.ID
	tok, err := a.Auth.CreateToken(ctx, auth.TokenInput{UserID: u.ID, Name: "webtest"})
	if err != nil {
		a.T.Fatalf("webtest: create token: %v", err)
	}
	u.Token, u.TokenID = tok.Secret, tok.ID
	return u
}

// userFor returns the app's user of role, created on first use.
func (a *App) userFor(role auth.Role) User {
	a.T.Helper()
	a.usersMu.Lock()
	defer a.usersMu.Unlock()
	if u, ok := a.byRole[role]; ok {
		return u
	}
	u := a.NewUser(role)
	a.byRole[role] = u
	return u
}

// Requester sends requests as one principal (or none).
type Requester struct {
	app   *App
	token string // "" = anonymous
}

// As acts as the app's user of role, through an API token.
func (a *App) As(role auth.Role) *Requester {
	a.T.Helper()
	return &Requester{app: a, token: a.userFor(role).Token}
}

// AsUser acts as u, through their API token.
func (a *App) AsUser(u User) *Requester { return &Requester{app: a, token: u.Token} }

// Anonymous sends no credentials at all.
func (a *App) Anonymous() *Requester { return &Requester{app: a} }

// Do is App.Do as this requester.
func (r *Requester) Do(method, path string, body any, headers ...string) *Response {
	r.app.T.Helper()
	if r.token == "" {
		return r.app.send(method, path, body, headers...)
	}
	return r.app.send(method, path, body, withBearer(r.token, headers)...)
}

func withBearer(token string, headers []string) []string {
	for _, h := range headers {
		if k, _, _ := strings.Cut(h, ":"); strings.EqualFold(strings.TrimSpace(k), "Authorization") {
			return headers
		}
	}
	return append([]string{"Authorization: Bearer " + token}, headers...)
}

// Doc parses an HTML answer.
func (r *Response) Doc(t testing.TB) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// Cookie returns the Set-Cookie of the answer named name (nil if none).
func (r *Response) Cookie(name string) *http.Cookie {
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Browser is a console client: it keeps cookies like a browser (no Secure filtering:
// requests are plain HTTP in tests) and sends the CSRF token the last page carried.
type Browser struct {
	app     *App
	mu      sync.Mutex
	cookies map[string]string
	csrf    string
	// User is who signed in (zero for a browser that has not).
	User User
}

// NewBrowser is a browser that has not signed in.
func (a *App) NewBrowser() *Browser { return &Browser{app: a, cookies: map[string]string{}} }

// Browser is a browser signed in as the app's user of role.
func (a *App) Browser(role auth.Role) *Browser {
	a.T.Helper()
	return a.BrowserFor(a.userFor(role))
}

// BrowserFor is a browser signed in as u (through the real login form).
func (a *App) BrowserFor(u User) *Browser {
	a.T.Helper()
	b := a.NewBrowser()
	if r := b.Login(u.Email, u.Password); r.Code != http.StatusSeeOther {
		a.T.Fatalf("webtest: sign in as %s: status %d: %s", u.Email, r.Code, r.Body)
	}
	b.User = u
	return b
}

// Login loads the login page (for its CSRF token) and submits the form. Like a
// browser, it follows the redirects either way (so the CSRF token is the landing page's),
// and returns the answer to the form post itself.
func (b *Browser) Login(email, password string) *Response {
	b.app.T.Helper()
	b.follow(b.Get("/login"))
	r := b.PostForm("/login", url.Values{"email": {email}, "password": {password}})
	b.follow(r)
	return r
}

// follow loads the pages a redirect leads to, as a browser would.
func (b *Browser) follow(r *Response) {
	b.app.T.Helper()
	for i := 0; i < 5 && r.Code >= 300 && r.Code < 400 && r.Header.Get("Location") != ""; i++ {
		r = b.Get(r.Header.Get("Location"))
	}
}

// Cookie is the value of a cookie the browser holds ("" if none).
func (b *Browser) Cookie(name string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cookies[name]
}

// SetCookie plants a cookie, as an attacker or an old tab might.
func (b *Browser) SetCookie(name, value string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cookies[name] = value
}

// CSRFToken is the token of the last page (from its csrf-token meta tag).
func (b *Browser) CSRFToken() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.csrf
}

// Get loads a page.
func (b *Browser) Get(path string, headers ...string) *Response {
	b.app.T.Helper()
	return b.send(http.MethodGet, path, nil, headers...)
}

// PostForm submits a form as a browser does, with the page's CSRF token in _csrf
// (unless form already has one).
func (b *Browser) PostForm(path string, form url.Values, headers ...string) *Response {
	b.app.T.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	if _, ok := f["_csrf"]; !ok && b.CSRFToken() != "" {
		f.Set("_csrf", b.CSRFToken())
	}
	return b.send(http.MethodPost, path, f.Encode(), append([]string{"Content-Type: application/x-www-form-urlencoded"}, headers...)...)
}

// HTMX submits a form as htmx does: the token in X-CSRF-Token, HX-Request set.
func (b *Browser) HTMX(method, path string, form url.Values, headers ...string) *Response {
	b.app.T.Helper()
	h := []string{"HX-Request: true", "Content-Type: application/x-www-form-urlencoded"}
	if t := b.CSRFToken(); t != "" {
		h = append(h, "X-CSRF-Token: "+t)
	}
	return b.send(method, path, form.Encode(), append(h, headers...)...)
}

// Do sends any request with the browser's cookies and, for state-changing methods, the
// CSRF token in X-CSRF-Token.
func (b *Browser) Do(method, path string, body any, headers ...string) *Response {
	b.app.T.Helper()
	if method != http.MethodGet && method != http.MethodHead && b.CSRFToken() != "" {
		headers = append([]string{"X-CSRF-Token: " + b.CSRFToken()}, headers...)
	}
	return b.send(method, path, body, headers...)
}

func (b *Browser) send(method, path string, body any, headers ...string) *Response {
	b.app.T.Helper()
	b.mu.Lock()
	var parts []string
	for k, v := range b.cookies {
		parts = append(parts, k+"="+v)
	}
	b.mu.Unlock()
	if len(parts) > 0 {
		headers = append([]string{"Cookie: " + strings.Join(parts, "; ")}, headers...)
	}
	r := b.app.send(method, path, body, headers...)
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		if doc, err := goquery.NewDocumentFromReader(bytes.NewReader(r.Body)); err == nil {
			if tok, ok := doc.Find(`meta[name="csrf-token"]`).Attr("content"); ok {
				b.csrf = tok
			}
		}
	}
	return r
}
