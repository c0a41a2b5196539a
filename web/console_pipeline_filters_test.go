package web_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/views/partials"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// refFilterError is the message beside the list's source (destination) filter.
func refFilterError(doc *goquery.Document, name string) string {
	return text(doc.Find(`form#pipelines-filter [data-testid="filter-error-` + name + `"]`))
}

// The list's source and destination filters take a name. Without JavaScript the form
// submits what was typed and the server matches it exactly, case-insensitive; a name (or
// a linked id) that matches nobody says so beside its field rather than passing for an
// empty list or showing everything. A list reloaded in place brings the message along.
func TestConsolePipelineFilterByName(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	mkChain(t, a) // orders → analytics: orders-live
	idle := mkSource(t, a, "Idle-Source")
	mkDestination(t, a, "unused")

	// typed in another case: filtered, and the field shows the stored spelling
	doc, r := get(t, a, "/pipelines?source=ORDERS&destination=analytics", http.StatusOK)
	expectFullPage(t, r)
	if got := texts(doc.Find(`[data-testid="pipeline-row"] th a`)); strings.Join(got, ",") != "orders-live" {
		t.Errorf("rows %v", got)
	}
	if v := doc.Find(`input[name="source"]`).AttrOr("value", ""); v != "orders" {
		t.Errorf("source field %q", v)
	}
	if e := refFilterError(doc, "source") + refFilterError(doc, "destination"); e != "" {
		t.Errorf("a matching filter has a message: %q", e)
	}
	if doc.Find(`a.clear-filters`).Length() != 1 {
		t.Error("a filtered list offers no Clear")
	}

	// a source with no pipelines: no rows, its name shown, no message
	doc, _ = get(t, a, "/pipelines?source=idle-source", http.StatusOK)
	if doc.Find(`[data-testid="pipeline-row"]`).Length() != 0 || refFilterError(doc, "source") != "" ||
		doc.Find(`input[name="source"]`).AttrOr("value", "") != "Idle-Source" {
		t.Errorf("source without pipelines: message %q, field %q", refFilterError(doc, "source"),
			doc.Find(`input[name="source"]`).AttrOr("value", ""))
	}
	// ...and by id, as a link from the source's page puts it
	doc, _ = get(t, a, fmt.Sprintf("/pipelines?source_id=%d", idle.ID), http.StatusOK)
	if doc.Find(`input[name="source"]`).AttrOr("value", "") != "Idle-Source" || refFilterError(doc, "source") != "" {
		t.Errorf("?source_id= of a source without pipelines: field %q", doc.Find(`input[name="source"]`).AttrOr("value", ""))
	}

	// a name nobody has: said beside the field (which keeps what was typed and is marked
	// invalid), and the list is empty, never everything
	for query, want := range map[string]map[string]string{
		"source=ord":                  {"source": "No source is named “ord”."},
		"source=<b>x</b>":             {"source": "No source is named “<b>x</b>”."},
		"destination=nowhere":         {"destination": "No destination is named “nowhere”."},
		"source_id=999999":            {"source": "No source has id 999999."},
		"source=orders&destination=x": {"destination": "No destination is named “x”."},
	} {
		doc, _ := get(t, a, "/pipelines?"+strings.ReplaceAll(strings.ReplaceAll(query, "<", "%3C"), ">", "%3E"), http.StatusOK)
		if n := doc.Find(`[data-testid="pipeline-row"]`).Length(); n != 0 {
			t.Errorf("?%s: %d rows", query, n)
		}
		if !strings.Contains(text(doc.Find(`[data-testid="empty-state"]`)), "No pipelines match") {
			t.Errorf("?%s: no empty state", query)
		}
		for _, name := range []string{"source", "destination"} {
			field := doc.Find(`input[name="` + name + `"]`)
			got := refFilterError(doc, name)
			if got != want[name] {
				t.Errorf("?%s: %s message %q, want %q", query, name, got, want[name])
			}
			errID := doc.Find(`[data-testid="filter-error-`+name+`"]`).AttrOr("id", "")
			if want[name] != "" && (field.AttrOr("aria-invalid", "") != "true" || !strings.Contains(field.AttrOr("aria-describedby", ""), errID)) {
				t.Errorf("?%s: the %s field is not marked invalid and described by its message", query, name)
			}
		}
		if query == "source=<b>x</b>" && (doc.Find("form#pipelines-filter b").Length() != 0 ||
			doc.Find(`input[name="source"]`).AttrOr("value", "") != "<b>x</b>") {
			t.Error("a typed name is not escaped")
		}
	}

	// htmx reloads the list only; the messages come along out of band, emptied when the
	// filter matches again
	r = a.Do(http.MethodGet, "/pipelines?source=nope", nil, htmx)
	expectFragment(t, r)
	frag := parse(t, r)
	oob := frag.Find(`body > [hx-swap-oob="true"]#pipelines-filter-source-error`)
	if frag.Find("body > section#pipelines-list").Length() != 1 || text(oob) != "No source is named “nope”." ||
		frag.Find(`body > [hx-swap-oob="true"]#pipelines-filter-destination-error`).Length() != 1 {
		t.Errorf("fragment:\n%s", r.Body)
	}
	r = a.Do(http.MethodGet, "/pipelines?source=orders", nil, htmx)
	frag = parse(t, r)
	if oob := frag.Find(`body > [hx-swap-oob="true"]#pipelines-filter-source-error`); oob.Length() != 1 || text(oob) != "" {
		t.Errorf("a matching filter does not clear the message:\n%s", r.Body)
	}
	if v := frag.Find(`input[name="next"]`).First().AttrOr("value", ""); v != "/pipelines?source=orders" {
		t.Errorf("row actions return to %q", v)
	}
}

// The options endpoint suggests names for the filters as one types: the names holding
// the text (case-insensitive, wildcards literal), by name, bounded, escaped; as
// readable as the list, so a viewer may and an anonymous caller may not.
func TestConsolePipelineFilterOptions(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	mkChain(t, a)
	mkSource(t, a, `<img src=x onerror=alert(1)>`)
	mkSource(t, a, "100%_real")
	mkSource(t, a, "1000-real")
	if _, err := a.Pool.Exec(context.Background(), `INSERT INTO sources (name, pg_host, pg_database, pg_username, pg_password,
		publication_name, replication_id) SELECT 'bulk-' || lpad(i::text, 3, '0'), 'h', 'd', 'u', '\x00'::bytea, 'p', 'r'
		FROM generate_series(1, $1::int) i`, partials.RefSuggestionsLimit+5); err != nil {
		t.Fatal(err)
	}

	options := func(path string) (*goquery.Document, []string) {
		t.Helper()
		r := a.As(auth.Viewer).Do(http.MethodGet, path, nil, htmx)
		if r.Code != http.StatusOK {
			t.Fatalf("GET %s as a viewer: %d\n%s", path, r.Code, r.Body)
		}
		expectFragment(t, r)
		doc := parse(t, r)
		var ids []string
		doc.Find(`li[role="option"][data-testid="ref-option"]`).Each(func(_ int, s *goquery.Selection) {
			ids = append(ids, s.AttrOr("id", ""))
			if s.AttrOr("data-value", "") != s.Text() {
				t.Errorf("%s: option %q fills in %q", path, s.Text(), s.AttrOr("data-value", ""))
			}
		})
		if n := len(ids); n > 0 && (ids[0] != "pipelines-filter-source-option-0" && ids[0] != "pipelines-filter-destination-option-0") {
			t.Errorf("%s: option ids %v", path, ids)
		}
		return doc, texts(doc.Find(`[data-testid="ref-option"]`))
	}

	// bounded: the first names, and a note that more match
	doc, got := options("/pipelines/filter/sources?source=")
	if len(got) != partials.RefSuggestionsLimit || !slices.Contains(got, "<img src=x onerror=alert(1)>") ||
		got[len(got)-1] != "bulk-017" {
		t.Errorf("empty text: %d names %v", len(got), got)
	}
	if doc.Find(`[data-testid="ref-more"][aria-disabled="true"]`).Length() != 1 {
		t.Error("no note that more names match")
	}
	if doc.Find("img").Length() != 0 {
		t.Error("a name is not escaped")
	}
	_, got = options("/pipelines/filter/sources?source=ULK-02")
	if strings.Join(got, ",") != "bulk-020,bulk-021,bulk-022,bulk-023,bulk-024,bulk-025" {
		t.Errorf("ULK-02: %v", got)
	}
	// LIKE's wildcards are matched as typed
	for text, want := range map[string]string{"%": "100%_real", "0_r": "", "%_": "100%_real", "ders": "orders"} {
		if _, got := options("/pipelines/filter/sources?source=" + strings.ReplaceAll(text, "%", "%25")); strings.Join(got, ",") != want {
			t.Errorf("%q: %v, want %q", text, got, want)
		}
	}
	// nothing matches: said, as a disabled option
	doc, got = options("/pipelines/filter/sources?source=zzz")
	if len(got) != 0 || text(doc.Find(`[data-testid="ref-none"][aria-disabled="true"]`)) != "No source name contains “zzz”." {
		t.Errorf("no match: %v %q", got, text(doc.Find("li")))
	}
	// destinations alike
	if _, got = options("/pipelines/filter/destinations?destination=ANAL"); strings.Join(got, ",") != "analytics" {
		t.Errorf("destinations: %v", got)
	}

	// no principal: sent to sign in, no names
	for _, path := range []string{"/pipelines/filter/sources?source=", "/pipelines/filter/destinations?destination="} {
		r := a.Anonymous().Do(http.MethodGet, path, nil)
		if r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") || strings.Contains(string(r.Body), "orders") {
			t.Errorf("anonymous %s: %d %q", path, r.Code, r.Header.Get("Location"))
		}
	}
}

// Focusing a filter on a fresh install asks for every name: with none registered the
// suggestions say so, rather than that no name contains an empty text.
func TestConsolePipelineFilterOptionsWithNothingRegistered(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	for path, want := range map[string]string{
		"/pipelines/filter/sources?source=":           "There are no sources yet.",
		"/pipelines/filter/destinations?destination=": "There are no destinations yet.",
		"/pipelines/filter/sources?source=orders":     "No source name contains “orders”.",
	} {
		r := a.As(auth.Viewer).Do(http.MethodGet, path, nil, htmx)
		if r.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, r.Code)
		}
		doc := parse(t, r)
		if got := text(doc.Find(`[data-testid="ref-none"][aria-disabled="true"]`)); got != want || doc.Find(`[data-testid="ref-option"]`).Length() != 0 {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
}
