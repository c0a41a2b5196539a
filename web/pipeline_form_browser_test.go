package web_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserPipelineFormPicker: in a fleet of 200 sources, the new pipeline form's
// source field suggests the names holding what is typed (the page carries none); the
// keyboard picks source #150, the mouse picks the destination, axe stays clean with
// the suggestions open, and the form saves the pipeline with what was picked.
func TestBrowserPipelineFormPicker(t *testing.T) {
	b := newBrowser(t)
	bulkSources(t, b.app, "src", 200)
	mkDestination(t, b.app, "analytics")
	mkDestination(t, b.app, "finance")
	const (
		field    = `document.getElementById("field-source")`
		listbox  = `document.getElementById("field-source-options")`
		options  = `[...document.querySelectorAll('#field-source-options [data-testid="ref-option"]')].map(o => o.textContent.trim()).join(",")`
		dOptions = `[...document.querySelectorAll('#field-destination-options [data-testid="ref-option"]')].map(o => o.textContent.trim()).join(",")`
	)
	b.nav("/pipelines/new")
	b.waitFor("the form", `!!window.htmx && !!`+field)
	if n := evalJS[int](b, `document.querySelectorAll('#pipeline-form option, #pipeline-form [role="option"]').length`); n != 0 {
		t.Errorf("the form came with %d choices; they should come as one types", n)
	}
	b.fill(map[string]string{"field-name": "orders-150"})

	b.do("type part of a source name", chromedp.SendKeys(chromedp.ID("field-source"), "src-15"))
	b.waitFor("the names holding it are suggested", `!`+listbox+`.hidden && `+field+`.getAttribute("aria-expanded") === "true" && `+
		options+` === "src-150,src-151,src-152,src-153,src-154,src-155,src-156,src-157,src-158,src-159"`)
	b.checkAxe("/pipelines/new with the source suggestions open")
	b.screenshot("pipeline-form-source-suggestions")

	// the keyboard: down to the first name, Enter picks it (and does not submit the form)
	b.do("arrow down", chromedp.KeyEvent(kb.ArrowDown))
	if got := evalJS[string](b, `(document.getElementById(`+field+`.getAttribute("aria-activedescendant")) || {textContent: ""}).textContent.trim()`); got != "src-150" {
		t.Errorf("the active suggestion is %q, want src-150", got)
	}
	b.do("pick it", chromedp.KeyEvent(kb.Enter))
	b.waitFor("the field holds the picked name", field+`.value === "src-150" && `+listbox+`.hidden && `+field+`.getAttribute("aria-expanded") === "false"`)
	if p := evalJS[string](b, `location.pathname`); p != "/pipelines/new" {
		t.Fatalf("Enter on a suggestion left the form for %s", p)
	}

	// the mouse: the destination, clicked among the suggestions
	b.do("type part of a destination name", chromedp.SendKeys(chromedp.ID("field-destination"), "FIN"))
	b.waitFor("finance is suggested", `!document.getElementById("field-destination-options").hidden && `+dOptions+` === "finance"`)
	b.click(`#field-destination-options [data-testid="ref-option"]`)
	b.waitFor("the destination field holds it", `document.getElementById("field-destination").value === "finance"`)

	b.click(`#pipeline-form [data-testid="submit"]`)
	b.waitFor("the pipeline page", `/^\/pipelines\/\d+$/.test(location.pathname)`)
	pid, err := strconv.ParseInt(idFromPath(b, "/pipelines/"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	p, err := b.app.Catalog.GetPipeline(context.Background(), pid)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "orders-150" || p.Source.Name != "src-150" || p.Destination.Name != "finance" {
		t.Errorf("saved %q from %q to %q", p.Name, p.Source.Name, p.Destination.Name)
	}
}
