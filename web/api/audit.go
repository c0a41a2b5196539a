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
	EntityKind string `query:"entity_kind" enum:"source,destination,pipeline,user,api_token" doc:"Only events about this kind of entity"`
	EntityID   int64  `query:"entity_id" minimum:"1" doc:"Only events about this entity (with entity_kind)"`
	Actor      string `query:"actor" maxLength:"254" doc:"Only events by this user: an email (case-insensitive) or a user id"`
	Action     string `query:"action" maxLength:"40" doc:"Only this action, e.g. update, start, login_failed"`
	Limit      int    `query:"limit" default:"50" minimum:"1" maximum:"500" doc:"Page size"`
	Offset     int    `query:"offset" default:"0" minimum:"0" maximum:"2147483647" doc:"Items to skip"`
}

func (h *AuditHandlers) ListAudit(ctx context.Context, in *AuditListInput) (*Body[catalog.Page[audit.Event]], error) {
	p, err := h.Audit.List(ctx, audit.Filter{EntityKind: in.EntityKind, EntityID: in.EntityID, Actor: in.Actor,
		Action: in.Action, Limit: in.Limit, Offset: in.Offset})
	return &Body[catalog.Page[audit.Event]]{p}, err
}
