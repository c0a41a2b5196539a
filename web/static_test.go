package web_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/rosetta-cdc/rosetta/static"
	"github.com/rosetta-cdc/rosetta/web"
)

func TestStaticServesHashedAssetsImmutable(t *testing.T) {
	if err := static.Verify(); err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	web.RegisterStatic(e)

	for name, ctype := range map[string]string{
		"vendor/htmx.min.js":  "text/javascript; charset=utf-8",
		"vendor/pico.min.css": "text/css; charset=utf-8",
		"css/app.css":         "text/css; charset=utf-8",
		"js/apidocs.js":       "text/javascript; charset=utf-8",
	} {
		u := static.URL(name)
		if !regexp.MustCompile(`\.[0-9a-f]{8}\.(js|css)$`).MatchString(u) {
			t.Errorf("static.URL(%q) = %q: not hashed", name, u)
		}
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(method, u, nil))
			if rec.Code != http.StatusOK {
				t.Errorf("%s %s: status %d", method, u, rec.Code)
				continue
			}
			if got := rec.Header().Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
				t.Errorf("%s %s: Cache-Control %q", method, u, got)
			}
			if got := rec.Header().Get("Content-Type"); got != ctype {
				t.Errorf("%s %s: Content-Type %q, want %q", method, u, got, ctype)
			}
			if method == http.MethodGet && rec.Body.Len() == 0 {
				t.Errorf("GET %s: empty body", u)
			}
		}
	}
}

func TestStaticUnknownIs404(t *testing.T) {
	e := echo.New()
	web.RegisterStatic(e)
	for _, target := range []string{"/static/vendor/nope.js", "/static/vendor/htmx.min.00000000.js", "/static/../go.mod"} {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", target, rec.Code)
		}
	}
}
