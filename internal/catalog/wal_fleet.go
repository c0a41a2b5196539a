package catalog

import (
	"context"
	"math"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/db"
)

// Flags of a source on the fleet overview (see ListWALFleet in queries/wal_metrics.sql,
// the one place they are defined).
const (
	FlagOverThreshold = "over_threshold" // the slot retains more than the source's threshold
	FlagSlotInactive  = "slot_inactive"  // the slot exists but nothing consumes it
	FlagWALUnreserved = "wal_unreserved" // wal_status = unreserved: the slot is about to lose WAL
	FlagWALLost       = "wal_lost"       // wal_status = lost: the slot can no longer stream
	FlagProbeFailing  = "probe_failing"  // the last probe failed
)

// WALFleetSorts are the fleet overview's sort keys; the first, worst on top, is the
// default: flagged first (more flags first), then the shortest forecast, then the most
// retained.
var WALFleetSorts = []string{"worst", "name", "-name", "-retained", "forecast", "-growth"}

// WALFleetRow is one source on the fleet overview.
type WALFleetRow struct {
	SourceID       int64
	Name           string
	Threshold      int64      // the source's own retention threshold, else the default
	LastProbeAt    *time.Time // nil: never probed
	LastProbeError *string
	// Latest is the newest sample, nil when there is none.
	Latest *WALSample
	// GrowthBPS is the retained WAL's growth in bytes/s over the hour before the newest
	// sample; nil when that hour holds no earlier sample (or there is no slot).
	GrowthBPS *float64
	// Forecast is how long until the headroom (safe_wal_size, else the threshold) runs
	// out at that rate: 0 when it already has, nil when retention is not growing.
	Forecast *time.Duration
	// ForecastToSafeSize: the forecast is to safe_wal_size (the slot would be lost), not
	// to the alert threshold.
	ForecastToSafeSize bool
	Flags              []string
}

// WALFleet is one page of the fleet overview, ranked by p.Sort (WALFleetSorts);
// flaggedOnly keeps the flagged sources alone.
func (s *Service) WALFleet(ctx context.Context, p ListParams, flaggedOnly bool) (Page[WALFleetRow], error) {
	if err := p.normalize(WALFleetSorts); err != nil {
		return Page[WALFleetRow]{}, err
	}
	rows, err := s.q.ListWALFleet(ctx, db.ListWALFleetParams{DefaultThreshold: s.monitor.AlertBytes, Q: qArg(p.Q),
		FlaggedOnly: flaggedOnly, Sort: p.Sort, Lim: int32(p.Limit), Off: int32(p.Offset)})
	if err != nil {
		return Page[WALFleetRow]{}, translate(err, "WAL sample", "")
	}
	page := Page[WALFleetRow]{Items: make([]WALFleetRow, 0, len(rows)), Limit: p.Limit, Offset: p.Offset}
	for _, r := range rows {
		page.Items = append(page.Items, fleetFromRow(r))
		page.Total = r.Matched
	}
	if len(rows) == 0 && p.Offset > 0 && !flaggedOnly {
		// Past the end the window has no row to carry the total: count (for the pager).
		if page.Total, err = s.q.CountWALFleet(ctx, qArg(p.Q)); err != nil {
			return Page[WALFleetRow]{}, translate(err, "source", "")
		}
	}
	return page, nil
}

// FlaggedSources is how many sources the fleet overview flags.
func (s *Service) FlaggedSources(ctx context.Context) (int64, error) {
	p, err := s.WALFleet(ctx, ListParams{Limit: 1}, true)
	return p.Total, err
}

func fleetFromRow(r db.ListWALFleetRow) WALFleetRow {
	out := WALFleetRow{SourceID: r.ID, Name: r.Name, Threshold: r.Threshold, LastProbeAt: utcPtr(r.LastProbeAt),
		LastProbeError: r.LastProbeError, Flags: append([]string{}, r.Flags...)}
	if r.SampleID != 0 {
		out.Latest = &WALSample{ID: r.SampleID, SourceID: r.ID, SizeBytes: r.SizeBytes, RetainedBytes: r.RetainedBytes,
			SlotActive: r.SlotActive, WALStatus: r.WalStatus, SafeWALSize: r.SafeWalSize, RecordedAt: utc(r.RecordedAt)}
		out.ForecastToSafeSize = r.SafeWalSize != nil
	}
	if !math.IsNaN(r.GrowthBps) {
		g := r.GrowthBps
		out.GrowthBPS = &g
	}
	if !math.IsNaN(r.ForecastSeconds) {
		// Capped so an absurd horizon (a trickle against terabytes) cannot overflow.
		d := time.Duration(math.Min(r.ForecastSeconds, float64(math.MaxInt64/int64(time.Second)))) * time.Second
		out.Forecast = &d
	}
	return out
}
