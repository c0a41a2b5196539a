package api

import (
	"context"

	"github.com/rosetta-cdc/rosetta/internal/audit"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
)

// AuditHandlers serve the audit log.
type AuditHandlers struct {
	Audit *audit.Service
}

type AuditListInput struct {
	PageQuery
	EntityKind AuditEntityKind `query:"entity_kind" doc:"Only events about this kind of entity"`
	EntityID   int64           `query:"entity_id" minimum:"1" doc:"Only events about this entity (with entity_kind)"`
	Actor      string          `query:"actor" maxLength:"254" doc:"Only events by this user: an email (case-insensitive) or a user id"`
	Action     string          `query:"action" maxLength:"40" doc:"Only this action, e.g. update, start, login_failed"`
}

func (h *AuditHandlers) ListAudit(ctx context.Context, in *AuditListInput) (*Body[catalog.Page[audit.Event]], error) {
	p, err := h.Audit.List(ctx, audit.Filter{EntityKind: string(in.EntityKind), EntityID: in.EntityID, Actor: in.Actor,
		Action: in.Action, Limit: int(in.Limit), Offset: in.Offset})
	return &Body[catalog.Page[audit.Event]]{p}, err
}
