package partials

import (
	"context"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/a-h/templ"

	"github.com/rosetta-cdc/rosetta/views/components"
)

// The list pages' search forms and sort controls are the same markup on every view but
// for a few values (what was searched, the names in the ref filters, their messages,
// the page size) and a few choices (which filter option is selected, whether "Clear"
// shows, whether a message marks its field invalid). templ builds their attribute maps
// and sorts them, escapes and copies every constant again on each view: a fifth of the
// pipelines page's render. So, like a list's rows (stamp.go), each is rendered once per
// choice for stand-in values, cut where the stand-ins appear, and written from the
// pieces with each view's values escaped as templ escapes them. The markup is what
// SearchForm with PipelineFilterFields, and listControls, render
// (TestStampedFormsMatchRendered compares them byte for byte); a choice a stamp is not
// kept for (a filter value the form does not offer) renders through templ as before.

// stampSet keeps stamps by what their markup depends on besides the holes' values.
type stampSet struct{ m sync.Map }

// get returns key's stamp, rendering standIn (the markup with each hole's marker) and
// cutting it at markers the first time.
func (s *stampSet) get(ctx context.Context, key any, markers []stampMarker, standIn templ.Component) (*stamp, error) {
	if st, ok := s.m.Load(key); ok {
		return st.(*stamp), nil
	}
	var b strings.Builder
	if err := standIn.Render(ctx, &b); err != nil {
		return nil, err
	}
	st := cutStamp(b.String(), markers)
	s.m.Store(key, st)
	return st, nil
}

// write writes the stamp with fill(hole) in each hole (already escaped).
func (st *stamp) write(w io.Writer, fill func(hole byte) string) error {
	for i, h := range st.holes {
		if _, err := io.WriteString(w, st.parts[i]); err != nil {
			return err
		}
		if _, err := io.WriteString(w, fill(h)); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, st.parts[len(st.holes)])
	return err
}

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

var filterMarkers = []stampMarker{
	{stampQ, holeQ}, {stampSourceFilter, holeSourceFilter}, {stampDestFilter, holeDestFilter},
	{stampSourceFilterErr, holeSourceFilterError}, {stampDestFilterErr, holeDestFilterError},
}

var pipelineSearchStamps stampSet // pipelineSearchKey → *stamp

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
		st, err := pipelineSearchStamps.get(ctx, key, filterMarkers, templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
			return SearchForm(standIn).Render(templ.WithChildren(ctx, PipelineFilterFields(standIn, sf)), w)
		}))
		if err != nil {
			return err
		}
		return st.write(w, func(h byte) string {
			switch h {
			case holeQ:
				return escape(form.Q)
			case holeSourceFilter:
				return escape(f.Source.Name)
			case holeDestFilter:
				return escape(f.Destination.Name)
			case holeSourceFilterError:
				return escape(f.Source.Error)
			default:
				return escape(f.Destination.Error)
			}
		})
	})
}

// offers reports whether a filter select with options (and "Any") has v as a choice.
func offers(options []components.Option, v string) bool {
	return v == "" || slices.ContainsFunc(options, func(o components.Option) bool { return o.Value == v })
}

var listControlStamps stampSet // listControlsKey → *stamp

// listControlsKey is what a list's controls depend on besides the page size.
type listControlsKey struct {
	form        FilterForm // Q cleared
	sorts       *components.Option
	current     string
	sort        string
	rows, limit bool
}

var limitMarkers = []stampMarker{{stampLimit, holeLimit}}

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
		s, err := listControlStamps.get(ctx, key, limitMarkers, templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
			standIn := ListState{Sort: key.sort, DefaultSort: key.current}
			if key.limit {
				standIn.Limit = stampLimit
			}
			return listControls(key.form, standIn, sorts, rows).Render(ctx, w)
		}))
		if err != nil {
			return err
		}
		return s.write(w, func(byte) string { return escape(st.Limit) })
	})
}
