package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/rosetta-cdc/rosetta/views/components"
	"github.com/rosetta-cdc/rosetta/views/layout"
	"github.com/rosetta-cdc/rosetta/views/pages"
)

// pageMeta is the layout data every console page starts from.
func (s *Server) pageMeta(c echo.Context, title, nav string) layout.PageMeta {
	// Who is signed in and the CSRF token (access.go).
	m := s.withAccess(c, layout.PageMeta{Title: title, Nav: nav})
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
	info := components.ErrorInfo{Status: p.Status, Title: p.Title, Message: p.Detail, RequestID: p.RequestID}
	body := components.ErrorBody(info)
	if IsFragmentRequest(c.Request()) {
		c.Response().Header().Set("HX-Retarget", "#main")
		c.Response().Header().Set("HX-Reswap", "innerHTML")
	}
	return Render(c, p.Status, layout.Page(s.pageMeta(c, p.Title, ""), body), body)
}
