package web

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"strconv"
	"strings"

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

// pipelineRef is one reference of the pipeline form: the input where the operator types
// a name (the list filter's field name, so the form shares its suggestions), the
// catalog input field that takes the id, and how to find one from the other.
type pipelineRef struct {
	name, idField, kind string
	named               func(context.Context, string) (catalog.Named, error)
	nameOf              func(context.Context, int64) (string, error)
}

func (s *Server) pipelineRefFields() []pipelineRef {
	cat := s.deps.Catalog
	return []pipelineRef{
		{name: partials.SourceFilter, idField: "source_id", kind: "source", named: cat.SourceNamed,
			nameOf: func(ctx context.Context, id int64) (string, error) {
				x, err := cat.GetSource(ctx, id)
				return x.Name, err
			}},
		{name: partials.DestinationFilter, idField: "destination_id", kind: "destination", named: cat.DestinationNamed,
			nameOf: func(ctx context.Context, id int64) (string, error) {
				x, err := cat.GetDestination(ctx, id)
				return x.Name, err
			}},
	}
}

// pipelineRefs resolves the names typed into the pipeline form into the ids the catalog
// takes, with the same case-insensitive exact match as the list's filters
// (catalog.SourceNamed: one probe of the unique lower(name) index). A name is what the
// operator sees, so when the form has the name input it wins over any id posted with
// it; a form posting only an id (an older page, a script) is taken as it is. But a name
// the operator left as the form showed it (partials.RefShown: the id and the name shown
// travel with the form) keeps the entity it was shown for: between showing the form and
// saving it, another source may have taken that name (a rename, a swap), and saving a
// pipeline's other fields must not quietly re-point it there.
//
// A name nobody has becomes id 0, which the catalog refuses as "is required" together
// with every other bad field. Refusing in the catalog rather than here keeps one path
// to a refusal, and a patch can never save with a ref it dropped. The messages returned
// replace the catalog's for a ref it refuses (withFieldMessages), naming what was
// typed: for a name nobody has, and for one whose entity was deleted between the lookup
// (or the form's showing) and the save, where the catalog can only name the id.
func (s *Server) pipelineRefs(ctx context.Context, v url.Values) (url.Values, apperr.Fields, error) {
	out := maps.Clone(v)
	var msgs apperr.Fields
	for _, r := range s.pipelineRefFields() {
		if !v.Has(r.name) {
			continue
		}
		name, id := strings.TrimSpace(v.Get(r.name)), ""
		if name != "" {
			msgs.Add(r.idField, "no %s is named %s", r.kind, quoted(name))
		}
		shown := partials.RefShownField(r.name)
		if posted := v.Get(r.idField); name != "" && v.Has(shown) && validID(posted) &&
			strings.EqualFold(name, strings.TrimSpace(v.Get(shown))) {
			out.Set(r.idField, posted)
			continue
		}
		if name != "" {
			n, err := r.named(ctx, name)
			switch {
			case err == nil:
				id = idString(n.ID)
			case apperr.CodeOf(err) == apperr.NotFound:
				id = "0"
			default:
				return nil, nil, err
			}
		}
		out.Set(r.idField, id)
	}
	return out, msgs, nil
}

func validID(s string) bool {
	id, err := strconv.ParseInt(s, 10, 64)
	return err == nil && id > 0
}

// withFieldMessages puts msgs in place of the catalog's own messages for the fields a
// refusal (err, when it is one) names: "no source is named “x”" rather than "is
// required" for the id 0 a name nobody has became, or "no source has id 7" for one
// deleted since. A field the catalog did not refuse keeps no message.
func withFieldMessages(err error, msgs apperr.Fields) error {
	ae := apperr.As(err)
	if len(msgs) == 0 || ae == nil || ae.Code != apperr.Invalid {
		return err
	}
	out := *ae
	out.Fields = make(apperr.Fields, len(ae.Fields))
	for i, f := range ae.Fields {
		for _, m := range msgs {
			if m.Field == f.Field {
				f = m
				break
			}
		}
		out.Fields[i] = f
	}
	return &out
}

// pipelineRefNames gives the pipeline form the names to show for references it has only
// as ids: "New pipeline from this source" (?source_id=), or a form posted with ids.
// One read by primary key each; a stale id just shows an empty field.
func (s *Server) pipelineRefNames(ctx context.Context, v url.Values) error {
	for _, r := range s.pipelineRefFields() {
		id, err := strconv.ParseInt(v.Get(r.idField), 10, 64)
		if v.Has(r.name) || err != nil || id < 1 {
			continue
		}
		name, err := r.nameOf(ctx, id)
		if err != nil && apperr.CodeOf(err) != apperr.NotFound {
			return err
		}
		v.Set(r.name, name)
	}
	return nil
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
