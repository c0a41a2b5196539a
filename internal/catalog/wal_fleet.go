package catalog

import (
	"context"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/db"
)

// Flags of a source on the fleet overview (see wal_fleet_judge in migration 00009, the
// one place they are defined).
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

// fleetOrder is each fleet sort's ORDER BY over wal_fleet_view, written exactly as the
// indexes of migration 00009 are (the name orders walk sources' lower(name) index).
// Names are unique case-insensitively, so name_key ends every order without a tie.
var fleetOrder = map[string][]orderKey{
	"worst": keys(desc(key("v.flag_count"))[0], key("v.forecast"), descNullsLast(key("v.retained")),
		key("v.name_key")),
	"name": byName, "-name": desc(byName...),
	"-retained": keys(descNullsLast(key("v.retained")), key("v.name_key")),
	"forecast":  keys(key("v.forecast"), key("v.name_key")),
	"-growth":   keys(descNullsLast(key("v.growth")), key("v.name_key")),
}

// descNullsLast is a descending key with NULLs (unknown) after every value.
func descNullsLast(k orderKey) orderKey {
	k.desc, k.nullsLast = true, true
	return k
}

// fleetQuery is the overview's statement: each source's stored keys (wal_fleet, kept by
// the triggers of migration 00009), so a page walks the sort's index and stops after
// one page, and the total counts up to the service's cap, like the other lists.
func fleetQuery(q string, flaggedOnly bool) listQuery {
	l := listQuery{table: "sources", from: "wal_fleet_view v", countFrom: "sources v", keysFrom: "wal_fleet_view v", order: fleetOrder}
	if flaggedOnly {
		// Every source has its wal_fleet row: without a search, the flagged are counted
		// there alone, a range of wal_fleet_worst_idx.
		l.countFrom = "wal_fleet v"
		if qArg(q) != nil {
			l.countFrom = "wal_fleet_view v"
		}
		l.cond("v.flag_count > 0")
	}
	l.search(q)
	return l
}

// WALFleet is one page of the fleet overview, ranked by p.Sort (WALFleetSorts);
// flaggedOnly keeps the flagged sources alone. The total is exact up to the service's
// cap and estimated above it (Page.TotalIsEstimate), as on every list.
func (s *Service) WALFleet(ctx context.Context, p ListParams, flaggedOnly bool) (Page[WALFleetRow], error) {
	if err := p.normalize(WALFleetSorts); err != nil {
		return Page[WALFleetRow]{}, err
	}
	if err := s.syncFleetDefault(ctx); err != nil {
		return Page[WALFleetRow]{}, err
	}
	rows, total, estimated, err := list(ctx, s, fleetQuery(p.Q, flaggedOnly), p, byPosition[db.WalFleetView]())
	if err != nil {
		return Page[WALFleetRow]{}, translate(err, "source", "")
	}
	page := Page[WALFleetRow]{Items: make([]WALFleetRow, 0, len(rows)), Total: total, TotalIsEstimate: estimated,
		Limit: p.Limit, Offset: p.Offset}
	for _, r := range rows {
		page.Items = append(page.Items, s.fleetFromRow(r))
	}
	return page, nil
}

// FlaggedSources is how many sources the fleet overview flags: exact up to the
// service's list cap, the planner's estimate above it (estimated says which).
func (s *Service) FlaggedSources(ctx context.Context) (n int64, estimated bool, err error) {
	p, err := s.WALFleet(ctx, ListParams{Limit: 1}, true)
	return p.Total, p.TotalIsEstimate, err
}

// syncFleetDefault makes the stored ranking use this service's default threshold: the
// flags and forecasts of sources without their own threshold depend on it, and it is
// configuration (WAL_RETENTION_ALERT_BYTES), not data. Checked once per service; a
// change re-ranks those sources once. Instances sharing a database are expected to share
// their configuration: if two disagree, the last to start decides what is stored.
func (s *Service) syncFleetDefault(ctx context.Context) error {
	if s.fleetDefault.Load() == s.monitor.AlertBytes {
		return nil
	}
	if _, err := s.q.SetWALFleetDefaultThreshold(ctx, s.monitor.AlertBytes); err != nil {
		return translate(err, "source", "")
	}
	s.fleetDefault.Store(s.monitor.AlertBytes)
	return nil
}

// fleetFromRow reads a row of wal_fleet_view (sqlc's model of the view, in its column
// order).
func (s *Service) fleetFromRow(r db.WalFleetView) WALFleetRow {
	out := WALFleetRow{SourceID: r.ID, Name: r.Name, Threshold: s.threshold(r.WalAlertThresholdBytes), LastProbeAt: utcPtr(r.LastProbeAt),
		LastProbeError: r.LastProbeError, Flags: append([]string{}, r.Flags...), GrowthBPS: r.Growth}
	if r.SampleID != nil {
		out.Latest = &WALSample{ID: *r.SampleID, SourceID: r.ID, SizeBytes: orZero(r.SizeBytes), RetainedBytes: r.RetainedBytes,
			SlotActive: r.SlotActive, WALStatus: r.WalStatus, SafeWALSize: r.SafeWalSize, RecordedAt: utc(orZero(r.RecordedAt))}
		out.ForecastToSafeSize = r.SafeWalSize != nil
	}
	if r.Forecast != nil {
		// Capped so an absurd horizon (a trickle against terabytes) cannot overflow.
		d := time.Duration(math.Min(*r.Forecast, float64(math.MaxInt64/int64(time.Second)))) * time.Second
		out.Forecast = &d
	}
	return out
}

func orZero[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// ExplainWALFleet runs the statement WALFleet runs for p (page and total in one) under
// EXPLAIN (ANALYZE, BUFFERS) and returns its plan: a diagnostic for benchmarks and for
// an operator asking why a page is slow, built by the same code as the page.
func (s *Service) ExplainWALFleet(ctx context.Context, p ListParams, flaggedOnly bool) ([]string, error) {
	if err := p.normalize(WALFleetSorts); err != nil {
		return nil, err
	}
	sql, args, err := fleetQuery(p.Q, flaggedOnly).listSQL(p.Sort, p.Limit, p.Offset, s.totalCap)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+sql, exec(args)...)
	if err != nil {
		return nil, translate(err, "source", "")
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, translate(err, "source", "")
	}
	return []string{sql + "\n" + strings.Join(lines, "\n")}, nil
}
