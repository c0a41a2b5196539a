package web_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// formFields are the controls a form submits under name: those inside it (unless bound
// to another form) and those bound to it from elsewhere with form="id".
func formFields(doc *goquery.Document, formID, name string) *goquery.Selection {
	inside := doc.Find("form#" + formID).Find(`[name="` + name + `"]`).FilterFunction(func(_ int, s *goquery.Selection) bool {
		f, ok := s.Attr("form")
		return !ok || f == formID
	})
	return inside.AddSelection(doc.Find(`[form="` + formID + `"][name="` + name + `"]`))
}

// submitted is what a browser sends when the form is submitted as rendered: every named
// input, select (its selected option, or the first) and textarea it owns.
func submitted(doc *goquery.Document, formID string) url.Values {
	v := url.Values{}
	owned := doc.Find("form#" + formID).Find("input, select, textarea").FilterFunction(func(_ int, s *goquery.Selection) bool {
		f, ok := s.Attr("form")
		return !ok || f == formID
	}).AddSelection(doc.Find(`[form="` + formID + `"]`))
	owned.Each(func(_ int, s *goquery.Selection) {
		name, ok := s.Attr("name")
		if !ok || name == "" {
			return
		}
		if _, off := s.Attr("disabled"); off {
			return
		}
		switch goquery.NodeName(s) {
		case "select":
			opt := s.Find("option[selected]").First()
			if opt.Length() == 0 {
				opt = s.Find("option").First()
			}
			v.Add(name, opt.AttrOr("value", opt.Text()))
		case "textarea":
			v.Add(name, s.Text())
		default:
			switch s.AttrOr("type", "text") {
			case "submit", "button", "reset", "image", "file":
				return
			case "checkbox", "radio":
				if _, on := s.Attr("checked"); !on {
					return
				}
			}
			v.Add(name, s.AttrOr("value", ""))
		}
	})
	return v
}

// Every list's search form has one sort control: a labelled "Sort by" select showing
// the order of the rows, which reloads the list in place, and which the form (with or
// without JavaScript) submits, so a search keeps the order. On phones it is the only
// way to sort: the table's header row is hidden there.
func TestConsoleListSortSelect(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	alpha, beta := mkSource(t, a, "alpha"), mkSource(t, a, "beta")
	d1, d2 := mkDestination(t, a, "alpha"), mkDestination(t, a, "beta")
	mkPipeline(t, a, "alpha", alpha.ID, d1.ID)
	mkPipeline(t, a, "beta", beta.ID, d2.ID)

	for _, tc := range []struct {
		path, form, list, row string
		options               []string
	}{
		{"/sources", "sources-filter", "sources-list", "source-row", []string{"name", "-name", "host", "-host", "-created_at", "created_at"}},
		{"/destinations", "destinations-filter", "destinations-list", "destination-row", []string{"name", "-name", "account", "-account", "-created_at", "created_at"}},
		{"/pipelines", "pipelines-filter", "pipelines-list", "pipeline-row", []string{"name", "-name", "status", "-created_at", "created_at"}},
		// /wal ranks worst first and has no created_at order: console_wal_fleet_test.go
	} {
		rows := func(doc *goquery.Document) string {
			return strings.Join(texts(doc.Find(`[data-testid="`+tc.row+`"] th a`)), ",")
		}
		// the current order is selected; the select is the form's only sort field
		for sort, want := range map[string]string{"": "name", "?sort=name": "name", "?sort=-name": "-name", "?sort=created_at": "created_at"} {
			doc, _ := get(t, a, tc.path+sort, http.StatusOK)
			fields := formFields(doc, tc.form, "sort")
			if fields.Length() != 1 {
				t.Errorf("%s%s: %d sort fields in #%s, want 1", tc.path, sort, fields.Length(), tc.form)
				continue
			}
			if goquery.NodeName(fields) != "select" {
				t.Errorf("%s%s: the sort field is a <%s>, want a select", tc.path, sort, goquery.NodeName(fields))
				continue
			}
			if got := fields.Find("option[selected]"); got.Length() != 1 || got.AttrOr("value", "") != want {
				t.Errorf("%s%s: %d options selected, %q, want %q", tc.path, sort, got.Length(), got.AttrOr("value", ""), want)
			}
		}

		doc, _ := get(t, a, tc.path+"?sort=-name", http.StatusOK)
		if got := rows(doc); got != "beta,alpha" {
			t.Fatalf("%s?sort=-name: rows %q", tc.path, got)
		}
		sel := formFields(doc, tc.form, "sort")
		var values []string
		sel.Find("option").Each(func(_ int, o *goquery.Selection) { values = append(values, o.AttrOr("value", "")) })
		if !slices.Equal(values, tc.options) {
			t.Errorf("%s: sort options %v, want %v", tc.path, values, tc.options)
		}
		// labelled with visible text
		label := doc.Find(`label[for="` + sel.AttrOr("id", "-") + `"]`)
		if text(label) != "Sort by" || label.HasClass("visually-hidden") {
			t.Errorf("%s: sort select label %q (class %q)", tc.path, text(label), label.AttrOr("class", ""))
		}
		// in the list section, so every swap (a header clicked, a page turned) brings it
		// up to date; changing it reloads the list in place, with the rest of the form
		if sel.Closest("#"+tc.list).Length() != 1 {
			t.Errorf("%s: the sort select is not in #%s", tc.path, tc.list)
		}
		for attr, want := range map[string]string{"hx-get": tc.path, "hx-trigger": "change", "hx-target": "#" + tc.list,
			"hx-swap": "outerHTML", "hx-push-url": "true", "hx-include": "#" + tc.form, "form": tc.form} {
			if got := sel.AttrOr(attr, ""); got != want {
				t.Errorf("%s: sort select %s=%q, want %q", tc.path, attr, got, want)
			}
		}
		// without JavaScript the form's button applies it: a search keeps the order
		if doc.Find("form#"+tc.form+` button[type="submit"]`).Length() != 1 {
			t.Errorf("%s: the filter form has no submit button", tc.path)
		}
		sent := submitted(doc, tc.form)
		if got := sent["sort"]; !slices.Equal(got, []string{"-name"}) {
			t.Errorf("%s: the form submits sort=%q, want [-name]", tc.path, got)
		}
		sent.Set("sort", "created_at")
		again, _ := get(t, a, tc.path+"?"+sent.Encode(), http.StatusOK)
		if got := rows(again); got != "alpha,beta" {
			t.Errorf("%s?%s: rows %q", tc.path, sent.Encode(), got)
		}
		if got := formFields(again, tc.form, "sort").Find("option[selected]").AttrOr("value", ""); got != "created_at" {
			t.Errorf("%s?%s: %q selected", tc.path, sent.Encode(), got)
		}

		// htmx gets the list section with the select showing the new order
		r := a.Do(http.MethodGet, tc.path+"?sort=-created_at", nil, htmx)
		expectFragment(t, r)
		frag := parse(t, r)
		if got := frag.Find(`section#`+tc.list+` select[name="sort"][form="`+tc.form+`"] option[selected]`).AttrOr("value", ""); got != "-created_at" {
			t.Errorf("%s fragment: the sort select shows %q, want -created_at", tc.path, got)
		}
		if got := rows(frag); got != "beta,alpha" {
			t.Errorf("%s?sort=-created_at: rows %q", tc.path, got)
		}

		// nothing to order: no select, but the sort is still kept (once) for the next search
		doc, _ = get(t, a, tc.path+"?q=nothing-matches&sort=-name", http.StatusOK)
		fields := formFields(doc, tc.form, "sort")
		if fields.Length() != 1 || goquery.NodeName(fields) != "input" || fields.AttrOr("value", "") != "-name" {
			h, _ := goquery.OuterHtml(fields)
			t.Errorf("%s, no rows: sort fields %d: %s", tc.path, fields.Length(), h)
		}
	}
}
