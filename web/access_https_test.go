package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// httptest requests come from 192.0.2.1; "https://…" targets arrive with TLS set.
const testPeer = "192.0.2.1"

// What "over HTTPS" means, asked through everything that depends on it: HSTS, the
// sign-in page's warning (production), and Secure, __Host- cookies (development).
func TestForwardedProtoIsBelievedOnlyFromTrustedProxies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, proxies, target string
		headers               []string
		https                 bool
	}{
		{"plain HTTP", "", "/login", nil, false},
		{"TLS on the connection", "", "https://rosetta.example/login", nil, true},
		{"forwarded https from a trusted proxy", testPeer, "/login", []string{"X-Forwarded-Proto: https"}, true},
		{"forwarded https from a trusted network", "192.0.2.0/24", "/login", []string{"X-Forwarded-Proto: HTTPS"}, true},
		{"forwarded https from an untrusted peer", "", "/login", []string{"X-Forwarded-Proto: https"}, false},
		{"forwarded https, peer outside TRUSTED_PROXIES", "10.0.0.0/8", "/login", []string{"X-Forwarded-Proto: https"}, false},
		{"trusted proxy says http", testPeer, "/login", []string{"X-Forwarded-Proto: http"}, false},
		{"trusted proxy appended http to a client's https", testPeer, "/login", []string{"X-Forwarded-Proto: https, http"}, false},
		{"trusted proxy without the header", testPeer, "/login", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			prod := webtest.New(t, webtest.WithEnv(map[string]string{"APP_ENV": "production", "TRUSTED_PROXIES": tc.proxies}))
			r := prod.Anonymous().Do("GET", tc.target, nil, tc.headers...).Expect(t, http.StatusOK)
			if hsts := r.Header.Get("Strict-Transport-Security"); (hsts != "") != tc.https {
				t.Errorf("HSTS = %q, want it only over HTTPS (https=%v)", hsts, tc.https)
			}
			warned := r.Doc(t).Find(`[data-testid="login-plain-http"]`).Length() == 1
			if warned == tc.https {
				t.Errorf("plain-HTTP warning shown = %v, want %v", warned, !tc.https)
			}
			// Production cookies are Secure whatever the transport.
			if c := r.Cookie("__Host-rosetta_csrf"); c == nil || !c.Secure {
				t.Errorf("production CSRF cookie: %+v", c)
			}

			dev := webtest.New(t, webtest.WithEnv(map[string]string{"APP_ENV": "development", "TRUSTED_PROXIES": tc.proxies}))
			r = dev.Anonymous().Do("GET", tc.target, nil, tc.headers...).Expect(t, http.StatusOK)
			if tc.https {
				if c := r.Cookie("__Host-rosetta_csrf"); c == nil || !c.Secure {
					t.Errorf("development over HTTPS: want a Secure __Host- CSRF cookie, got %v", r.Header.Values("Set-Cookie"))
				}
			} else if c := r.Cookie("rosetta_csrf"); c == nil || c.Secure {
				t.Errorf("development over plain HTTP: want a plain CSRF cookie, got %v", r.Header.Values("Set-Cookie"))
			}
			if r.Doc(t).Find(`[data-testid="login-plain-http"]`).Length() != 0 {
				t.Error("the plain-HTTP warning is for production only")
			}
		})
	}
}

// A production console reached over plain HTTP says so on the sign-in page, and a form
// posted without the (dropped) Secure cookie is told the same, not "reload the page".
func TestProductionOverPlainHTTPSaysWhatIsWrong(t *testing.T) {
	t.Parallel()
	a := webtest.New(t, webtest.WithEnv(map[string]string{"APP_ENV": "production"}))
	page := a.Anonymous().Do("GET", "/login", nil).Expect(t, http.StatusOK)
	doc := page.Doc(t)
	note := doc.Find(`[data-testid="login-plain-http"]`)
	if note.Length() != 1 {
		t.Fatal("no plain-HTTP warning on the production sign-in page")
	}
	text := strings.Join(strings.Fields(note.Text()), " ")
	for _, want := range []string{"only over HTTPS", "plain HTTP", "TLS_CERT_FILE", "TLS_KEY_FILE", "TRUSTED_PROXIES", "X-Forwarded-Proto"} {
		if !strings.Contains(text, want) {
			t.Errorf("warning %q lacks %q", text, want)
		}
	}
	if role, _ := note.Attr("role"); role != "alert" {
		t.Errorf("warning role = %q, want alert", role)
	}
	// The form still carries a token; what a browser on plain HTTP does not send back is
	// the Secure cookie it belongs to.
	token, _ := doc.Find(`input[name="_csrf"]`).Attr("value")
	if token == "" {
		t.Fatal("sign-in form has no CSRF field")
	}
	u := a.NewUser(auth.Viewer)
	form := url.Values{"_csrf": {token}, "email": {u.Email}, "password": {u.Password}}
	r := a.Anonymous().Do("POST", "/login", form.Encode(), "Content-Type: application/x-www-form-urlencoded")
	if r.Code != http.StatusForbidden {
		t.Fatalf("post without the dropped cookie: %d, want 403", r.Code)
	}
	body := strings.Join(strings.Fields(r.Doc(t).Text()), " ")
	if !strings.Contains(body, "signs in only over HTTPS") || strings.Contains(body, "reload the page") {
		t.Errorf("the refusal does not say what is wrong: %s", body)
	}

	// Over HTTPS the page is the ordinary one.
	tls := a.Anonymous().Do("GET", "https://rosetta.example/login", nil).Expect(t, http.StatusOK)
	if tls.Doc(t).Find(`[data-testid="login-plain-http"]`).Length() != 0 {
		t.Error("plain-HTTP warning shown over HTTPS")
	}
}
