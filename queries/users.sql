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
UPDATE users SET disabled_at = CASE WHEN @disabled::boolean THEN coalesce(disabled_at, now()) END, updated_at = now()
WHERE id = @id RETURNING *;

-- name: SetUserPassword :one
UPDATE users SET password_hash = @password_hash, updated_at = now() WHERE id = @id RETURNING *;

-- name: RecordLogin :exec
UPDATE users SET last_login_at = now() WHERE id = @id;
