package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/rosetta-cdc/rosetta/internal/snowflake/sftest"
	"maps"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// The browser tests drive the console in a real headless Chromium against the full
// server on a real database, with real source databases for the preflight. They wait on
// DOM conditions, never on time. Screenshots of every main page land in
// test-artifacts/screenshots/ (git-ignored) for people to look at.

const screenshotDir = "../test-artifacts/screenshots"

// chromiumPath finds the browser: $CHROMIUM, or chromium on PATH (Debian's package).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	// Never skipped: a console nobody clicked through is not tested.
	t.Fatal("chromium not found: install it (apt-get install -y chromium) or set CHROMIUM to its path")
	return ""
}

type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	app  *webtest.App

	mu         sync.Mutex
	exceptions []string
}

// newBrowser starts the app behind a real HTTP listener and one headless Chromium tab.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	return newBrowserWith(t)
}

// newBrowserWith is newBrowser on an app built with opts.
func newBrowserWith(t *testing.T, opts ...webtest.Option) *browser {
	t.Helper()
	exe := chromiumPath(t)
	a := webtest.New(t, opts...)
	srv := httptest.NewServer(a.Server.Handler())
	// Open event streams first, or Close would wait for them.
	t.Cleanup(func() { a.Server.CloseStreams(); srv.Close() })

	allocOpts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), allocOpts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // starts the browser, with no deadline
		t.Fatalf("start chromium (%s): %v", exe, err)
	}
	b := &browser{t: t, ctx: ctx, base: srv.URL, app: a}
	// An uncaught exception in the page is a failure, whatever the test checked.
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			b.mu.Lock()
			d := ev.ExceptionDetails
			text := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				text += " " + d.Exception.Description
			}
			b.exceptions = append(b.exceptions, fmt.Sprintf("%s (%s:%d)", text, d.URL, d.LineNumber+1))
			b.mu.Unlock()
		}
	}()
	// So is anything the Content-Security-Policy blocked (an inline style, a script).
	logs := chromedp.Events(ctx, cdplog.EntryAdded)
	go func() {
		for ev, err := range logs {
			if err != nil {
				return
			}
			if e := ev.Entry; e != nil && strings.Contains(e.Text, "Content Security Policy") {
				b.mu.Lock()
				b.exceptions = append(b.exceptions, "CSP: "+e.Text+" ("+e.URL+")")
				b.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, e := range b.exceptions {
			t.Errorf("in the page: %s", e)
		}
	})
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Every page is behind sign-in: sign in as the admin through the real form.
	b.nav("/login")
	b.fill(map[string]string{"field-email": a.Admin.Email, "field-password": a.Admin.Password})
	b.click(`[data-testid="sign-in"]`)
	b.waitFor("signed in", `location.pathname === "/" && !!document.querySelector('[data-testid="user-menu"]')`)
	return b
}

func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v (page: %s)", what, err, b.location())
	}
}

func (b *browser) nav(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path), chromedp.WaitReady(chromedp.CSS("body")))
}

// htmxIdle holds when no htmx request, swap or settle is under way: content swapped in
// is wired up (its hx- attributes processed) only when it settles, so a test that clicks
// a fresh button any sooner would post a plain form.
// The page must also have loaded: htmx wires up a new document on DOMContentLoaded.
const htmxIdle = `document.readyState === "complete" && !document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")`

// waitFor polls a JavaScript condition until it holds and htmx is idle.
func (b *browser) waitFor(what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		_, err := chromedp.Run(ctx, chromedp.Poll[bool]("("+expr+") && "+htmxIdle, chromedp.WithPollingTimeout(9*time.Second)))
		cancel()
		if err == nil {
			return
		}
		// A navigation (HX-Redirect, a form post) destroys the document the poll runs in;
		// poll again in the new one until the deadline.
		if time.Now().After(deadline) {
			b.t.Fatalf("waiting until %s (%s): %v\npage %s\n%s", what, expr, err, b.location(), b.mainText())
		}
		b.do("wait for the page", chromedp.WaitReady(chromedp.CSS("body")))
	}
}

func evalJS[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func (b *browser) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + location.search`))
	return v
}

func (b *browser) mainText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector("main") || document.body).innerText.slice(0, 2000)`))
	return v
}

// fill sets form controls by id (by value, so no stale text survives).
func (b *browser) fill(values map[string]string) {
	b.t.Helper()
	for id, v := range values {
		js, _ := json.Marshal(v)
		expr := fmt.Sprintf(`(function(){ var el = document.getElementById(%q); if (!el) return false; el.value = %s; return true })()`, id, js)
		if !evalJS[bool](b, expr) {
			b.t.Fatalf("fill: no #%s on %s", id, b.location())
		}
	}
}

func (b *browser) click(css string) {
	b.t.Helper()
	b.do("click "+css, chromedp.Click(chromedp.CSS(css), chromedp.NodeVisible))
}

// markPage tags the current document; stillSamePage proves no reload happened since.
func (b *browser) markPage() {
	b.t.Helper()
	evalJS[chromedp.Void](b, `window.__rosettaMark = "same-page"`)
}

func (b *browser) stillSamePage(what string) {
	b.t.Helper()
	if evalJS[string](b, `String(window.__rosettaMark)`) != "same-page" {
		b.t.Errorf("%s reloaded the page; it should update in place", what)
	}
}

func (b *browser) flashText() string {
	return evalJS[string](b, `(document.getElementById("flash") || {innerText: ""}).innerText`)
}

func (b *browser) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) viewport(width, height int64, mobile bool) {
	b.t.Helper()
	if mobile {
		b.do("phone viewport", chromedp.EmulateViewport(width, height, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	} else {
		b.do("desktop viewport", chromedp.EmulateViewport(width, height))
	}
}

func (b *browser) colorScheme(scheme string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
		b.t.Fatalf("emulate %s: %v", scheme, err)
	}
}

// contrastJS lists the visible text on the page whose contrast with what is behind it
// falls short of WCAG 2 AA: 4.5:1, or 3:1 for large text (24px, or 18.66px bold).
// Colours are composed as the browser paints them: translucent backgrounds and
// foregrounds over what lies beneath, ancestors' opacity included. Disabled controls are
// exempt, as WCAG exempts them; text over a gradient or image cannot be judged from
// computed styles and is skipped.
const contrastJS = `(() => {
  const parse = c => {
    const m = /rgba?\(([^)]+)\)/.exec(c);
    if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const over = (top, under) => ({
    r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a),
    b: top.b * top.a + under.b * (1 - top.a), a: 1});
  const lum = c => {
    const f = v => (v /= 255) <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const behind = el => {
    const layers = [];
    let opacity = 1;
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (/gradient|url\(/.test(s.backgroundImage) && !/^(input|select|textarea)$/i.test(e.tagName)) return null;
      opacity *= Number(s.opacity);
      const c = parse(s.backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let bg = {r: 255, g: 255, b: 255, a: 1};
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return {bg, opacity};
  };
  const bad = [];
  const seen = new Set();
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim() !== "");
    const control = /^(input|select|textarea)$/i.test(el.tagName) && el.type !== "hidden" && el.value;
    if (!own && !control) continue;
    if (el.disabled || el.closest("[disabled], [aria-hidden=true], .visually-hidden, .sr-only")) continue;
    // closed menus are rendered at opacity 0 or not at all: nobody reads them
    if (!el.checkVisibility({opacityProperty: true, visibilityProperty: true})) continue;
    const s = getComputedStyle(el);
    const b = behind(el);
    if (!b) continue;
    const fg0 = parse(s.color);
    const fg = over({...fg0, a: fg0.a * b.opacity}, b.bg);
    const l1 = lum(fg), l2 = lum(b.bg);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(s.fontSize), bold = Number(s.fontWeight) >= 700;
    const need = size >= 24 || (size >= 18.66 && bold) ? 3 : 4.5;
    if (ratio + 0.005 < need) {
      const text = (control ? el.value : el.textContent).trim().replace(/\s+/g, " ").slice(0, 40);
      const key = el.tagName + "|" + el.className + "|" + ratio.toFixed(2);
      if (seen.has(key)) continue;
      seen.add(key);
      bad.push(el.tagName.toLowerCase() + (el.className ? "." + String(el.className).trim().split(/\s+/).join(".") : "") +
        " \"" + text + "\" " + ratio.toFixed(2) + ":1 < " + need + ":1 (" + s.color + " on rgb(" +
        [b.bg.r, b.bg.g, b.bg.b].map(Math.round).join(", ") + "))");
    }
  }
  return bad;
})()`

// checkContrast fails the test for each piece of text on the page below WCAG AA.
func (b *browser) checkContrast(what string) {
	b.t.Helper()
	for _, p := range evalJS[[]string](b, contrastJS) {
		b.t.Errorf("%s: contrast below WCAG AA: %s", what, p)
	}
}

// focusJS describes the element that has the keyboard focus and whether it shows it:
// an outline or a box-shadow ring that differs from its unfocused look.
const focusJS = `(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {tag: "", label: "", visible: false};
  const s = getComputedStyle(el);
  const ring = (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== "none";
  const label = (el.getAttribute("aria-label") || el.innerText || el.value || el.id || el.name || "").replace(/\s+/g, " ").trim().slice(0, 60);
  return {tag: el.tagName.toLowerCase(), label, visible: ring};
})()`

// unlabelledJS lists form controls a screen reader could not name.
const unlabelledJS = `[...document.querySelectorAll("input, select, textarea")]
  .filter(el => el.type !== "hidden" && el.type !== "submit" && el.checkVisibility())
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby"))
  .map(el => el.tagName.toLowerCase() + "#" + (el.id || el.name))`

// checkKeyboard tabs through the page from the top: every stop must show where the
// focus is, and want (link or button texts) must all be reachable without a mouse.
// Every visible form control must have a label.
func (b *browser) checkKeyboard(what string, want ...string) {
	b.t.Helper()
	for _, c := range evalJS[[]string](b, unlabelledJS) {
		b.t.Errorf("%s: %s has no label", what, c)
	}
	evalJS[chromedp.Void](b, `document.activeElement && document.activeElement.blur()`)
	reached := map[string]bool{}
	type stop struct {
		Tag, Label string
		Visible    bool
	}
	for i := 0; i < 80; i++ {
		b.do("press Tab", chromedp.KeyEvent("\t"))
		f := evalJS[stop](b, focusJS)
		if f.Tag == "" {
			break // past the last stop
		}
		if !f.Visible {
			b.t.Errorf("%s: tab stop %d (%s %q) shows no focus ring", what, i+1, f.Tag, f.Label)
		}
		reached[f.Label] = true
	}
	for _, w := range want {
		if !slices.ContainsFunc(slices.Collect(maps.Keys(reached)), func(l string) bool { return strings.HasPrefix(l, w) }) {
			b.t.Errorf("%s: %q cannot be reached with the keyboard (reached %v)", what, w, reached)
		}
	}
}

func idFromPath(b *browser, prefix string) string {
	b.t.Helper()
	p := b.location()
	id, ok := strings.CutPrefix(p, prefix)
	if !ok || id == "" || strings.Contains(id, "/") {
		b.t.Fatalf("location %q is not %s<id>", p, prefix)
	}
	return id
}

// TestBrowserOperatorFlow is the walk-through: forms with validation, a real
// preflight, in-place start and pause, a refused delete, search with history.
func TestBrowserOperatorFlow(t *testing.T) {
	b := newBrowser(t)
	good := testdb.NewSource(t, testdb.SourceOptions{})

	// ---- a source: first refused (every message at once, typed values kept), then created
	b.nav("/sources/new")
	b.fill(map[string]string{
		"field-name": "orders-db", "field-pg_host": "not a host!", "field-pg_port": "5432", "field-pg_database": "",
		"field-pg_username": "rosetta", "field-pg_password": "", "field-publication_name": "1bad",
		"field-replication_id": "Bad-Slot",
	})
	b.markPage()
	b.click(`#source-form [data-testid="submit"]`)
	b.waitFor("the form shows its messages", `document.querySelectorAll('#source-form [data-testid="field-error"]').length === 5`)
	b.stillSamePage("a refused save")
	for id, want := range map[string]string{"field-name": "orders-db", "field-pg_host": "not a host!", "field-pg_username": "rosetta"} {
		if got := evalJS[string](b, fmt.Sprintf(`document.getElementById(%q).value`, id)); got != want {
			t.Errorf("after a refused save #%s = %q, want what was typed (%q)", id, got, want)
		}
	}
	for _, field := range []string{"pg_host", "pg_database", "pg_password", "publication_name", "replication_id"} {
		if !evalJS[bool](b, fmt.Sprintf(`!!document.querySelector('[data-testid="field-%s"] [data-testid="field-error"]')`, field)) {
			t.Errorf("no message beside %s", field)
		}
	}
	if evalJS[string](b, `document.activeElement && document.activeElement.id`) != "field-pg_host" {
		t.Errorf("focus is on %q, want the first invalid field", evalJS[string](b, `document.activeElement && document.activeElement.id`))
	}
	b.screenshot("source-form-errors")

	b.fill(map[string]string{
		"field-pg_host": good.Host, "field-pg_port": fmt.Sprint(good.Port), "field-pg_database": good.Database,
		"field-pg_username": good.User, "field-pg_password": good.Password, "field-publication_name": good.Publication,
		"field-replication_id": good.Slot,
	})
	b.click(`#source-form [data-testid="submit"]`)
	b.waitFor("the source page", `/^\/sources\/\d+$/.test(location.pathname)`)
	sourceID := idFromPath(b, "/sources/")
	if f := b.flashText(); !strings.Contains(f, "orders-db") || !strings.Contains(f, "created") {
		t.Errorf("flash after create = %q", f)
	}

	// ---- test connection: each check inline
	b.markPage()
	b.click(`[data-testid="test-connection"]`)
	b.waitFor("check results", `!!document.querySelector('[data-testid="source-checks"] [data-testid="check-results"]')`)
	b.stillSamePage("test connection")
	if n := evalJS[int](b, `document.querySelectorAll('[data-testid="check-results"] li[data-status="ok"]').length`); n < 4 {
		t.Errorf("%d checks ok, want at least 4 on a well configured source", n)
	}
	if f := b.flashText(); !strings.Contains(f, "Connection test") {
		t.Errorf("flash after test = %q", f)
	}
	b.screenshot("source-detail")

	// ---- a destination
	b.nav("/destinations/new")
	b.fill(map[string]string{
		"field-name": "analytics", "field-snowflake_account": "acme-analytics", "field-snowflake_user": "ROSETTA",
		"field-snowflake_role": "LOADER", "field-snowflake_database": "RAW", "field-snowflake_schema": "ORDERS",
		"field-snowflake_warehouse": "LOAD_WH", "field-snowflake_private_key": sftest.KeyPEM(),
		"field-snowflake_host": sftest.OfflineHost,
	})
	b.screenshot("destination-form")
	b.click(`#destination-form [data-testid="submit"]`)
	b.waitFor("the destination page", `/^\/destinations\/\d+$/.test(location.pathname)`)
	// Test connection answers in place: the local checks pass, Snowflake is unreachable here.
	b.markPage()
	b.waitFor("the destination page is ready", `document.readyState === "complete" && !!window.htmx`)
	if f := b.flashText(); !strings.Contains(f, "analytics") || !strings.Contains(f, "created") {
		t.Errorf("flash after create = %q", f)
	}
	b.click(`[data-testid="test-connection"]`)
	b.waitFor("destination check results", `!!document.querySelector('[data-testid="destination-checks"] [data-testid="check-results"]')`)
	b.stillSamePage("destination test")
	if n := evalJS[int](b, `document.querySelectorAll('[data-testid="destination-checks"] li[data-status="ok"]').length`); n != 6 {
		t.Errorf("%d destination checks ok, want the 6 that work offline", n)
	}
	b.screenshot("destination-detail")

	// ---- a pipeline
	b.nav("/pipelines/new")
	// by name, as typed (TestBrowserPipelineFormPicker picks them from the suggestions)
	b.fill(map[string]string{"field-name": "orders-to-snowflake", "field-source": "orders-db", "field-destination": "analytics"})
	b.screenshot("pipeline-form")
	b.click(`#pipeline-form [data-testid="submit"]`)
	b.waitFor("the pipeline page", `/^\/pipelines\/\d+$/.test(location.pathname)`)
	pid := idFromPath(b, "/pipelines/")
	status := `#pipeline-` + pid + `-status`
	b.waitFor("a new pipeline is paused", `document.querySelector('`+status+`').dataset.status === "PAUSED"`)

	// ---- start from the detail page: real preflight, badge changes in place
	b.markPage()
	b.click(status + `-start`)
	b.waitFor("the pipeline runs", `document.querySelector('`+status+`').dataset.status === "RUNNING"`)
	b.stillSamePage("start")
	if txt := evalJS[string](b, `document.querySelector('`+status+` [data-testid="status-badge"]').innerText`); txt != "RUNNING" {
		t.Errorf("badge reads %q", txt)
	}
	if evalJS[bool](b, `!!document.querySelector('`+status+`-start')`) {
		t.Error("a running pipeline offers Start")
	}
	if !evalJS[bool](b, `!!document.querySelector('[data-testid="delete-blocked"]')`) {
		t.Error("the delete region did not update: a running pipeline cannot be deleted")
	}
	if f := b.flashText(); !strings.Contains(f, "started") {
		t.Errorf("flash after start = %q", f)
	}
	b.screenshot("pipeline-detail-running")

	// ---- pause and start from the list row
	b.nav("/pipelines")
	row := `#pipeline-` + pid
	b.markPage()
	b.click(row + ` [data-testid="confirm-pause"] summary`)
	b.click(row + ` [data-action="pause"]`)
	b.waitFor("the row shows PAUSED", `document.querySelector('`+row+`').dataset.status === "PAUSED"`)
	b.stillSamePage("pause")
	if f := b.flashText(); !strings.Contains(f, "paused") {
		t.Errorf("flash after pause = %q", f)
	}
	if evalJS[bool](b, `!!document.querySelector('`+row+` [data-action="pause"]')`) {
		t.Error("a paused pipeline offers Pause")
	}
	b.click(row + ` [data-action="start"]`)
	b.waitFor("the row shows RUNNING", `document.querySelector('`+row+`').dataset.status === "RUNNING"`)
	b.stillSamePage("start from the row")

	// ---- a failing preflight: ERROR, with the failed check in words, in place
	bad := testdb.NewSource(t, testdb.SourceOptions{NoPublication: true})
	failing := seedPipeline(t, b.app, "billing-to-snowflake", bad)
	b.nav("/pipelines")
	b.markPage()
	frow := fmt.Sprintf("#pipeline-%d", failing)
	b.click(frow + ` [data-action="start"]`)
	b.waitFor("the row shows ERROR", `document.querySelector('`+frow+`').dataset.status === "ERROR"`)
	b.stillSamePage("a failed start")
	if txt := evalJS[string](b, `document.querySelector('`+frow+` [data-testid="last-error"]').innerText`); !strings.Contains(txt, "publication") {
		t.Errorf("last error %q does not name the failed publication check", txt)
	}
	if f := b.flashText(); !strings.Contains(f, "could not start") || !strings.Contains(f, "publication") {
		t.Errorf("flash after a failed start = %q", f)
	}
	if !evalJS[bool](b, `!!document.querySelector('`+frow+` [data-action="start"]') && !!document.querySelector('`+frow+` [data-action="pause"]') && !!document.querySelector('`+frow+` [data-action="refresh"]')`) {
		t.Error("an ERROR pipeline should offer Retry start, Pause and Refresh")
	}
	b.screenshot("pipelines")

	// ---- search updates the list in place, lands in the URL, survives reload and Back
	b.markPage()
	b.do("type a search", chromedp.SendKeys(chromedp.ID("pipelines-filter-q"), "billing"))
	b.waitFor("the search is in the URL", `new URLSearchParams(location.search).get("q") === "billing"`)
	b.waitFor("only the match is listed", `document.querySelectorAll('[data-testid="pipeline-row"]').length === 1`)
	b.stillSamePage("search")
	b.do("reload", chromedp.Reload(), chromedp.WaitReady(chromedp.CSS("body")))
	if n := evalJS[int](b, `document.querySelectorAll('[data-testid="pipeline-row"]').length`); n != 1 {
		t.Errorf("after reload %d rows, want the searched view (1)", n)
	}
	if v := evalJS[string](b, `document.getElementById("pipelines-filter-q").value`); v != "billing" {
		t.Errorf("after reload the search box holds %q", v)
	}
	b.do("back", chromedp.NavigateBack())
	b.waitFor("Back shows the whole list", `location.search === "" && document.querySelectorAll('[data-testid="pipeline-row"]').length === 2`)

	// ---- refresh from the row: REFRESH / RUNNING offers no second refresh
	b.nav("/pipelines")
	b.click(row + ` [data-testid="confirm-pause"] summary`)
	b.click(row + ` [data-action="pause"]`)
	b.waitFor("paused again", `document.querySelector('`+row+`').dataset.status === "PAUSED"`)
	b.click(row + ` [data-testid="confirm-refresh"] summary`)
	b.click(row + ` [data-action="refresh"]`)
	b.waitFor("refreshing", `document.querySelector('`+row+`').dataset.status === "RUNNING" && !document.querySelector('`+row+` [data-action="refresh"]')`)

	// ---- a source in use says so where its delete button would be, naming the pipelines
	b.nav("/sources/" + sourceID)
	if evalJS[bool](b, `!!document.querySelector('[data-testid="confirm-delete"]')`) {
		t.Error("a source in use offers Delete")
	}
	if !evalJS[bool](b, `!!document.querySelector('[data-testid="delete-blocked"] a[href="/pipelines/`+pid+`"]')`) {
		t.Errorf("the source page does not say which pipelines block its delete: %s", b.mainText())
	}
	b.screenshot("source-delete-blocked")
}

// A refresh reloads everything from a fresh snapshot, so it asks first: opening the
// question and closing it again changes nothing; confirming refreshes. And "Test
// connection" on the source form checks what is typed without saving or losing it.
func TestBrowserRefreshAsksFirst(t *testing.T) {
	b := newBrowser(t)
	src := testdb.NewSource(t, testdb.SourceOptions{})
	ctx := context.Background()

	b.nav("/sources/new")
	b.waitFor("the form is ready", `document.readyState === "complete" && !!window.htmx`)
	b.fill(map[string]string{
		"field-name": "typed-only", "field-pg_host": src.Host, "field-pg_port": fmt.Sprint(src.Port),
		"field-pg_database": src.Database, "field-pg_username": src.User, "field-pg_password": src.Password,
		"field-publication_name": src.Publication, "field-replication_id": src.Slot,
	})
	if txt := evalJS[string](b, `document.querySelector('[data-testid="test-wait"]').innerText`); !strings.Contains(txt, "waits up to 5 s") {
		t.Errorf("the test button does not say how long it can wait: %q", txt)
	}
	b.markPage()
	b.click(`#source-form [data-testid="test-connection"]`)
	b.waitFor("results in place", `!!document.querySelector('#source-form-test [data-testid="check-results"]')`)
	b.stillSamePage("test before save")
	if got := evalJS[string](b, `document.getElementById("field-pg_password").value`); got != src.Password {
		t.Error("testing lost the typed password")
	}
	if p, err := b.app.Catalog.ListSources(ctx, catalog.ListParams{}); err != nil || p.Total != 0 {
		t.Fatalf("testing saved a source: %d %v", p.Total, err)
	}

	id := seedPipeline(t, b.app, "orders-to-dw", src)
	row := fmt.Sprintf("#pipeline-%d", id)
	b.nav("/pipelines")
	b.waitFor("the list is ready", `document.readyState === "complete" && !!window.htmx`)
	if evalJS[bool](b, `(() => { const btn = document.querySelector('`+row+` [data-action="refresh"]'); return !!btn && btn.checkVisibility(); })()`) {
		t.Fatal("Refresh can be clicked without a question first")
	}
	b.click(row + ` [data-testid="confirm-refresh"] summary`)
	b.waitFor("the question", `document.querySelector('`+row+` [data-testid="confirm-refresh"]').open`)
	if txt := evalJS[string](b, `document.querySelector('`+row+` [data-testid="confirm-refresh"] form').innerText`); !strings.Contains(txt, "fresh snapshot") {
		t.Errorf("the question does not say what happens: %q", txt)
	}
	b.screenshot("refresh-confirm")
	// dismissed: closed again, nothing sent, nothing changed
	b.click(row + ` [data-testid="confirm-refresh"] summary`)
	b.waitFor("the question is closed", `!document.querySelector('`+row+` [data-testid="confirm-refresh"]').open`)
	if p, err := b.app.Catalog.GetPipeline(ctx, id); err != nil || p.Status != catalog.DesiredPause || p.Metadata.Status != catalog.RuntimePaused {
		t.Fatalf("a dismissed refresh changed the pipeline: %s/%s %v", p.Status, p.Metadata.Status, err)
	}
	// accepted: refreshed, in place
	b.markPage()
	b.click(row + ` [data-testid="confirm-refresh"] summary`)
	b.click(row + ` [data-action="refresh"]`)
	// (the seeded destination's key file is missing, so the refresh's preflight ends in
	// ERROR: what matters here is that the refresh was asked)
	b.waitFor("refreshed", `document.querySelector('`+row+`').dataset.status !== "PAUSED"`)
	b.stillSamePage("refresh")
	if p, err := b.app.Catalog.GetPipeline(ctx, id); err != nil || p.Status != catalog.DesiredRefresh {
		t.Errorf("a confirmed refresh did not refresh: %s %v", p.Status, err)
	}
}

// seedPipeline registers src and a destination through the catalog and returns the id
// of a paused pipeline between them.
func seedPipeline(t *testing.T, a *webtest.App, name string, src testdb.Source) int64 {
	t.Helper()
	ctx := context.Background()
	port := src.Port
	s, err := a.Catalog.CreateSource(ctx, catalog.SourceInput{Name: name + "-src", PgHost: src.Host, PgPort: &port,
		PgDatabase: src.Database, PgUsername: src.User, PgPassword: src.Password, PublicationName: src.Publication,
		ReplicationID: src.Slot})
	if err != nil {
		t.Fatal(err)
	}
	d, err := a.Catalog.CreateDestination(ctx, catalog.DestinationInput{Name: name + "-dst", SnowflakeAccount: "acme-analytics",
		SnowflakeUser: "ROSETTA", SnowflakeDatabase: "RAW", SnowflakeSchema: "BILLING", SnowflakeRole: "LOADER",
		SnowflakePrivateKeyPath: "/etc/rosetta/key.p8"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Catalog.CreatePipeline(ctx, catalog.PipelineInput{Name: name, SourceID: s.ID, DestinationID: d.ID})
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}

// TestBrowserScreenshots fills a console with every state a page can show and saves
// each main page, on a desktop in light and dark and on a phone, for people to review.
// It also checks the pages load without script errors at every size.
func TestBrowserScreenshots(t *testing.T) {
	b := newBrowser(t)
	seedShowcase(t, b.app)

	// keys: what must be reachable with Tab alone, besides the skip link
	pages := []struct {
		name, path string
		keys       []string
	}{
		{"dashboard", "/", []string{"Sources", "Pipelines"}},
		{"sources", "/sources", []string{"New source"}},
		{"destinations", "/destinations", []string{"New destination"}},
		{"pipelines-list", "/pipelines", []string{"New pipeline", "Start", "Pause", "Refresh", "Retry start", "billing-to-analytics"}},
		{"wal", "/wal", nil},
		{"source-new", "/sources/new", []string{"field-name", "field-replication_id", "Create source", "Cancel"}},
		{"not-found", "/pipelines/999999", nil},
		{"audit", "/audit", nil},
		{"users", "/users", nil},
		{"tokens", "/settings/tokens", nil},
	}
	for i, p := range pages {
		b.nav(p.path)
		b.waitFor(p.name+" rendered", `!!document.querySelector("main#main h1")`)
		b.screenshot(p.name)
		if i == 0 { // the check must be able to fail: a faint grey line is caught
			evalJS[chromedp.Void](b, `(() => { const p = document.createElement("p"); p.id = "faint-probe";
				p.style.cssText = "color: #aaa; background: #fff"; p.textContent = "faint probe";
				document.querySelector("main").append(p); })()`)
			if got := evalJS[[]string](b, contrastJS); len(got) != 1 || !strings.Contains(got[0], "faint probe") {
				t.Fatalf("the contrast check missed a #aaa-on-white line: %q", got)
			}
			evalJS[chromedp.Void](b, `document.getElementById("faint-probe").remove()`)
		}
		b.checkContrast(p.name)
		b.checkKeyboard(p.name, append([]string{"Skip to main content"}, p.keys...)...)
	}
	// detail pages of the showcase's first pipeline and source
	b.nav("/pipelines?sort=status")
	b.click(`[data-testid="pipeline-row"] th a`)
	b.waitFor("a pipeline page", `/^\/pipelines\/\d+$/.test(location.pathname)`)
	b.screenshot("pipeline-detail")
	b.checkContrast("pipeline-detail")
	detail := b.location()

	b.colorScheme("dark")
	for _, p := range []struct{ name, path string }{{"dashboard-dark", "/"}, {"pipelines-dark", "/pipelines"},
		{"pipeline-detail-dark", detail}, {"sources-dark", "/sources"}, {"wal-dark", "/wal"}, {"source-new-dark", "/sources/new"},
		{"audit-dark", "/audit"}, {"users-dark", "/users"}} {
		b.nav(p.path)
		b.screenshot(p.name)
		b.checkContrast(p.name)
	}
	b.colorScheme("light")

	b.viewport(390, 844, true)
	for _, p := range []struct{ name, path string }{
		{"phone-dashboard", "/"}, {"phone-pipelines", "/pipelines"}, {"phone-pipeline-detail", detail},
		{"phone-source-new", "/sources/new"},
	} {
		b.nav(p.path)
		b.screenshot(p.name)
		// nothing but the tables (which scroll inside their wrapper) may be wider than the phone
		if w := evalJS[int](b, `document.documentElement.scrollWidth`); w > 390 {
			t.Errorf("%s is %dpx wide on a 390px phone", p.path, w)
		}
	}
}

// TestBrowserListSortOnPhone: a phone hides a table's header row, and with it the sort
// links; the list's "Sort by" select takes their place there (and only there), sorts in
// place with the keyboard or a tap, and lands in the URL like the other filters.
func TestBrowserListSortOnPhone(t *testing.T) {
	b := newBrowser(t)
	src, dst := mkSource(t, b.app, "orders-db"), mkDestination(t, b.app, "analytics")
	for _, n := range []string{"bravo", "alpha", "charlie"} { // created in this order
		mkPipeline(t, b.app, n, src.ID, dst.ID)
	}
	const rows = `[...document.querySelectorAll('[data-testid="pipeline-row"] th a')].map(a => a.textContent.trim()).join(",")`
	const sel = `document.getElementById("pipelines-filter-sort")`
	const sortParam = `new URLSearchParams(location.search).get("sort")`

	b.viewport(390, 844, true)
	b.nav("/pipelines")
	b.waitFor("the list by name", rows+` === "alpha,bravo,charlie"`)
	if evalJS[float64](b, `document.querySelector("table.stack thead").getBoundingClientRect().height`) > 1 {
		t.Fatal("the table's header row shows on a phone: this test expects it hidden")
	}
	if !evalJS[bool](b, sel+` && `+sel+`.checkVisibility()`) {
		t.Fatal("no visible sort select on a phone, where the header's sort links are hidden")
	}
	if got := evalJS[string](b, sel+`.labels[0] && `+sel+`.labels[0].checkVisibility() ? `+sel+`.labels[0].innerText : ""`); got != "Sort by" {
		t.Errorf("the sort select's visible label is %q", got)
	}
	if got := evalJS[string](b, sel+`.value`); got != "name" {
		t.Errorf("the sort select shows %q, want the default order (name)", got)
	}

	// the keyboard: focus the select, arrow down to the next order
	b.markPage()
	b.do("focus the sort select", chromedp.Focus(chromedp.ID("pipelines-filter-sort")))
	b.do("arrow down", chromedp.KeyEvent(kb.ArrowDown))
	b.waitFor("the rows by name, Z–A", sortParam+` === "-name" && `+rows+` === "charlie,bravo,alpha"`)
	b.stillSamePage("choosing an order")
	if got := evalJS[string](b, sel+`.value`); got != "-name" {
		t.Errorf("after the swap the sort select shows %q", got)
	}
	if got := evalJS[string](b, `document.activeElement ? document.activeElement.id : ""`); got != "pipelines-filter-sort" {
		t.Errorf("after the swap the focus is on %q, want the sort select", got)
	}
	// picking an option as a phone's picker does: the value changes, then "change" fires
	evalJS[chromedp.Void](b, `(() => { const s = `+sel+`; s.value = "-created_at"; s.dispatchEvent(new Event("change", {bubbles: true})) })()`)
	b.waitFor("the rows newest first", sortParam+` === "-created_at" && `+rows+` === "charlie,alpha,bravo"`)
	b.stillSamePage("choosing another order")
	b.screenshot("phone-pipelines-sorted")
	if w := evalJS[int](b, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("/pipelines with the sort select is %dpx wide on a 390px phone", w)
	}
	// a search keeps the chosen order
	b.do("type a search", chromedp.SendKeys(chromedp.ID("pipelines-filter-q"), "r"))
	b.waitFor("the search keeps the order", `new URLSearchParams(location.search).get("q") === "r" && `+sortParam+` === "-created_at" && `+rows+` === "charlie,bravo"`)

	// a desktop sorts with the headers: no select there, yet a search after a header
	// click keeps the header's order (the hidden select is submitted and up to date)
	b.viewport(1280, 900, false)
	b.nav("/pipelines")
	b.waitFor("the list by name", rows+` === "alpha,bravo,charlie"`)
	if evalJS[bool](b, sel+`.checkVisibility()`) {
		t.Error("the sort select shows on a desktop, beside the sortable headers")
	}
	b.markPage()
	b.click(`table.stack thead th[aria-sort="ascending"] a.sort`)
	b.waitFor("the header sorts Z–A", sortParam+` === "-name" && `+rows+` === "charlie,bravo,alpha"`)
	b.do("type a search", chromedp.SendKeys(chromedp.ID("pipelines-filter-q"), "a"))
	b.waitFor("the search keeps the header's order", `new URLSearchParams(location.search).get("q") === "a" && `+sortParam+` === "-name" && `+rows+` === "charlie,bravo,alpha"`)
	b.stillSamePage("sorting and searching on a desktop")
}

// seedShowcase fills the catalog with sources, destinations and pipelines in every state
// the pages show: running, paused, failed; WAL samples; a failing WAL probe.
func seedShowcase(t *testing.T, a *webtest.App) {
	t.Helper()
	ctx := context.Background()
	good := testdb.NewSource(t, testdb.SourceOptions{})
	bad := testdb.NewSource(t, testdb.SourceOptions{NoPublication: true})
	mk := func(name string, s testdb.Source) catalog.Source {
		port := s.Port
		src, err := a.Catalog.CreateSource(ctx, catalog.SourceInput{Name: name, PgHost: s.Host, PgPort: &port,
			PgDatabase: s.Database, PgUsername: s.User, PgPassword: s.Password, PublicationName: s.Publication,
			ReplicationID: s.Slot})
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	orders, billing, crm := mk("orders-primary", good), mk("billing", bad), mk("crm-replica", good)
	dst, err := a.Catalog.CreateDestination(ctx, catalog.DestinationInput{Name: "analytics", SnowflakeAccount: "acme-analytics",
		SnowflakeUser: "ROSETTA", SnowflakeDatabase: "RAW", SnowflakeSchema: "ORDERS", SnowflakeRole: "LOADER",
		SnowflakePrivateKeyPath: "/etc/rosetta/snowflake_key.p8"})
	if err != nil {
		t.Fatal(err)
	}
	wh := "REPORTING_WH"
	if _, err := a.Catalog.CreateDestination(ctx, catalog.DestinationInput{Name: "finance-reporting", SnowflakeAccount: "xy12345.eu-west-1.aws",
		SnowflakeUser: "ROSETTA_FIN", SnowflakeDatabase: "FINANCE", SnowflakeSchema: "BILLING", SnowflakeRole: "FIN_LOADER",
		SnowflakeWarehouse: &wh, SnowflakePrivateKeyPath: "/etc/rosetta/finance.p8"}); err != nil {
		t.Fatal(err)
	}
	pipe := func(name string, src catalog.Source) int64 {
		p, err := a.Catalog.CreatePipeline(ctx, catalog.PipelineInput{Name: name, SourceID: src.ID, DestinationID: dst.ID})
		if err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	running := pipe("orders-to-analytics", orders)
	failed := pipe("billing-to-analytics", billing)
	pipe("crm-contacts", crm)
	// a slot feeds one consumer: the refreshing pipeline reads a database of its own
	refreshing := pipe("orders-history", mk("orders-archive", testdb.NewSource(t, testdb.SourceOptions{})))
	for _, step := range []func() error{
		func() error { _, err := a.Catalog.Start(ctx, running); return err },
		func() error { _, err := a.Catalog.Start(ctx, failed); return err },
		func() error { _, err := a.Catalog.Refresh(ctx, refreshing); return err },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	gib := int64(1) << 30
	for i, s := range []struct {
		src      int64
		size     int64
		retained *int64
		active   bool
	}{
		{orders.ID, 37*gib + 123456789, ptr(int64(2)*gib + 987654321), true},
		{crm.ID, 512 * 1024 * 1024, nil, false},
	} {
		status := "reserved"
		if _, err := a.Catalog.RecordWALSample(ctx, catalog.NewWALSample{SourceID: s.src, SizeBytes: s.size, RetainedBytes: s.retained,
			SlotActive: &s.active, WALStatus: &status, RecordedAt: time.Now().Add(-time.Duration(i+2) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	msg := "connect: dial tcp 10.0.4.17:5432: connect: connection refused (after 3 attempts)"
	if err := db.New(a.Pool).RecordSourceProbeError(ctx, db.RecordSourceProbeErrorParams{ID: billing.ID, LastProbeError: &msg}); err != nil {
		t.Fatal(err)
	}
	if err := db.New(a.Pool).RecordSourceProbeOK(ctx, orders.ID); err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }
