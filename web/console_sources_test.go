package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

func TestConsoleSourcesList(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	for _, n := range []string{"orders-primary", "billing", "orders-replica"} {
		mkSource(t, a, n)
	}

	doc, got := listed(t, a, "/sources", "source-row")
	if strings.Join(got, ",") != "billing,orders-primary,orders-replica" {
		t.Errorf("rows %v, want every source by name", got)
	}
	if doc.Find(`a[href="/sources/new"]`).Length() == 0 {
		t.Error("no link to create a source")
	}
	if href := doc.Find(`nav [aria-current="page"]`).AttrOr("href", ""); href != "" && href != "/sources" {
		t.Errorf("active nav item %q", href)
	}
	// the search form: plain GET without JavaScript, in-place with htmx, pushed to the URL
	form := doc.Find(`form#sources-filter`)
	if form.AttrOr("method", "") != "get" || form.AttrOr("action", "") != "/sources" {
		t.Errorf("search form method=%q action=%q", form.AttrOr("method", ""), form.AttrOr("action", ""))
	}
	q := form.Find(`input[type=search][name=q]`)
	for attr, want := range map[string]string{"hx-get": "/sources", "hx-target": "#sources-list", "hx-push-url": "true",
		"hx-trigger": "input changed delay:300ms, search"} {
		if got := q.AttrOr(attr, ""); got != want {
			t.Errorf("search input %s=%q, want %q", attr, got, want)
		}
	}
	if id := q.AttrOr("id", ""); doc.Find(`label[for="`+id+`"]`).Length() != 1 {
		t.Error("search input has no label")
	}

	// a search: the full page for a plain request (a reload of the pushed URL) ...
	doc, _ = get(t, a, "/sources?q=orders&sort=-name", http.StatusOK)
	if got := texts(doc.Find(`[data-testid="source-row"] th a`)); strings.Join(got, ",") != "orders-replica,orders-primary" {
		t.Errorf("search rows %v", got)
	}
	if v, _ := inputValue(doc.Find("#sources-filter"), "q"); v != "orders" {
		t.Errorf("search box holds %q after a reload", v)
	}
	if v := doc.Find(`#sources-list select[name=sort]`).AttrOr("form", ""); v != "sources-filter" {
		t.Error("the sort is not carried into the next search")
	}
	// ... only the list section for htmx
	r := a.Do(http.MethodGet, "/sources?q=orders&sort=-name", nil, htmx)
	expectFragment(t, r)
	frag := parse(t, r)
	if frag.Find("body > section#sources-list").Length() != 1 || frag.Find("form#sources-filter").Length() != 0 {
		t.Errorf("fragment is not the list section alone:\n%s", r.Body)
	}
	if n := frag.Find(`[data-testid="source-row"]`).Length(); n != 2 {
		t.Errorf("fragment has %d rows", n)
	}
	// sort links keep the search and aim at the list
	link := frag.Find(`th[aria-sort="descending"] a.sort`)
	if href := link.AttrOr("href", ""); !strings.Contains(href, "q=orders") || !strings.Contains(href, "sort=name") {
		t.Errorf("sort link %q", href)
	}
	if link.AttrOr("hx-target", "") != "#sources-list" || link.AttrOr("hx-push-url", "") != "true" {
		t.Error("sort link does not update the list in place")
	}
	// a history restore gets the whole page
	r = a.Do(http.MethodGet, "/sources?q=orders", nil, htmx, "HX-History-Restore-Request: true")
	expectFullPage(t, r)

	// paging
	doc, _ = get(t, a, "/sources?limit=1&offset=1", http.StatusOK)
	if got := texts(doc.Find(`[data-testid="source-row"] th a`)); len(got) != 1 || got[0] != "orders-primary" {
		t.Errorf("page 2 of 3 = %v", got)
	}
	p := doc.Find(`#sources-list [data-testid="pagination"]`)
	if !strings.Contains(text(p), "Showing 2–2 of 3") || p.Find(`a[aria-current="page"]`).Text() != "2" {
		t.Errorf("pagination %q", text(p))
	}
	if href := p.Find(`a[aria-label="Next page"]`).AttrOr("href", ""); href != "/sources?limit=1&offset=2" {
		t.Errorf("next page link %q", href)
	}

	// nothing matches; nonsense controls fall back to defaults instead of failing
	doc, _ = get(t, a, "/sources?q=nope", http.StatusOK)
	if !strings.Contains(text(doc.Find(`[data-testid="empty-state"]`)), "No sources match") {
		t.Error("no empty state for a search without results")
	}
	doc, _ = get(t, a, "/sources?sort=bogus&limit=-3&offset=x", http.StatusOK)
	if n := doc.Find(`[data-testid="source-row"]`).Length(); n != 3 {
		t.Errorf("bad controls: %d rows", n)
	}
}

func TestConsoleSourcesEmpty(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	doc, _ := get(t, a, "/sources", http.StatusOK)
	empty := doc.Find(`[data-testid="empty-state"]`)
	if !strings.Contains(text(empty), "No sources yet") || empty.Find(`a[href="/sources/new"]`).Length() != 1 {
		t.Errorf("empty state %q", text(empty))
	}
}

// badSource has a mistake in every field.
var badSource = url.Values{
	"name": {""}, "pg_host": {"not a host!"}, "pg_port": {"99999"}, "pg_database": {" "}, "pg_username": {""},
	"pg_password": {""}, "publication_name": {"1bad"}, "replication_id": {"Bad-Slot"},
}

func TestConsoleSourceFormValidation(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	doc, r := get(t, a, "/sources/new", http.StatusOK)
	expectFullPage(t, r)
	form := doc.Find("form#source-form")
	if form.AttrOr("method", "") != "post" || form.AttrOr("action", "") != "/sources" || form.AttrOr("hx-post", "") != "/sources" {
		t.Fatalf("source form: method=%q action=%q hx-post=%q", form.AttrOr("method", ""), form.AttrOr("action", ""), form.AttrOr("hx-post", ""))
	}
	if form.Find(`input[type=hidden][name="_csrf"]`).Length() != 1 {
		t.Error("form has no CSRF field")
	}
	// every input is labelled
	form.Find("input:not([type=hidden]), select").Each(func(_ int, in *goquery.Selection) {
		if id := in.AttrOr("id", ""); id == "" || doc.Find(`label[for="`+id+`"]`).Length() != 1 {
			t.Errorf("input %q has no label", in.AttrOr("name", ""))
		}
	})

	want := []string{"name", "pg_host", "pg_port", "pg_database", "pg_username", "pg_password", "publication_name", "replication_id"}
	typed := url.Values{}
	for k, v := range badSource {
		typed[k] = v
	}
	typed.Set("pg_password", "")
	typed.Set("name", "x\x01") // a control character
	for _, hx := range []bool{false, true} {
		form, _ := refusedForm(t, a, "/sources", typed, hx, "source-form")
		errs := fieldErrors(form)
		for _, f := range want {
			if errs[f] == "" {
				t.Errorf("htmx=%v: no message beside %s (got %v)", hx, f, errs)
			}
			if in := form.Find(`[name="` + f + `"]`); errs[f] != "" && in.AttrOr("aria-invalid", "") != "true" {
				t.Errorf("htmx=%v: %s is not marked invalid", hx, f)
			}
		}
		if len(errs) != len(want) {
			t.Errorf("htmx=%v: messages %v", hx, errs)
		}
		if !strings.Contains(errs["pg_port"], "Port must be between 1 and 65535") {
			t.Errorf("port message %q", errs["pg_port"])
		}
		if !strings.Contains(text(form.Find(`[data-testid="form-message"]`)), "8 fields need attention") {
			t.Errorf("form message %q", text(form.Find(`[data-testid="form-message"]`)))
		}
		for _, f := range []string{"pg_host", "pg_port", "publication_name", "replication_id"} {
			if v, _ := inputValue(form, f); v != typed.Get(f) {
				t.Errorf("htmx=%v: %s = %q, want what was typed (%q)", hx, f, v, typed.Get(f))
			}
		}
	}

	// a password is never echoed, even when other fields are wrong
	bad := url.Values{}
	for k, v := range badSource {
		bad[k] = v
	}
	bad.Set("pg_password", "s3cret-never-shown")
	r = post(a, "/sources", bad)
	if r.Code != http.StatusUnprocessableEntity || strings.Contains(string(r.Body), "s3cret-never-shown") {
		t.Errorf("status %d; the password is in the answer: %v", r.Code, strings.Contains(string(r.Body), "s3cret-never-shown"))
	}
	if _, ok := inputValue(parse(t, r).Selection, "pg_password"); ok {
		t.Error("password input has a value attribute")
	}
}

func validSource(name string) url.Values {
	return url.Values{"name": {name}, "pg_host": {"db.internal"}, "pg_port": {"5433"}, "pg_database": {"orders"},
		"pg_username": {"rosetta"}, "pg_password": {"hunter2-secret"}, "publication_name": {"rosetta_pub"},
		"replication_id": {"rosetta_slot"}}
}

func TestConsoleSourceCreateEditDelete(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)

	// create, no JavaScript: POST → 303 → the source's page with a flash
	loc, id, doc, _ := createThroughForm(t, a, "/sources", validSource("orders-db"))
	details := text(doc.Find(`[data-testid="source-details"]`))
	for _, want := range []string{"db.internal", "5433", "orders", "rosetta", "rosetta_pub", "rosetta_slot", "stored (encrypted)"} {
		if !strings.Contains(details, want) {
			t.Errorf("source page lacks %q: %s", want, details)
		}
	}
	if strings.Contains(string(doc.Text()), "hunter2") {
		t.Fatal("the source page shows the password")
	}

	// create with htmx: HX-Redirect to the new page
	r := post(a, "/sources", validSource("billing"), htmx)
	if r.Code != http.StatusNoContent || !strings.HasPrefix(r.Header.Get("HX-Redirect"), "/sources/") {
		t.Errorf("htmx create: status %d, HX-Redirect %q", r.Code, r.Header.Get("HX-Redirect"))
	}

	// a duplicate name is a conflict, said in words beside the name
	r = post(a, "/sources", validSource("ORDERS-DB"))
	if r.Code != http.StatusConflict {
		t.Fatalf("duplicate: status %d", r.Code)
	}
	form := parse(t, r).Find("form#source-form")
	if msg := fieldErrors(form)["name"]; !strings.Contains(msg, "already used by another source") {
		t.Errorf("duplicate name message %q", msg)
	}
	if msg := text(form.Find(`[data-testid="form-message"]`)); !strings.Contains(msg, `A source named "ORDERS-DB" already exists`) {
		t.Errorf("duplicate form message %q", msg)
	}

	// the edit form: stored values, the password "unchanged" and never rendered
	doc, _ = get(t, a, loc+"/edit", http.StatusOK)
	form = doc.Find("form#source-form")
	if form.AttrOr("action", "") != loc {
		t.Errorf("edit form posts to %q", form.AttrOr("action", ""))
	}
	if v, _ := inputValue(form, "pg_host"); v != "db.internal" {
		t.Errorf("edit form host %q", v)
	}
	pw := form.Find(`input[name="pg_password"]`)
	if pw.AttrOr("placeholder", "") != "unchanged" || pw.AttrOr("value", "none") != "none" {
		t.Errorf("password field placeholder=%q value=%q", pw.AttrOr("placeholder", ""), pw.AttrOr("value", "none"))
	}
	if _, req := pw.Attr("required"); req {
		t.Error("the password is required on edit, though a stored one is kept when blank")
	}

	// save without a password keeps the stored one; a bad value re-renders with messages
	edit := validSource("orders-primary")
	edit.Set("pg_password", "")
	r = post(a, loc, edit)
	if got := redirectTo(t, r); got != loc {
		t.Errorf("update redirects to %q", got)
	}
	s, err := a.Catalog.GetSource(context.Background(), id)
	if err != nil || s.Name != "orders-primary" || s.PgPort != 5433 || !s.PgPasswordSet {
		t.Errorf("after update: %+v, %v", s, err)
	}
	// a cleared port is the default, as on create (a new endpoint, so with the password)
	edit.Set("pg_port", "")
	edit.Set("pg_password", "hunter2-secret")
	redirectTo(t, post(a, loc, edit))
	if s, err := a.Catalog.GetSource(context.Background(), id); err != nil || s.PgPort != 5432 {
		t.Errorf("after clearing the port: %+v, %v", s, err)
	}
	edit.Set("pg_password", "")
	edit.Set("pg_host", "")
	r = post(a, loc, edit, htmx)
	if r.Code != http.StatusUnprocessableEntity || fieldErrors(parse(t, r).Selection)["pg_host"] == "" {
		t.Errorf("bad update: status %d, errors %v", r.Code, fieldErrors(parse(t, r).Selection))
	}
	if pw := parse(t, r).Find(`input[name="pg_password"]`); pw.AttrOr("placeholder", "") != "unchanged" {
		t.Error("a refused edit forgets that a password is stored")
	}

	// delete while a pipeline uses it: the page says so up front (no delete button,
	// the pipeline linked), and a POST anyway (an old tab) lands back on the source page
	// with a flash naming the pipeline as a link, never a dead-end 409 page
	d := mkDestination(t, a, "analytics")
	p := mkPipeline(t, a, "orders-to-analytics", id, d.ID)
	doc, _ = get(t, a, loc, http.StatusOK)
	blocked := doc.Find(`[data-testid="delete-blocked"]`)
	if doc.Find(`[data-testid="confirm-delete"]`).Length() != 0 || !strings.Contains(text(blocked), "used by 1 pipeline") ||
		blocked.Find(fmt.Sprintf(`a[href="/pipelines/%d"]`, p.ID)).Length() != 1 {
		t.Errorf("a source in use still offers delete, or does not say why: %q", text(blocked))
	}
	r = post(a, loc+"/delete", nil)
	if got := redirectTo(t, r); got != loc {
		t.Fatalf("refused delete redirects to %q, want the source page", got)
	}
	doc, _ = followFlash(t, a, r, loc)
	fl := doc.Find(`#flash .flash-error`)
	if !strings.Contains(text(fl), "is used by pipeline") || fl.Find(fmt.Sprintf(`a[href="/pipelines/%d"]`, p.ID)).Length() != 1 {
		t.Errorf("refusal flash %q does not name and link the pipeline", text(fl))
	}
	r = post(a, loc+"/delete", nil, htmx)
	if r.Header.Get("HX-Redirect") != loc {
		t.Errorf("htmx refused delete: %d HX-Redirect %q", r.Code, r.Header.Get("HX-Redirect"))
	}

	// the source page lists the pipelines that use it
	doc, _ = get(t, a, loc, http.StatusOK)
	if got := texts(doc.Find(`[data-testid="pipelines-using"] [data-testid="using-row"] th a`)); len(got) != 1 || got[0] != "orders-to-analytics" {
		t.Errorf("pipelines using the source: %v", got)
	}

	// once free, delete → 303 to the list with a flash; the page is gone
	if err := a.Catalog.DeletePipeline(context.Background(), p.ID); err != nil {
		t.Fatal(err)
	}
	r = post(a, loc+"/delete", nil)
	if got := redirectTo(t, r); got != "/sources" {
		t.Errorf("delete redirects to %q", got)
	}
	if _, flashes := followFlash(t, a, r, "/sources"); !contains(flashes, "“orders-primary” deleted") {
		t.Errorf("flashes %q", flashes)
	}
	get(t, a, loc, http.StatusNotFound)
}

func TestConsoleSourceTestConnection(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	good := mkRealSource(t, a, "good", testdb.NewSource(t, testdb.SourceOptions{}))
	bad := mkRealSource(t, a, "no-publication", testdb.NewSource(t, testdb.SourceOptions{NoPublication: true}))

	doc, _ := get(t, a, fmt.Sprintf("/sources/%d", good.ID), http.StatusOK)
	btn := doc.Find(`[data-testid="test-connection"]`).Closest("form")
	if btn.AttrOr("action", "") != fmt.Sprintf("/sources/%d/test", good.ID) || btn.AttrOr("hx-target", "") != fmt.Sprintf("#source-%d-checks", good.ID) {
		t.Errorf("test form action=%q hx-target=%q", btn.AttrOr("action", ""), btn.AttrOr("hx-target", ""))
	}

	// htmx: the results region with each check, and the flash out of band
	r := post(a, fmt.Sprintf("/sources/%d/test", bad.ID), nil, htmx)
	if r.Code != http.StatusOK {
		t.Fatalf("status %d", r.Code)
	}
	expectFragment(t, r)
	frag := parse(t, r)
	region := frag.Find(fmt.Sprintf("#source-%d-checks", bad.ID))
	if region.Length() != 1 {
		t.Fatalf("no results region:\n%s", r.Body)
	}
	checks := region.Find(`[data-testid="check-results"] li`)
	if checks.Length() < 4 {
		t.Errorf("%d checks", checks.Length())
	}
	failed := region.Find(`li[data-status="fail"]`)
	if failed.Length() != 1 || !strings.Contains(text(failed), "Publication") || !strings.Contains(text(failed), "does not exist") ||
		!strings.Contains(text(failed), "Failed") {
		t.Errorf("failed check: %q", text(failed))
	}
	if region.Find(`li[data-status="ok"]`).Length() < 3 {
		t.Error("the passing checks are not shown as OK")
	}
	oob := frag.Find(`#flash[hx-swap-oob]`)
	if !strings.Contains(text(oob), "1 check failed") || oob.Find(".flash-error").Length() != 1 {
		t.Errorf("flash %q", text(oob))
	}

	// without JavaScript: the source page, with the results and the flash
	r = post(a, fmt.Sprintf("/sources/%d/test", good.ID), nil)
	expectFullPage(t, r)
	doc = parse(t, r)
	if doc.Find(`[data-testid="check-results"] li[data-status="fail"]`).Length() != 0 ||
		doc.Find(`[data-testid="check-results"] li`).Length() < 4 {
		t.Errorf("good source checks: %s", text(doc.Find(`[data-testid="check-results"]`)))
	}
	if !contains(texts(doc.Find(`#flash [data-testid="flash"]`)), "Connection test of “good”") {
		t.Errorf("flash %q", texts(doc.Find(`#flash [data-testid="flash"]`)))
	}
	// probe state and WAL on the page
	if _, err := a.Catalog.RecordWALSample(context.Background(), catalog.NewWALSample{SourceID: good.ID, SizeBytes: 3 << 30}); err != nil {
		t.Fatal(err)
	}
	doc, _ = get(t, a, fmt.Sprintf("/sources/%d", good.ID), http.StatusOK)
	if !strings.Contains(text(doc.Find(`[data-testid="source-wal"]`)), "3.0 GiB") {
		t.Errorf("WAL panel %q", text(doc.Find(`[data-testid="source-wal"]`)))
	}
}
