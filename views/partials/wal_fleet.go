package partials

import (
	"fmt"
	"strconv"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/views/components"
)

// WALFleetList is the fleet overview section (/wal): one ranked page of sources.
type WALFleetList struct {
	Page  catalog.Page[catalog.WALFleetRow]
	State ListState
	// Sparklines are the rows' retained WAL over the last day, by source id (a source
	// without samples has none).
	Sparklines map[int64]*Sparkline
}

// walFleetSortOptions are the fleet overview's orders (catalog.WALFleetSorts).
var walFleetSortOptions = []components.Option{
	{Value: "worst", Label: "Worst first"},
	{Value: "name", Label: "Source A–Z"}, {Value: "-name", Label: "Source Z–A"},
	{Value: "-retained", Label: "Most retained first"},
	{Value: "-growth", Label: "Fastest growth first"},
	{Value: "forecast", Label: "Soonest full first"},
}

// SourceWALURL is a source's live WAL chart.
func SourceWALURL(id int64) string { return "/sources/" + strconv.FormatInt(id, 10) + "/wal" }

func fleetAriaSort(st ListState, key string) string {
	if st.CurrentSort() != key {
		return "none"
	}
	if key[0] == '-' {
		return "descending"
	}
	return "ascending"
}

// GrowthRate is a growth in bytes/s; a shrinking retention shows its negative rate.
func GrowthRate(bps *float64) string {
	if bps == nil {
		return "—"
	}
	v := *bps
	if v < 0 {
		return "−" + Bytes(int64(-v+0.5)) + "/s"
	}
	return Bytes(int64(v+0.5)) + "/s"
}

// SlotSummary is the slot's state in words: active or not, and its wal_status.
func SlotSummary(w *catalog.WALSample) string {
	if w.SlotActive == nil && w.WALStatus == nil {
		return "no slot"
	}
	s := "inactive"
	if w.SlotActive != nil && *w.SlotActive {
		s = "active"
	}
	if w.WALStatus != nil {
		s += ", " + *w.WALStatus
	}
	return s
}

// ForecastText says when the source's headroom runs out at the last hour's growth.
func ForecastText(r catalog.WALFleetRow) string {
	switch {
	case r.Latest == nil || r.Latest.RetainedBytes == nil:
		return "—"
	case r.Forecast == nil && r.GrowthBPS == nil:
		return "not enough samples"
	case r.Forecast == nil:
		return "not growing"
	}
	what := "threshold (" + Bytes(r.Threshold) + ")"
	if r.ForecastToSafeSize {
		what = "safe_wal_size"
	}
	if *r.Forecast <= 0 {
		if r.ForecastToSafeSize {
			return "safe_wal_size used up"
		}
		return "over the " + what
	}
	return fmt.Sprintf("%s reached in %s", what, Span(*r.Forecast))
}

// Span is a duration in words, to the unit that matters: "45 minutes", "3 hours", "12 days".
func Span(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "under a minute"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour")
	case d < 365*24*time.Hour:
		return plural(int(d/(24*time.Hour)), "day")
	}
	return "over a year"
}

// FlagLabel names a fleet flag for people.
func FlagLabel(f string) string {
	switch f {
	case catalog.FlagOverThreshold:
		return "over threshold"
	case catalog.FlagSlotInactive:
		return "slot inactive"
	case catalog.FlagWALUnreserved:
		return "WAL unreserved"
	case catalog.FlagWALLost:
		return "slot lost"
	case catalog.FlagProbeFailing:
		return "probe failing"
	}
	return f
}
