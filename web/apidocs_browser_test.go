package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
)

// checkAxeAll is checkAxe with axe's best-practice rules as well: landmarks (one main,
// not nested), heading order. Swagger UI broke those; the console pages meet them.
func (b *browser) checkAxeAll(what string) {
	b.t.Helper()
	for _, v := range b.runAxe(what, append(slices.Clone(axeWCAG), "best-practice")) {
		b.t.Errorf("%s: axe %s (%s): %s at %s", what, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "; "))
	}
}

// runningPipeline is a pipeline marked RUNNING straight in the database (no preflight).
func runningPipeline(t *testing.T, b *browser, name string) int64 {
	t.Helper()
	src, dst := mkSource(t, b.app, name+"-src"), mkDestination(t, b.app, name+"-dst")
	p := mkPipeline(t, b.app, name, src.ID, dst.ID)
	q, ctx := db.New(b.app.Pool), context.Background()
	if err := q.SetPipelineStatus(ctx, db.SetPipelineStatusParams{ID: p.ID, Status: catalog.DesiredStart}); err != nil {
		t.Fatal(err)
	}
	if err := q.SetPipelineRunning(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	return p.ID
}

func runtimeStatus(t *testing.T, b *browser, id int64) string {
	t.Helper()
	p, err := b.app.Catalog.GetPipeline(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p.Metadata.Status
}

// TestBrowserAPIDocs: /api/docs passes axe, as every console page does, both as it loads
// and with an operation open for "Try it out"; a signed-in user tries a request without
// pasting a token (the session cookie goes along, apidocs.js adds the CSRF token); and
// CSRF protection still holds: the same request without the token, or posted from
// another site, is refused and changes nothing.
func TestBrowserAPIDocs(t *testing.T) {
	b := newBrowser(t)
	id := runningPipeline(t, b, "orders")

	b.nav("/api/docs")
	b.waitFor("Swagger UI renders the API", `!!document.querySelector('#swagger-ui .info .title') && document.querySelectorAll('#swagger-ui .opblock').length > 20`)
	b.checkAxeAll("/api/docs")
	b.checkContrast("/api/docs")
	b.screenshot("apidocs")

	// ---- Try it out: pause the pipeline through the session
	op := `#operations-pipelines-pause-pipeline`
	b.click(op + ` .opblock-summary-control`)
	b.waitFor("the operation opens", `!!document.querySelector('`+op+` .try-out__btn')`)
	b.click(op + ` .try-out__btn`)
	b.waitFor("the id field", `!!document.querySelector('`+op+` tr[data-param-name="id"] input')`)
	b.do("type the id", chromedp.SendKeys(op+` tr[data-param-name="id"] input`, fmt.Sprint(id)))
	b.checkAxeAll("/api/docs with Try it out open")
	b.click(op + ` .btn.execute`)
	// done: the status is shown and Execute is no longer disabled for the request
	b.waitFor("the response", `!!document.querySelector('`+op+` .live-responses-table tbody .response-col_status') && !document.querySelector('`+op+` .btn.execute[disabled]')`)
	if got := evalJS[string](b, `document.querySelector('`+op+` .live-responses-table tbody .response-col_status').innerText.trim()`); got != "200" {
		t.Errorf("Try it out answered %q, want 200: %s", got, evalJS[string](b, `document.querySelector('`+op+` .live-responses-table').innerText`))
	}
	if got := runtimeStatus(t, b, id); got != catalog.RuntimePaused {
		t.Errorf("after Try it out the pipeline is %s, want PAUSED", got)
	}
	b.checkAxeAll("/api/docs with a response shown")
	b.screenshot("apidocs-try-it-out")
	// Swagger UI's own dark theme follows the system, as the console does
	b.colorScheme("dark")
	b.nav("/api/docs")
	b.waitFor("Swagger UI renders the API in the dark", `document.documentElement.classList.contains("dark-mode") && document.querySelectorAll('#swagger-ui .opblock').length > 20`)
	b.checkAxe("/api/docs in the dark")
	b.checkContrast("/api/docs in the dark")
	b.screenshot("apidocs-dark")
	b.colorScheme("light")

	// ---- without the CSRF token the same session is refused
	other := runningPipeline(t, b, "billing")
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[float64](fmt.Sprintf(`fetch("/api/v1/pipelines/%d/pause", {method: "POST", credentials: "same-origin"}).then(r => r.status)`, other), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if got != http.StatusForbidden {
		t.Errorf("a session POST without the CSRF token answered %v, want 403", got)
	}
	// ---- a page on another site posting a form to the API
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>evil</title><form id="f" method="post" action="%s/api/v1/pipelines/%d/pause"></form>
<script>document.getElementById("f").submit()</script>`, b.base, other)
	}))
	t.Cleanup(evil.Close)
	// 127.0.0.1 and localhost are different sites to the browser
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)
	b.do("open the other site", chromedp.Navigate(evilURL))
	b.waitFor("the forged post is answered", `location.pathname.endsWith("/pause")`)
	if status := runtimeStatus(t, b, other); status != catalog.RuntimeRunning {
		t.Errorf("a cross-site POST paused the pipeline (now %s)", status)
	}
	if body := evalJS[string](b, `document.body.innerText`); !strings.Contains(body, "403") && !strings.Contains(body, "401") &&
		!strings.Contains(strings.ToLower(body), "forbidden") && !strings.Contains(strings.ToLower(body), "sign in") {
		t.Errorf("the cross-site POST was not refused: %q", body)
	}
}
