package pages_test

import (
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/views/layout"
	"github.com/rosetta-cdc/rosetta/views/pages"
	"github.com/rosetta-cdc/rosetta/views/partials"
	"github.com/rosetta-cdc/rosetta/views/viewtest"
)

// Pages offer the create, edit, delete, test and action controls that Access (the
// permission table, in web) allows and no others, each form with the CSRF token. That
// a viewer is allowed none of them is web's TestConsoleViewerSeesNoOperatorControls.
func TestOperatorControlsFollowAccess(t *testing.T) {
	now := time.Now()
	src := catalog.Source{ID: 1, Name: "orders", PgHost: "db", PgPort: 5432, CreatedAt: now, UpdatedAt: now}
	dst := catalog.Destination{ID: 2, Name: "analytics", CreatedAt: now, UpdatedAt: now}
	pl := catalog.Pipeline{ID: 3, Name: "p", Status: catalog.DesiredPause, SourceID: 1, DestinationID: 2,
		Metadata: catalog.PipelineMetadata{Status: catalog.RuntimePaused}, CreatedAt: now, UpdatedAt: now}
	for _, allowed := range []bool{false, true} {
		meta := layout.PageMeta{CSRFToken: "tok-123", User: &layout.UserInfo{Email: "a@example.com", Role: "someone"},
			Access: func(string) bool { return allowed }}
		rc := partials.RowContext{CSRFToken: meta.CSRFToken, Access: meta.Access}
		for name, c := range map[string]templ.Component{
			"sources":      pages.SourcesPage(meta, partials.SourceList{Page: catalog.Page[catalog.Source]{Items: []catalog.Source{src}, Total: 1, Limit: 50}}),
			"source":       pages.SourcePage(meta, pages.SourceDetail{Source: src}),
			"destinations": pages.DestinationsPage(meta, partials.DestinationList{Page: catalog.Page[catalog.Destination]{Items: []catalog.Destination{dst}, Total: 1, Limit: 50}}),
			"destination":  pages.DestinationPage(meta, pages.DestinationDetail{Destination: dst}),
			"pipelines":    pages.PipelinesPage(meta, partials.PipelineList{Page: catalog.Page[catalog.Pipeline]{Items: []catalog.Pipeline{pl}, Total: 1, Limit: 50}, Row: rc}),
			"pipeline":     pages.PipelinePage(meta, partials.PipelineStatus{Pipeline: pl, Row: rc}),
		} {
			doc := viewtest.Doc(t, c)
			main := doc.Find("main")
			controls := main.Find(`form[method=post], a[href*="/new"], a[href$="/edit"], [data-testid="confirm-delete"]`).Length()
			if !allowed && controls != 0 {
				t.Errorf("%s: %d controls that Access does not allow", name, controls)
			}
			if allowed && controls == 0 {
				t.Errorf("%s: no controls though Access allows them", name)
			}
			main.Find(`form[method=post]`).Each(func(_ int, f *goquery.Selection) {
				if f.Find(`input[name="_csrf"]`).AttrOr("value", "") != "tok-123" {
					t.Errorf("%s: a form posts without the CSRF token", name)
				}
			})
		}
	}
}

// The dashboard says how many sources the fleet overview flags: "1 source", "N sources",
// and "about N sources" when the count above the list cap is the planner's estimate.
func TestDashboardFlaggedCountSaysWhenItIsAnEstimate(t *testing.T) {
	meta := layout.PageMeta{User: &layout.UserInfo{Email: "a@example.com", Role: "viewer"}, Access: func(string) bool { return false }}
	for _, c := range []struct {
		n        int64
		estimate bool
		want     string
	}{
		{0, false, "No source flagged"},
		{1, false, "1 source flagged"},
		{4, false, "4 sources flagged"},
		{1200, true, "about 1,200 sources flagged"},
	} {
		doc := viewtest.Doc(t, pages.Dashboard(meta, catalog.Dashboard{Counts: catalog.Counts{Sources: 1}, FlaggedSources: c.n, FlaggedIsEstimate: c.estimate}))
		got := strings.Join(strings.Fields(doc.Find(`[data-testid="dashboard-flagged"]`).Text()), " ")
		if got != c.want {
			t.Errorf("%d (estimate %v): %q, want %q", c.n, c.estimate, got, c.want)
		}
	}
}
