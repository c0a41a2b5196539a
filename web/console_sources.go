package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
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

func (s *Server) sourcesIndex(c echo.Context) error {
	p, st := listParams(c, catalog.SourceSorts)
	page, err := s.deps.Catalog.ListSources(ctxOf(c), p)
	if err != nil {
		return err
	}
	meta := s.pageMeta(c, "Sources", layout.NavSources)
	l := partials.SourceList{Page: page, State: st}
	return Render(c, http.StatusOK, pages.SourcesPage(meta, l), partials.SourceTable(l, meta.May("GET /sources/new")))
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
	recent, err := s.deps.Catalog.RecentWAL(ctxOf(c), id)
	if err != nil {
		return pages.SourceDetail{}, err
	}
	return pages.SourceDetail{Source: src, Pipelines: using, Checks: partials.SourceChecks{SourceID: id}, RecentWAL: recent}, nil
}

// sourceForm is the console's source form.
var sourceForm = entityForm{kind: "Source", plural: "Sources", id: "source-form", nav: layout.NavSources,
	list: "/sources", url: partials.SourceURL, description: "Register a PostgreSQL database to replicate from.",
	created: "Run “Test connection” to check it.", view: sourceFormView, testWait: partials.WaitsUpTo(pgsource.ConnectTimeout)}

// sourceFormView draws the source form with the configured retention threshold as the
// threshold field's placeholder.
func sourceFormView(_ echo.Context, s *Server, f partials.Form, _ *editing) (templ.Component, error) {
	f.WALAlertDefault = s.deps.Catalog.DefaultWALAlertBytes()
	return partials.SourceForm(f), nil
}

// sources are the source form's handlers.
func (s *Server) sources() entityHandlers[catalog.Source, catalog.SourceInput, catalog.SourcePatch] {
	cat := s.deps.Catalog
	return entityHandlers[catalog.Source, catalog.SourceInput, catalog.SourcePatch]{
		form: sourceForm, get: cat.GetSource, create: cat.CreateSource, update: cat.UpdateSource, del: cat.DeleteSource,
		editing: func(src catalog.Source) *editing {
			return &editing{id: src.ID, name: src.Name, secretSet: src.PgPasswordSet}
		},
		blank: func(echo.Context) url.Values {
			return url.Values{"pg_port": {strconv.Itoa(catalog.DefaultPgPort)}, "tls_mode": {string(pgsource.TLSPrefer)}}
		},
		stored: func(src catalog.Source, v url.Values) {
			if src.WALAlertThresholdBytes != nil { // blank: the configured default (the placeholder)
				v.Set("wal_alert_threshold_bytes", strconv.FormatInt(*src.WALAlertThresholdBytes, 10))
			}
		},
		testNew: func(ctx context.Context, in catalog.SourceInput) (partials.FormTest, error) {
			checks, err := cat.TestNewSource(ctx, in)
			return partials.FormTest{Checks: checks}, err
		},
		testEdit: func(ctx context.Context, id int64, p catalog.SourcePatch) (partials.FormTest, error) {
			checks, err := cat.TestSourceChanges(ctx, id, p)
			return partials.FormTest{Checks: checks}, err
		},
		notes: func(src catalog.Source) []layout.Flash {
			var out []layout.Flash
			for _, w := range src.Warnings {
				f := layout.Flash{Kind: components.FlashWarning, Message: sentence(w.Message)}
				for _, r := range w.Related {
					f.Links = append(f.Links, components.Link{Label: r.Name, URL: partials.RelatedURL(r.Kind, r.ID)})
				}
				out = append(out, f)
			}
			return out
		},
		fixInput: func(in *catalog.SourceInput, v url.Values) {
			in.WALAlertThresholdBytes = formThreshold(v)
		},
		fixPatch: func(patch *catalog.SourcePatch, v url.Values, _ catalog.Source) {
			patch.WALAlertThresholdBytes = formThreshold(v)
			if patch.PgPort == nil { // the form was cleared: the default, as on create
				port := catalog.DefaultPgPort
				patch.PgPort = &port
			}
			if patch.PgPassword != nil && *patch.PgPassword == "" { // blank keeps the stored password
				patch.PgPassword = nil
			}
		},
	}
}

func (s *Server) sourceNew(c echo.Context) error    { return s.sources().newForm(s, c) }
func (s *Server) sourceCreate(c echo.Context) error { return s.sources().createForm(s, c) }
func (s *Server) sourceEdit(c echo.Context) error   { return s.sources().editForm(s, c) }
func (s *Server) sourceUpdate(c echo.Context) error { return s.sources().updateForm(s, c) }
func (s *Server) sourceDelete(c echo.Context) error { return s.sources().deleteForm(s, c) }

// sourceTest runs the connection checks. They change nothing, so the answer is the
// results themselves (the page, or for htmx the results region) rather than a redirect.
func (s *Server) sourceTest(c echo.Context) error {
	src, err := s.sources().load(c)
	if err != nil {
		return err
	}
	id := src.ID
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
	recent, err := s.deps.Catalog.RecentWAL(ctxOf(c), id)
	if err != nil {
		return err
	}
	frag := fragmentWithFlash(pages.SourceWALPanel(s.pageMeta(c, src.Name, layout.NavSources), src, recent), fl)
	return Render(c, http.StatusOK, frag, frag)
}

// formThreshold reads the source form's retention threshold: absent keeps the stored one
// (nil), blank is 0 (the configured default). Anything but a whole number of bytes
// becomes -1, which the catalog refuses beside the field ("must be a positive number of
// bytes") instead of the mapping's silent 0 turning a typo into the default.
func formThreshold(v url.Values) *int64 {
	if !v.Has("wal_alert_threshold_bytes") {
		return nil
	}
	n := int64(0)
	if raw := strings.TrimSpace(v.Get("wal_alert_threshold_bytes")); raw != "" {
		var err error
		if n, err = strconv.ParseInt(raw, 10, 64); err != nil {
			n = -1
		}
	}
	return &n
}
