package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// overflowJS lists what does not fit the viewport sideways: the page itself wider than
// the window (a horizontal scrollbar), and any button in a table (a row's Start, Pause,
// Refresh…) that lies even partly outside the window or is clipped by a scrolling
// table wrapper, where nobody finds it.
const overflowJS = `(() => {
  const bad = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth) bad.push("the page is " + doc.scrollWidth + "px wide in " + doc.clientWidth + "px");
  const vw = doc.clientWidth;
  for (const el of document.querySelectorAll("table :is(button, a.button, a[role=button], [role=button])")) {
    if (!el.checkVisibility()) continue;
    const r = el.getBoundingClientRect();
    let clip = {left: 0, right: vw};
    for (let p = el.parentElement; p; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (/(auto|scroll|hidden|clip)/.test(s.overflowX)) {
        const pr = p.getBoundingClientRect();
        clip = {left: Math.max(clip.left, pr.left), right: Math.min(clip.right, pr.right)};
      }
    }
    if (r.left < clip.left - 0.5 || r.right > clip.right + 0.5) {
      bad.push("button \"" + el.innerText.trim().slice(0, 30) + "\" spans " + Math.round(r.left) + "–" + Math.round(r.right) +
        "px, visible " + Math.round(clip.left) + "–" + Math.round(clip.right) + "px");
    }
  }
  return bad;
})()`

// checkOverflow fails the test for each thing on the page that does not fit sideways.
func (b *browser) checkOverflow(what string) {
	b.t.Helper()
	for _, p := range evalJS[[]string](b, overflowJS) {
		b.t.Errorf("%s: %s", what, p)
	}
}

// seedLongNames fills the console with what stretches tables: names at the 100-character
// limit and long errors whose useful end (the host) must stay readable.
func seedLongNames(t *testing.T, a *webtest.App) (pipelineID int64) {
	t.Helper()
	long := func(prefix string) string { return prefix + strings.Repeat("-replica-eu-west", 10)[:100-len(prefix)] }
	src := mkSource(t, a, long("orders"))
	dst := mkDestination(t, a, long("analytics"))
	errMsg := `preflight check "connect" failed: could not connect to the server: dial tcp: lookup ` +
		`orders-primary-replica-number-seventeen.eu-west-1.rds.internal.example.com on 10.0.0.2:53: no such host`
	var first int64
	for i := range 6 {
		p := mkPipeline(t, a, fmt.Sprintf("%02d-%s", i, long("pipeline")[:97]), src.ID, dst.ID)
		if first == 0 {
			first = p.ID
		}
		q := db.New(a.Pool)
		ctx := context.Background()
		switch i % 3 {
		case 0: // ERROR: Retry start, Pause, Refresh (the widest set of buttons)
			failPipeline(t, a, p.ID, errMsg, nil, false)
		case 1:
			if err := q.SetPipelineStatus(ctx, db.SetPipelineStatusParams{ID: p.ID, Status: catalog.DesiredStart}); err != nil {
				t.Fatal(err)
			}
			if err := q.SetPipelineRunning(ctx, p.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	probeFails(t, a, src.ID, "could not connect: dial tcp 10.0.4.17:5432: connect: connection refused (after 3 attempts) "+strings.Repeat("while probing the replica ", 4)+"at orders-db.internal")
	if _, err := a.Catalog.RecordWALSample(context.Background(), catalog.NewWALSample{SourceID: src.ID, SizeBytes: 1 << 34,
		RecordedAt: time.Now().Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		a.NewUser(auth.Operator)
	}
	return first
}

// TestBrowserLayoutFits: at a phone's 390 px and at 1280, 1440 and 1920 px desktops,
// no main page scrolls sideways and every button in every table is on screen (the
// pipelines table once overflowed 1,237 px in 1,200 at 1280, cutting off Pause and
// Refresh); on a phone every navigation link is reachable without sideways scrolling.
func TestBrowserLayoutFits(t *testing.T) {
	b := newBrowser(t)
	pid := seedLongNames(t, b.app)
	pages := []string{"/", "/sources", "/destinations", "/pipelines", fmt.Sprintf("/pipelines/%d", pid), "/audit",
		"/settings/tokens", "/users", "/wal", "/sources/1", "/destinations/1"}
	for _, w := range []struct {
		width, height int64
		phone         bool
	}{{390, 844, true}, {1280, 900, false}, {1440, 900, false}, {1920, 1080, false}} {
		b.viewport(w.width, w.height, w.phone)
		for _, p := range pages {
			b.nav(p)
			b.waitFor(p+" rendered", `!!document.querySelector("main#main h1")`)
			b.checkOverflow(fmt.Sprintf("%s at %dpx", p, w.width))
			if w.width == 1280 { // the folded errors, grouped causes and stacked lists pass axe too
				b.checkAxe(p)
			}
			if p == "/pipelines" {
				b.screenshot(fmt.Sprintf("layout-pipelines-%d", w.width))
				checkLongErrorFolds(b, w.width)
			}
			if p == "/audit" && w.phone && evalJS[float64](b, `document.querySelector('table[data-testid="audit-events"] thead').getBoundingClientRect().height`) > 1 {
				t.Error("on a phone the audit table keeps its header row: it should collapse into cards like the other tables")
			}
		}
		if w.phone {
			// the navigation wraps onto the screen: every link is inside the window
			out := evalJS[[]string](b, `[...document.querySelectorAll('nav[aria-label="Main"] a')].filter(a => a.checkVisibility())
				.filter(a => { const r = a.getBoundingClientRect(); return r.right > document.documentElement.clientWidth + 0.5 || r.left < -0.5 })
				.map(a => a.innerText.trim())`)
			if len(out) > 0 {
				t.Errorf("on a phone these navigation links are off screen: %v", out)
			}
			b.screenshot("layout-phone-nav")
		}
	}
}

// checkLongErrorFolds: a long error in the pipelines list shows its start and its whole
// end (where the host is), and unfolds to the full text without JavaScript's help.
func checkLongErrorFolds(b *browser, width int64) {
	b.t.Helper()
	const sel = `[data-testid="pipeline-row"] [data-testid="error-more"]`
	if !evalJS[bool](b, `!!document.querySelector('`+sel+`')`) {
		b.t.Fatalf("at %dpx no long error folds on /pipelines", width)
	}
	shown := evalJS[string](b, `document.querySelector('`+sel+` summary').innerText`)
	if !strings.Contains(shown, "eu-west-1.rds.internal.example.com on 10.0.0.2:53: no such host") || !strings.HasPrefix(shown, "preflight check") {
		b.t.Errorf("at %dpx the folded error reads %q: want its start and its whole end", width, shown)
	}
	b.click(sel + ` summary`)
	full := evalJS[string](b, `document.querySelector('`+sel+`').innerText`)
	if !strings.Contains(full, "could not connect to the server: dial tcp: lookup orders-primary-replica-number-seventeen.eu-west-1.rds.internal.example.com") {
		b.t.Errorf("at %dpx the unfolded error reads %q", width, full)
	}
	b.checkOverflow(fmt.Sprintf("/pipelines with an error unfolded at %dpx", width))
}
