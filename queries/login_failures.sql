-- name: RecordLoginFailure :one
INSERT INTO login_failures (email, remote_addr) VALUES (@email, @remote_addr) RETURNING id;

-- Failures inside the window for the account and for the address, and when the oldest
-- of each leaves the window (which is when the next attempt may be allowed).
-- name: LoginFailureStats :one
SELECT
    count(*) FILTER (WHERE email = @email)::bigint AS account_failures,
    count(*) FILTER (WHERE remote_addr = @remote_addr)::bigint AS address_failures,
    coalesce(min(at) FILTER (WHERE email = @email), now())::timestamptz AS account_oldest,
    coalesce(min(at) FILTER (WHERE remote_addr = @remote_addr), now())::timestamptz AS address_oldest
FROM login_failures
WHERE at > now() - make_interval(secs => @window_seconds::double precision)
  AND (email = @email OR remote_addr = @remote_addr);

-- name: DeleteLoginFailure :exec
DELETE FROM login_failures WHERE id = @id;

-- name: ClearLoginFailures :exec
DELETE FROM login_failures WHERE email = @email;

-- name: DeleteOldLoginFailures :execrows
DELETE FROM login_failures WHERE at < now() - make_interval(secs => @window_seconds::double precision);
