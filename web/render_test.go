package web_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/rosetta-cdc/rosetta/views/components"
	"github.com/rosetta-cdc/rosetta/views/layout"
	"github.com/rosetta-cdc/rosetta/web"
)

// renderFixture is a real page: the layout around a list fragment, as a list handler
// would render it.
func renderFixture() (page, fragment templ.Component) {
	fragment = components.EmptyState("No sources yet", "Register a PostgreSQL source to start.")
	meta := layout.PageMeta{Title: "Sources", Nav: layout.NavSources, CSRFToken: "tok",
		User: &layout.UserInfo{Email: "ada@example.com", Role: "operator"}}
	page = templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		return layout.Base(meta).Render(templ.WithChildren(ctx, fragment), w)
	})
	return page, fragment
}

func serveRender(t *testing.T, status int, page, fragment templ.Component, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	e := echo.New()
	e.GET("/sources", func(c echo.Context) error { return web.Render(c, status, page, fragment) })
	req := httptest.NewRequest(http.MethodGet, "/sources", nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

type renderOutcome struct {
	full     bool // the layout: <html>, the main navigation
	fragment bool // the fragment's content
}

func inspectRender(t *testing.T, rec *httptest.ResponseRecorder) renderOutcome {
	t.Helper()
	if got := rec.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", got)
	}
	vary := strings.Join(rec.Header().Values("Vary"), ",")
	if !strings.Contains(vary, "HX-Request") || !strings.Contains(vary, "HX-History-Restore-Request") {
		t.Errorf("Vary %q lacks HX-Request / HX-History-Restore-Request", vary)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	return renderOutcome{
		full:     strings.HasPrefix(strings.ToLower(rec.Body.String()), "<!doctype html>") && doc.Find(`nav[aria-label="Main"]`).Length() == 1,
		fragment: doc.Find(`[data-testid="empty-state"] h2`).Text() == "No sources yet",
	}
}

func TestRenderFullPage(t *testing.T) {
	page, fragment := renderFixture()
	rec := serveRender(t, http.StatusOK, page, fragment)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if got := inspectRender(t, rec); !got.full || !got.fragment {
		t.Errorf("plain request: %+v, want the full page with the fragment inside", got)
	}
	if got, want := rec.Header().Get("Content-Length"), strconv.Itoa(rec.Body.Len()); got != want {
		t.Errorf("Content-Length %q, the body is %s bytes", got, want)
	}
}

func TestRenderFragmentForHTMX(t *testing.T) {
	page, fragment := renderFixture()
	rec := serveRender(t, http.StatusUnprocessableEntity, page, fragment, "HX-Request", "true")
	if rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("status %d, want the one passed (422)", rec.Code)
	}
	if got := inspectRender(t, rec); got.full || !got.fragment {
		t.Errorf("htmx request: %+v, want only the fragment", got)
	}
	if strings.Contains(rec.Body.String(), "<html") {
		t.Error("fragment response contains <html")
	}
}

func TestRenderFullPageForHistoryRestore(t *testing.T) {
	page, fragment := renderFixture()
	rec := serveRender(t, http.StatusOK, page, fragment, "HX-Request", "true", "HX-History-Restore-Request", "true")
	if got := inspectRender(t, rec); !got.full || !got.fragment {
		t.Errorf("history restore: %+v, want the full page", got)
	}
}

func TestRenderNilFragmentRendersPage(t *testing.T) {
	page, _ := renderFixture()
	rec := serveRender(t, http.StatusOK, page, nil, "HX-Request", "true")
	if got := inspectRender(t, rec); !got.full {
		t.Errorf("nil fragment: %+v, want the full page", got)
	}
}

func TestRenderKeepsOtherVaryValues(t *testing.T) {
	page, fragment := renderFixture()
	e := echo.New()
	e.GET("/", func(c echo.Context) error {
		c.Response().Header().Add("Vary", "Accept-Encoding")
		c.Response().Header().Add("Vary", "HX-Request")
		return web.Render(c, http.StatusOK, page, fragment)
	})
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	vary := strings.Join(rec.Header().Values("Vary"), ",")
	if strings.Count(vary, "HX-Request") != 1 || !strings.Contains(vary, "Accept-Encoding") {
		t.Errorf("Vary %q: want Accept-Encoding kept and HX-Request once", vary)
	}
}

func TestRenderErrorWritesNothing(t *testing.T) {
	boom := errors.New("boom")
	failing := templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		_, _ = io.WriteString(w, "<p>half a page")
		return boom
	})
	e := echo.New()
	var got error
	e.GET("/", func(c echo.Context) error {
		got = web.Render(c, http.StatusOK, failing, nil)
		if c.Response().Committed {
			t.Error("response committed despite the render error")
		}
		return got
	})
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if !errors.Is(got, boom) {
		t.Errorf("Render returned %v, want the component's error", got)
	}
	if strings.Contains(rec.Body.String(), "half a page") {
		t.Error("partial output reached the client")
	}
}
