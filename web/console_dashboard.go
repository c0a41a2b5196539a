package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/rosetta-cdc/rosetta/views/layout"
	"github.com/rosetta-cdc/rosetta/views/pages"
)

func (s *Server) dashboard(c echo.Context) error {
	d, err := s.deps.Catalog.Dashboard(ctxOf(c))
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, pages.Dashboard(s.pageMeta(c, "Dashboard", layout.NavDashboard), d), nil)
}
