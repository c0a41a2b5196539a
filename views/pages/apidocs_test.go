package pages_test

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/rosetta-cdc/rosetta/static"
	"github.com/rosetta-cdc/rosetta/views/layout"
	"github.com/rosetta-cdc/rosetta/views/pages"
	"github.com/rosetta-cdc/rosetta/views/viewtest"
)

func TestAPIDocsPage(t *testing.T) {
	if err := static.Verify(); err != nil {
		t.Fatal(err) // run `npm ci && npm run assets`
	}
	meta := layout.PageMeta{CSRFToken: "tok", User: &layout.UserInfo{Email: "ada@example.com", Role: "viewer"}}
	doc := viewtest.Doc(t, pages.APIDocs(meta))
	if got := doc.Find("title").Text(); got != "API docs · Rosetta" {
		t.Errorf("title %q", got)
	}
	if href := doc.Find(`nav [aria-current="page"]`).AttrOr("href", ""); href != "/api/docs" {
		t.Errorf("active nav item %q, want /api/docs", href)
	}
	mount := doc.Find("main #swagger-ui")
	if mount.AttrOr("data-openapi-url", "") != "/api/v1/openapi.json" {
		t.Errorf("swagger mount data-openapi-url %q", mount.AttrOr("data-openapi-url", ""))
	}
	var scripts []string
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		if strings.TrimSpace(s.Text()) != "" {
			t.Error("inline script on the docs page")
		}
		scripts = append(scripts, s.AttrOr("src", ""))
	})
	want := []string{static.URL("vendor/htmx.min.js"), static.URL("js/app.js"),
		static.URL("vendor/swagger-ui-bundle.js"), static.URL("js/apidocs.js")}
	if strings.Join(scripts, " ") != strings.Join(want, " ") {
		t.Errorf("scripts %v, want %v (the bundle before the boot script)", scripts, want)
	}
	if doc.Find(`link[rel=stylesheet][href="`+static.URL("vendor/swagger-ui.css")+`"]`).Length() != 1 {
		t.Error("swagger-ui.css not linked")
	}
}
