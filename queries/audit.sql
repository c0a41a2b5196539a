-- name: InsertAuditEvent :exec
INSERT INTO audit_events (actor_user_id, actor_email, actor_token_id, action, entity_kind, entity_id, entity_name, remote_addr, changes)
VALUES (sqlc.narg(actor_user_id), @actor_email, sqlc.narg(actor_token_id), @action, @entity_kind, sqlc.narg(entity_id),
    @entity_name, @remote_addr, @changes);

-- name: CountAuditEvents :one
SELECT count(*) FROM audit_events
WHERE (sqlc.narg(entity_kind)::text IS NULL OR entity_kind = sqlc.narg(entity_kind))
  AND (sqlc.narg(entity_id)::bigint IS NULL OR entity_id = sqlc.narg(entity_id))
  AND (sqlc.narg(actor_user_id)::bigint IS NULL OR actor_user_id = sqlc.narg(actor_user_id))
  AND (sqlc.narg(actor_email)::text IS NULL OR lower(actor_email) = lower(sqlc.narg(actor_email)))
  AND (sqlc.narg(action)::text IS NULL OR action = sqlc.narg(action));

-- name: ListAuditEvents :many
SELECT * FROM audit_events
WHERE (sqlc.narg(entity_kind)::text IS NULL OR entity_kind = sqlc.narg(entity_kind))
  AND (sqlc.narg(entity_id)::bigint IS NULL OR entity_id = sqlc.narg(entity_id))
  AND (sqlc.narg(actor_user_id)::bigint IS NULL OR actor_user_id = sqlc.narg(actor_user_id))
  AND (sqlc.narg(actor_email)::text IS NULL OR lower(actor_email) = lower(sqlc.narg(actor_email)))
  AND (sqlc.narg(action)::text IS NULL OR action = sqlc.narg(action))
ORDER BY id DESC
LIMIT @lim OFFSET @off;
