// Package catalog is the one home of Rosetta's business rules: validation, the pipeline
// state machine and the service methods both faces (console and /api/v1) call. It speaks
// in apperr codes and never imports echo, templ or huma.
package catalog

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/pgsource"
	"github.com/rosetta-cdc/rosetta/internal/secrets"
	"github.com/rosetta-cdc/rosetta/internal/snowflake"
)

// PreflightFunc runs the source checks; the real one is pgsource.RunChecks.
type PreflightFunc func(ctx context.Context, c pgsource.Conn, publication, slot string) []pgsource.Check

// The kinds of entity the catalog records in the audit log (audit.EntityKinds lists
// them with auth's).
const (
	KindSource      = "source"
	KindDestination = "destination"
	KindPipeline    = "pipeline"
)

// AuditEvent describes one change for the audit log. Changes never holds secret values:
// a changed secret is recorded as the field name with the value "(changed)".
type AuditEvent struct {
	Action     string // create, update, delete, start, pause, refresh
	EntityKind string // KindSource, KindDestination or KindPipeline
	EntityID   int64
	EntityName string
	Changes    map[string]any
}

// AuditFunc records an event inside the transaction that made the change, so a change
// and its audit row commit or roll back together. The actor comes from ctx.
type AuditFunc func(ctx context.Context, tx db.DBTX, e AuditEvent) error

type Service struct {
	pool      *db.Pool
	q         *db.Queries
	box       *secrets.Box
	preflight PreflightFunc
	audit     AuditFunc
	monitor   MonitorSettings
	snowflake snowflake.Options // how destination checks reach Snowflake; zero = production
	totalCap  int               // lists count exactly up to this many rows (DefaultExactTotalCap)
	// fleetDefault is the default threshold this service has confirmed the stored fleet
	// ranking uses (0: not yet); see syncFleetDefault.
	fleetDefault *atomic.Int64
}

type Option func(*Service)

// WithPreflight replaces the source checks; only the WAL monitor's own tests need this.
func WithPreflight(f PreflightFunc) Option { return func(s *Service) { s.preflight = f } }

// New builds the service. The audit recorder (internal/audit's ForCatalog) is a required
// argument, not an option: a service built without one would change things and leave
// no trace, so a nil recorder is a wiring bug, refused at start-up.
func New(pool *db.Pool, box *secrets.Box, audit AuditFunc, opts ...Option) *Service {
	if pool == nil || box == nil || audit == nil {
		panic("catalog.New: pool, secrets box and audit recorder are all required")
	}
	s := &Service{pool: pool, q: db.New(pool), box: box, preflight: pgsource.RunChecks, audit: audit,
		monitor: DefaultMonitorSettings, totalCap: DefaultExactTotalCap, fleetDefault: new(atomic.Int64)}
	for _, o := range opts {
		o(s)
	}
	return s
}

// ListParams are the common list controls. Zero values mean defaults.
type ListParams struct {
	Limit  int
	Offset int
	Q      string
	Sort   string
}

const (
	DefaultLimit = 50
	MaxLimit     = 500
	// MaxOffset is the largest offset a list accepts: the queries take 32-bit limits and
	// offsets, and a larger value must be refused, never cut to 32 bits (which would
	// silently answer another page).
	MaxOffset = math.MaxInt32
)

// Page is one page of a list, with the total matching count for pagination. Counting
// every match would make each page cost as much as the whole fleet, so a list counts
// exactly up to a cap (DefaultExactTotalCap) and estimates above it.
type Page[T any] struct {
	Items []T   `json:"items"`
	Total int64 `json:"total" doc:"Items matching the filters: exact up to 1,000; above that the database's estimate, or exact when the list counted every match anyway (a name search that sorts its matches): total_is_estimate says which"`
	// TotalIsEstimate says Total is the planner's estimate rather than a count.
	TotalIsEstimate bool `json:"total_is_estimate" doc:"True when total is an estimate (only ever above 1,000 matches); false when it is exact"`
	Limit           int  `json:"limit"`
	Offset          int  `json:"offset"`
}

// normalize validates list controls against the sort keys the entity supports.
func (p *ListParams) normalize(sorts []string) error {
	var f apperr.Fields
	if p.Limit == 0 {
		p.Limit = DefaultLimit
	}
	if p.Limit < 1 || p.Limit > MaxLimit {
		f.Add("limit", "must be between 1 and %d", MaxLimit)
	}
	ValidOffset(&f, p.Offset)
	p.Q = strings.TrimSpace(p.Q)
	if f.Text("q", p.Q) && utf8.RuneCountInString(p.Q) > 100 {
		f.Add("q", "must be at most 100 characters")
	}
	if !f.Text("sort", p.Sort) {
		return f.Err()
	}
	if p.Sort == "" {
		p.Sort = sorts[0]
	}
	ok := false
	for _, s := range sorts {
		if p.Sort == s {
			ok = true
		}
	}
	if !ok {
		f.Add("sort", "must be one of %s", strings.Join(sorts, ", "))
	}
	return f.Err()
}

// ValidOffset checks a list offset's range (audit and the token and user lists share it).
func ValidOffset(f *apperr.Fields, offset int) {
	switch {
	case offset < 0:
		f.Add("offset", "must not be negative")
	case offset > MaxOffset:
		f.Add("offset", "must be at most %d", MaxOffset)
	}
}

// qArg turns an empty search into "no filter", escaping LIKE wildcards so a search for
// "100%" finds that text rather than everything.
func qArg(q string) *string {
	if q == "" {
		return nil
	}
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q)
	return &r
}

func (s *Service) record(ctx context.Context, tx pgx.Tx, e AuditEvent) error {
	return s.audit(ctx, tx, e)
}

// translate turns a storage error into an apperr.Error. kind names the entity for
// messages ("source"); name is the name the caller tried to use, for duplicates. The
// one unique key of every catalog table is the name; the rest is db.Translate's.
func translate(err error, kind, name string) error {
	if db.IsUniqueViolation(err) {
		return &apperr.Error{Code: apperr.Conflict, Message: fmt.Sprintf("a %s named %q already exists", kind, name),
			Fields: []apperr.FieldError{{Field: "name", Message: "is already used by another " + kind}}, Err: err}
	}
	return db.Translate(err, kind)
}

func utc(t time.Time) time.Time { return t.UTC() }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
