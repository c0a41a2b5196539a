package partials

import (
	"context"
	"io"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/views/viewtest"
)

// A list stamps each row, its actions included, from a stand-in's render (stamp.go).
// Whatever the state, the name (markup, quotes, the stand-in's own characters), the
// user's access, the focus or the return path, a stamped row is byte for byte the row
// rendered on its own, as an action's answer renders it.
func TestStampedActionsMatchRendered(t *testing.T) {
	names := []string{"orders", `<b>"x" & 'y'</b>`, "naïve “quoted”", stampName, "id " + stampIDText, ""}
	nexts := []string{"/pipelines", "", "/pipelines?q=" + stampIDText, "/pipelines?q=%3Cx%3E&sort=-name", "/pipelines?q=" + stampName}
	access := map[string]func(string) bool{
		"all":          allowAll,
		"refresh only": func(r string) bool { return r == ActionRoute(catalog.ActionRefresh) },
		"none":         func(string) bool { return false },
	}
	for an, acc := range access {
		for _, next := range nexts {
			for _, focus := range []bool{false, true} {
				rc := RowContext{CSRFToken: "tok+/=\"<", Access: acc, Next: next, Focus: focus}
				var items []catalog.Pipeline
				id := int64(1)
				for _, desired := range catalog.DesiredStatuses {
					for _, runtime := range catalog.RuntimeStatuses {
						for _, name := range names {
							items = append(items, catalog.Pipeline{ID: id, Name: name, Status: desired,
								Metadata: catalog.PipelineMetadata{Status: runtime}})
							id += 7919
						}
					}
				}
				l := PipelineList{Page: catalog.Page[catalog.Pipeline]{Items: items, Total: int64(len(items)), Limit: 50},
					Row: rc, State: ListState{BaseURL: "/pipelines"}}
				table := render(t, PipelineTable(l))
				for _, p := range items {
					row := render(t, PipelineRow(p, rc))
					if !strings.Contains(table, row) {
						t.Fatalf("access %s, next %q, focus %v: the list's row of %s/%s %q differs from the row alone:\n%s",
							an, next, focus, p.Status, p.Metadata.Status, p.Name, row)
					}
				}
			}
		}
	}
}

// The row's action forms carry no swap attributes of their own: the list's <tbody>
// gives them (htmx inherits hx-target, hx-swap and hx-disabled-elt), so each form still
// replaces its own row ("closest tr") with its button disabled meanwhile. A viewer's
// list, with no forms, has none.
func TestPipelineListGivesRowsTheirSwap(t *testing.T) {
	p := catalog.Pipeline{ID: 4, Name: "x", Status: catalog.DesiredStart, Metadata: catalog.PipelineMetadata{Status: catalog.RuntimeRunning}}
	for _, op := range []bool{true, false} {
		l := PipelineList{Page: catalog.Page[catalog.Pipeline]{Items: []catalog.Pipeline{p}, Total: 1, Limit: 50},
			Row: RowContext{CSRFToken: "tok", Access: func(string) bool { return op }}}
		doc := viewtest.Doc(t, PipelineTable(l))
		forms := doc.Find(`tbody form[hx-post]`)
		if (forms.Length() > 0) != op {
			t.Fatalf("operator %v: %d forms", op, forms.Length())
		}
		forms.Each(func(_ int, f *goquery.Selection) {
			for attr, want := range map[string]string{"hx-target": "closest tr", "hx-swap": "outerHTML", "hx-disabled-elt": "find button"} {
				if got := f.Closest("["+attr+"]").AttrOr(attr, ""); got != want {
					t.Errorf("%s inherits %s=%q, want %q", f.AttrOr("action", ""), attr, got, want)
				}
			}
		})
		if _, ok := doc.Find("tbody").Attr("hx-target"); ok != op {
			t.Errorf("operator %v: tbody hx-target present %v", op, ok)
		}
	}
	// the pipeline's page keeps its own target, on each form
	doc := viewtest.Doc(t, PipelineStatusPanel(PipelineStatus{Pipeline: p, Row: RowContext{Access: allowAll}}))
	if got := doc.Find(`form[hx-post]`).First().AttrOr("hx-target", ""); got != "#"+PipelineStatusID(4) {
		t.Errorf("status panel form hx-target %q", got)
	}
}

func render(t *testing.T, c interface {
	Render(context.Context, io.Writer) error
}) string {
	t.Helper()
	var b strings.Builder
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Whole rows are stamped (stamp.go): whatever the source and destination, the last error
// (none, short, folded, with and without its time), the names (markup, quotes, the
// stand-in's own characters and ids), the return path and the CSRF token (a row stamp is
// kept for the process, so two pages with different inputs must each get their own),
// a row of the list is byte for byte the row rendered on its own.
func TestStampedRowsMatchRendered(t *testing.T) {
	long := strings.Repeat("could not connect to server: connection refused ", 4) + "host orders-db.eu-west-1.internal"
	short := `slot "x" <lost> & gone`
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	errors := []struct {
		msg *string
		at  *time.Time
	}{{nil, nil}, {&short, nil}, {&short, &at}, {&long, &at}, {&long, nil}}
	names := []string{"orders", `<b>"x" & 'y'</b>`, stampName, stampSourceName, stampDestinationName, stampLastError, stampFields,
		"id " + stampIDText + " " + strconv.FormatInt(stampSourceID, 10), ""}
	nexts := []string{"/pipelines", "/pipelines?q=" + stampIDText, "/pipelines?q=" + url.QueryEscape(stampFields),
		"/pipelines?source=" + strconv.FormatInt(stampDestinationID, 10)}
	for _, next := range nexts {
		for _, csrf := range []string{"tok+/=\"<", "other-token"} {
			rc := RowContext{CSRFToken: csrf, Access: allowAll, Next: next}
			var items []catalog.Pipeline
			id := int64(3)
			for _, desired := range catalog.DesiredStatuses {
				for _, runtime := range catalog.RuntimeStatuses {
					for i, name := range names {
						e := errors[i%len(errors)]
						items = append(items, catalog.Pipeline{ID: id, Name: name, Status: desired,
							SourceID: id * 3, Source: catalog.EntityRef{ID: id * 3, Name: names[(i+1)%len(names)]},
							DestinationID: id * 5, Destination: catalog.EntityRef{ID: id * 5, Name: names[(i+2)%len(names)]},
							CreatedAt: at.Add(time.Duration(id) * time.Minute),
							Metadata:  catalog.PipelineMetadata{Status: runtime, LastError: e.msg, LastErrorAt: e.at}})
						id += 7919
					}
				}
			}
			l := PipelineList{Page: catalog.Page[catalog.Pipeline]{Items: items, Total: int64(len(items)), Limit: 50},
				Row: rc, State: ListState{BaseURL: "/pipelines"}}
			table := render(t, PipelineTable(l))
			var rows strings.Builder
			for _, p := range items {
				rows.WriteString(render(t, PipelineRow(p, rc)))
			}
			if !strings.Contains(table, rows.String()) {
				for _, p := range items {
					if row := render(t, PipelineRow(p, rc)); !strings.Contains(table, row) {
						t.Fatalf("next %q, csrf %q: the list's row of %s/%s %q differs from the row alone:\n%s", next, csrf,
							p.Status, p.Metadata.Status, p.Name, row)
					}
				}
				t.Fatalf("next %q, csrf %q: the list's rows are not the rows alone, in order", next, csrf)
			}
		}
	}
}

// The list stamps whole rows (the test above would pass if it never did): one stamp
// per state and choice of actions, kept for the process. The stamp is taken out of the
// process-wide cache first, so what another test rendered before cannot make this pass.
func TestListStampsWholeRows(t *testing.T) {
	p := catalog.Pipeline{ID: 4, Name: "x", Status: catalog.DesiredRefresh, Metadata: catalog.PipelineMetadata{Status: catalog.RuntimeError}}
	rc := RowContext{CSRFToken: "tok", Access: func(r string) bool { return r == ActionRoute(catalog.ActionPause) }, Next: "/pipelines"}
	l := PipelineList{Page: catalog.Page[catalog.Pipeline]{Items: []catalog.Pipeline{p}, Total: 1, Limit: 50}, Row: rc,
		State: ListState{BaseURL: "/pipelines"}}
	prepared := rc.forList()
	may := make([]byte, len(prepared.may))
	for i, m := range prepared.may {
		if m {
			may[i] = 1
		}
	}
	key := rowStampKey{may: string(may), desired: p.Status, runtime: p.Metadata.Status}
	rowStamps.Forget(key)
	if rowStamps.Has(key) {
		t.Fatal("the row stamp is still kept after Delete")
	}
	render(t, PipelineTable(l))
	if !rowStamps.Has(key) {
		t.Fatal("no row stamp was kept for the list's row")
	}
}

// appendTime appends what Time renders, for every kind of time (just now, minutes, hours,
// days, in the future, old enough to be absolute, years timeTexts cannot spell out).
func TestAppendTimeMatchesTime(t *testing.T) {
	n := now()
	for _, tm := range []time.Time{n, n.Add(-10 * time.Second), n.Add(-3 * time.Minute), n.Add(-5 * time.Hour), n.Add(-3 * 24 * time.Hour),
		n.Add(2 * time.Hour), n.AddDate(-2, 0, 0), time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 5, 1, 12, 0, 0, 0, time.FixedZone("x", 3600))} {
		got := string(appendTime([]byte("x"), tm, n))
		if want := "x" + render(t, Time(tm)); got != want {
			t.Errorf("%v: appendTime appended %q, Time renders %q", tm, got, want)
		}
	}
}
