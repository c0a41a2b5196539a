package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/views/layout"
	"github.com/rosetta-cdc/rosetta/views/pages"
	"github.com/rosetta-cdc/rosetta/views/partials"
)

func (s *Server) dashboard(c echo.Context) error {
	d, err := s.deps.Catalog.Dashboard(ctxOf(c))
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, pages.Dashboard(s.pageMeta(c, "Dashboard", layout.NavDashboard), d), nil)
}

// walIndex is /wal: every source with its newest WAL sample, searchable and paged like
// the source list.
func (s *Server) walIndex(c echo.Context) error {
	p, st := listParams(c, catalog.SourceSorts)
	page, err := s.deps.Catalog.ListSources(ctxOf(c), p)
	if err != nil {
		return err
	}
	l := partials.WALList{Page: page, State: st}
	return Render(c, http.StatusOK, pages.WALPage(s.pageMeta(c, "WAL", layout.NavWAL), l), partials.WALTable(l))
}
