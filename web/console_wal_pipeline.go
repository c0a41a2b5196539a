package web

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/views/layout"
	"github.com/rosetta-cdc/rosetta/views/pages"
	"github.com/rosetta-cdc/rosetta/views/partials"
)

// The pipeline page's chart: its source's last day, at most pipelineWALPoints samples
// (downsampled in SQL to each interval's peak beyond that), drawn pipelineWALWidth ×
// pipelineWALHeight by the server.
const (
	pipelineWALSpan   = 24 * time.Hour
	pipelineWALPoints = 288
	pipelineWALWidth  = 480
	pipelineWALHeight = 120
)

// pipelineWAL is the pipeline page's chart of its source's last 24 hours.
func (s *Server) pipelineWAL(c echo.Context, src catalog.Source) (*partials.PipelineWAL, error) {
	now := time.Now()
	start := now.Add(-pipelineWALSpan)
	series, err := s.deps.Catalog.WALMetrics(ctxOf(c), catalog.WALQuery{SourceID: &src.ID, Start: &start, Limit: pipelineWALPoints})
	if err != nil {
		return nil, err
	}
	chart, err := chartJSON(series.Items)
	if err != nil {
		return nil, err
	}
	// The line shows what the slot retains (the disk an operator worries about), oldest
	// first; samples without a slot have nothing to draw.
	var pts []catalog.SparkPoint
	for i := len(series.Items) - 1; i >= 0; i-- {
		if w := series.Items[i]; w.RetainedBytes != nil {
			pts = append(pts, catalog.SparkPoint{At: w.RecordedAt, RetainedBytes: *w.RetainedBytes})
		}
	}
	threshold := s.thresholdOf(src)
	return &partials.PipelineWAL{SourceID: src.ID, SourceName: src.Name, Threshold: threshold, ChartJSON: chart,
		StreamURL: pages.SourceWALURL(src.ID, "") + "/stream", Samples: len(series.Items),
		Line: partials.NewSparkline(pts, start, now, threshold, pipelineWALWidth, pipelineWALHeight, "last 24 hours")}, nil
}

// withWALChart adds what the WAL charts need to a page: uPlot and static/js/wal.js.
func withWALChart(meta layout.PageMeta) layout.PageMeta {
	meta.Styles = append(meta.Styles, "vendor/uPlot.min.css")
	meta.Scripts = append(meta.Scripts, "vendor/uPlot.iife.min.js", "js/wal.js")
	return meta
}
