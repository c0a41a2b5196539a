package web

import (
	"net/http"
	"time"

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
	if l.Sparklines, err = s.fleetSparklines(c, page.Items); err != nil {
		return err
	}
	return Render(c, http.StatusOK, pages.WALPage(s.pageMeta(c, "WAL", layout.NavWAL), l), partials.WALFleetTable(l))
}

// Sparklines: each row's retained WAL over the last day, in walSparkPoints buckets,
// drawn walSparkWidth × walSparkHeight.
const (
	walSparkSpan   = 24 * time.Hour
	walSparkPoints = 48
	walSparkWidth  = 120
	walSparkHeight = 28
)

// fleetSparklines reads the sparklines of a page's rows in one query and draws them.
func (s *Server) fleetSparklines(c echo.Context, rows []catalog.WALFleetRow) (map[int64]*partials.Sparkline, error) {
	ids := make([]int64, 0, len(rows))
	for _, r := range rows {
		if r.Latest != nil {
			ids = append(ids, r.SourceID)
		}
	}
	now := time.Now()
	pts, err := s.deps.Catalog.WALSparklines(ctxOf(c), ids, walSparkSpan, walSparkPoints)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]*partials.Sparkline, len(pts))
	for _, r := range rows {
		if sp := partials.NewSparkline(pts[r.SourceID], now.Add(-walSparkSpan), now, r.Threshold, walSparkWidth, walSparkHeight, "last 24 hours"); sp != nil {
			out[r.SourceID] = sp
		}
	}
	return out, nil
}
