package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// TestNoPlaintextCredentialAnywhere puts every kind of secret into Rosetta (a source
// password, a key passphrase, a user's password, an API token, a session token), then
// reads every page and API answer, the whole log and every column of every table, and
// finds none of them in clear.
func TestNoPlaintextCredentialAnywhere(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	const (
		pgPassword = "pg-Secret-7731"
		passphrase = "pass-Phrase-9911"
		userPass   = "user-Password-5522"
	)
	body := sourceBody("orders")
	body["pg_password"] = pgPassword
	s := a.Do("POST", "/api/v1/sources", body).Expect(t, http.StatusCreated).Map(t)
	db := destBody("wh")
	db["snowflake_private_key_passphrase"] = passphrase
	d := a.Do("POST", "/api/v1/destinations", db).Expect(t, http.StatusCreated).Map(t)
	p := a.Do("POST", "/api/v1/pipelines", map[string]any{"name": "p", "source_id": s["id"], "destination_id": d["id"]}).
		Expect(t, http.StatusCreated).Map(t)
	// a pasted private key, tested and used by a start
	pasted := a.Do("POST", "/api/v1/destinations", startableDestBody("pasted")).Expect(t, http.StatusCreated).Map(t)
	a.Do("POST", fmt.Sprintf("/api/v1/destinations/%v/test", pasted["id"]), nil).Expect(t, http.StatusOK)
	pp := a.Do("POST", "/api/v1/pipelines", map[string]any{"name": "pp", "source_id": s["id"], "destination_id": pasted["id"]}).
		Expect(t, http.StatusCreated).Map(t)
	a.Do("POST", fmt.Sprintf("/api/v1/pipelines/%v/start", pp["id"]), nil).Expect(t, http.StatusOK)

	admin := a.Browser(auth.Admin)
	admin.Get("/users")
	admin.PostForm("/users", url.Values{"email": {"lin@example.com"}, "role": {"operator"}, "password": {userPass}}).Expect(t, http.StatusSeeOther)
	lin := a.NewBrowser()
	lin.Login("lin@example.com", userPass).Expect(t, http.StatusSeeOther)
	session := lin.Cookie("rosetta_session")
	lin.Get("/settings/tokens")
	created := lin.PostForm("/settings/tokens", url.Values{"name": {"ci"}, "expires": {"never"}}).Expect(t, http.StatusCreated)
	token := strings.TrimSpace(created.Doc(t).Find(`[data-testid="token-secret"]`).Text())
	if !auth.LooksLikeToken(token) || session == "" {
		t.Fatalf("setup: token %q session %q", token, session)
	}
	// failed sign-ins with a secret typed as the email or password
	bad := a.NewBrowser()
	bad.Get("/login")
	bad.PostForm("/login", url.Values{"email": {"lin@example.com"}, "password": {userPass + "x"}})
	bad.PostForm("/login", url.Values{"email": {userPass}, "password": {"typed into the wrong field"}})
	// a malformed API body carrying a password
	a.Do("POST", "/api/v1/sources", `{"pg_password": "`+pgPassword+`", "pg_port": "x"}`)

	secrets := map[string]string{"source password": pgPassword, "passphrase": passphrase, "user password": userPass,
		"API token": token, "API token body": token[len(auth.TokenPrefix):], "session token": session,
		"pasted private key": keyLine()}
	check := func(where, text string) {
		t.Helper()
		for name, v := range secrets {
			if strings.Contains(text, v) {
				t.Errorf("the %s appears in %s", name, where)
			}
		}
	}

	// every page and API answer, as the admin on both faces
	ids := map[string]string{"sources": fmt.Sprint(s["id"]), "destinations": fmt.Sprint(d["id"]), "pipelines": fmt.Sprint(p["id"])}
	n := 0
	for _, rt := range registeredRoutes(a) {
		method, pattern, _ := strings.Cut(rt, " ")
		if method != http.MethodGet || strings.HasPrefix(pattern, "/static") {
			continue
		}
		path := pattern
		for kind, id := range ids {
			path = strings.Replace(path, "/"+kind+"/:id", "/"+kind+"/"+id, 1)
		}
		path = strings.ReplaceAll(path, ":id", ids["sources"])
		for face, r := range map[string]*webtest.Response{"browser": lin.Get(path), "token": a.Do(method, path, nil)} {
			h := r.Header.Clone()
			h.Del("Set-Cookie") // the session cookie itself, renewed on each request
			check(fmt.Sprintf("GET %s (%s, %d)", path, face, r.Code), string(r.Body)+fmt.Sprint(h))
			n++
		}
	}
	if n < 40 {
		t.Errorf("only %d answers checked", n)
	}
	check("the log", a.Logs.String())

	// every column of every table, as text
	ctx := context.Background()
	rows, err := a.Pool.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) < 9 {
		t.Fatalf("tables %v: %v", tables, err)
	}
	for _, tbl := range tables {
		var dump string
		q := fmt.Sprintf(`SELECT coalesce(string_agg(t::text, E'\n'), '') FROM %s t`, pgx.Identifier{tbl}.Sanitize())
		if err := a.Pool.QueryRow(ctx, q).Scan(&dump); err != nil {
			t.Fatal(err)
		}
		check("table "+tbl, dump)
		// bytea columns print as hex: look for the hex of each secret too
		for name, v := range secrets {
			if strings.Contains(dump, fmt.Sprintf("%x", v)) {
				t.Errorf("the %s appears hex-encoded in table %s", name, tbl)
			}
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	b := a.Browser(auth.Viewer)
	for _, path := range []string{"/", "/login", "/api/v1/sources", "/api/v1/nowhere", "/api/v1/openapi.json", "/health", "/no/such/page", "/api/docs"} {
		r := b.Get(path)
		csp := r.Header.Get("Content-Security-Policy")
		page := path == "/api/docs" || !strings.HasPrefix(path, "/api/")
		if page {
			// pages: the console's policy
			for _, d := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "base-uri 'self'", "form-action 'self'"} {
				if !strings.Contains(csp, d) {
					t.Errorf("%s: CSP %q lacks %s", path, csp, d)
				}
			}
			for h, want := range map[string]string{"Cross-Origin-Opener-Policy": "same-origin",
				"Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()"} {
				if got := r.Header.Get(h); got != want {
					t.Errorf("%s: %s = %q", path, h, got)
				}
			}
		} else if csp != "default-src 'none'; frame-ancestors 'none'" {
			// API answers are never pages: nothing may load, nothing may frame them
			t.Errorf("%s: CSP %q, want the API's: nothing allowed", path, csp)
		}
		if strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "unsafe-inline") && path != "/api/docs" {
			t.Errorf("%s: CSP allows unsafe sources: %q", path, csp)
		}
		for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
			"Referrer-Policy": "strict-origin-when-cross-origin"} {
			if got := r.Header.Get(h); got != want {
				t.Errorf("%s: %s = %q", path, h, got)
			}
		}
	}
	// only the docs page may use inline styles (Swagger UI), never inline scripts
	csp := b.Get("/api/docs").Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "style-src 'self' 'unsafe-inline'") || !strings.Contains(csp, "script-src 'self';") {
		t.Errorf("/api/docs CSP %q", csp)
	}
	// signed-in pages are not cached by anyone
	if cc := b.Get("/").Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
}

func TestCORSOnlyForListedOrigins(t *testing.T) {
	t.Parallel()
	a := webtest.New(t, webtest.WithEnv(map[string]string{"CORS_ALLOWED_ORIGINS": "https://ops.example.com"}))
	pre := a.Anonymous().Do("OPTIONS", "/api/v1/sources", nil, "Origin: https://ops.example.com",
		"Access-Control-Request-Method: POST", "Access-Control-Request-Headers: authorization,content-type")
	if pre.Code != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != "https://ops.example.com" ||
		!strings.Contains(strings.ToLower(pre.Header.Get("Access-Control-Allow-Headers")), "authorization") {
		t.Errorf("preflight from a listed origin: %d %v", pre.Code, pre.Header)
	}
	if pre.Header.Get("Access-Control-Allow-Credentials") == "true" {
		t.Error("credentials (cookies) allowed cross-origin")
	}
	r := a.Do("GET", "/api/v1/sources", nil, "Origin: https://ops.example.com").Expect(t, http.StatusOK)
	if r.Header.Get("Access-Control-Allow-Origin") != "https://ops.example.com" {
		t.Errorf("listed origin: %v", r.Header)
	}
	r = a.Do("GET", "/api/v1/sources", nil, "Origin: https://evil.example.com")
	if got := r.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("unlisted origin allowed: %q", got)
	}
	// without the setting, no CORS at all
	plain := webtest.New(t)
	r = plain.Do("GET", "/api/v1/sources", nil, "Origin: https://ops.example.com")
	if got := r.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("CORS without CORS_ALLOWED_ORIGINS: %q", got)
	}
}

func TestRequestBodyLimits(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	b := a.NewBrowser()
	b.Get("/login")
	r := b.PostForm("/login", url.Values{"email": {"x@example.com"}, "password": {strings.Repeat("p", 20<<10)}})
	if r.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("20 KiB sign-in: %d", r.Code)
	}
	big := sourceBody("big")
	big["pg_host"] = strings.Repeat("h", 2<<20)
	expectProblem(t, a.Do("POST", "/api/v1/sources", big), http.StatusRequestEntityTooLarge)
}
