package partials

import (
	"context"
	"io"
	"testing"

	"github.com/a-h/templ"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/views/components"
)

// The pipelines search form and every list's sort controls are stamped (formstamp.go).
// Whatever was searched (markup, quotes, the stand-ins' own characters), whichever
// statuses are selected (or a value the selects do not offer), whatever the ref filters
// hold and say, with and without "Clear", the stamped markup is byte for byte what
// SearchForm with PipelineFilterFields, and listControls, render through templ.
func TestStampedFormsMatchRendered(t *testing.T) {
	hostile := []string{"", "orders", `<b>"x" & 'y'</b>`, stampQ, stampSourceFilter, stampDestFilterErr, stampLimit,
		stampName, "naïve “quoted”", "\x00\u202e"}
	statuses := append([]string{"", "bogus", "start"}, catalog.DesiredStatuses...)
	runtimes := append([]string{"", "bogus", `"><x>`}, catalog.RuntimeStatuses...)
	var refs []RefFilter
	for i, name := range hostile {
		refs = append(refs, RefFilter{Name: name}, RefFilter{ID: "7", Name: name, Error: "No source is named " + hostile[(i+1)%len(hostile)] + "."})
	}
	refs = append(refs, RefFilter{Error: "No destination has id 9."})
	n := 0
	for _, q := range hostile {
		for _, status := range statuses {
			for _, runtime := range runtimes {
				for i, src := range refs {
					// every source filter with every status; every pair of ref filters
					// with the unfiltered statuses
					dsts := refs[i%3 : i%3+1]
					if status == "" && runtime == "" {
						dsts = refs
					}
					for _, dst := range dsts {
						f := PipelineFilters{Status: status, RuntimeStatus: runtime, Source: src, Destination: dst}
						form := PipelinesFilter(ListState{Q: q}, f)
						want := renderWith(t, SearchForm(form), PipelineFilterFields(form, f))
						if got := render(t, PipelineSearchForm(form, f)); got != want {
							t.Fatalf("q %q, filters %+v: the stamped search form differs from the rendered one:\nstamped:  %s\nrendered: %s", q, f, got, want)
						}
						n++
					}
				}
			}
		}
	}
	lists := []struct {
		form  FilterForm
		sorts []components.Option
		def   string
	}{
		{PipelinesFilter(ListState{}, PipelineFilters{}), pipelineSortOptions, "name"},
		{SourcesFilter(ListState{Q: "x"}), sourceSortOptions, "name"},
		{DestinationsFilter(ListState{}), destinationSortOptions, "name"},
		{WALFilter(ListState{}), walFleetSortOptions, walFleetSortOptions[0].Value},
		{PipelinesFilter(ListState{}, PipelineFilters{}), nil, "name"},
	}
	for _, l := range lists {
		sorts := []string{"", "bogus", `"><x>`, "-status"}
		for _, o := range append(append([]components.Option{}, sourceSortOptions...), pipelineSortOptions...) {
			sorts = append(sorts, o.Value)
		}
		for _, sort := range sorts {
			for _, def := range []string{l.def, "-created_at", ""} {
				for _, limit := range []string{"", "25", `1"><x>`, stampLimit} {
					for _, rows := range []bool{true, false} {
						st := ListState{Q: "q", Sort: sort, DefaultSort: def, Limit: limit, BaseURL: "/x?q=1"}
						want := render(t, listControls(l.form, st, l.sorts, rows))
						if got := render(t, stampedListControls(l.form, st, l.sorts, rows)); got != want {
							t.Fatalf("%s, state %+v, rows %v: stamped controls differ from the rendered ones:\nstamped:  %s\nrendered: %s",
								l.form.ID, st, rows, got, want)
						}
						n++
					}
				}
			}
		}
	}
	t.Logf("%d states compared", n)
}

// The pipelines page does take its search form and sort controls from stamps (the test
// above would pass if it never did): rendering keeps a stamp, once, per choice. The
// stamps are taken out of the process-wide caches first, so what another test rendered
// cannot make this pass.
func TestListPagesKeepFormStamps(t *testing.T) {
	f := PipelineFilters{Status: catalog.DesiredPause, Destination: RefFilter{Name: "d", Error: "No destination is named d."}}
	form := PipelinesFilter(ListState{Q: "x"}, f)
	key := pipelineSearchKey{form: form, status: f.Status, destErr: true}
	key.form.Q = ""
	pipelineSearchStamps.Forget(key)
	render(t, PipelineSearchForm(form, f))
	if !pipelineSearchStamps.Has(key) {
		t.Fatal("no stamp was kept for the search form")
	}

	st := ListState{Sort: "-name", DefaultSort: "name", Limit: "25"}
	ckey := listControlsKey{form: form, sorts: &pipelineSortOptions[0], current: "-name", sort: "-name", rows: true, limit: true}
	ckey.form.Q, ckey.form.Filtered = "", false
	listControlStamps.Forget(ckey)
	render(t, PipelineTable(PipelineList{State: st, Filters: f,
		Page: catalog.Page[catalog.Pipeline]{Items: []catalog.Pipeline{{ID: 1, Name: "p"}}, Total: 1, Limit: 25}}))
	if !listControlStamps.Has(ckey) {
		t.Fatal("no stamp was kept for the list's sort controls")
	}
}

// renderWith renders c with children.
func renderWith(t *testing.T, c, children templ.Component) string {
	t.Helper()
	return render(t, templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		return c.Render(templ.WithChildren(ctx, children), w)
	}))
}
