package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/views/layout"
	"github.com/rosetta-cdc/rosetta/views/pages"
	"github.com/rosetta-cdc/rosetta/views/partials"
	"github.com/rosetta-cdc/rosetta/web"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// A signed-in operator's browser: every console form carries the session's CSRF token,
// and a whole create → redirect → flash round trip works on cookies alone.
func TestConsoleWithASignedInBrowser(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	src, dst, p := mkChain(t, a)
	b := a.Browser(auth.Operator)

	for _, path := range []string{"/sources/new", "/destinations/new", "/pipelines/new",
		fmt.Sprintf("/sources/%d", src.ID), fmt.Sprintf("/sources/%d/edit", src.ID), fmt.Sprintf("/destinations/%d", dst.ID),
		fmt.Sprintf("/pipelines/%d", p.ID), "/pipelines"} {
		r := b.Get(path)
		if r.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, r.Code)
		}
		token := b.CSRFToken()
		if token == "" {
			t.Fatalf("%s: no CSRF token in the page", path)
		}
		forms := r.Doc(t).Find(`main form[method=post]`)
		if forms.Length() == 0 {
			t.Errorf("%s: an operator sees no forms", path)
		}
		forms.Each(func(_ int, f *goquery.Selection) {
			if f.Find(`input[name="_csrf"]`).AttrOr("value", "") != token {
				t.Errorf("%s: form %s lacks the CSRF token", path, f.AttrOr("action", ""))
			}
		})
	}

	// PRG with the session: the flash follows the redirect, once
	r := b.PostForm("/sources", validSource("billing"))
	loc := redirectTo(t, r)
	page := b.Get(loc).Doc(t)
	if got := texts(page.Find(`#flash [data-testid="flash"]`)); !contains(got, "“billing” created") {
		t.Errorf("flash %q", got)
	}
	if n := b.Get(loc).Doc(t).Find(`#flash [data-testid="flash"]`).Length(); n != 0 {
		t.Errorf("the flash shows again on the next page (%d)", n)
	}
	// an htmx row action with the token in the header
	b.Get("/pipelines")
	r = b.HTMX(http.MethodPost, fmt.Sprintf("/pipelines/%d/pause", p.ID), nil, fmt.Sprintf("HX-Target: pipeline-%d", p.ID))
	if r.Code != http.StatusOK || !strings.Contains(string(r.Body), `data-status="PAUSED"`) {
		t.Errorf("htmx pause: %d %s", r.Code, r.Body)
	}
	// the layout says who is signed in, and marks the section
	doc := b.Get("/pipelines").Doc(t)
	if href := doc.Find(`nav[aria-label="Main"] [aria-current="page"]`).AttrOr("href", ""); href != "/pipelines" {
		t.Errorf("active nav %q", href)
	}
}

// Viewers read every page but are offered no change: no new, edit, delete, test or
// action controls (the server refuses them anyway).
func TestConsoleViewerSeesNoOperatorControls(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	src, dst, p := mkChain(t, a)
	viewer := a.As(auth.Viewer)
	for _, path := range []string{"/", "/sources", "/destinations", "/pipelines", "/wal",
		fmt.Sprintf("/sources/%d", src.ID), fmt.Sprintf("/destinations/%d", dst.ID), fmt.Sprintf("/pipelines/%d", p.ID)} {
		r := viewer.Do(http.MethodGet, path, nil)
		if r.Code != http.StatusOK {
			t.Fatalf("viewer GET %s: %d", path, r.Code)
		}
		main := r.Doc(t).Find("main")
		if n := main.Find(`form[method=post], a[href*="/new"], a[href$="/edit"], [data-testid="confirm-delete"]`).Length(); n != 0 {
			t.Errorf("viewer sees %d operator controls on %s", n, path)
		}
		if want := map[bool]string{true: "analytics", false: "orders"}[strings.HasPrefix(path, "/destinations")]; !strings.Contains(text(main), want) {
			t.Errorf("viewer does not see the data on %s", path)
		}
	}
	if r := viewer.Do(http.MethodPost, fmt.Sprintf("/pipelines/%d/start", p.ID), url.Values{}.Encode(),
		"Content-Type: application/x-www-form-urlencoded"); r.Code != http.StatusForbidden {
		t.Errorf("viewer start: %d, want 403 (Location %q)", r.Code, r.Header.Get("Location"))
	}
}

// Pages ask the permission table which links and forms to offer (layout.Access), by
// route name. Every route any page asks about must be in the table: a renamed route
// would otherwise hide its link from everyone without a word.
func TestPagesAskOnlyRoutesInThePermissionTable(t *testing.T) {
	asked := map[string]bool{}
	meta := layout.PageMeta{CSRFToken: "tok", User: &layout.UserInfo{Email: "a@example.com", Role: "admin"},
		Access: func(route string) bool { asked[route] = true; return true }}
	rc := partials.RowContext{CSRFToken: "tok", Access: meta.Access}
	src := catalog.Source{ID: 1, Name: "orders"}
	dst := catalog.Destination{ID: 2, Name: "analytics"}
	pl := catalog.Pipeline{ID: 3, Name: "p", Status: catalog.DesiredPause, Metadata: catalog.PipelineMetadata{Status: catalog.RuntimePaused}}
	for _, c := range []templ.Component{
		pages.Dashboard(meta, catalog.Dashboard{}),
		pages.SourcesPage(meta, partials.SourceList{}),
		pages.SourcePage(meta, pages.SourceDetail{Source: src}),
		pages.DestinationsPage(meta, partials.DestinationList{}),
		pages.DestinationPage(meta, pages.DestinationDetail{Destination: dst}),
		pages.PipelinesPage(meta, partials.PipelineList{Row: rc}),
		pages.PipelinesPage(meta, partials.PipelineList{Page: catalog.Page[catalog.Pipeline]{Items: []catalog.Pipeline{pl}, Total: 1, Limit: 50}, Row: rc}),
		pages.PipelinePage(meta, partials.PipelineStatus{Pipeline: pl, Row: rc}),
	} {
		if err := c.Render(context.Background(), io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range catalog.Actions {
		asked[partials.ActionRoute(a)] = true
	}
	if len(asked) < 10 {
		t.Fatalf("pages asked about only %v", asked)
	}
	table := web.Permissions()
	for route := range asked {
		if _, ok := table[route]; !ok {
			t.Errorf("a page asks about %q, which is not in the permission table", route)
		}
	}
}
