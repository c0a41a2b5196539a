package web

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/views/layout"
	"github.com/rosetta-cdc/rosetta/views/pages"
)

// walRange is one of the chart's ranges.
type walRange struct {
	pages.WALRange
	span time.Duration
}

// walRanges are the chart's ranges, shortest first.
var walRanges = []walRange{
	{pages.WALRange{Key: "1h", Label: "1 hour"}, time.Hour},
	{pages.WALRange{Key: "24h", Label: "24 hours"}, 24 * time.Hour},
	{pages.WALRange{Key: "7d", Label: "7 days"}, 7 * 24 * time.Hour},
	{pages.WALRange{Key: "30d", Label: "30 days"}, 30 * 24 * time.Hour},
}

// defaultWALRange is the range a plain link shows.
const defaultWALRange = "24h"

// walChartPoints bounds the chart's series: enough for a wide screen, downsampled in
// SQL beyond it (the peak of each interval, so a spike is never averaged away).
const walChartPoints = 720

// walRecentSamples is the length of the no-JavaScript table.
const walRecentSamples = 20

// sourceWAL is /sources/{id}/wal?range=…: the live chart and the recent samples.
func (s *Server) sourceWAL(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	src, err := s.deps.Catalog.GetSource(ctxOf(c), id)
	if err != nil {
		return err
	}
	key := c.QueryParam("range")
	if key == "" {
		key = defaultWALRange
	}
	i := slices.IndexFunc(walRanges, func(r walRange) bool { return r.Key == key })
	if i < 0 {
		// A page, not the API: the message itself names the field.
		return apperr.E(apperr.Invalid, "range must be one of 1h, 24h, 7d, 30d (got %q)", key)
	}
	start := time.Now().Add(-walRanges[i].span)
	series, err := s.deps.Catalog.WALMetrics(ctxOf(c), catalog.WALQuery{SourceID: &id, Start: &start, Limit: walChartPoints})
	if err != nil {
		return err
	}
	recent, err := s.deps.Catalog.WALMetrics(ctxOf(c), catalog.WALQuery{SourceID: &id, Limit: walRecentSamples})
	if err != nil {
		return err
	}
	chart, err := chartJSON(series.Items)
	if err != nil {
		return err
	}
	v := pages.SourceWALView{Source: src, Range: key, Threshold: s.thresholdOf(src), ChartJSON: chart,
		Downsampled: series.Downsampled, Points: len(series.Items), Recent: recent.Items,
		StreamURL: pages.SourceWALURL(id, "") + "/stream"}
	for _, r := range walRanges {
		v.Ranges = append(v.Ranges, r.WALRange)
	}
	meta := withWALChart(s.pageMeta(c, src.Name+" · WAL", layout.NavSources))
	return Render(c, http.StatusOK, pages.SourceWALPage(meta, v), nil)
}

// thresholdOf is the retention a source may reach before it is flagged.
func (s *Server) thresholdOf(src catalog.Source) int64 {
	if src.WALAlertThresholdBytes != nil {
		return *src.WALAlertThresholdBytes
	}
	if s.deps.Config != nil {
		return s.deps.Config.WALRetentionAlertBytes
	}
	return 0
}

// chartJSON is the series as static/js/wal.js reads it: columns, oldest first.
func chartJSON(items []catalog.WALSample) (string, error) {
	type cols struct {
		T        []int64  `json:"t"`
		Size     []int64  `json:"size"`
		Retained []*int64 `json:"retained"`
		IDs      []int64  `json:"ids"`
	}
	c := cols{T: []int64{}, Size: []int64{}, Retained: []*int64{}, IDs: []int64{}}
	for i := len(items) - 1; i >= 0; i-- {
		w := items[i]
		c.T = append(c.T, w.RecordedAt.Unix())
		c.Size = append(c.Size, w.SizeBytes)
		c.Retained = append(c.Retained, w.RetainedBytes)
		c.IDs = append(c.IDs, w.ID)
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", apperr.Wrap(err, "cannot encode the chart's data")
	}
	return string(b), nil
}
