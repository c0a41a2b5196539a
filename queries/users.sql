-- name: CreateUser :one
INSERT INTO users (email, password_hash, role) VALUES (@email, @password_hash, @role)
RETURNING *;

-- The first-run admin: created only while the table is empty, in one statement, so two
-- instances starting together create one admin between them.
-- name: CreateFirstUser :one
INSERT INTO users (email, password_hash, role)
SELECT @email, @password_hash, @role
WHERE NOT EXISTS (SELECT 1 FROM users)
ON CONFLICT DO NOTHING
RETURNING *;

-- name: CountUsers :one
SELECT count(*) FROM users;

-- name: GetUser :one
SELECT * FROM users WHERE id = @id;

-- name: GetUserForUpdate :one
SELECT * FROM users WHERE id = @id FOR UPDATE;

-- name: GetUserByEmail :one
SELECT * FROM users WHERE lower(email) = lower(@email);

-- name: ListUsers :many
SELECT * FROM users ORDER BY lower(email), id;

-- Locks every active admin row, so two concurrent demotions cannot both see "another
-- admin remains" and leave none.
-- name: LockActiveAdmins :many
SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL ORDER BY id FOR UPDATE;

-- name: SetUserRole :one
UPDATE users SET role = @role, updated_at = now() WHERE id = @id RETURNING *;

-- name: SetUserDisabled :one
-- Disabling ends the user's sessions for good: re-enabling must not revive them.
UPDATE users SET disabled_at = CASE WHEN @disabled::boolean THEN coalesce(disabled_at, now()) END,
    session_epoch = session_epoch + CASE WHEN @disabled::boolean AND disabled_at IS NULL THEN 1 ELSE 0 END,
    updated_at = now()
WHERE id = @id RETURNING *;

-- name: SetUserPassword :one
-- A new password ends every console session of the user (session_epoch).
UPDATE users SET password_hash = @password_hash, session_epoch = session_epoch + 1, updated_at = now()
WHERE id = @id RETURNING *;

-- name: RecordLogin :exec
UPDATE users SET last_login_at = now() WHERE id = @id;
