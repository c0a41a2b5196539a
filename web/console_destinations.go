package web

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/views/layout"
	"github.com/rosetta-cdc/rosetta/views/pages"
	"github.com/rosetta-cdc/rosetta/views/partials"
)

func (s *Server) destinationsIndex(c echo.Context) error {
	p, st := listParams(c, catalog.DestinationSorts)
	page, err := s.deps.Catalog.ListDestinations(ctxOf(c), p)
	if err != nil {
		return err
	}
	meta := s.pageMeta(c, "Destinations", layout.NavDestinations)
	l := partials.DestinationList{Page: page, State: st}
	return Render(c, http.StatusOK, pages.DestinationsPage(meta, l), partials.DestinationTable(l, meta.May("GET /destinations/new")))
}

func (s *Server) destinationShow(c echo.Context) error {
	d, err := s.destinations().load(c)
	if err != nil {
		return err
	}
	id := d.ID
	using, err := s.deps.Catalog.ListPipelines(ctxOf(c), catalog.ListParams{Limit: 20, Sort: "status"},
		catalog.PipelineFilter{DestinationID: &id})
	if err != nil {
		return err
	}
	meta := s.pageMeta(c, d.Name, layout.NavDestinations)
	return Render(c, http.StatusOK, pages.DestinationPage(meta, pages.DestinationDetail{Destination: d, Pipelines: using}), nil)
}

// destinationForm is the console's destination form.
var destinationForm = entityForm{kind: "Destination", plural: "Destinations", id: "destination-form",
	nav: layout.NavDestinations, list: "/destinations", url: partials.DestinationURL,
	description: "Register a Snowflake schema to load into, with key-pair authentication.",
	view:        staticView(partials.DestinationForm)}

// destinations are the destination form's handlers.
func (s *Server) destinations() entityHandlers[catalog.Destination, catalog.DestinationInput, catalog.DestinationPatch] {
	cat := s.deps.Catalog
	return entityHandlers[catalog.Destination, catalog.DestinationInput, catalog.DestinationPatch]{
		form: destinationForm, get: cat.GetDestination, create: cat.CreateDestination, update: cat.UpdateDestination,
		del: cat.DeleteDestination,
		editing: func(d catalog.Destination) *editing {
			return &editing{id: d.ID, name: d.Name, secretSet: d.SnowflakePrivateKeyPassphraseSet}
		},
		stored: func(d catalog.Destination, v url.Values) {
			if d.SnowflakeHostIsDefault { // shown as the hint, not as a value to keep
				v.Del("snowflake_host")
			}
		},
		fixInput: func(in *catalog.DestinationInput, _ url.Values) {
			if pp := in.SnowflakePrivateKeyPassphrase; pp != nil && *pp == "" { // none: the key is not encrypted
				in.SnowflakePrivateKeyPassphrase = nil
			}
		},
		// The form always carries the optional fields: blank clears them. A blank
		// passphrase keeps the stored one; with the box ticked it removes it.
		fixPatch: func(patch *catalog.DestinationPatch, v url.Values) {
			if pp := patch.SnowflakePrivateKeyPassphrase; pp != nil && *pp == "" && v.Get("clear_passphrase") == "" {
				patch.SnowflakePrivateKeyPassphrase = nil
			}
		},
	}
}

func (s *Server) destinationNew(c echo.Context) error    { return s.destinations().newForm(s, c) }
func (s *Server) destinationCreate(c echo.Context) error { return s.destinations().createForm(s, c) }
func (s *Server) destinationEdit(c echo.Context) error   { return s.destinations().editForm(s, c) }
func (s *Server) destinationUpdate(c echo.Context) error { return s.destinations().updateForm(s, c) }
func (s *Server) destinationDelete(c echo.Context) error { return s.destinations().deleteForm(s, c) }
