package web_test

import (
	"bytes"
	"context"
	"fmt"
	"github.com/rosetta-cdc/rosetta/internal/snowflake/sftest"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// Console tests: real requests through the full server on a real database, asserted on
// the rendered HTML with goquery (data-testid hooks).

const htmx = "HX-Request: true"

func parse(t *testing.T, r *webtest.Response) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// parseRows parses an answer that starts with table rows, in table context as htmx
// does (an HTML parser drops a bare <tr> found in a body).
func parseRows(t *testing.T, r *webtest.Response) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader("<table><tbody>" + string(r.Body) + "</tbody></table>"))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// get fetches a console page and checks it is HTML with the given status.
func get(t *testing.T, a *webtest.App, path string, status int, headers ...string) (*goquery.Document, *webtest.Response) {
	t.Helper()
	r := a.Do(http.MethodGet, path, nil, headers...)
	if r.Code != status {
		t.Fatalf("GET %s: status %d, want %d; body:\n%s", path, r.Code, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("GET %s: Content-Type %q", path, ct)
	}
	return parse(t, r), r
}

// post submits a urlencoded form, as a browser (or htmx) does.
func post(a *webtest.App, path string, form url.Values, headers ...string) *webtest.Response {
	a.T.Helper()
	h := append([]string{"Content-Type: application/x-www-form-urlencoded"}, headers...)
	return a.Do(http.MethodPost, path, form.Encode(), h...)
}

// isFullPage tells a layout page from an htmx fragment.
func isFullPage(r *webtest.Response) bool {
	return bytes.HasPrefix(bytes.ToLower(bytes.TrimSpace(r.Body)), []byte("<!doctype html>"))
}

func expectFragment(t *testing.T, r *webtest.Response) {
	t.Helper()
	if isFullPage(r) || bytes.Contains(r.Body, []byte("<html")) || bytes.Contains(r.Body, []byte("site-footer")) {
		t.Fatalf("want an htmx fragment, got a page:\n%s", r.Body)
	}
	expectVary(t, r)
}

func expectFullPage(t *testing.T, r *webtest.Response) {
	t.Helper()
	if !isFullPage(r) {
		t.Fatalf("want a full page, got:\n%s", r.Body)
	}
	doc := parse(t, r)
	if doc.Find("body > header.site-header").Length() != 1 || doc.Find("body > footer.site-footer").Length() != 1 ||
		doc.Find("main#main").Length() != 1 {
		t.Fatalf("page lacks the layout (header, main#main, footer)")
	}
	expectVary(t, r)
}

func expectVary(t *testing.T, r *webtest.Response) {
	t.Helper()
	if vary := strings.Join(r.Header.Values("Vary"), ","); !strings.Contains(vary, "HX-Request") {
		t.Errorf("Vary %q lacks HX-Request", vary)
	}
}

func texts(sel *goquery.Selection) []string {
	var out []string
	sel.Each(func(_ int, s *goquery.Selection) { out = append(out, strings.TrimSpace(s.Text())) })
	return out
}

func text(sel *goquery.Selection) string { return strings.Join(strings.Fields(sel.Text()), " ") }

// fieldErrors maps each form field (data-testid="field-<name>") to its message.
func fieldErrors(sel *goquery.Selection) map[string]string {
	m := map[string]string{}
	sel.Find(`[data-testid^="field-"]`).Each(func(_ int, f *goquery.Selection) {
		name := strings.TrimPrefix(f.AttrOr("data-testid", ""), "field-")
		if e := f.Find(`[data-testid="field-error"]`); e.Length() > 0 {
			m[name] = text(e)
		}
	})
	return m
}

func inputValue(sel *goquery.Selection, name string) (string, bool) {
	return sel.Find(fmt.Sprintf(`[name=%q]`, name)).Attr("value")
}

// redirectTo checks a plain-form success: 303 See Other to a path.
func redirectTo(t *testing.T, r *webtest.Response) string {
	t.Helper()
	if r.Code != http.StatusSeeOther {
		t.Fatalf("status %d, want 303; body:\n%s", r.Code, r.Body)
	}
	return r.Header.Get("Location")
}

// followFlash loads path carrying the cookies r set (the flash), as a browser would
// after a redirect, and returns the page and the flash texts shown.
func followFlash(t *testing.T, a *webtest.App, r *webtest.Response, path string) (*goquery.Document, []string) {
	t.Helper()
	var cookies []string
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	if len(cookies) == 0 {
		t.Fatalf("no cookie set; want a flash cookie. headers: %v", r.Header)
	}
	doc, next := get(t, a, path, http.StatusOK, "Cookie: "+strings.Join(cookies, "; "))
	// the flash is shown once: the page clears the cookie
	cleared := false
	for _, c := range (&http.Response{Header: next.Header}).Cookies() {
		if c.Name == "rosetta_flash" && c.MaxAge < 0 {
			cleared = true
		}
	}
	if !cleared {
		t.Error("the page that showed the flash did not clear its cookie")
	}
	return doc, texts(doc.Find(`#flash [data-testid="flash"]`))
}

// createThroughForm posts a valid form to list as a plain form (no JavaScript), follows
// the 303 to the new entity's page and checks its "created" flash. It returns the page's
// path, the new id, the page and the POST's answer.
func createThroughForm(t *testing.T, a *webtest.App, list string, v url.Values) (string, int64, *goquery.Document, *webtest.Response) {
	t.Helper()
	r := post(a, list, v)
	loc := redirectTo(t, r)
	var id int64
	if _, err := fmt.Sscanf(loc, list+"/%d", &id); err != nil {
		t.Fatalf("redirect to %q", loc)
	}
	doc, flashes := followFlash(t, a, r, loc)
	if !contains(flashes, "“"+v.Get("name")+"” created") {
		t.Errorf("flashes %q", flashes)
	}
	return loc, id, doc, r
}

// refusedForm posts a form that must be refused, as a plain form or with htmx, and
// returns the form the 422 answer re-renders (for htmx, the form alone) and the answer.
func refusedForm(t *testing.T, a *webtest.App, path string, v url.Values, hx bool, formID string) (*goquery.Selection, string) {
	t.Helper()
	var r *webtest.Response
	if hx {
		r = post(a, path, v, htmx)
		expectFragment(t, r)
	} else {
		r = post(a, path, v)
		expectFullPage(t, r)
	}
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("htmx=%v: status %d, want 422", hx, r.Code)
	}
	doc := parse(t, r)
	form := doc.Find("form#" + formID)
	if form.Length() != 1 {
		t.Fatalf("htmx=%v: no form in the answer", hx)
	}
	if hx && doc.Find("body > form#"+formID).Length() != 1 {
		t.Errorf("htmx answer is not the form alone")
	}
	return form, string(r.Body)
}

// mkChain registers a source "orders", a destination "analytics" and a pipeline
// "orders-live" between them.
func mkChain(t *testing.T, a *webtest.App) (catalog.Source, catalog.Destination, catalog.Pipeline) {
	t.Helper()
	src := mkSource(t, a, "orders")
	dst := mkDestination(t, a, "analytics")
	return src, dst, mkPipeline(t, a, "orders-live", src.ID, dst.ID)
}

// startablePipelines are two pipelines into "analytics" over real sources: "orders-live"
// reads "orders", which passes the preflight, and "billing-live" reads "billing", whose
// publication is missing, so starting it fails.
func startablePipelines(t *testing.T, a *webtest.App) (orders, billing catalog.Source, dst catalog.Destination, run, fail catalog.Pipeline) {
	t.Helper()
	orders = mkRealSource(t, a, "orders", testdb.NewSource(t, testdb.SourceOptions{}))
	billing = mkRealSource(t, a, "billing", testdb.NewSource(t, testdb.SourceOptions{NoPublication: true}))
	dst = mkDestination(t, a, "analytics")
	run = mkPipeline(t, a, "orders-live", orders.ID, dst.ID)
	fail = mkPipeline(t, a, "billing-live", billing.ID, dst.ID)
	return orders, billing, dst, run, fail
}

// listed loads a list page in full and returns it with the names of its rows (rows
// marked data-testid=rowID, the name a link in the row's header cell).
func listed(t *testing.T, a *webtest.App, path, rowID string) (*goquery.Document, []string) {
	t.Helper()
	doc, r := get(t, a, path, http.StatusOK)
	expectFullPage(t, r)
	return doc, texts(doc.Find(`[data-testid="` + rowID + `"] th a`))
}

func contains(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// ---- fixtures, through the catalog (the console's own forms are tested separately)

func mkSource(t *testing.T, a *webtest.App, name string) catalog.Source {
	t.Helper()
	port := 5432
	s, err := a.Catalog.CreateSource(context.Background(), catalog.SourceInput{Name: name, PgHost: "db.internal", PgPort: &port,
		PgDatabase: "orders", PgUsername: "rosetta", PgPassword: "hunter2-secret", PublicationName: "rosetta_pub",
		ReplicationID: "rosetta_slot"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mkRealSource(t *testing.T, a *webtest.App, name string, src testdb.Source) catalog.Source {
	t.Helper()
	port := src.Port
	s, err := a.Catalog.CreateSource(context.Background(), catalog.SourceInput{Name: name, PgHost: src.Host, PgPort: &port,
		PgDatabase: src.Database, PgUsername: src.User, PgPassword: src.Password, PublicationName: src.Publication,
		ReplicationID: src.Slot})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mkDestination(t *testing.T, a *webtest.App, name string) catalog.Destination {
	t.Helper()
	d, err := a.Catalog.CreateDestination(context.Background(), catalog.DestinationInput{Name: name, SnowflakeAccount: "acme-analytics",
		SnowflakeUser: "ROSETTA", SnowflakeDatabase: "RAW", SnowflakeSchema: "ORDERS", SnowflakeRole: "LOADER",
		SnowflakePrivateKey: ptr(sftest.KeyPEM()), SnowflakeHost: ptr(sftest.OfflineHost)})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mkPipeline(t *testing.T, a *webtest.App, name string, src, dst int64) catalog.Pipeline {
	t.Helper()
	p, err := a.Catalog.CreatePipeline(context.Background(), catalog.PipelineInput{Name: name, SourceID: src, DestinationID: dst})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// ---- layout-wide behaviour

func TestConsoleNotFoundKeepsLayout(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	dash, _ := get(t, a, "/", http.StatusOK)
	header, _ := dash.Find("body > header").Html()
	header = strings.ReplaceAll(header, ` aria-current="page"`, "")

	for _, path := range []string{"/sources/999999", "/destinations/999999/edit", "/pipelines/999999", "/no/such/page", "/sources/abc"} {
		doc, r := get(t, a, path, http.StatusNotFound)
		expectFullPage(t, r)
		if doc.Find(`main [data-testid="error-page"]`).Length() != 1 {
			t.Errorf("%s: no error body in main", path)
		}
		// the same header (navigation included) as every other page
		h, _ := doc.Find("body > header").Html()
		if strings.ReplaceAll(h, ` aria-current="page"`, "") != header {
			t.Errorf("%s: the 404 page's header differs from the dashboard's", path)
		}
		if doc.Find(`main a[href="/"]`).Length() == 0 {
			t.Errorf("%s: no way back to the dashboard", path)
		}
	}
	// an htmx request gets the error body alone, aimed at main
	r := a.Do(http.MethodGet, "/pipelines/999999", nil, htmx)
	if r.Code != http.StatusNotFound || isFullPage(r) || r.Header.Get("HX-Retarget") != "#main" {
		t.Errorf("htmx 404: status %d, full page %v, HX-Retarget %q", r.Code, isFullPage(r), r.Header.Get("HX-Retarget"))
	}
}

func TestConsoleFlashCookie(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	r := post(a, "/destinations", url.Values{"name": {"analytics"}, "snowflake_account": {"acme-analytics"},
		"snowflake_user": {"ROSETTA"}, "snowflake_database": {"RAW"}, "snowflake_schema": {"ORDERS"},
		"snowflake_role": {"LOADER"}, "snowflake_private_key_path": {"/etc/rosetta/key.p8"}})
	loc := redirectTo(t, r)
	var flash *http.Cookie
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "rosetta_flash" {
			flash = c
		}
	}
	if flash == nil {
		t.Fatal("no flash cookie after a create")
	}
	if !flash.HttpOnly || flash.SameSite != http.SameSiteLaxMode || flash.Path != "/" || flash.MaxAge <= 0 || flash.MaxAge > 300 {
		t.Errorf("flash cookie %+v: want HttpOnly, SameSite=Lax, Path=/, short-lived", flash)
	}
	if flash.Secure {
		t.Error("flash cookie is Secure on plain HTTP in the test environment")
	}
	_, shown := followFlash(t, a, r, loc)
	if len(shown) != 1 || !strings.Contains(shown[0], "analytics") || !strings.Contains(shown[0], "created") {
		t.Errorf("flash shown %q", shown)
	}
	// a forged or garbled cookie shows nothing and breaks nothing
	for _, v := range []string{"not-base64!", "e30", "W3siayI6InNjcmlwdCIsIm0iOiJ4In1d"} {
		doc, _ := get(t, a, "/", http.StatusOK, "Cookie: rosetta_flash="+v)
		if n := doc.Find(`#flash [data-testid="flash"]`).Length(); n != 0 {
			t.Errorf("cookie %q shows %d flashes", v, n)
		}
	}
	// over TLS the cookie is Secure
	srv := httptest.NewTLSServer(a.Server.Handler())
	defer srv.Close()
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequest(http.MethodPost, srv.URL+loc+"/delete", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.Admin.Token)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	secure := false
	for _, c := range res.Cookies() {
		if c.Name == "__Host-rosetta_flash" {
			secure = c.Secure && c.Path == "/" && c.Domain == ""
		}
	}
	if res.StatusCode != http.StatusSeeOther || !secure {
		t.Errorf("over TLS: status %d, __Host- flash cookie Secure = %v", res.StatusCode, secure)
	}
}
