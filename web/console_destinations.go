package web

import (
	"context"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/snowflake"
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
	return s.destinationPage(c, d, partials.DestinationChecks{DestinationID: d.ID}, nil)
}

// destinationPage renders d's page with its pipelines and the "Test connection"
// region dc.
func (s *Server) destinationPage(c echo.Context, d catalog.Destination, dc partials.DestinationChecks, fl []layout.Flash) error {
	id := d.ID
	using, err := s.deps.Catalog.ListPipelines(ctxOf(c), catalog.ListParams{Limit: 20, Sort: "status"},
		catalog.PipelineFilter{DestinationID: &id})
	if err != nil {
		return err
	}
	meta := s.pageMeta(c, d.Name, layout.NavDestinations)
	meta.Flash = append(meta.Flash, fl...)
	return Render(c, http.StatusOK, pages.DestinationPage(meta, pages.DestinationDetail{Destination: d, Pipelines: using, Checks: dc}), nil)
}

// destinationTest runs the destination's checks. Like a source's test it changes
// nothing (beyond noting the outcome), so it answers with the results rather than a
// redirect: the results region for htmx, the whole page otherwise.
func (s *Server) destinationTest(c echo.Context) error {
	d, err := s.destinations().load(c)
	if err != nil {
		return err
	}
	r, err := s.deps.Catalog.TestDestination(ctxOf(c), d.ID)
	if err != nil {
		return err
	}
	fl := testFlash(d.Name, r.Checks)
	dc := partials.DestinationChecks{DestinationID: d.ID, Checks: r.Checks, Fingerprint: r.Fingerprint, Ran: true}
	if IsFragmentRequest(c.Request()) {
		frag := fragmentWithFlash(partials.DestinationCheckResults(dc), fl)
		return Render(c, http.StatusOK, frag, frag)
	}
	// Re-read: the test recorded its outcome, which the page shows.
	if d, err = s.deps.Catalog.GetDestination(ctxOf(c), d.ID); err != nil {
		return err
	}
	return s.destinationPage(c, d, dc, []layout.Flash{fl})
}

// destinationForm is the console's destination form.
var destinationForm = entityForm{kind: "Destination", plural: "Destinations", id: "destination-form",
	nav: layout.NavDestinations, list: "/destinations", url: partials.DestinationURL,
	description: "Register a Snowflake schema to load into, with key-pair authentication.",
	view:        staticView(partials.DestinationForm), testWait: partials.WaitsUpTo(snowflake.DefaultTimeout)}

// destinations are the destination form's handlers.
func (s *Server) destinations() entityHandlers[catalog.Destination, catalog.DestinationInput, catalog.DestinationPatch] {
	cat := s.deps.Catalog
	return entityHandlers[catalog.Destination, catalog.DestinationInput, catalog.DestinationPatch]{
		form: destinationForm, get: cat.GetDestination, create: cat.CreateDestination, update: cat.UpdateDestination,
		del: cat.DeleteDestination,
		editing: func(d catalog.Destination) *editing {
			return &editing{id: d.ID, name: d.Name, secretSet: d.SnowflakePrivateKeyPassphraseSet,
				pastedKeySet: d.SnowflakePrivateKeySet}
		},
		testNew: func(ctx context.Context, in catalog.DestinationInput) (partials.FormTest, error) {
			r, err := cat.TestNewDestination(ctx, in)
			return partials.FormTest{Checks: r.Checks, Fingerprint: r.Fingerprint}, err
		},
		testEdit: func(ctx context.Context, id int64, p catalog.DestinationPatch) (partials.FormTest, error) {
			r, err := cat.TestDestinationChanges(ctx, id, p)
			return partials.FormTest{Checks: r.Checks, Fingerprint: r.Fingerprint}, err
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
			if k := in.SnowflakePrivateKey; k != nil && *k == "" { // none: the key is a file
				in.SnowflakePrivateKey = nil
			}
		},
		// The form always carries the optional fields: blank clears them. A blank
		// passphrase keeps the stored one; with the box ticked it removes it. A blank
		// pasted key keeps the stored one too (the key is never shown back).
		fixPatch: func(patch *catalog.DestinationPatch, v url.Values, cur catalog.Destination) {
			if pp := patch.SnowflakePrivateKeyPassphrase; pp != nil && *pp == "" && v.Get("clear_passphrase") == "" {
				patch.SnowflakePrivateKeyPassphrase = nil
			}
			switch k := patch.SnowflakePrivateKey; {
			case k != nil && *k != "":
				// The form sends the path back as it was shown: a newly pasted key replaces
				// it unless the operator also typed a new path (then the catalog refuses both).
				if p := patch.SnowflakePrivateKeyPath; p != nil && *p == cur.SnowflakePrivateKeyPath {
					patch.SnowflakePrivateKeyPath = nil
				}
			default:
				patch.SnowflakePrivateKey = nil
				if p := patch.SnowflakePrivateKeyPath; p != nil && *p == "" && cur.SnowflakePrivateKeySet {
					patch.SnowflakePrivateKeyPath = nil // blank path beside a stored pasted key: keep the key
				}
			}
		},
	}
}

func (s *Server) destinationNew(c echo.Context) error    { return s.destinations().newForm(s, c) }
func (s *Server) destinationCreate(c echo.Context) error { return s.destinations().createForm(s, c) }
func (s *Server) destinationEdit(c echo.Context) error   { return s.destinations().editForm(s, c) }
func (s *Server) destinationUpdate(c echo.Context) error { return s.destinations().updateForm(s, c) }
func (s *Server) destinationDelete(c echo.Context) error { return s.destinations().deleteForm(s, c) }
