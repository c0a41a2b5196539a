package layout_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/rosetta-cdc/rosetta/static"
	"github.com/rosetta-cdc/rosetta/views/components"
	"github.com/rosetta-cdc/rosetta/views/layout"
	"github.com/rosetta-cdc/rosetta/views/viewtest"
)

func page(t *testing.T, meta layout.PageMeta) (*goquery.Document, string) {
	t.Helper()
	content := templ.Raw(`<p data-testid="content">the page</p>`)
	return viewtest.Render(t, viewtest.WithChildren(layout.Base(meta), content))
}

func signedIn(nav string) layout.PageMeta {
	return layout.PageMeta{
		Title:     "Pipelines",
		Nav:       nav,
		CSRFToken: "csrf-123",
		User:      &layout.UserInfo{Email: "ada@example.com", Role: "operator"},
	}
}

func TestNavMarksActiveSection(t *testing.T) {
	for _, tc := range []struct{ nav, href string }{
		{layout.NavDashboard, "/"},
		{layout.NavSources, "/sources"},
		{layout.NavDestinations, "/destinations"},
		{layout.NavPipelines, "/pipelines"},
		{layout.NavWAL, "/wal"},
		{layout.NavAudit, "/audit"},
		{layout.NavAPIDocs, "/api/docs"},
	} {
		doc, _ := page(t, signedIn(tc.nav))
		links := doc.Find(`nav[aria-label="Main"] .nav-links a`)
		if links.Length() != 7 {
			t.Fatalf("%d nav links, want 7", links.Length())
		}
		current := doc.Find(`nav[aria-label="Main"] [aria-current]`)
		if current.Length() != 1 {
			t.Errorf("nav %q: %d elements with aria-current, want 1", tc.nav, current.Length())
			continue
		}
		if v, _ := current.Attr("aria-current"); v != "page" {
			t.Errorf("nav %q: aria-current=%q", tc.nav, v)
		}
		if href, _ := current.Attr("href"); href != tc.href {
			t.Errorf("nav %q: current link is %q, want %q", tc.nav, href, tc.href)
		}
	}
}

func TestLayoutStructure(t *testing.T) {
	doc, _ := page(t, signedIn(layout.NavPipelines))

	if got := doc.Find("title").Text(); got != "Pipelines · Rosetta" {
		t.Errorf("title %q", got)
	}
	if doc.Find("html[lang=en]").Length() != 1 {
		t.Error("no <html lang=en>")
	}
	skip := doc.Find("a.skip-link")
	if href, _ := skip.Attr("href"); href != "#main" || doc.Find("main#main").Length() != 1 {
		t.Errorf("skip link to %q; main#main present: %v", href, doc.Find("main#main").Length() == 1)
	}
	if doc.Find(`main#main [data-testid="content"]`).Length() != 1 {
		t.Error("children are not rendered inside main#main")
	}
	if doc.Find("body > header").Length() != 1 || doc.Find("body > footer").Length() != 1 {
		t.Error("want one body > header and one body > footer")
	}
	if v, _ := doc.Find(`meta[name="csrf-token"]`).Attr("content"); v != "csrf-123" {
		t.Errorf("csrf-token meta = %q", v)
	}

	// The user menu: email, and a logout form that posts with the CSRF token.
	menu := doc.Find(`[data-testid="user-menu"]`)
	if !strings.Contains(menu.Find("summary").Text(), "ada@example.com") {
		t.Errorf("user menu summary %q", menu.Find("summary").Text())
	}
	logout := menu.Find(`form[action="/logout"]`)
	if m, _ := logout.Attr("method"); m != "post" {
		t.Errorf("logout form method %q", m)
	}
	if v, _ := logout.Find(`input[type=hidden][name="` + components.CSRFFieldName + `"]`).Attr("value"); v != "csrf-123" {
		t.Errorf("logout CSRF field = %q", v)
	}
	if menu.Find(`a[href="/users"]`).Length() != 0 {
		t.Error("the Users link is shown though Access does not allow it")
	}
}

// The Users link is shown to whom the permission table (Access) lets read /users.
func TestAdminSeesUsers(t *testing.T) {
	meta := signedIn(layout.NavUsers)
	meta.User.Role = "admin"
	meta.Access = func(route string) bool { return route == "GET /users" }
	doc, _ := page(t, meta)
	users := doc.Find(`[data-testid="user-menu"] a[href="/users"]`)
	if v, _ := users.Attr("aria-current"); v != "page" {
		t.Errorf("Users link aria-current=%q (links: %d)", v, users.Length())
	}
}

func TestSignedOutHasNoNavigation(t *testing.T) {
	doc, _ := page(t, layout.PageMeta{Title: "Log in"})
	if n := doc.Find("nav").Length(); n != 0 {
		t.Errorf("%d nav elements when signed out", n)
	}
	if doc.Find(`form[action="/logout"]`).Length() != 0 {
		t.Error("logout form when signed out")
	}
	if doc.Find(`meta[name="csrf-token"]`).Length() != 0 {
		t.Error("csrf meta without a token")
	}
	if doc.Find(`main#main [data-testid="content"]`).Length() != 1 {
		t.Error("content missing when signed out")
	}
}

// The layout must work under a CSP without 'unsafe-inline': no inline script, no inline
// event handler, no inline style, and htmx told not to inject its own.
func TestLayoutIsCSPClean(t *testing.T) {
	meta := signedIn(layout.NavDashboard)
	meta.Flash = []layout.Flash{{Kind: components.FlashError, Message: "Could not start"}}
	meta.Scripts = []string{"js/apidocs.js"}
	meta.Styles = []string{"css/apidocs.css"}
	doc, _ := page(t, meta)

	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		src, ok := s.Attr("src")
		if !ok || strings.TrimSpace(s.Text()) != "" {
			t.Errorf("inline script: %q", s.Text())
		}
		if _, deferred := s.Attr("defer"); !deferred {
			t.Errorf("script %s is not deferred", src)
		}
	})
	if doc.Find("style, [style]").Length() != 0 {
		t.Error("inline style in the layout")
	}
	doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, a := range s.Nodes[0].Attr {
			if strings.HasPrefix(strings.ToLower(a.Key), "on") || strings.HasPrefix(a.Key, "hx-on") {
				t.Errorf("inline handler %s on <%s>", a.Key, s.Nodes[0].Data)
			}
		}
	})

	raw, _ := doc.Find(`meta[name="htmx-config"]`).Attr("content")
	var cfg map[string]any
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatalf("htmx-config %q: %v", raw, err)
	}
	for key, want := range map[string]any{"includeIndicatorStyles": false, "allowEval": false, "allowScriptTags": false} {
		if cfg[key] != want {
			t.Errorf("htmx-config %s = %v, want %v", key, cfg[key], want)
		}
	}
}

func TestLayoutLinksHashedAssets(t *testing.T) {
	if err := static.Verify(); err != nil {
		t.Fatal(err) // run `npm ci && npm run assets`
	}
	meta := signedIn(layout.NavWAL)
	meta.Styles = []string{"vendor/uPlot.min.css"}
	meta.Scripts = []string{"vendor/uPlot.iife.min.js"}
	doc, _ := page(t, meta)

	var scripts, styles []string
	doc.Find("script[src]").Each(func(_ int, s *goquery.Selection) { scripts = append(scripts, s.AttrOr("src", "")) })
	doc.Find(`link[rel=stylesheet]`).Each(func(_ int, s *goquery.Selection) { styles = append(styles, s.AttrOr("href", "")) })

	wantScripts := []string{static.URL("vendor/htmx.min.js"), static.URL("js/app.js"), static.URL("vendor/uPlot.iife.min.js")}
	wantStyles := []string{static.URL("vendor/pico.min.css"), static.URL("css/app.css"), static.URL("vendor/uPlot.min.css")}
	if strings.Join(scripts, " ") != strings.Join(wantScripts, " ") {
		t.Errorf("scripts %v, want %v (htmx, app.js, then the page's, in order)", scripts, wantScripts)
	}
	if strings.Join(styles, " ") != strings.Join(wantStyles, " ") {
		t.Errorf("styles %v, want %v", styles, wantStyles)
	}
	for _, u := range append(scripts, styles...) {
		if u == "" || !strings.HasPrefix(u, static.Prefix) || strings.Count(u, ".") < 2 {
			t.Errorf("asset URL %q is not a hashed /static/ URL", u)
		}
	}
}

func TestFlashRegionAndOOB(t *testing.T) {
	meta := signedIn(layout.NavSources)
	meta.Flash = []layout.Flash{
		{Kind: components.FlashSuccess, Message: "Source created."},
		{Kind: components.FlashError, Message: "<b>not bold</b>"},
	}
	doc, raw := page(t, meta)
	region := doc.Find("#" + layout.FlashRegionID)
	if region.AttrOr("role", "") != "status" || region.AttrOr("aria-live", "") != "polite" {
		t.Errorf("flash region role=%q aria-live=%q", region.AttrOr("role", ""), region.AttrOr("aria-live", ""))
	}
	if n := region.Find(`[data-testid="flash"]`).Length(); n != 2 {
		t.Errorf("%d flashes, want 2", n)
	}
	if !region.Find(".flash-success").Is("*") || !region.Find(".flash-error").Is("*") {
		t.Error("flash kinds not reflected in classes")
	}
	if strings.Contains(raw, "<b>not bold</b>") {
		t.Error("flash message not escaped")
	}
	if !strings.Contains(region.Find(".flash-error").Text(), "Error:") {
		t.Error("error flash has no text label (colour alone)")
	}

	oob, _ := viewtest.Render(t, layout.FlashOOB([]layout.Flash{{Kind: components.FlashInfo, Message: "Pipeline paused."}}))
	el := oob.Find("#" + layout.FlashRegionID)
	if el.AttrOr("hx-swap-oob", "") != "innerHTML" {
		t.Errorf("FlashOOB hx-swap-oob=%q", el.AttrOr("hx-swap-oob", ""))
	}
	if !strings.Contains(el.Find(".flash-info").Text(), "Pipeline paused.") {
		t.Errorf("FlashOOB content %q", el.Text())
	}
}
