package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserPipelineSourceFilter: the list's source filter suggests names as one types
// (the page itself carries none), a suggestion is picked with the keyboard or the
// mouse, and the list is filtered in place, in the URL, surviving a reload; a name
// nobody has is said beside the field. axe stays clean with the suggestions open.
func TestBrowserPipelineSourceFilter(t *testing.T) {
	b := newBrowser(t)
	dst := mkDestination(t, b.app, "analytics")
	for src, pipeline := range map[string]string{"orders-db": "orders-live", "orders-archive": "archive-copy", "billing-db": "billing-live"} {
		mkPipeline(t, b.app, pipeline, mkSource(t, b.app, src).ID, dst.ID)
	}
	const (
		field   = `document.getElementById("pipelines-filter-source")`
		listbox = `document.getElementById("pipelines-filter-source-options")`
		options = `[...document.querySelectorAll('#pipelines-filter-source-options [data-testid="ref-option"]')].map(o => o.textContent.trim()).join(",")`
		rows    = `[...document.querySelectorAll('[data-testid="pipeline-row"] th a')].map(a => a.textContent.trim()).join(",")`
		source  = `new URLSearchParams(location.search).get("source")`
		message = `document.getElementById("pipelines-filter-source-error").textContent.trim()`
	)
	b.nav("/pipelines")
	b.waitFor("every pipeline", rows+` === "archive-copy,billing-live,orders-live"`)
	if n := evalJS[int](b, listbox+`.children.length`); n != 0 {
		t.Errorf("the page came with %d suggestions; they should come as one types", n)
	}
	b.markPage()

	// type part of a name: the names holding it drop down
	b.do("type part of a source name", chromedp.SendKeys(chromedp.ID("pipelines-filter-source"), "ord"))
	b.waitFor("the matching names are suggested", `!`+listbox+`.hidden && `+field+`.getAttribute("aria-expanded") === "true" && `+options+` === "orders-archive,orders-db"`)
	b.checkAxe("/pipelines with the source suggestions open")
	b.screenshot("pipelines-source-suggestions")

	// the keyboard: down twice to the second name, Enter picks it
	b.do("arrow down", chromedp.KeyEvent(kb.ArrowDown))
	b.do("arrow down", chromedp.KeyEvent(kb.ArrowDown))
	if got := evalJS[string](b, `(document.getElementById(`+field+`.getAttribute("aria-activedescendant")) || {textContent: ""}).textContent.trim()`); got != "orders-db" {
		t.Errorf("the active suggestion is %q, want orders-db", got)
	}
	b.do("pick it", chromedp.KeyEvent(kb.Enter))
	b.waitFor("the list is filtered by the picked source", source+` === "orders-db" && `+rows+` === "orders-live"`)
	b.stillSamePage("picking a source")
	if v := evalJS[string](b, field+`.value`); v != "orders-db" || !evalJS[bool](b, listbox+`.hidden`) {
		t.Errorf("after the pick the field holds %q and the suggestions are open: %v", v, !evalJS[bool](b, listbox+`.hidden`))
	}

	// the mouse: another name, clicked
	evalJS[chromedp.Void](b, field+`.value = ""`)
	b.do("type another", chromedp.SendKeys(chromedp.ID("pipelines-filter-source"), "BILL"))
	b.waitFor("billing is suggested", `!`+listbox+`.hidden && `+options+` === "billing-db"`)
	b.click(`#pipelines-filter-source-options [data-testid="ref-option"]`)
	b.waitFor("the list is filtered by the clicked source", source+` === "billing-db" && `+rows+` === "billing-live"`)
	b.stillSamePage("clicking a source")

	// reload: the URL is the view
	b.do("reload", chromedp.Reload(), chromedp.WaitReady(chromedp.CSS("body")))
	b.waitFor("the filtered view after reload", rows+` === "billing-live" && `+field+`.value === "billing-db"`)

	// a name nobody has, submitted with Enter: said beside the field, no rows
	b.markPage()
	evalJS[chromedp.Void](b, field+`.value = ""`)
	b.do("type an unknown name", chromedp.SendKeys(chromedp.ID("pipelines-filter-source"), "nope"))
	b.waitFor("nothing is suggested", `!!document.querySelector('#pipelines-filter-source-options [data-testid="ref-none"]')`)
	b.do("submit it", chromedp.KeyEvent(kb.Enter))
	b.waitFor("the unknown name is said", source+` === "nope" && `+message+` === "No source is named “nope”." && `+rows+` === ""`)
	b.stillSamePage("an unknown name")
	if !evalJS[bool](b, listbox+`.hidden`) {
		t.Error("the suggestions stay open after Enter submitted the name")
	}
	if got := evalJS[string](b, `document.querySelector('[data-testid="empty-state"]').innerText`); !strings.Contains(got, "No pipelines match") {
		t.Errorf("empty state %q", got)
	}
	b.checkAxe("/pipelines with an unknown source")

	// Clear goes back to every pipeline and empties the message
	b.click(`a.clear-filters`)
	b.waitFor("every pipeline again", rows+` === "archive-copy,billing-live,orders-live" && `+message+` === ""`)
}
