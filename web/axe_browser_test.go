package web_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// axe-core (a dev dependency from npm, installed by `make assets`) checks the page the
// browser shows against the WCAG 2.x A and AA rules it automates. It is injected through
// the DevTools protocol, which the page's CSP does not govern, so the page under test is
// served exactly as users get it.
const axePath = "../node_modules/axe-core/axe.min.js"

// axeWCAG are the rule tags checked: WCAG 2.0, 2.1 and 2.2 at levels A and AA.
var axeWCAG = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

var (
	axeOnce sync.Once
	axeSrc  string
	axeErr  error
)

type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// runAxe injects axe into the current page and returns its violations of the tagged rules.
func (b *browser) runAxe(what string, tags []string) []axeViolation {
	b.t.Helper()
	axeOnce.Do(func() {
		raw, err := os.ReadFile(axePath)
		axeSrc, axeErr = string(raw), err
	})
	if axeErr != nil {
		b.t.Fatalf("axe-core: %v (run make assets)", axeErr)
	}
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](axeSrc)); err != nil {
		b.t.Fatalf("%s: inject axe: %v", what, err)
	}
	tj, _ := json.Marshal(tags)
	found, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](`axe.run(document, {runOnly: {type: "tag", values: `+string(tj)+`}})
		.then(r => r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help,
			nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))})))`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: run axe: %v", what, err)
	}
	return found
}

// checkAxe fails the test for every WCAG A/AA violation axe finds on the current page.
func (b *browser) checkAxe(what string) {
	b.t.Helper()
	for _, v := range b.runAxe(what, axeWCAG) {
		b.t.Errorf("%s: axe %s (%s): %s at %s", what, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "; "))
	}
}

// The check must be able to fail: an image without a text alternative is caught.
func TestBrowserAxeCatchesAViolation(t *testing.T) {
	b := newBrowser(t)
	b.nav("/wal")
	b.waitFor("the page", `!!document.querySelector("main#main h1")`)
	evalJS[chromedp.Void](b, `(() => { const i = document.createElement("img"); i.src = "/static/img/none.png";
		document.querySelector("main").append(i); })()`)
	var ids []string
	for _, v := range b.runAxe("/wal with an unlabelled image", axeWCAG) {
		ids = append(ids, v.ID)
	}
	if strings.Join(ids, ",") != "image-alt" {
		t.Fatalf("axe found %v, want exactly image-alt", ids)
	}
}
