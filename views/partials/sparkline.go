package partials

import (
	"strconv"
	"strings"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
)

// Sparkline is a small line chart the server draws as inline SVG, so it needs no
// JavaScript (and no inline style, which the CSP forbids): the fleet overview's rows and
// the pipeline page's 24-hour chart.
type Sparkline struct {
	Width, Height int
	// Points is the polyline's "x,y x,y …" in the viewBox's coordinates.
	Points string
	// ThresholdY is the y of the source's threshold when it falls inside the drawn
	// range ("" when it does not, so the line is not drawn).
	ThresholdY string
	// EndX and EndY are the newest point, marked with a dot.
	EndX, EndY string
	// Label says in words what the line shows (the SVG's accessible name).
	Label string
	N     int
	// Latest (the newest point), Low and Peak are the values the line spans, for the
	// text beside it.
	Latest, Low, Peak int64
}

// NewSparkline draws pts (oldest first) across [start, end], scaled from its lowest to
// its highest value, with what for the label ("last 24 hours"). nil when there is
// nothing to draw.
func NewSparkline(pts []catalog.SparkPoint, start, end time.Time, threshold int64, width, height int, what string) *Sparkline {
	if len(pts) == 0 || !end.After(start) {
		return nil
	}
	s := &Sparkline{Width: width, Height: height, N: len(pts), Latest: pts[len(pts)-1].RetainedBytes,
		Low: pts[0].RetainedBytes, Peak: pts[0].RetainedBytes}
	for _, p := range pts {
		s.Low, s.Peak = min(s.Low, p.RetainedBytes), max(s.Peak, p.RetainedBytes)
	}
	const pad = 2 // keeps the stroke inside the box at the extremes
	span := end.Sub(start).Seconds()
	y := func(v int64) float64 {
		if s.Peak == s.Low {
			return float64(height) / 2
		}
		return pad + (1-float64(v-s.Low)/float64(s.Peak-s.Low))*float64(height-2*pad)
	}
	var b strings.Builder
	for i, p := range pts {
		x := p.At.Sub(start).Seconds() / span * float64(width)
		x = min(max(x, 0), float64(width))
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(num(x) + "," + num(y(p.RetainedBytes)))
	}
	s.Points = b.String()
	// The newest point gets a dot: it is where the line ends "now", and a sparkline of a
	// single bucket is that dot alone.
	last := pts[len(pts)-1]
	s.EndX, s.EndY = num(min(max(last.At.Sub(start).Seconds()/span*float64(width), 0), float64(width))), num(y(last.RetainedBytes))
	if threshold > 0 && threshold >= s.Low && threshold <= s.Peak && s.Peak > s.Low {
		s.ThresholdY = num(y(threshold))
	}
	s.Label = "Retained WAL, " + what + ": low " + Bytes(s.Low) + ", peak " + Bytes(s.Peak) + ", last " + Bytes(s.Latest)
	return s
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// PipelineWAL is the pipeline page's chart of its source's last 24 hours: the server's
// sparkline and values for readers without JavaScript, the series for uPlot
// (static/js/wal.js) for everyone else.
type PipelineWAL struct {
	SourceID   int64
	SourceName string
	Threshold  int64
	// Line is nil when the source has no sample with a slot in the last 24 hours.
	Line *Sparkline
	// ChartJSON is the series in the form of pages.SourceWALView.ChartJSON.
	ChartJSON string
	StreamURL string
	Samples   int
}
