package web

import (
	"context"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/views/components"
	"github.com/rosetta-cdc/rosetta/views/layout"
	"github.com/rosetta-cdc/rosetta/views/pages"
	"github.com/rosetta-cdc/rosetta/views/partials"
)

const passphraseField = "snowflake_private_key_passphrase"

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

func destinationForm(meta layout.PageMeta, v url.Values, editing *catalog.Destination) partials.Form {
	f := partials.Form{ID: "destination-form", Action: "/destinations", Values: v, CSRFToken: meta.CSRFToken,
		Submit: "Create destination", Cancel: "/destinations"}
	if editing != nil {
		f.Action = partials.DestinationURL(editing.ID)
		f.Submit, f.Cancel, f.Editing = "Save changes", partials.DestinationURL(editing.ID), true
		f.SecretSet = editing.SnowflakePrivateKeyPassphraseSet
	}
	return f
}

func destinationCrumbs(editing *catalog.Destination) []pages.Crumb {
	if editing == nil {
		return []pages.Crumb{{Label: "Destinations", URL: "/destinations"}, {Label: "New destination", URL: "/destinations/new"}}
	}
	u := partials.DestinationURL(editing.ID)
	return []pages.Crumb{{Label: "Destinations", URL: "/destinations"}, {Label: editing.Name, URL: u}, {Label: "Edit", URL: u + "/edit"}}
}

const destinationDescription = "Register a Snowflake schema to load into, with key-pair authentication."

func (s *Server) destinationNew(c echo.Context) error {
	meta := s.pageMeta(c, "New destination", layout.NavDestinations)
	return s.formPage(c, http.StatusOK, meta, destinationCrumbs(nil), destinationDescription,
		partials.DestinationForm(destinationForm(meta, url.Values{}, nil)))
}

func (s *Server) destinationCreate(c echo.Context) error {
	v, err := formValues(c)
	if err != nil {
		return err
	}
	in := catalog.DestinationInput{
		Name: v.Get("name"), SnowflakeAccount: v.Get("snowflake_account"), SnowflakeUser: v.Get("snowflake_user"),
		SnowflakeDatabase: v.Get("snowflake_database"), SnowflakeSchema: v.Get("snowflake_schema"),
		SnowflakeRole: v.Get("snowflake_role"), SnowflakePrivateKeyPath: v.Get("snowflake_private_key_path"),
		SnowflakeHost: strPtr(v, "snowflake_host"), SnowflakeWarehouse: strPtr(v, "snowflake_warehouse"),
	}
	if pp := v.Get(passphraseField); pp != "" {
		in.SnowflakePrivateKeyPassphrase = &pp
	}
	d, err := s.deps.Catalog.CreateDestination(ctxOf(c), in)
	if err != nil {
		meta := s.pageMeta(c, "New destination", layout.NavDestinations)
		f := destinationForm(meta, withoutSecrets(v, passphraseField), nil)
		status, ok := refusedForm(&f, err)
		if !ok {
			return err
		}
		return s.formPage(c, status, meta, destinationCrumbs(nil), destinationDescription, partials.DestinationForm(f))
	}
	s.setFlash(c, components.FlashSuccess, "Destination "+quoted(d.Name)+" created.")
	return redirect(c, partials.DestinationURL(d.ID))
}

func (s *Server) destinationEdit(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	d, err := s.deps.Catalog.GetDestination(ctxOf(c), id)
	if err != nil {
		return err
	}
	v := url.Values{
		"name": {d.Name}, "snowflake_account": {d.SnowflakeAccount}, "snowflake_user": {d.SnowflakeUser},
		"snowflake_database": {d.SnowflakeDatabase}, "snowflake_schema": {d.SnowflakeSchema},
		"snowflake_role": {d.SnowflakeRole}, "snowflake_private_key_path": {d.SnowflakePrivateKeyPath},
	}
	if !d.SnowflakeHostIsDefault {
		v.Set("snowflake_host", d.SnowflakeHost)
	}
	if d.SnowflakeWarehouse != nil {
		v.Set("snowflake_warehouse", *d.SnowflakeWarehouse)
	}
	meta := s.pageMeta(c, "Edit "+d.Name, layout.NavDestinations)
	return s.formPage(c, http.StatusOK, meta, destinationCrumbs(&d), "", partials.DestinationForm(destinationForm(meta, v, &d)))
}

func (s *Server) destinationUpdate(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	cur, err := s.deps.Catalog.GetDestination(ctxOf(c), id)
	if err != nil {
		return err
	}
	v, err := formValues(c)
	if err != nil {
		return err
	}
	patch := catalog.DestinationPatch{
		Name: strPtr(v, "name"), SnowflakeAccount: strPtr(v, "snowflake_account"), SnowflakeUser: strPtr(v, "snowflake_user"),
		SnowflakeDatabase: strPtr(v, "snowflake_database"), SnowflakeSchema: strPtr(v, "snowflake_schema"),
		SnowflakeRole: strPtr(v, "snowflake_role"), SnowflakePrivateKeyPath: strPtr(v, "snowflake_private_key_path"),
		// The form always carries the optional fields: blank clears them.
		SnowflakeHost: strPtr(v, "snowflake_host"), SnowflakeWarehouse: strPtr(v, "snowflake_warehouse"),
	}
	switch pp := v.Get(passphraseField); {
	case pp != "":
		patch.SnowflakePrivateKeyPassphrase = &pp
	case v.Get("clear_passphrase") != "":
		patch.SnowflakePrivateKeyPassphrase = &pp // "" removes the stored one
	}
	d, err := s.deps.Catalog.UpdateDestination(ctxOf(c), id, patch)
	if err != nil {
		meta := s.pageMeta(c, "Edit "+cur.Name, layout.NavDestinations)
		f := destinationForm(meta, withoutSecrets(v, passphraseField), &cur)
		status, ok := refusedForm(&f, err)
		if !ok {
			return err
		}
		return s.formPage(c, status, meta, destinationCrumbs(&cur), "", partials.DestinationForm(f))
	}
	s.setFlash(c, components.FlashSuccess, "Destination "+quoted(d.Name)+" saved.")
	return redirect(c, partials.DestinationURL(d.ID))
}

func (s *Server) destinationDelete(c echo.Context) error {
	return s.deleteEntity(c, "Destination", partials.DestinationURL, "/destinations",
		func(ctx context.Context, id int64) (string, error) {
			x, err := s.deps.Catalog.GetDestination(ctx, id)
			return x.Name, err
		}, s.deps.Catalog.DeleteDestination)
}
