-- name: InsertAuditEvent :exec
INSERT INTO audit_events (actor_user_id, actor_email, actor_token_id, action, entity_kind, entity_id, entity_name, remote_addr, changes)
VALUES (sqlc.narg(actor_user_id), @actor_email, sqlc.narg(actor_token_id), @action, @entity_kind, sqlc.narg(entity_id),
    @entity_name, @remote_addr, @changes);

-- The list is built by audit.List through catalog.NewNewestFirst (only the filters given).
