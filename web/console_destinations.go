package web

import (
	"context"
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
	id, err := pathID(c)
	if err != nil {
		return err
	}
	d, err := s.deps.Catalog.GetDestination(ctxOf(c), id)
	if err != nil {
		return err
	}
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

func destinationEditing(d catalog.Destination) *editing {
	return &editing{id: d.ID, name: d.Name, secretSet: d.SnowflakePrivateKeyPassphraseSet}
}

func (s *Server) destinationNew(c echo.Context) error {
	return s.showForm(c, destinationForm, http.StatusOK, url.Values{}, nil, nil)
}

func (s *Server) destinationCreate(c echo.Context) error {
	return s.submitForm(c, destinationForm, nil, func(v url.Values) (int64, string, error) {
		var in catalog.DestinationInput
		formInto(v, &in)
		if in.SnowflakePrivateKeyPassphrase != nil && *in.SnowflakePrivateKeyPassphrase == "" { // none: the key is not encrypted
			in.SnowflakePrivateKeyPassphrase = nil
		}
		d, err := s.deps.Catalog.CreateDestination(ctxOf(c), in)
		return d.ID, d.Name, err
	})
}

func (s *Server) destinationEdit(c echo.Context) error {
	d, err := s.loadDestination(c)
	if err != nil {
		return err
	}
	v := formOf(d, catalog.DestinationInput{})
	if d.SnowflakeHostIsDefault { // shown as the hint, not as a value to keep
		v.Del("snowflake_host")
	}
	return s.showForm(c, destinationForm, http.StatusOK, v, destinationEditing(d), nil)
}

func (s *Server) destinationUpdate(c echo.Context) error {
	cur, err := s.loadDestination(c)
	if err != nil {
		return err
	}
	return s.submitForm(c, destinationForm, destinationEditing(cur), func(v url.Values) (int64, string, error) {
		// The form always carries the optional fields: blank clears them.
		var patch catalog.DestinationPatch
		formInto(v, &patch)
		if pp := patch.SnowflakePrivateKeyPassphrase; pp != nil && *pp == "" && v.Get("clear_passphrase") == "" {
			patch.SnowflakePrivateKeyPassphrase = nil // blank keeps the stored one; "" with the box ticked removes it
		}
		d, err := s.deps.Catalog.UpdateDestination(ctxOf(c), cur.ID, patch)
		return d.ID, d.Name, err
	})
}

// loadDestination is the destination the path names.
func (s *Server) loadDestination(c echo.Context) (catalog.Destination, error) {
	id, err := pathID(c)
	if err != nil {
		return catalog.Destination{}, err
	}
	return s.deps.Catalog.GetDestination(ctxOf(c), id)
}

func (s *Server) destinationDelete(c echo.Context) error {
	return s.deleteEntity(c, "Destination", partials.DestinationURL, "/destinations",
		func(ctx context.Context, id int64) (string, error) {
			x, err := s.deps.Catalog.GetDestination(ctx, id)
			return x.Name, err
		}, s.deps.Catalog.DeleteDestination)
}
