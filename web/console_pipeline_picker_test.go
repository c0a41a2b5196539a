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
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/views/partials"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// bulkSources registers n sources named prefix-001… straight in the database: a fleet
// for the pickers, none of which is ever connected to.
func bulkSources(t *testing.T, a *webtest.App, prefix string, n int) {
	t.Helper()
	if _, err := a.Pool.Exec(context.Background(), `INSERT INTO sources (name, pg_host, pg_database, pg_username, pg_password,
		publication_name, replication_id) SELECT $1 || '-' || lpad(i::text, 3, '0'), 'h', 'd', 'u', '\x00'::bytea, 'p', 'r'
		FROM generate_series(1, $2::int) i`, prefix, n); err != nil {
		t.Fatal(err)
	}
}

// refCombobox is the pipeline form's field for a source (destination) name, checked to
// be a labelled combobox whose listbox asks the suggestions endpoint.
func refCombobox(t *testing.T, doc *goquery.Selection, name string) *goquery.Selection {
	t.Helper()
	in := doc.Find(`form#pipeline-form input[type="text"][name="` + name + `"]`)
	if in.Length() != 1 {
		t.Fatalf("%d text inputs named %q in the pipeline form", in.Length(), name)
	}
	id := in.AttrOr("id", "")
	list := doc.Find("#" + in.AttrOr("aria-controls", "-") + `[role="listbox"]`)
	if in.AttrOr("role", "") != "combobox" || in.AttrOr("aria-expanded", "") != "false" || list.Length() != 1 ||
		list.AttrOr("hx-get", "") != partials.RefOptionsURL(name) || list.AttrOr("hx-include", "") != "#"+id ||
		!strings.Contains(list.AttrOr("hx-trigger", ""), "delay:") || list.Children().Length() != 0 ||
		doc.Find(`label[for="`+id+`"]`).Length() != 1 || list.AttrOr("aria-label", "") == "" {
		h, _ := goquery.OuterHtml(in.Parent().Parent())
		t.Errorf("%s is not a labelled combobox asking %s:\n%s", name, partials.RefOptionsURL(name), h)
	}
	return in
}

// The pipeline form reaches every source of a fleet by its name: typed (no JavaScript)
// and matched exactly, case-insensitive, like the list's filters; an unknown name is
// refused beside its field with everything typed kept; the page carries no names.
func TestConsolePipelineFormPicksByName(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	bulkSources(t, a, "src", 200)
	dst := mkDestination(t, a, "analytics")

	doc, r := get(t, a, "/pipelines/new", http.StatusOK)
	refCombobox(t, doc.Selection, "source")
	refCombobox(t, doc.Selection, "destination")
	if n := doc.Find(`form#pipeline-form select`).Length(); n != 0 {
		t.Errorf("%d selects in the pipeline form", n)
	}
	if strings.Contains(string(r.Body), "src-") || doc.Find(`[data-testid="missing-refs"]`).Length() != 0 {
		t.Error("the form page carries source names, or says there are none")
	}

	// No JavaScript: source #150 of 200, typed in another case, spaces around.
	r = post(a, "/pipelines", url.Values{"name": {"p150"}, "source": {"  SRC-150 "}, "destination": {"Analytics"}})
	loc := redirectTo(t, r)
	var id int64
	if _, err := fmt.Sscanf(loc, "/pipelines/%d", &id); err != nil {
		t.Fatalf("redirect to %q", loc)
	}
	p, err := a.Catalog.GetPipeline(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Source.Name != "src-150" || p.DestinationID != dst.ID {
		t.Errorf("created with source %q, destination %d", p.Source.Name, p.DestinationID)
	}

	// Unknown names: 422, said beside the field with what was typed, everything kept.
	for _, hx := range []bool{false, true} {
		form, _ := refusedForm(t, a, "/pipelines", url.Values{"name": {"p-next"}, "source": {"src-999"},
			"destination": {"analytics"}}, hx, "pipeline-form")
		errs := fieldErrors(form)
		if len(errs) != 1 || errs["source"] != "No source is named “src-999”." {
			t.Errorf("htmx=%v: messages %v", hx, errs)
		}
		for name, want := range map[string]string{"name": "p-next", "source": "src-999", "destination": "analytics"} {
			if v, _ := inputValue(form, name); v != want {
				t.Errorf("htmx=%v: the refused form shows %s %q, want %q", hx, name, v, want)
			}
		}
		in := form.Find(`input[name="source"]`)
		if in.AttrOr("aria-invalid", "") != "true" || !strings.Contains(in.AttrOr("aria-describedby", ""), in.AttrOr("id", "")+"-error") {
			t.Errorf("htmx=%v: the source field is not marked invalid with its message", hx)
		}
	}
	// Every bad field at once: the unknown name beside the others, none lost.
	form, _ := refusedForm(t, a, "/pipelines", url.Values{"name": {""}, "source": {"src-150"}, "destination": {"<b>nope</b>"}},
		false, "pipeline-form")
	errs := fieldErrors(form)
	if errs["name"] != "Name is required." || errs["destination"] != "No destination is named “<b>nope</b>”." || len(errs) != 2 {
		t.Errorf("messages %v", errs)
	}
	if form.Find("b").Length() != 0 {
		t.Error("the name typed is not escaped in its message")
	}
	if msg := text(form.Find(`[data-testid="form-message"]`)); !strings.HasPrefix(msg, "2 fields need attention") {
		t.Errorf("form message %q", msg)
	}
	// Left empty: required, as the select was.
	form, _ = refusedForm(t, a, "/pipelines", url.Values{"name": {"x"}, "source": {" "}, "destination": {"analytics"}}, false, "pipeline-form")
	if errs := fieldErrors(form); errs["source"] != "Source is required." {
		t.Errorf("empty source: %v", errs)
	}
	// Nothing was created by the refusals.
	if page, err := a.Catalog.ListPipelines(context.Background(), catalog.ListParams{Limit: 10}, catalog.PipelineFilter{}); err != nil || page.Total != 1 {
		t.Errorf("%d pipelines after the refusals (%v)", page.Total, err)
	}

	// "New pipeline from this source" (?source_id=): the field shows its name; a stale id
	// shows nothing rather than failing.
	src150, err := a.Catalog.SourceNamed(context.Background(), "src-150")
	if err != nil {
		t.Fatal(err)
	}
	for query, want := range map[string]string{fmt.Sprintf("source_id=%d", src150.ID): "src-150", "source_id=999999": "",
		fmt.Sprintf("destination_id=%d", dst.ID): ""} {
		doc, _ := get(t, a, "/pipelines/new?"+query, http.StatusOK)
		if v, _ := inputValue(doc.Find("form#pipeline-form"), "source"); v != want {
			t.Errorf("?%s: source field %q, want %q", query, v, want)
		}
	}
	doc, _ = get(t, a, fmt.Sprintf("/pipelines/new?destination_id=%d", dst.ID), http.StatusOK)
	if v, _ := inputValue(doc.Find("form#pipeline-form"), "destination"); v != "analytics" {
		t.Errorf("?destination_id=: destination field %q", v)
	}

	// The edit form shows the names; another name typed re-points the paused pipeline.
	doc, _ = get(t, a, loc+"/edit", http.StatusOK)
	if v := refCombobox(t, doc.Selection, "source").AttrOr("value", ""); v != "src-150" {
		t.Errorf("edit form source %q", v)
	}
	redirectTo(t, post(a, loc, url.Values{"name": {"p150"}, "source": {"src-007"}, "destination": {"analytics"}}))
	if p, err = a.Catalog.GetPipeline(context.Background(), id); err != nil || p.Source.Name != "src-007" {
		t.Errorf("after re-pointing: source %q (%v)", p.Source.Name, err)
	}
	// An unknown name on the edit form changes nothing.
	form, _ = refusedForm(t, a, loc, url.Values{"name": {"renamed"}, "source": {"gone"}, "destination": {"analytics"}}, true, "pipeline-form")
	if errs := fieldErrors(form); errs["source"] != "No source is named “gone”." {
		t.Errorf("edit, unknown name: %v", errs)
	}
	if p, _ = a.Catalog.GetPipeline(context.Background(), id); p.Name != "p150" || p.Source.Name != "src-007" {
		t.Errorf("a refused edit saved: %q from %q", p.Name, p.Source.Name)
	}
}

// While a pipeline runs its source and destination stay locked, by name as they were by
// select: the edit form says so, the same name saves, another is refused (409) with the
// form kept.
func TestConsolePipelineFormRunningKeepsRefs(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	src, dst := mkSource(t, a, "orders"), mkDestination(t, a, "analytics")
	mkSource(t, a, "billing")
	p := mkPipeline(t, a, "orders-live", src.ID, dst.ID)
	q, ctx := db.New(a.Pool), context.Background()
	if err := q.SetPipelineStatus(ctx, db.SetPipelineStatusParams{ID: p.ID, Status: catalog.DesiredStart}); err != nil {
		t.Fatal(err)
	}
	if err := q.SetPipelineRunning(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	path := partials.PipelineURL(p.ID)
	doc, _ := get(t, a, path+"/edit", http.StatusOK)
	for _, name := range []string{"source", "destination"} {
		if !strings.Contains(text(doc.Find(`[data-testid="field-`+name+`"]`)), "Pause the pipeline to change it") {
			t.Errorf("the edit form of a running pipeline does not say its %s is locked", name)
		}
	}
	if v, _ := inputValue(doc.Find("form#pipeline-form"), "source"); v != "orders" {
		t.Errorf("edit form source %q", v)
	}
	// the same names (any case): a rename saves
	redirectTo(t, post(a, path, url.Values{"name": {"orders-live-2"}, "source": {"ORDERS"}, "destination": {"analytics"}}))
	// another source: refused, nothing saved, the form keeps what was typed
	r := post(a, path, url.Values{"name": {"renamed"}, "source": {"billing"}, "destination": {"analytics"}}, htmx)
	if r.Code != http.StatusConflict {
		t.Fatalf("re-pointing a running pipeline by name: %d", r.Code)
	}
	form := parse(t, r).Find("body > form#pipeline-form")
	if msg := text(form.Find(`[data-testid="form-message"]`)); !strings.Contains(msg, "is running: pause it before changing its source") {
		t.Errorf("form message %q", msg)
	}
	if v, _ := inputValue(form, "source"); v != "billing" {
		t.Errorf("the refused form shows source %q", v)
	}
	if got, _ := a.Catalog.GetPipeline(ctx, p.ID); got.Name != "orders-live-2" || got.SourceID != src.ID {
		t.Errorf("after the refusal: %q from source %d", got.Name, got.SourceID)
	}
}

// The form's suggestions are the list filter's endpoint asked with the form field's own
// name=value: bounded at any fleet size and escaped.
func TestConsolePipelineFormSuggestions(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	bulkSources(t, a, "src", 200)
	mkSource(t, a, `<img src=x onerror=alert(1)>`)
	doc, _ := get(t, a, "/pipelines/new", http.StatusOK)
	in := refCombobox(t, doc.Selection, "source")
	list := doc.Find("#" + in.AttrOr("aria-controls", ""))
	ask := func(typed string) *goquery.Document {
		t.Helper()
		// what htmx sends: the listbox's hx-get with the included field's name=value
		q := url.Values{in.AttrOr("name", ""): {typed}}
		d, _ := get(t, a, list.AttrOr("hx-get", "")+"?"+q.Encode(), http.StatusOK, htmx)
		return d
	}
	d := ask("src-1")
	if got := texts(d.Find(`[data-testid="ref-option"]`)); len(got) != partials.RefSuggestionsLimit || got[0] != "src-100" ||
		d.Find(`[data-testid="ref-more"]`).Length() != 1 {
		t.Errorf("src-1: %d suggestions %v", len(got), got)
	}
	d = ask("ONERROR")
	if got := texts(d.Find(`[data-testid="ref-option"]`)); len(got) != 1 || got[0] != `<img src=x onerror=alert(1)>` ||
		d.Find("img").Length() != 0 || d.Find(`[data-testid="ref-option"]`).AttrOr("data-value", "") != got[0] {
		t.Errorf("a hostile name: %v, %d img", got, d.Find("img").Length())
	}
}

// A name the operator leaves as the form showed it keeps the source it was shown for,
// even when another source has taken that name meanwhile (two sources' names swapped
// between showing the edit form and saving it): saving the pipeline's other fields must
// not re-point it. A name the operator changes is looked up, and a form shown again
// after a refusal carries the pair it came with, not the name typed since.
func TestConsolePipelineFormKeepsTheSourceItShowed(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	ctx := context.Background()
	orders, v2, billing := mkSource(t, a, "orders"), mkSource(t, a, "orders-v2"), mkSource(t, a, "billing")
	dst := mkDestination(t, a, "analytics")
	p := mkPipeline(t, a, "orders-feed", orders.ID, dst.ID)
	path := fmt.Sprintf("/pipelines/%d", p.ID)

	// the form's fields as the browser would post them
	posted := func(doc *goquery.Document) url.Values {
		v := url.Values{}
		doc.Find("form#pipeline-form input[name]").Each(func(_ int, in *goquery.Selection) {
			v.Set(in.AttrOr("name", ""), in.AttrOr("value", ""))
		})
		return v
	}
	swap := func() {
		t.Helper()
		for _, r := range []struct {
			id   int64
			name string
		}{{orders.ID, "orders-tmp"}, {v2.ID, "orders"}, {orders.ID, "orders-v2"}} {
			if _, err := a.Catalog.UpdateSource(ctx, r.id, catalog.SourcePatch{Name: &r.name}); err != nil {
				t.Fatal(err)
			}
		}
	}
	sourceOf := func(id int64) int64 {
		t.Helper()
		got, err := a.Catalog.GetPipeline(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return got.SourceID
	}

	doc, _ := get(t, a, path+"/edit", http.StatusOK)
	v := posted(doc)
	if v.Get("source") != "orders" || v.Get("source_id") != fmt.Sprint(orders.ID) {
		t.Fatalf("the edit form posts source %q, source_id %q", v.Get("source"), v.Get("source_id"))
	}
	swap() // "orders" is now v2's name
	v.Set("name", "orders-feed-2")
	redirectTo(t, post(a, path, v))
	if got := sourceOf(p.ID); got != orders.ID {
		t.Errorf("saving the name re-pointed the pipeline from source %d to %d", orders.ID, got)
	}

	// A changed name is looked up; after a refusal (a bad name) the form carries on the
	// pair it was posted with, so the name typed since is still looked up.
	doc, _ = get(t, a, path+"/edit", http.StatusOK)
	v = posted(doc)
	v.Set("source", "billing")
	v.Set("name", "")
	r := post(a, path, v)
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("empty name: %d", r.Code)
	}
	again := posted(parse(t, r))
	if again.Get("source") != "billing" || again.Get("source_shown") != v.Get("source_shown") || again.Get("source_id") != v.Get("source_id") {
		t.Errorf("the refused form posts source %q, shown %q, id %q", again.Get("source"), again.Get("source_shown"), again.Get("source_id"))
	}
	again.Set("name", "billing-feed")
	redirectTo(t, post(a, path, again))
	if got := sourceOf(p.ID); got != billing.ID {
		t.Errorf("a source typed by name: the pipeline reads source %d, want billing (%d)", got, billing.ID)
	}

	// "New pipeline from this source" keeps the source it was opened for too.
	doc, _ = get(t, a, fmt.Sprintf("/pipelines/new?source_id=%d", billing.ID), http.StatusOK)
	v = posted(doc)
	v.Set("name", "from-billing")
	v.Set("destination", "analytics")
	renamed := "billing-old"
	if _, err := a.Catalog.UpdateSource(ctx, billing.ID, catalog.SourcePatch{Name: &renamed}); err != nil {
		t.Fatal(err)
	}
	taken := "billing"
	if _, err := a.Catalog.UpdateSource(ctx, v2.ID, catalog.SourcePatch{Name: &taken}); err != nil {
		t.Fatal(err)
	}
	loc := redirectTo(t, post(a, "/pipelines", v))
	var id int64
	if _, err := fmt.Sscanf(loc, "/pipelines/%d", &id); err != nil {
		t.Fatalf("redirect to %q", loc)
	}
	if got := sourceOf(id); got != billing.ID {
		t.Errorf("new pipeline from source %d reads source %d", billing.ID, got)
	}

	// A source deleted between showing the form and saving it is named as typed, not
	// by the id the form carried, and nothing is saved.
	spare := mkSource(t, a, "spare")
	doc, _ = get(t, a, fmt.Sprintf("/pipelines/new?source_id=%d", spare.ID), http.StatusOK)
	v = posted(doc)
	v.Set("name", "from-spare")
	v.Set("destination", "analytics")
	if err := a.Catalog.DeleteSource(ctx, spare.ID); err != nil {
		t.Fatal(err)
	}
	form, _ := refusedForm(t, a, "/pipelines", v, true, "pipeline-form")
	if errs := fieldErrors(form); errs["source"] != "No source is named “spare”." || len(errs) != 1 {
		t.Errorf("source deleted since the form was shown: %v", errs)
	}
	if page, err := a.Catalog.ListPipelines(ctx, catalog.ListParams{Q: "from-spare"}, catalog.PipelineFilter{}); err != nil || len(page.Items) != 0 {
		t.Errorf("a refused pipeline was saved: %d (%v)", len(page.Items), err)
	}
}
