package pages

import (
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/views/partials"
)

// WALRange is one of the chart's ranges (1h, 24h, 7d, 30d).
type WALRange struct {
	Key   string // in the URL: ?range=24h
	Label string
}

// SourceWALView is /sources/{id}/wal: the chart's data and, for readers without
// JavaScript, the latest values and a table of recent samples.
type SourceWALView struct {
	Source    catalog.Source
	Range     string     // the selected WALRange key
	Ranges    []WALRange // every range, for the switch
	Threshold int64      // the source's retention alert threshold (its own or the default)
	// ChartJSON is the series for static/js/wal.js (oldest first), in the chart's
	// data-series attribute (CSP allows no inline script):
	// {"t":[unix s],"size":[bytes],"retained":[bytes|null],"ids":[sample id]}
	ChartJSON   string
	Downsampled bool
	Points      int
	Recent      []catalog.WALSample // newest first
	StreamURL   string
}

// SourceWALURL is a source's WAL page, optionally at a range.
func SourceWALURL(id int64, rng string) string {
	u := partials.SourceWALURL(id)
	if rng != "" {
		u += "?range=" + rng
	}
	return u
}

// growth is the WAL written between two samples per second, "" when it cannot be known.
func growth(newer, older catalog.WALSample) string {
	secs := newer.RecordedAt.Sub(older.RecordedAt).Seconds()
	if secs <= 0 || newer.SizeBytes < older.SizeBytes {
		return "—"
	}
	return bytesPerSecond(float64(newer.SizeBytes-older.SizeBytes) / secs)
}

func bytesPerSecond(v float64) string {
	return partials.Bytes(int64(v+0.5)) + "/s"
}

// slotState says whether the sample's slot was active.
func slotState(w catalog.WALSample) string {
	switch {
	case w.SlotActive == nil:
		return "no slot"
	case *w.SlotActive:
		return "active"
	default:
		return "inactive"
	}
}
