package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/pgsource"
	"github.com/rosetta-cdc/rosetta/views/components"
	"github.com/rosetta-cdc/rosetta/views/layout"
	"github.com/rosetta-cdc/rosetta/views/pages"
	"github.com/rosetta-cdc/rosetta/views/partials"
)

func (s *Server) sourcesIndex(c echo.Context) error {
	p, st := listParams(c, catalog.SourceSorts)
	page, err := s.deps.Catalog.ListSources(ctxOf(c), p)
	if err != nil {
		return err
	}
	meta := s.pageMeta(c, "Sources", layout.NavSources)
	l := partials.SourceList{Page: page, State: st}
	return Render(c, http.StatusOK, pages.SourcesPage(meta, l), partials.SourceTable(l, partials.CanOperate(meta)))
}

func (s *Server) sourceShow(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	d, err := s.sourceDetail(c, id)
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, pages.SourcePage(s.pageMeta(c, d.Source.Name, layout.NavSources), d), nil)
}

func (s *Server) sourceDetail(c echo.Context, id int64) (pages.SourceDetail, error) {
	src, err := s.deps.Catalog.GetSource(ctxOf(c), id)
	if err != nil {
		return pages.SourceDetail{}, err
	}
	using, err := s.deps.Catalog.ListPipelines(ctxOf(c), catalog.ListParams{Limit: 20, Sort: "status"},
		catalog.PipelineFilter{SourceID: &id})
	if err != nil {
		return pages.SourceDetail{}, err
	}
	return pages.SourceDetail{Source: src, Pipelines: using, Checks: partials.SourceChecks{SourceID: id}}, nil
}

// sourceForm is the source form around values, posting to action.
func sourceForm(meta layout.PageMeta, v url.Values, editing *catalog.Source) partials.Form {
	f := partials.Form{ID: "source-form", Action: "/sources", Values: v, CSRFToken: meta.CSRFToken,
		Submit: "Create source", Cancel: "/sources"}
	if editing != nil {
		f.Action = partials.SourceURL(editing.ID)
		f.Submit, f.Cancel, f.Editing = "Save changes", partials.SourceURL(editing.ID), true
		f.SecretSet = editing.PgPasswordSet
	}
	return f
}

func sourceCrumbs(editing *catalog.Source) []pages.Crumb {
	if editing == nil {
		return []pages.Crumb{{Label: "Sources", URL: "/sources"}, {Label: "New source", URL: "/sources/new"}}
	}
	u := partials.SourceURL(editing.ID)
	return []pages.Crumb{{Label: "Sources", URL: "/sources"}, {Label: editing.Name, URL: u}, {Label: "Edit", URL: u + "/edit"}}
}

func (s *Server) sourceNew(c echo.Context) error {
	meta := s.pageMeta(c, "New source", layout.NavSources)
	f := sourceForm(meta, url.Values{"pg_port": {strconv.Itoa(catalog.DefaultPgPort)}, "tls_mode": {string(pgsource.TLSPrefer)}}, nil)
	return s.formPage(c, http.StatusOK, meta, sourceCrumbs(nil), "Register a PostgreSQL database to replicate from.",
		partials.SourceForm(f))
}

func (s *Server) sourceCreate(c echo.Context) error {
	v, err := formValues(c)
	if err != nil {
		return err
	}
	src, err := s.deps.Catalog.CreateSource(ctxOf(c), catalog.SourceInput{
		Name: v.Get("name"), PgHost: v.Get("pg_host"), PgPort: formInt(v, "pg_port"), PgDatabase: v.Get("pg_database"),
		PgUsername: v.Get("pg_username"), PgPassword: v.Get("pg_password"), PublicationName: v.Get("publication_name"),
		ReplicationID: v.Get("replication_id"), TLSMode: v.Get("tls_mode"), TLSCACert: v.Get("tls_ca_cert"),
	})
	if err != nil {
		meta := s.pageMeta(c, "New source", layout.NavSources)
		f := sourceForm(meta, withoutSecrets(v, "pg_password"), nil)
		status, ok := refusedForm(&f, err)
		if !ok {
			return err
		}
		return s.formPage(c, status, meta, sourceCrumbs(nil), "Register a PostgreSQL database to replicate from.",
			partials.SourceForm(f))
	}
	s.setFlash(c, components.FlashSuccess, "Source "+quoted(src.Name)+" created. Run “Test connection” to check it.")
	return redirect(c, partials.SourceURL(src.ID))
}

func (s *Server) sourceEdit(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	src, err := s.deps.Catalog.GetSource(ctxOf(c), id)
	if err != nil {
		return err
	}
	meta := s.pageMeta(c, "Edit "+src.Name, layout.NavSources)
	v := url.Values{
		"name": {src.Name}, "pg_host": {src.PgHost}, "pg_port": {strconv.Itoa(src.PgPort)}, "pg_database": {src.PgDatabase},
		"pg_username": {src.PgUsername}, "publication_name": {src.PublicationName}, "replication_id": {src.ReplicationID},
		"tls_mode": {src.TLSMode},
	}
	if src.TLSCACert != nil {
		v.Set("tls_ca_cert", *src.TLSCACert)
	}
	return s.formPage(c, http.StatusOK, meta, sourceCrumbs(&src), "", partials.SourceForm(sourceForm(meta, v, &src)))
}

func (s *Server) sourceUpdate(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	cur, err := s.deps.Catalog.GetSource(ctxOf(c), id)
	if err != nil {
		return err
	}
	v, err := formValues(c)
	if err != nil {
		return err
	}
	patch := catalog.SourcePatch{
		Name: strPtr(v, "name"), PgHost: strPtr(v, "pg_host"), PgPort: formInt(v, "pg_port"),
		PgDatabase: strPtr(v, "pg_database"), PgUsername: strPtr(v, "pg_username"),
		PublicationName: strPtr(v, "publication_name"), ReplicationID: strPtr(v, "replication_id"),
		TLSMode: presentPtr(v, "tls_mode"), TLSCACert: presentPtr(v, "tls_ca_cert"),
	}
	if patch.PgPort == nil { // the form was cleared: the default, as on create
		port := catalog.DefaultPgPort
		patch.PgPort = &port
	}
	if pw := v.Get("pg_password"); pw != "" { // blank keeps the stored password
		patch.PgPassword = &pw
	}
	src, err := s.deps.Catalog.UpdateSource(ctxOf(c), id, patch)
	if err != nil {
		meta := s.pageMeta(c, "Edit "+cur.Name, layout.NavSources)
		f := sourceForm(meta, withoutSecrets(v, "pg_password"), &cur)
		status, ok := refusedForm(&f, err)
		if !ok {
			return err
		}
		return s.formPage(c, status, meta, sourceCrumbs(&cur), "", partials.SourceForm(f))
	}
	s.setFlash(c, components.FlashSuccess, "Source "+quoted(src.Name)+" saved.")
	return redirect(c, partials.SourceURL(src.ID))
}

func (s *Server) sourceDelete(c echo.Context) error {
	return s.deleteEntity(c, "Source", partials.SourceURL, "/sources",
		func(ctx context.Context, id int64) (string, error) {
			x, err := s.deps.Catalog.GetSource(ctx, id)
			return x.Name, err
		}, s.deps.Catalog.DeleteSource)
}

// sourceTest runs the connection checks. They change nothing, so the answer is the
// results themselves (the page, or for htmx the results region) rather than a redirect.
func (s *Server) sourceTest(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	src, err := s.deps.Catalog.GetSource(ctxOf(c), id)
	if err != nil {
		return err
	}
	checks, err := s.deps.Catalog.TestSource(ctxOf(c), id)
	if err != nil {
		return err
	}
	fl := testFlash(src.Name, checks)
	sc := partials.SourceChecks{SourceID: id, Checks: checks, Ran: true}
	if IsFragmentRequest(c.Request()) {
		frag := fragmentWithFlash(partials.SourceCheckResults(sc), fl)
		return Render(c, http.StatusOK, frag, frag)
	}
	d, err := s.sourceDetail(c, id)
	if err != nil {
		return err
	}
	d.Checks = sc
	meta := s.pageMeta(c, d.Source.Name, layout.NavSources)
	meta.Flash = append(meta.Flash, fl)
	return Render(c, http.StatusOK, pages.SourcePage(meta, d), nil)
}

func testFlash(name string, checks []pgsource.Check) layout.Flash {
	kind := components.FlashSuccess
	for _, ch := range checks {
		if ch.Status == pgsource.StatusFail {
			kind = components.FlashError
			break
		}
		if ch.Status == pgsource.StatusWarn {
			kind = components.FlashWarning
		}
	}
	return layout.Flash{Kind: kind, Message: "Connection test of " + quoted(name) + ": " + partials.CheckSummary(checks)}
}

// sourceProbe is "Probe now": one WAL probe, recorded like the monitor's. For htmx the
// answer is the refreshed WAL panel with a flash; without JavaScript, a redirect to the
// source page carrying the flash. A failed probe is not a failed request: it is recorded
// and shown (the panel's last-probe state says why).
func (s *Server) sourceProbe(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	src, err := s.deps.Catalog.GetSource(ctxOf(c), id)
	if err != nil {
		return err
	}
	var fl layout.Flash
	w, err := s.deps.Catalog.ProbeSource(ctxOf(c), id)
	switch {
	case err == nil:
		fl = flash(components.FlashSuccess, "Probed %s: WAL at %s.", quoted(src.Name), partials.Bytes(w.SizeBytes))
	case errors.Is(err, catalog.ErrProbeFailed):
		fl = flash(components.FlashError, "%s", apperr.As(err).Message)
	default:
		return err
	}
	if !IsFragmentRequest(c.Request()) {
		s.setFlash(c, fl.Kind, fl.Message)
		return redirect(c, partials.SourceURL(id))
	}
	if src, err = s.deps.Catalog.GetSource(ctxOf(c), id); err != nil {
		return err
	}
	frag := fragmentWithFlash(pages.SourceWALPanel(s.pageMeta(c, src.Name, layout.NavSources), src), fl)
	return Render(c, http.StatusOK, frag, frag)
}

// presentPtr is the field's value when the form has it, nil (keep) when it does not, so a
// form from before a field existed changes nothing about it.
func presentPtr(v url.Values, name string) *string {
	if _, ok := v[name]; !ok {
		return nil
	}
	return strPtr(v, name)
}
