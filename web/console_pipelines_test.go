package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/rosetta-cdc/rosetta/web/webtest"
)

func actionsOf(row *goquery.Selection) []string {
	var out []string
	row.Find(`[data-testid="pipeline-actions"] button[data-action]`).Each(func(_ int, b *goquery.Selection) {
		out = append(out, b.AttrOr("data-action", ""))
	})
	return out
}

func TestConsolePipelinesList(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	orders, billing, dst, run, fail := startablePipelines(t, a)
	mkPipeline(t, a, "orders-backfill", orders.ID, dst.ID)
	ctx := context.Background()
	if _, err := a.Catalog.Start(ctx, run.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Catalog.Start(ctx, fail.ID); err != nil {
		t.Fatal(err)
	}

	doc, r := get(t, a, "/pipelines", http.StatusOK)
	expectFullPage(t, r)
	rows := doc.Find(`[data-testid="pipeline-row"]`)
	if got := texts(rows.Find("th a")); strings.Join(got, ",") != "billing-live,orders-backfill,orders-live" {
		t.Fatalf("rows %v", got)
	}
	byName := func(name string) *goquery.Selection {
		return rows.FilterFunction(func(_ int, s *goquery.Selection) bool { return text(s.Find("th a")) == name })
	}
	for name, want := range map[string]struct {
		status  string
		actions string
	}{
		"orders-live":     {"RUNNING", "pause,refresh"},
		"billing-live":    {"ERROR", "start,pause,refresh"}, // refresh from ERROR, as the catalog allows
		"orders-backfill": {"PAUSED", "start,refresh"},
	} {
		row := byName(name)
		if got := row.AttrOr("data-status", ""); got != want.status {
			t.Errorf("%s: data-status %q, want %s", name, got, want.status)
		}
		badge := row.Find(`[data-testid="status-badge"]`).First()
		if text(badge) != want.status || !strings.Contains(badge.AttrOr("class", ""), "badge-"+strings.ToLower(want.status)) {
			t.Errorf("%s: badge %q class %q", name, text(badge), badge.AttrOr("class", ""))
		}
		if got := strings.Join(actionsOf(row), ","); got != want.actions {
			t.Errorf("%s: actions %s, want %s", name, got, want.actions)
		}
	}
	failRow := byName("billing-live")
	if le := text(failRow.Find(`[data-testid="last-error"]`)); !strings.Contains(le, `preflight check "publication" failed`) {
		t.Errorf("last error cell %q", le)
	}
	if failRow.Find(`[data-testid="last-error"] time[datetime]`).Length() != 1 {
		t.Error("last error has no time")
	}
	if failRow.Find(`button[data-action="start"]`).Text() == "" || !strings.Contains(failRow.Find(`button[data-action="start"]`).Text(), "Retry") {
		t.Errorf("the start button of an ERROR pipeline reads %q", failRow.Find(`button[data-action="start"]`).Text())
	}
	// row actions: plain POST forms that htmx turns into an in-place row update (the
	// target is the list's, on its <tbody>: htmx inherits it)
	form := byName("orders-live").Find(`button[data-action="pause"]`).Closest("form")
	if form.AttrOr("method", "") != "post" || form.AttrOr("action", "") != fmt.Sprintf("/pipelines/%d/pause", run.ID) ||
		form.AttrOr("hx-post", "") != fmt.Sprintf("/pipelines/%d/pause", run.ID) ||
		form.Closest("[hx-target]").AttrOr("hx-target", "") != "closest tr" ||
		form.Find(`input[name="_csrf"]`).Length() != 1 || form.Find(`input[name="next"]`).AttrOr("value", "") != "/pipelines" {
		h, _ := goquery.OuterHtml(form)
		t.Errorf("row action form: %s", h)
	}

	// the source and destination filters are names to type, not every name of the fleet:
	// the page carries none but the rows' own (their suggestions come as one types)
	for _, name := range []string{"source", "destination"} {
		field := doc.Find(`form#pipelines-filter input[type="text"][name="` + name + `"]`)
		list := doc.Find("#" + field.AttrOr("aria-controls", "") + `[role="listbox"]`)
		if field.Length() != 1 || field.AttrOr("value", "x") != "" || list.Length() != 1 ||
			list.AttrOr("hx-get", "") != "/pipelines/filter/"+name+"s" || list.Children().Length() != 0 {
			h, _ := goquery.OuterHtml(field.Parent())
			t.Errorf("%s filter:\n%s", name, h)
		}
	}
	if doc.Find(`select[name="source_id"], select[name="destination_id"]`).Length() != 0 {
		t.Error("the filters still list every source and destination")
	}

	// filters: runtime status, desired status, source (by name or id); the URL is the view
	for query, want := range map[string]string{
		"runtime_status=ERROR":                                "billing-live",
		"runtime_status=paused":                               "orders-backfill",
		"status=START&sort=-name":                             "orders-live,billing-live",
		fmt.Sprintf("source_id=%d", orders.ID):                "orders-backfill,orders-live",
		fmt.Sprintf("source_id=%d&q=back", orders.ID):         "orders-backfill",
		"source=orders":                                       "orders-backfill,orders-live",
		"source=+ORDERS+&q=back":                              "orders-backfill",
		"source=ord":                                          "", // a name, not a search
		"destination=Analytics&runtime_status=ERROR":          "billing-live",
		fmt.Sprintf("source=billing&source_id=%d", orders.ID): "billing-live", // the typed name wins
		fmt.Sprintf("destination_id=%d", dst.ID+1000):         "",
		"sort=status":                                         "billing-live,orders-live,orders-backfill",
		"runtime_status=nonsense&source_id=x&sort=bad!":       "billing-live,orders-backfill,orders-live",
	} {
		doc, _ := get(t, a, "/pipelines?"+query, http.StatusOK)
		if got := strings.Join(texts(doc.Find(`[data-testid="pipeline-row"] th a`)), ","); got != want {
			t.Errorf("?%s: rows %q, want %q", query, got, want)
		}
	}
	doc, _ = get(t, a, fmt.Sprintf("/pipelines?runtime_status=ERROR&source_id=%d", billing.ID), http.StatusOK)
	if doc.Find(`select[name="runtime_status"] option[selected]`).AttrOr("value", "") != "ERROR" ||
		doc.Find(`input[name="source"]`).AttrOr("value", "") != "billing" {
		t.Error("the filters do not show the filters of the URL")
	}
	sel := doc.Find(`select[name="runtime_status"]`)
	if sel.AttrOr("hx-get", "") != "/pipelines" || sel.AttrOr("hx-include", "") != "closest form" || sel.AttrOr("hx-push-url", "") != "true" {
		t.Error("changing a filter does not reload the list in place")
	}
	// htmx gets the list section (the filter selects stay in the form, untouched; only the
	// sort select, bound to the form, comes with the list); its row actions return to the
	// filtered view
	r = a.Do(http.MethodGet, "/pipelines?runtime_status=ERROR", nil, htmx)
	expectFragment(t, r)
	frag := parse(t, r)
	if frag.Find("body > section#pipelines-list").Length() != 1 || frag.Find(`select:not([name="sort"]), input[name="source"]`).Length() != 0 {
		t.Errorf("fragment:\n%s", r.Body)
	}
	if v := frag.Find(`input[name="next"]`).First().AttrOr("value", ""); v != "/pipelines?runtime_status=ERROR" {
		t.Errorf("next = %q", v)
	}
	doc, _ = get(t, a, "/pipelines?q=zzz", http.StatusOK)
	if !strings.Contains(text(doc.Find(`[data-testid="empty-state"]`)), "No pipelines match") {
		t.Error("no empty state for an empty search")
	}
}

func TestConsolePipelineFormValidation(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	// no sources or destinations yet: the form says where to start
	doc, _ := get(t, a, "/pipelines/new", http.StatusOK)
	if n := doc.Find(`[data-testid="missing-refs"] a`).Length(); n != 2 {
		t.Errorf("%d links to create the missing source and destination", n)
	}
	src := mkSource(t, a, "orders")
	dst := mkDestination(t, a, "analytics")
	doc, _ = get(t, a, fmt.Sprintf("/pipelines/new?source_id=%d", src.ID), http.StatusOK)
	if v, _ := inputValue(doc.Find("form#pipeline-form"), "source"); v != "orders" {
		t.Errorf("source not preselected: %q", v)
	}

	for _, hx := range []bool{false, true} {
		bad := url.Values{"name": {""}, "source_id": {""}, "destination_id": {"999999"}}
		form, _ := refusedForm(t, a, "/pipelines", bad, hx, "pipeline-form")
		errs := fieldErrors(form)
		if errs["name"] != "Name is required." || errs["source"] != "Source is required." ||
			!strings.Contains(errs["destination"], "No destination has id 999999") {
			t.Errorf("htmx=%v: messages %v", hx, errs)
		}
	}
	// typed values survive: the name and both references (posted as ids: shown by name)
	// (a name too long: a NUL is refused before any form, see TestBadInputIs4xxNamingTheField)
	r := post(a, "/pipelines", url.Values{"name": {strings.Repeat("x", 101)}, "source_id": {fmt.Sprint(src.ID)}, "destination_id": {fmt.Sprint(dst.ID)}})
	form := parse(t, r).Find("form#pipeline-form")
	if s, _ := inputValue(form, "source"); s != "orders" {
		t.Errorf("a refused form shows source %q", s)
	}
	if d, _ := inputValue(form, "destination"); d != "analytics" {
		t.Errorf("a refused form shows destination %q", d)
	}

	// create: 303 to the pipeline's page, paused, with a flash
	r = post(a, "/pipelines", url.Values{"name": {"orders-to-analytics"}, "source_id": {fmt.Sprint(src.ID)}, "destination_id": {fmt.Sprint(dst.ID)}})
	loc := redirectTo(t, r)
	doc, flashes := followFlash(t, a, r, loc)
	if !contains(flashes, "“orders-to-analytics” created") {
		t.Errorf("flashes %q", flashes)
	}
	if doc.Find(`[data-testid="pipeline-status"]`).AttrOr("data-status", "") != "PAUSED" {
		t.Error("a new pipeline is not shown paused")
	}
	// duplicate
	r = post(a, "/pipelines", url.Values{"name": {"Orders-To-Analytics"}, "source_id": {fmt.Sprint(src.ID)}, "destination_id": {fmt.Sprint(dst.ID)}})
	if r.Code != http.StatusConflict || !strings.Contains(fieldErrors(parse(t, r).Selection)["name"], "already used by another pipeline") {
		t.Errorf("duplicate: %d %v", r.Code, fieldErrors(parse(t, r).Selection))
	}
	// edit
	doc, _ = get(t, a, loc+"/edit", http.StatusOK)
	if v, _ := inputValue(doc.Find("form#pipeline-form"), "name"); v != "orders-to-analytics" {
		t.Errorf("edit form name %q", v)
	}
	other := mkDestination(t, a, "finance")
	r = post(a, loc, url.Values{"name": {"orders-to-finance"}, "source_id": {fmt.Sprint(src.ID)}, "destination_id": {fmt.Sprint(other.ID)}})
	redirectTo(t, r)
	doc, _ = get(t, a, loc, http.StatusOK)
	if text(doc.Find(`[data-testid="destination-link"]`)) != "finance" || text(doc.Find("h1")) != "orders-to-finance" {
		t.Errorf("after edit: %s / %s", text(doc.Find("h1")), text(doc.Find(`[data-testid="destination-link"]`)))
	}
}

func TestConsolePipelineActions(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	_, bad, dst, p, f := startablePipelines(t, a)
	path := fmt.Sprintf("/pipelines/%d", p.ID)
	rowTarget := fmt.Sprintf("HX-Target: pipeline-%d", p.ID)

	// htmx start from the row: the row alone, RUNNING, with Pause and Refresh; the flash OOB
	r := post(a, path+"/start", url.Values{"next": {"/pipelines?q=orders"}}, htmx, rowTarget)
	if r.Code != http.StatusOK {
		t.Fatalf("start: %d %s", r.Code, r.Body)
	}
	expectFragment(t, r)
	frag := parseRows(t, r)
	if !strings.HasPrefix(strings.TrimSpace(string(r.Body)), "<tr") {
		t.Error("the row must come first: htmx parses a response that starts with <tr> in table context")
	}
	row := frag.Find(fmt.Sprintf("tr#pipeline-%d", p.ID))
	if row.AttrOr("data-status", "") != "RUNNING" || text(row.Find(`[data-testid="status-badge"]`)) != "RUNNING" {
		t.Fatalf("row after start:\n%s", r.Body)
	}
	if got := strings.Join(actionsOf(row), ","); got != "pause,refresh" {
		t.Errorf("actions after start %s", got)
	}
	// Pause asks first: the keyboard goes to its disclosure's label, which is visible,
	// never to the confirming button hidden inside the closed disclosure.
	if _, ok := row.Find(`[data-testid="confirm-pause"] > summary`).Attr("autofocus"); !ok {
		t.Error("the keyboard is not put on the row's first action after the update")
	}
	if n := row.Find(`details:not([open]) > form [autofocus]`).Length(); n != 0 {
		t.Errorf("%d autofocus inside a closed confirmation: focus would land on a hidden button", n)
	}
	if v := row.Find(`input[name="next"]`).AttrOr("value", ""); v != "/pipelines?q=orders" {
		t.Errorf("row keeps next %q", v)
	}
	if oob := frag.Find(`#flash[hx-swap-oob]`); !strings.Contains(text(oob), "“orders-live” started") {
		t.Errorf("flash %q", text(oob))
	}
	// the detail page agrees
	doc, _ := get(t, a, path, http.StatusOK)
	st := doc.Find(`[data-testid="pipeline-status"]`)
	if st.AttrOr("data-status", "") != "RUNNING" || !strings.Contains(text(st.Find(`[data-testid="last-start"]`)), "UTC") {
		t.Errorf("detail after start: %s", text(st))
	}
	if doc.Find(`[data-testid="delete-blocked"]`).Length() != 1 || doc.Find(`[data-testid="confirm-delete"]`).Length() != 0 {
		t.Error("a running pipeline offers delete")
	}

	// starting again changes nothing, and says so
	r = post(a, path+"/start", nil, htmx, rowTarget)
	if !strings.Contains(text(parseRows(t, r).Find("#flash")), "already running") {
		t.Errorf("second start flash: %s", text(parseRows(t, r).Find("#flash")))
	}

	// htmx pause from the detail page: the status panel, the delete region out of band
	r = post(a, path+"/pause", nil, htmx, fmt.Sprintf("HX-Target: pipeline-%d-status", p.ID))
	expectFragment(t, r)
	frag = parse(t, r)
	panel := frag.Find(fmt.Sprintf("article#pipeline-%d-status", p.ID))
	if panel.AttrOr("data-status", "") != "PAUSED" || panel.Find(`[data-testid="paused-note"]`).Length() != 1 {
		t.Errorf("panel after pause:\n%s", r.Body)
	}
	if got := strings.Join(actionsOf(panel), ","); got != "start,refresh" {
		t.Errorf("panel actions %s", got)
	}
	del := frag.Find(fmt.Sprintf(`#pipeline-%d-status-delete[hx-swap-oob]`, p.ID))
	if del.Find(`[data-testid="confirm-delete"]`).Length() != 1 {
		t.Error("the delete region is not refreshed out of band")
	}
	if !strings.Contains(text(frag.Find("#flash")), "keeps retaining WAL") {
		t.Errorf("pause flash: %s", text(frag.Find("#flash")))
	}

	// refresh: REFRESH/RUNNING offers no second refresh; forcing one is a conflict,
	// answered with the row as it is and the reason
	r = post(a, path+"/refresh", nil, htmx, rowTarget)
	row = parseRows(t, r).Find("tr")
	if row.AttrOr("data-status", "") != "RUNNING" || strings.Join(actionsOf(row), ",") != "pause" {
		t.Errorf("after refresh: %s %v", row.AttrOr("data-status", ""), actionsOf(row))
	}
	r = post(a, path+"/refresh", nil, htmx, rowTarget)
	if r.Code != http.StatusConflict || parseRows(t, r).Find("tr").Length() != 1 ||
		!strings.Contains(text(parseRows(t, r).Find("#flash .flash-error")), "A refresh is already running") {
		t.Errorf("second refresh: %d\n%s", r.Code, r.Body)
	}

	// a failing preflight: ERROR, the failed check in words, Retry start, Pause and Refresh
	r = post(a, fmt.Sprintf("/pipelines/%d/start", f.ID), nil, htmx, fmt.Sprintf("HX-Target: pipeline-%d", f.ID))
	frag = parseRows(t, r)
	row = frag.Find("tr")
	if row.AttrOr("data-status", "") != "ERROR" || strings.Join(actionsOf(row), ",") != "start,pause,refresh" {
		t.Errorf("failed start row: %s %v", row.AttrOr("data-status", ""), actionsOf(row))
	}
	if le := text(row.Find(`[data-testid="last-error"]`)); !strings.Contains(le, "publication") || !strings.Contains(le, "does not exist") {
		t.Errorf("last error %q", le)
	}
	fl := frag.Find("#flash .flash-error")
	if !strings.Contains(text(fl), "could not start: the publication check failed") {
		t.Errorf("failed start flash %q", text(fl))
	}
	// and the detail page shows the error with its time
	doc, _ = get(t, a, fmt.Sprintf("/pipelines/%d", f.ID), http.StatusOK)
	le := doc.Find(`[data-testid="pipeline-status"] [data-testid="last-error"]`)
	if !strings.Contains(text(le), "publication") || le.Find("time[datetime]").Length() != 1 {
		t.Errorf("detail last error %q", text(le))
	}
	if text(doc.Find(`[data-testid="source-link"]`)) != "billing" || text(doc.Find(`[data-testid="destination-link"]`)) != "analytics" {
		t.Error("detail page lacks the source and destination")
	}
	// a detail-page start shows the preflight checks under the status
	r = post(a, fmt.Sprintf("/pipelines/%d/start", f.ID), nil, htmx, fmt.Sprintf("HX-Target: pipeline-%d-status", f.ID))
	if parse(t, r).Find(`[data-testid="check-results"] li[data-status="fail"]`).Length() != 1 {
		t.Errorf("detail start shows no failed check:\n%s", r.Body)
	}

	// without JavaScript: POST → 303 back to next (a local path only) with the flash
	r = post(a, path+"/pause", url.Values{"next": {"/pipelines?q=orders"}})
	if got := redirectTo(t, r); got != "/pipelines?q=orders" {
		t.Errorf("redirect to %q", got)
	}
	if _, flashes := followFlash(t, a, r, "/pipelines?q=orders"); !contains(flashes, "paused") {
		t.Errorf("flashes %q", flashes)
	}
	for _, next := range []string{"https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"} {
		if got := redirectTo(t, post(a, path+"/pause", url.Values{"next": {next}})); got != path {
			t.Errorf("next %q redirects to %q", next, got)
		}
	}
	// unknown pipeline
	if r := post(a, "/pipelines/999999/start", nil); r.Code != http.StatusNotFound {
		t.Errorf("start of a missing pipeline: %d", r.Code)
	}

	// delete: refused while running, allowed when paused
	if _, err := a.Catalog.Start(context.Background(), p.ID); err != nil {
		t.Fatal(err)
	}
	// (and while running its source cannot change: said above the form, the form kept)
	doc, _ = get(t, a, path+"/edit", http.StatusOK)
	if !strings.Contains(text(doc.Find(`[data-testid="field-source"]`)), "Pause the pipeline to change it") {
		t.Error("the edit form of a running pipeline does not say the source is locked")
	}
	r = post(a, path, url.Values{"name": {"renamed"}, "source_id": {fmt.Sprint(bad.ID)}, "destination_id": {fmt.Sprint(dst.ID)}}, htmx)
	if r.Code != http.StatusConflict {
		t.Fatalf("re-pointing a running pipeline: %d", r.Code)
	}
	form := parse(t, r).Find("body > form#pipeline-form")
	if msg := text(form.Find(`[data-testid="form-message"]`)); !strings.Contains(msg, "is running: pause it before changing its source") {
		t.Errorf("form message %q", msg)
	}
	if v, _ := inputValue(form, "name"); v != "renamed" {
		t.Errorf("the refused form lost the typed name: %q", v)
	}
	r = post(a, path+"/delete", nil)
	if got := redirectTo(t, r); got != path {
		t.Errorf("refused delete of a running pipeline redirects to %q", got)
	}
	if _, flashes := followFlash(t, a, r, path); !contains(flashes, "pause it before deleting") {
		t.Errorf("delete running: flashes %q", flashes)
	}
	redirectTo(t, post(a, path+"/pause", nil))
	if got := redirectTo(t, post(a, path+"/delete", nil)); got != "/pipelines" {
		t.Errorf("delete redirects to %q", got)
	}
	get(t, a, path, http.StatusNotFound)
}
