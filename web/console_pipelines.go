package web

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/pgsource"
	"github.com/rosetta-cdc/rosetta/views/components"
	"github.com/rosetta-cdc/rosetta/views/layout"
	"github.com/rosetta-cdc/rosetta/views/pages"
	"github.com/rosetta-cdc/rosetta/views/partials"
)

// pipelineFilter reads the list filters. Statuses come from links and bookmarks: unknown
// ones are ignored rather than failing the page. The source and destination are names
// (?source=, what the filter's field submits) or ids (?source_id=, links from a source's
// page and older bookmarks); the name wins when both are given, being what was typed.
func pipelineFilter(c echo.Context) (catalog.PipelineFilter, partials.PipelineFilters) {
	var f catalog.PipelineFilter
	var pf partials.PipelineFilters
	if v := strings.ToUpper(c.QueryParam("status")); slices.Contains(catalog.DesiredStatuses, v) {
		f.Status, pf.Status = v, v
	}
	if v := strings.ToUpper(c.QueryParam("runtime_status")); slices.Contains(catalog.RuntimeStatuses, v) {
		f.RuntimeStatus, pf.RuntimeStatus = v, v
	}
	f.SourceName, f.SourceID, pf.Source = refFilterParam(c, partials.SourceFilter)
	f.DestinationName, f.DestinationID, pf.Destination = refFilterParam(c, partials.DestinationFilter)
	return f, pf
}

// refFilterParam reads one ref filter: ?name= (a name) or else ?name_id= (an id).
func refFilterParam(c echo.Context, name string) (string, *int64, partials.RefFilter) {
	if n := typedText(c.QueryParam(name)); n != "" {
		return n, nil, partials.RefFilter{Name: n}
	}
	if id, err := strconv.ParseInt(c.QueryParam(name+"_id"), 10, 64); err == nil && id > 0 {
		return "", &id, partials.RefFilter{ID: idString(id)}
	}
	return "", nil, partials.RefFilter{}
}

// pipelinesIndex is the pipelines list. A view runs one statement, the list: the filter
// fields carry no choices (their suggestions come from pipelineFilterOptions as one
// types), a filter by name is resolved inside the list's statement, and the field shows
// the name the rows carry. Only a filtered view with no rows asks more, to tell "no such
// source" from "no pipelines".
func (s *Server) pipelinesIndex(c echo.Context) error {
	p, st := listParams(c, catalog.PipelineSorts)
	f, pf := pipelineFilter(c)
	page, err := s.deps.Catalog.ListPipelines(ctxOf(c), p, f)
	if err != nil {
		return err
	}
	if err := s.describeRefFilters(ctxOf(c), page.Items, &pf); err != nil {
		return err
	}
	meta := s.pageMeta(c, "Pipelines", layout.NavPipelines)
	l := partials.PipelineList{Page: page, State: st, Filters: pf, Row: partials.RowContext{
		CSRFToken: meta.CSRFToken, Access: meta.Access, Next: c.Request().URL.RequestURI()}}
	if IsFragmentRequest(c.Request()) { // the filter form is outside the fragment
		frag := partials.PipelineListFragment(l)
		return Render(c, http.StatusOK, frag, frag)
	}
	return Render(c, http.StatusOK, pages.PipelinesPage(meta, l), nil)
}

// describeRefFilters gives the source and destination filters the names to show. Every
// row of a filtered list has the filtered source (destination), so the first row names
// it, in its stored spelling. With no rows, the name (id) is looked up: a filter that
// matches nobody says so beside its field instead of passing for an empty list.
func (s *Server) describeRefFilters(ctx context.Context, rows []catalog.Pipeline, pf *partials.PipelineFilters) error {
	if len(rows) > 0 {
		if pf.Source != (partials.RefFilter{}) {
			pf.Source.Name = rows[0].Source.Name
		}
		if pf.Destination != (partials.RefFilter{}) {
			pf.Destination.Name = rows[0].Destination.Name
		}
		return nil
	}
	cat := s.deps.Catalog
	err := describeRef(ctx, &pf.Source, "source", cat.SourceNamed, func(ctx context.Context, id int64) (string, error) {
		x, err := cat.GetSource(ctx, id)
		return x.Name, err
	})
	if err != nil {
		return err
	}
	return describeRef(ctx, &pf.Destination, "destination", cat.DestinationNamed, func(ctx context.Context, id int64) (string, error) {
		x, err := cat.GetDestination(ctx, id)
		return x.Name, err
	})
}

func describeRef(ctx context.Context, r *partials.RefFilter, kind string, named func(context.Context, string) (catalog.Named, error),
	nameOf func(context.Context, int64) (string, error)) error {
	var err error
	switch {
	case r.Name != "":
		var n catalog.Named
		if n, err = named(ctx, r.Name); err == nil {
			r.Name = n.Name
		} else if apperr.CodeOf(err) == apperr.NotFound {
			r.Error = fmt.Sprintf("No %s is named %s.", kind, quoted(r.Name))
		}
	case r.ID != "":
		id, _ := strconv.ParseInt(r.ID, 10, 64)
		if r.Name, err = nameOf(ctx, id); apperr.CodeOf(err) == apperr.NotFound {
			r.Error = fmt.Sprintf("No %s has id %d.", kind, id)
		}
	}
	if apperr.CodeOf(err) == apperr.NotFound {
		return nil
	}
	return err
}

// pipelineFilterOptions is GET /pipelines/filter/sources (destinations): the names the
// list's source (destination) filter suggests for what has been typed so far (?source=,
// ?destination=: the field's own value, which htmx sends), containing it,
// case-insensitive, at most partials.RefSuggestionsLimit of them. The pipeline form's
// source and destination fields ask it too, with the same field names. Same access as
// the list: whoever may see the pipelines may see the names they show.
func pipelineFilterOptions(field string, match func(context.Context, string, int) ([]catalog.Named, bool, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		sg := partials.RefSuggestions{Field: field, Text: typedText(c.QueryParam(field))}
		var err error
		if sg.Names, sg.More, err = match(ctxOf(c), sg.Text, partials.RefSuggestionsLimit); err != nil {
			return err
		}
		frag := partials.RefOptions(sg)
		return Render(c, http.StatusOK, frag, frag)
	}
}

func (s *Server) pipelineShow(c echo.Context) error {
	p, err := s.pipelines().load(c)
	if err != nil {
		return err
	}
	id := p.ID
	meta := s.pageMeta(c, p.Name, layout.NavPipelines)
	st := partials.PipelineStatus{Pipeline: p, Row: partials.RowContext{CSRFToken: meta.CSRFToken,
		Access: meta.Access, Next: partials.PipelineURL(id)}}
	src, err := s.deps.Catalog.GetSource(ctxOf(c), p.SourceID)
	if err != nil {
		return err
	}
	if st.RecentWAL, err = s.deps.Catalog.RecentWAL(ctxOf(c), p.SourceID); err != nil {
		return err
	}
	st.Source = &src
	if st.WAL, err = s.pipelineWAL(c, src); err != nil {
		return err
	}
	return Render(c, http.StatusOK, pages.PipelinePage(withWALChart(meta), st), nil)
}

// pipelineForm is the console's pipeline form: its source and destination are names
// typed (or picked from suggestions) into comboboxes, so the page costs the same with
// ten sources or twenty thousand. It reads only whether any source (destination) exists
// at all, to say where to start when none does, and the name of a reference it has
// only as an id.
var pipelineForm = entityForm{kind: "Pipeline", plural: "Pipelines", id: "pipeline-form", nav: layout.NavPipelines,
	list: "/pipelines", url: partials.PipelineURL, description: "Connect a source to a destination.",
	created: "It is paused until you start it.",
	view: func(c echo.Context, s *Server, f partials.Form, e *editing) (templ.Component, error) {
		f.Values = maps.Clone(f.Values)
		if err := s.pipelineRefNames(ctxOf(c), f.Values); err != nil {
			return nil, err
		}
		pf := partials.PipelineForm{Form: f, Running: e != nil && e.fixedRefs}
		cat := s.deps.Catalog
		for _, x := range []struct {
			none  *bool
			names func(context.Context, int) ([]catalog.Named, bool, error)
		}{{&pf.NoSources, cat.SourceNames}, {&pf.NoDestinations, cat.DestinationNames}} {
			first, _, err := x.names(ctxOf(c), 1)
			if err != nil {
				return nil, err
			}
			*x.none = len(first) == 0
		}
		return partials.PipelineFormView(pf), nil
	}}

// pipelines are the pipeline form's handlers.
func (s *Server) pipelines() entityHandlers[catalog.Pipeline, catalog.PipelineInput, catalog.PipelinePatch] {
	cat := s.deps.Catalog
	return entityHandlers[catalog.Pipeline, catalog.PipelineInput, catalog.PipelinePatch]{
		form: pipelineForm, get: cat.GetPipeline, create: cat.CreatePipeline, update: cat.UpdatePipeline,
		del: cat.DeletePipeline,
		editing: func(p catalog.Pipeline) *editing {
			return &editing{id: p.ID, name: p.Name, fixedRefs: !p.CanRepoint()}
		},
		// ?source_id= / ?destination_id= preselect, for "new pipeline from this source" links
		blank: func(c echo.Context) url.Values {
			return url.Values{"source_id": {c.QueryParam("source_id")}, "destination_id": {c.QueryParam("destination_id")}}
		},
		// the edit form shows the names the pipeline carries (no lookup by id)
		stored: func(p catalog.Pipeline, v url.Values) {
			v.Set(partials.SourceFilter, p.Source.Name)
			v.Set(partials.DestinationFilter, p.Destination.Name)
		},
		refs: s.pipelineRefs,
	}
}

func (s *Server) pipelineNew(c echo.Context) error    { return s.pipelines().newForm(s, c) }
func (s *Server) pipelineCreate(c echo.Context) error { return s.pipelines().createForm(s, c) }
func (s *Server) pipelineEdit(c echo.Context) error   { return s.pipelines().editForm(s, c) }
func (s *Server) pipelineUpdate(c echo.Context) error { return s.pipelines().updateForm(s, c) }
func (s *Server) pipelineDelete(c echo.Context) error { return s.pipelines().deleteForm(s, c) }

// pipelineAction is POST /pipelines/:id/start|pause|refresh. A plain form is answered
// with a redirect back (next) and a flash. An htmx request gets the part of the page it
// came from, re-rendered in the new state: the list row (hx-target="closest tr"), or on
// the pipeline's page the status panel (HX-Target names it) with the delete region out
// of band; the flash comes along out of band too.
func (s *Server) pipelineAction(action catalog.Action) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		v, err := formValues(c)
		if err != nil {
			return err
		}
		res, err := s.deps.Catalog.Act(ctxOf(c), id, action)
		status := http.StatusOK
		var fl layout.Flash
		if err != nil {
			if !isConflict(err) {
				return err
			}
			// e.g. a refresh already running, or another pipeline holding the slot (named
			// and linked): say so, and show the state as it is now
			fl = refusalFlash(err)
			status = apperr.Status(apperr.Conflict)
			if res.Pipeline, err = s.deps.Catalog.GetPipeline(ctxOf(c), id); err != nil {
				return err
			}
		} else {
			fl = actionFlash(action, res)
		}
		next := localPath(v.Get("next"), partials.PipelineURL(id))
		if !IsFragmentRequest(c.Request()) {
			s.setFlashLinks(c, fl)
			return redirect(c, next)
		}
		meta := s.pageMeta(c, res.Pipeline.Name, layout.NavPipelines)
		rc := partials.RowContext{CSRFToken: meta.CSRFToken, Access: meta.Access, Next: next, Focus: true}
		var frag templ.Component
		if c.Request().Header.Get("HX-Target") == partials.PipelineStatusID(id) {
			frag = templ.Join(
				partials.PipelineStatusPanel(partials.PipelineStatus{Pipeline: res.Pipeline, Row: rc,
					Checks: append(append([]pgsource.Check{}, res.Preflight...), res.DestinationPreflight...)}),
				partials.PipelineDelete(res.Pipeline, meta.CSRFToken, true),
			)
		} else {
			frag = partials.PipelineRow(res.Pipeline, rc)
		}
		frag = fragmentWithFlash(frag, fl) // the row first: see partials.PipelineRow
		return Render(c, status, frag, frag)
	}
}

// pipelineConfirm is GET /pipelines/:id/pause|refresh: the action's confirmation as a
// page, the same words and POST form the buttons open in place.
func (s *Server) pipelineConfirm(action catalog.Action) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := s.pipelines().load(c)
		if err != nil {
			return err
		}
		meta := s.pageMeta(c, strings.TrimSuffix(actionTitle(action), "…")+" "+p.Name, layout.NavPipelines)
		conf, _ := partials.ActionConfirm(p, action, meta.CSRFToken, partials.PipelineURL(p.ID))
		conf.Open = true
		crumbs := []pages.Crumb{{Label: "Pipelines", URL: "/pipelines"}, {Label: p.Name, URL: partials.PipelineURL(p.ID)},
			{Label: conf.Summary, URL: conf.Action}}
		return Render(c, http.StatusOK, pages.ConfirmPage(meta, crumbs, conf, partials.PipelineURL(p.ID)), nil)
	}
}

func actionTitle(a catalog.Action) string {
	t := string(a)
	return strings.ToUpper(t[:1]) + t[1:]
}

// actionFlash says what an action did, in words; a refused start names the failed check.
func actionFlash(action catalog.Action, res catalog.ActionResult) layout.Flash {
	p := res.Pipeline
	name := quoted(p.Name)
	if !res.Changed {
		switch action {
		case catalog.ActionStart:
			return flash(components.FlashInfo, "Pipeline %s is already running.", name)
		case catalog.ActionPause:
			return flash(components.FlashInfo, "Pipeline %s is already paused.", name)
		}
	}
	if action == catalog.ActionPause {
		return flash(components.FlashSuccess, "Pipeline %s paused. Its replication slot keeps retaining WAL on the source until it is resumed.", name)
	}
	verb := string(action)
	if failed, ok := pgsource.FirstFailure(res.Preflight); ok || p.Metadata.Status == catalog.RuntimeError {
		why := ""
		if ok {
			why = ": the " + strings.ToLower(partials.CheckTitle(failed.Name)) + " check failed. " + sentence(failed.Message)
		} else if p.Metadata.LastError != nil {
			why = ": " + sentence(*p.Metadata.LastError)
		}
		return flash(components.FlashError, "Pipeline %s could not %s%s", name, verb, why)
	}
	if w := p.Metadata.PreflightWarning; w != nil {
		return flash(components.FlashWarning, "Pipeline %s %s with a warning: %s", name, map[bool]string{true: "is refreshing", false: "started"}[action == catalog.ActionRefresh], sentence(*w))
	}
	if action == catalog.ActionRefresh {
		return flash(components.FlashSuccess, "Pipeline %s is refreshing from a fresh snapshot.", name)
	}
	return flash(components.FlashSuccess, "Pipeline %s started.", name)
}
