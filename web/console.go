package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/rosetta-cdc/rosetta/views/components"
	"github.com/rosetta-cdc/rosetta/views/layout"
	"github.com/rosetta-cdc/rosetta/views/pages"
)

// pageMeta is the layout data every console page starts from.
func (s *Server) pageMeta(c echo.Context, title, nav string) layout.PageMeta {
	// Who is signed in and the CSRF token (access.go).
	m := s.withAccess(c, layout.PageMeta{Title: title, Nav: nav})
	// What the page may offer is what the permission table allows this principal.
	if p, ok := principalOf(c); ok {
		m.Access = func(route string) bool { return allows(p.Role, route) }
	}
	// A fragment has no flash region: leave the messages for the next full page.
	if !IsFragmentRequest(c.Request()) {
		m.Flash = s.popFlashes(c)
	}
	return m
}

func (s *Server) apiDocs(c echo.Context) error {
	return Render(c, http.StatusOK, pages.APIDocs(s.pageMeta(c, "API documentation", layout.NavAPIDocs)), nil)
}

// renderErrorPage answers a console request that failed: the error inside the layout,
// or for htmx only the error body, retargeted to the page's main region so a failed
// button never leaves a half-updated row.
func (s *Server) renderErrorPage(c echo.Context, p *Problem) error {
	msg := p.Detail
	if len(p.Errors) > 0 && p.Detail == "some fields are not valid" {
		// a page has no form to put the messages beside: say which fields in the text
		parts := make([]string, len(p.Errors))
		for i, e := range p.Errors {
			parts[i] = e.Field + " " + e.Message
		}
		msg = sentence("not valid: " + strings.Join(parts, "; "))
	}
	info := components.ErrorInfo{Status: p.Status, Title: p.Title, Message: msg, RequestID: p.RequestID}
	body := components.ErrorBody(info)
	if IsFragmentRequest(c.Request()) {
		c.Response().Header().Set("HX-Retarget", "#main")
		c.Response().Header().Set("HX-Reswap", "innerHTML")
	}
	return Render(c, p.Status, layout.Page(s.pageMeta(c, p.Title, ""), body), body)
}
