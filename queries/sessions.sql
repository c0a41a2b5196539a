-- The session rows themselves are read and written by the scs store (internal/auth),
-- with pgxstore's statements; only housekeeping lives here.

-- name: DeleteExpiredSessions :execrows
DELETE FROM sessions WHERE expiry < now();

-- name: CountSessions :one
SELECT count(*) FROM sessions WHERE expiry > now();
