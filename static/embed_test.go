package static

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

// The tests need the vendor files that `npm ci && npm run assets` copies into vendor/.
func requireAssets(t *testing.T) {
	t.Helper()
	if err := Verify(); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyFindsEveryVendorFile(t *testing.T) {
	requireAssets(t)
	for _, name := range []string{"vendor/htmx.min.js", "vendor/pico.min.css", "vendor/swagger-ui-bundle.js",
		"vendor/swagger-ui.css", "vendor/uPlot.iife.min.js", "vendor/uPlot.min.css",
		"css/app.css", "css/apidocs.css", "js/app.js", "js/apidocs.js", "img/logo.svg"} {
		if !Exists(name) {
			t.Errorf("%s is not embedded", name)
		}
	}
}

func TestURLHashesContent(t *testing.T) {
	requireAssets(t)
	got := URL("vendor/htmx.min.js")
	if !regexp.MustCompile(`^/static/vendor/htmx\.min\.[0-9a-f]{8}\.js$`).MatchString(got) {
		t.Fatalf("URL(vendor/htmx.min.js) = %q, want /static/vendor/htmx.min.<8 hex>.js", got)
	}
	disk, err := os.ReadFile("vendor/htmx.min.js")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(disk)
	if want := "/static/vendor/htmx.min." + hex.EncodeToString(sum[:4]) + ".js"; got != want {
		t.Errorf("URL = %q, want %q (hash of the file's bytes)", got, want)
	}
	if a, b := URL("css/app.css"), URL("js/app.js"); a == b || !strings.HasSuffix(a, ".css") {
		t.Errorf("URL(css/app.css) = %q, URL(js/app.js) = %q", a, b)
	}
}

func TestURLOfUnknownNameIsUnhashed(t *testing.T) {
	if got := URL("js/nope.js"); got != "/static/js/nope.js" {
		t.Errorf("URL(js/nope.js) = %q", got)
	}
}

func TestHashedName(t *testing.T) {
	for in, want := range map[string]string{
		"vendor/htmx.min.js": "vendor/htmx.min.abcd1234.js",
		"css/app.css":        "css/app.abcd1234.css",
		"vendor/LICENSE":     "vendor/LICENSE.abcd1234",
		"a.b/c":              "a.b/c.abcd1234",
	} {
		if got := hashedName(in, "abcd1234"); got != want {
			t.Errorf("hashedName(%q) = %q, want %q", in, got, want)
		}
	}
}

func get(t *testing.T, method, target string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	return rec.Result()
}

func TestHandlerServesHashedNamesImmutable(t *testing.T) {
	requireAssets(t)
	for name, ctype := range map[string]string{
		"vendor/htmx.min.js":    "text/javascript; charset=utf-8",
		"vendor/pico.min.css":   "text/css; charset=utf-8",
		"js/app.js":             "text/javascript; charset=utf-8",
		"img/logo.svg":          "image/svg+xml",
		"vendor/swagger-ui.css": "text/css; charset=utf-8",
	} {
		res := get(t, http.MethodGet, URL(name))
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d", name, res.StatusCode)
			continue
		}
		if got := res.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q", name, got)
		}
		if got := res.Header.Get("Content-Type"); got != ctype {
			t.Errorf("%s: Content-Type %q, want %q", name, got, ctype)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", name)
		}
		disk, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if string(body) != string(disk) {
			t.Errorf("%s: body differs from the file (%d vs %d bytes)", name, len(body), len(disk))
		}
	}
}

func TestHandlerServesUnhashedNamesRevalidated(t *testing.T) {
	requireAssets(t)
	res := get(t, http.MethodGet, "/static/vendor/htmx.min.js")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if got := res.Header.Get("Cache-Control"); got != "no-cache" {
		t.Errorf("Cache-Control %q, want no-cache", got)
	}
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	res = get(t, http.MethodGet, "/static/vendor/htmx.min.js", "If-None-Match", etag)
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", res.StatusCode)
	}
}

func TestHandlerRejectsUnknown(t *testing.T) {
	requireAssets(t)
	htmx := URL("vendor/htmx.min.js")
	for _, target := range []string{
		"/static/vendor/nope.js",
		strings.Replace(htmx, "htmx.min.", "htmx.min.0", 1), // wrong hash
		"/static/vendor/.gitkeep",
		"/static/vendor.json",
		"/static/embed.go",
		"/static/",
		"/static/vendor",
		"/elsewhere/vendor/htmx.min.js",
	} {
		if res := get(t, http.MethodGet, target); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", target, res.StatusCode)
		}
	}
	if res := get(t, http.MethodPost, htmx); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", res.StatusCode)
	}
}

func TestHandlerHead(t *testing.T) {
	requireAssets(t)
	res := get(t, http.MethodHead, URL("css/app.css"))
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || len(body) != 0 || res.Header.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Errorf("HEAD: status %d, %d body bytes, type %q", res.StatusCode, len(body), res.Header.Get("Content-Type"))
	}
}
