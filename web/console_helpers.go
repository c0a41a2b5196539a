package web

import (
	"context"
	"fmt"
	"strconv"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/views/components"
	"github.com/rosetta-cdc/rosetta/views/layout"
	"github.com/rosetta-cdc/rosetta/views/pages"
	"github.com/rosetta-cdc/rosetta/views/partials"
)

// The console handlers: each decodes a form or query into a catalog input, calls one
// catalog method and renders a page (or its htmx fragment) with Render. Errors a form
// can show (invalid fields, conflicts) re-render the form; every other error goes to
// the one error handler.

func ctxOf(c echo.Context) context.Context { return c.Request().Context() }

// formPage renders an entity form: the whole page, or for htmx only the form (which
// replaces itself, hx-target="this").
func (s *Server) formPage(c echo.Context, status int, meta layout.PageMeta, crumbs []pages.Crumb, description string,
	form templ.Component) error {
	return Render(c, status, pages.FormPage(meta, crumbs, description, form), form)
}

// refusalFlash is a refusal (a conflict) as a flash: the catalog's sentence, and the
// entities it names (the pipelines using a source, the pipeline holding a slot) as links.
func refusalFlash(err error) layout.Flash {
	ae := apperr.As(err)
	f := layout.Flash{Kind: components.FlashError, Message: sentence(ae.Message)}
	for _, ref := range ae.Related {
		f.Links = append(f.Links, components.Link{Label: ref.Name, URL: partials.RelatedURL(ref.Kind, ref.ID)})
	}
	return f
}

func isConflict(err error) bool { return apperr.CodeOf(err) == apperr.Conflict }

// sourceOptions and destinationOptions fill the pipeline form's selects: the first partials.RefOptionsLimit by name, plus the selected one
// (an id from the query or the form) wherever it sorts. more says that others exist: the
// page then says how to reach them, rather than rendering the whole fleet into every
// page load.
func (s *Server) sourceOptions(ctx context.Context, selected string) ([]components.Option, bool, error) {
	return refOptions(ctx, selected, s.deps.Catalog.SourceNames, func(ctx context.Context, id int64) (string, error) {
		x, err := s.deps.Catalog.GetSource(ctx, id)
		return x.Name, err
	})
}

func (s *Server) destinationOptions(ctx context.Context, selected string) ([]components.Option, bool, error) {
	return refOptions(ctx, selected, s.deps.Catalog.DestinationNames, func(ctx context.Context, id int64) (string, error) {
		x, err := s.deps.Catalog.GetDestination(ctx, id)
		return x.Name, err
	})
}

func refOptions(ctx context.Context, selected string, names func(context.Context, int) ([]catalog.Named, bool, error),
	nameOf func(context.Context, int64) (string, error)) ([]components.Option, bool, error) {
	first, more, err := names(ctx, partials.RefOptionsLimit)
	if err != nil {
		return nil, false, err
	}
	out := make([]components.Option, 0, len(first)+1)
	found := selected == ""
	for _, x := range first {
		v := strconv.FormatInt(x.ID, 10)
		found = found || v == selected
		out = append(out, components.Option{Value: v, Label: x.Name})
	}
	if id, err := strconv.ParseInt(selected, 10, 64); !found && err == nil && id > 0 {
		name, err := nameOf(ctx, id)
		switch {
		case err == nil:
			out = append(out, components.Option{Value: selected, Label: name})
		case apperr.CodeOf(err) != apperr.NotFound: // a stale id just selects nothing
			return nil, false, err
		}
	}
	return out, more, nil
}

// deleteEntity is every console delete: name fetches the entity (404 when gone, and its
// name for the messages), del deletes it. A refusal because others use it is answered
// with the entity's page and a flash naming them; success goes back to the list.
func (s *Server) deleteEntity(c echo.Context, kind string, detailURL func(int64) string, listURL string,
	name func(context.Context, int64) (string, error), del func(context.Context, int64) error) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	n, err := name(ctxOf(c), id)
	if err != nil {
		return err
	}
	if err := del(ctxOf(c), id); err != nil {
		if isConflict(err) {
			// Never a dead end: back to the entity's page, which says why (and, for a
			// source or destination in use, listed the pipelines before the click).
			s.setFlashLinks(c, refusalFlash(err))
			return redirect(c, detailURL(id))
		}
		return err
	}
	s.setFlash(c, components.FlashSuccess, kind+" "+quoted(n)+" deleted.")
	return redirect(c, listURL)
}

func quoted(name string) string { return "“" + name + "”" }

func idString(id int64) string { return strconv.FormatInt(id, 10) }

// fragmentWithFlash is an htmx answer: the fragment, plus the flash messages swapped
// into the layout's live region out of band.
func fragmentWithFlash(fragment templ.Component, flashes ...layout.Flash) templ.Component {
	return templ.Join(fragment, layout.FlashOOB(flashes))
}

func flash(kind, format string, args ...any) layout.Flash {
	return layout.Flash{Kind: kind, Message: fmt.Sprintf(format, args...)}
}
