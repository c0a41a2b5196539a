package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/rosetta-cdc/rosetta/views/components"
	"github.com/rosetta-cdc/rosetta/views/layout"
	"github.com/rosetta-cdc/rosetta/views/pages"
)

// consoleRoutes registers the server-rendered console.
func (s *Server) consoleRoutes() {
	e := s.Echo
	RegisterStatic(e)
	e.GET("/api/docs", s.apiDocs)

	// Bookmarkable pages are GETs; every change is a POST (plain forms work without
	// JavaScript: POST → 303 → GET). /sources/new is static, so it wins over /sources/:id.
	e.GET("/", s.dashboard)
	e.GET("/wal", s.walIndex)

	e.GET("/sources", s.sourcesIndex)
	e.GET("/sources/new", s.sourceNew)
	e.POST("/sources", s.sourceCreate)
	e.GET("/sources/:id", s.sourceShow)
	e.GET("/sources/:id/edit", s.sourceEdit)
	e.POST("/sources/:id", s.sourceUpdate)
	e.POST("/sources/:id/delete", s.sourceDelete)
	e.POST("/sources/:id/test", s.sourceTest)

	e.GET("/destinations", s.destinationsIndex)
	e.GET("/destinations/new", s.destinationNew)
	e.POST("/destinations", s.destinationCreate)
	e.GET("/destinations/:id", s.destinationShow)
	e.GET("/destinations/:id/edit", s.destinationEdit)
	e.POST("/destinations/:id", s.destinationUpdate)
	e.POST("/destinations/:id/delete", s.destinationDelete)

	e.GET("/pipelines", s.pipelinesIndex)
	e.GET("/pipelines/new", s.pipelineNew)
	e.POST("/pipelines", s.pipelineCreate)
	e.GET("/pipelines/:id", s.pipelineShow)
	e.GET("/pipelines/:id/edit", s.pipelineEdit)
	e.POST("/pipelines/:id", s.pipelineUpdate)
	e.POST("/pipelines/:id/delete", s.pipelineDelete)
	e.POST("/pipelines/:id/start", s.pipelineAction(actionStart))
	e.POST("/pipelines/:id/pause", s.pipelineAction(actionPause))
	e.POST("/pipelines/:id/refresh", s.pipelineAction(actionRefresh))
}

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
