// Package audit records who changed what, when and from where, and reads it back. The
// recorder runs inside the transaction of the change it describes (catalog and auth
// call it through their AuditFunc hooks), so a change and its audit row commit or roll
// back together. The actor and address come from the request context (internal/auth).
package audit

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
)

// Record writes one event on tx.
func Record(ctx context.Context, tx db.DBTX, e auth.AuditEvent) error {
	params := db.InsertAuditEventParams{
		Action: e.Action, EntityKind: e.EntityKind, EntityName: e.EntityName, RemoteAddr: auth.RemoteAddr(ctx),
	}
	if e.EntityID != 0 {
		id := e.EntityID
		params.EntityID = &id
	}
	if p, ok := auth.FromContext(ctx); ok {
		if p.UserID != 0 {
			uid := p.UserID
			params.ActorUserID = &uid
		}
		params.ActorEmail = p.Email
		params.ActorTokenID = p.TokenID
	}
	if e.ActorEmail != "" {
		params.ActorEmail = e.ActorEmail
	}
	// Secrets are never recorded with their value, whatever a caller passes: the audit
	// log is readable by every signed-in user.
	changes := make(map[string]any, len(e.Changes))
	for k, v := range e.Changes {
		if auth.IsSecretName(k) && !isMarker(v) {
			v = "(changed)"
		}
		changes[k] = v
	}
	b, err := json.Marshal(changes)
	if err != nil {
		return apperr.Wrap(err, "cannot encode audit changes")
	}
	params.Changes = b
	return db.New(tx).InsertAuditEvent(ctx, params)
}

// ForCatalog adapts Record to the recorder catalog.New requires.
func ForCatalog() catalog.AuditFunc {
	return func(ctx context.Context, tx db.DBTX, e catalog.AuditEvent) error {
		return Record(ctx, tx, auth.AuditEvent{Action: e.Action, EntityKind: e.EntityKind, EntityID: e.EntityID,
			EntityName: e.EntityName, Changes: e.Changes})
	}
}

// ForAuth adapts Record to the recorder auth.New requires.
func ForAuth() auth.AuditFunc { return Record }

// Event is one audit row as both faces show it.
type Event struct {
	ID           int64          `json:"id"`
	At           time.Time      `json:"at"`
	ActorUserID  *int64         `json:"actor_user_id,omitempty" doc:"The user who acted; absent for the command line and failed sign-ins"`
	ActorEmail   string         `json:"actor_email" doc:"Who acted (for a failed sign-in: the account tried, or (unknown account), never the text typed)"`
	ActorTokenID *int64         `json:"actor_token_id,omitempty" doc:"Set when the actor used an API token"`
	Action       string         `json:"action" example:"update"`
	EntityKind   string         `json:"entity_kind" example:"source"`
	EntityID     *int64         `json:"entity_id,omitempty"`
	EntityName   string         `json:"entity_name"`
	RemoteAddr   string         `json:"remote_addr"`
	Changes      map[string]any `json:"changes" doc:"Changed fields as {from, to}; secrets only as \"(changed)\""`
}

// EntityKinds are the kinds of thing the log records, as the packages that record
// them name them; the API's entity_kind filter is documented and validated from this list.
var EntityKinds = []string{catalog.KindSource, catalog.KindDestination, catalog.KindPipeline, auth.KindUser, auth.KindAPIToken}

// Filter narrows a listing. Zero values mean "any".
type Filter struct {
	EntityKind string
	EntityID   int64
	// Actor is an email (case-insensitive) or a numeric user id.
	Actor  string
	Action string
	Limit  int
	Offset int
}

// Service reads the log.
type Service struct {
	pool *db.Pool
}

func New(pool *db.Pool) *Service { return &Service{pool: pool} }

// List returns events newest first. Any signed-in user may read the log: it holds no
// secret values.
func (s *Service) List(ctx context.Context, f Filter) (catalog.Page[Event], error) {
	if _, ok := auth.FromContext(ctx); !ok {
		return catalog.Page[Event]{}, apperr.E(apperr.Unauthorized, "sign in first")
	}
	var fe apperr.Fields
	if f.Limit == 0 {
		f.Limit = catalog.DefaultLimit
	}
	if f.Limit < 1 || f.Limit > catalog.MaxLimit {
		fe.Add("limit", "must be between 1 and %d", catalog.MaxLimit)
	}
	catalog.ValidOffset(&fe, f.Offset)
	f.EntityKind = strings.TrimSpace(f.EntityKind)
	if fe.Text("entity_kind", f.EntityKind) && f.EntityKind != "" && !slices.Contains(EntityKinds, f.EntityKind) {
		fe.Add("entity_kind", "must be one of %s", strings.Join(EntityKinds, ", "))
	}
	if f.EntityID < 0 {
		fe.Add("entity_id", "must be positive")
	}
	f.Actor = strings.TrimSpace(f.Actor)
	if fe.Text("actor", f.Actor) && len(f.Actor) > 254 {
		fe.Add("actor", "must be at most 254 characters")
	}
	f.Action = strings.TrimSpace(f.Action)
	if fe.Text("action", f.Action) && len(f.Action) > 40 {
		fe.Add("action", "must be at most 40 characters")
	}
	if err := fe.Err(); err != nil {
		return catalog.Page[Event]{}, err
	}
	// Only the filters given, each served by an index that also gives the order
	// (migration 00007), and a total capped like the catalog's lists: the log only grows.
	l := catalog.NewNewestFirst("audit_events")
	if f.EntityKind != "" {
		l.Where("v.entity_kind = %s", f.EntityKind)
	}
	if f.EntityID > 0 {
		l.Where("v.entity_id = %s", f.EntityID)
	}
	if f.Actor != "" {
		if id, err := strconv.ParseInt(f.Actor, 10, 64); err == nil {
			l.Where("v.actor_user_id = %s", id)
		} else {
			l.Where("lower(v.actor_email) = lower(%s)", f.Actor)
		}
	}
	if f.Action != "" {
		l.Where("v.action = %s", f.Action)
	}
	rows, total, estimated, err := catalog.CollectNewestFirst[db.AuditEvent](ctx, s.pool, l, f.Limit, f.Offset)
	if err != nil {
		return catalog.Page[Event]{}, db.Translate(err, "audit event")
	}
	items := make([]Event, len(rows))
	for i, r := range rows {
		items[i] = Event{ID: r.ID, At: r.At.UTC(), ActorUserID: r.ActorUserID, ActorEmail: r.ActorEmail, ActorTokenID: r.ActorTokenID,
			Action: r.Action, EntityKind: r.EntityKind, EntityID: r.EntityID, EntityName: r.EntityName, RemoteAddr: r.RemoteAddr,
			Changes: map[string]any{}}
		if len(r.Changes) > 0 {
			_ = json.Unmarshal(r.Changes, &items[i].Changes)
		}
	}
	return catalog.Page[Event]{Items: items, Total: total, TotalIsEstimate: estimated, Limit: f.Limit, Offset: f.Offset}, nil
}

// isMarker recognises the placeholders callers record for secrets: "(changed)", "(set)".
func isMarker(v any) bool {
	s, ok := v.(string)
	return ok && len(s) < 20 && strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")")
}
