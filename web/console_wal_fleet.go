package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/views/layout"
	"github.com/rosetta-cdc/rosetta/views/pages"
	"github.com/rosetta-cdc/rosetta/views/partials"
)

// walIndex is /wal, the fleet overview: every source's retained WAL, growth, slot state,
// forecast and flags, worst on top by default, searchable and paged like the other lists.
// htmx requests (sort, search, paging) get the list section alone.
func (s *Server) walIndex(c echo.Context) error {
	p, st := listParams(c, catalog.WALFleetSorts)
	page, err := s.deps.Catalog.WALFleet(ctxOf(c), p, false)
	if err != nil {
		return err
	}
	l := partials.WALFleetList{Page: page, State: st}
	return Render(c, http.StatusOK, pages.WALPage(s.pageMeta(c, "WAL", layout.NavWAL), l), partials.WALFleetTable(l))
}
