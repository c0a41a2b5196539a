-- name: CreateAPIToken :one
INSERT INTO api_tokens (user_id, name, token_hash, prefix, expires_at)
VALUES (@user_id, @name, @token_hash, @prefix, sqlc.narg(expires_at))
RETURNING *;

-- The principal behind a presented token: only a live token of an enabled user.
-- name: GetActiveToken :one
SELECT t.id AS token_id, t.last_used_at, t.expires_at, u.id AS user_id, u.email, u.role
FROM api_tokens t JOIN users u ON u.id = t.user_id
WHERE t.token_hash = @token_hash
  AND t.revoked_at IS NULL
  AND (t.expires_at IS NULL OR t.expires_at > now())
  AND u.disabled_at IS NULL;

-- Throttled: a busy automation would otherwise write this row on every request.
-- name: TouchAPIToken :exec
UPDATE api_tokens SET last_used_at = now()
WHERE id = @id AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute');

-- name: GetAPIToken :one
SELECT t.*, u.email AS owner_email
FROM api_tokens t JOIN users u ON u.id = t.user_id
WHERE t.id = @id;

-- Live tokens first (newest first), then revoked and expired ones.
-- name: ListAPITokens :many
SELECT t.*, u.email AS owner_email
FROM api_tokens t JOIN users u ON u.id = t.user_id
WHERE (sqlc.narg(user_id)::bigint IS NULL OR t.user_id = sqlc.narg(user_id))
ORDER BY (t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())) DESC, t.created_at DESC, t.id DESC;

-- name: RevokeAPIToken :one
UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = @id RETURNING *;
