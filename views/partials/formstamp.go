package partials

import (
	"context"
	"io"
	"slices"

	"github.com/a-h/templ"

	"github.com/rosetta-cdc/rosetta/views/components"
)

// The list pages' search forms and sort controls are the same markup on every view but
// for a few values (what was searched, the names in the ref filters, their messages,
// the page size) and a few choices (which filter option is selected, whether "Clear"
// shows, whether a message marks its field invalid). templ built their attribute maps
// and sorted them, escaped and copied every constant again on each view: a fifth of the
// pipelines page's render. So, like a list's rows (stamp.go), each is stamped
// (components.Stamp) once per choice. The markup is what
// SearchForm with PipelineFilterFields, and listControls, render
// (TestStampedFormsMatchRendered compares them byte for byte); a choice a stamp is not
// kept for (a filter value the form does not offer) renders through templ as before.

// Stand-ins of the search form's values (escaped, they are themselves).
const (
	stampQ                = "\uE000q\uE001"
	stampSourceFilter     = "\uE000source-filter\uE001"
	stampDestFilter       = "\uE000destination-filter\uE001"
	stampSourceFilterErr  = "\uE000source-filter-error\uE001"
	stampDestFilterErr    = "\uE000destination-filter-error\uE001"
	stampLimit            = "\uE000limit\uE001"
	holeQ                 = 'q'
	holeSourceFilter      = 's'
	holeDestFilter        = 'd'
	holeSourceFilterError = 'S'
	holeDestFilterError   = 'D'
	holeLimit             = 'l'
)

var filterMarkers = []components.StampMarker{
	components.Mark(stampQ, holeQ), components.Mark(stampSourceFilter, holeSourceFilter), components.Mark(stampDestFilter, holeDestFilter),
	components.Mark(stampSourceFilterErr, holeSourceFilterError), components.Mark(stampDestFilterErr, holeDestFilterError),
}

var pipelineSearchStamps components.StampSet // pipelineSearchKey → *components.Stamp

// pipelineSearchKey is what the pipelines search form's markup depends on besides its
// holes: the form's fixed texts, "Clear", the selected statuses, which ref filters
// carry a message.
type pipelineSearchKey struct {
	form               FilterForm // Q cleared
	status, runtime    string
	sourceErr, destErr bool
}

// PipelineSearchForm is the pipelines page's search form with its filters: what
// SearchForm(form) with PipelineFilterFields(form, f) as children renders, stamped.
func PipelineSearchForm(form FilterForm, f PipelineFilters) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		if !offers(desiredOptions, f.Status) || !offers(runtimeOptions, f.RuntimeStatus) {
			return SearchForm(form).Render(templ.WithChildren(ctx, PipelineFilterFields(form, f)), w)
		}
		key := pipelineSearchKey{form: form, status: f.Status, runtime: f.RuntimeStatus,
			sourceErr: f.Source.Error != "", destErr: f.Destination.Error != ""}
		key.form.Q = ""
		standIn := key.form
		standIn.Q = stampQ
		sf := PipelineFilters{Status: f.Status, RuntimeStatus: f.RuntimeStatus,
			Source: RefFilter{Name: stampSourceFilter}, Destination: RefFilter{Name: stampDestFilter}}
		if key.sourceErr {
			sf.Source.Error = stampSourceFilterErr
		}
		if key.destErr {
			sf.Destination.Error = stampDestFilterErr
		}
		st, err := pipelineSearchStamps.Get(ctx, key, filterMarkers, templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
			return SearchForm(standIn).Render(templ.WithChildren(ctx, PipelineFilterFields(standIn, sf)), w)
		}))
		if err != nil {
			return err
		}
		return st.Write(w, func(h byte) string {
			switch h {
			case holeQ:
				return components.Escape(form.Q)
			case holeSourceFilter:
				return components.Escape(f.Source.Name)
			case holeDestFilter:
				return components.Escape(f.Destination.Name)
			case holeSourceFilterError:
				return components.Escape(f.Source.Error)
			default:
				return components.Escape(f.Destination.Error)
			}
		})
	})
}

// offers reports whether a filter select with options (and "Any") has v as a choice.
func offers(options []components.Option, v string) bool {
	return v == "" || slices.ContainsFunc(options, func(o components.Option) bool { return o.Value == v })
}

var listControlStamps components.StampSet // listControlsKey → *components.Stamp

// listControlsKey is what a list's controls depend on besides the page size.
type listControlsKey struct {
	form        FilterForm // Q cleared
	sorts       *components.Option
	current     string
	sort        string
	rows, limit bool
}

var limitMarkers = []components.StampMarker{components.Mark(stampLimit, holeLimit)}

// stampedListControls is listControls, stamped. The current sort is one the list
// accepts (ListState.Sort is checked against the catalog's sorts, the default is the
// code's), so the stamps are few.
func stampedListControls(form FilterForm, st ListState, sorts []components.Option, rows bool) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		if len(sorts) == 0 || !offers(sorts, st.CurrentSort()) {
			return listControls(form, st, sorts, rows).Render(ctx, w)
		}
		key := listControlsKey{form: form, sorts: &sorts[0], current: st.CurrentSort(), sort: st.Sort, rows: rows, limit: st.Limit != ""}
		key.form.Q, key.form.Filtered = "", false
		s, err := listControlStamps.Get(ctx, key, limitMarkers, templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
			standIn := ListState{Sort: key.sort, DefaultSort: key.current}
			if key.limit {
				standIn.Limit = stampLimit
			}
			return listControls(key.form, standIn, sorts, rows).Render(ctx, w)
		}))
		if err != nil {
			return err
		}
		return s.Write(w, func(byte) string { return components.Escape(st.Limit) })
	})
}
