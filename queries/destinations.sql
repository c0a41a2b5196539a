-- name: CreateDestination :one
INSERT INTO destinations (name, snowflake_account, snowflake_user, snowflake_database, snowflake_schema,
    snowflake_role, snowflake_private_key_path, snowflake_host, snowflake_warehouse, snowflake_private_key_passphrase,
    snowflake_private_key)
VALUES (@name, @snowflake_account, @snowflake_user, @snowflake_database, @snowflake_schema,
    @snowflake_role, sqlc.narg(snowflake_private_key_path), sqlc.narg(snowflake_host), sqlc.narg(snowflake_warehouse),
    sqlc.narg(snowflake_private_key_passphrase), sqlc.narg(snowflake_private_key))
RETURNING *;

-- name: GetDestination :one
SELECT * FROM destinations WHERE id = @id;

-- name: GetDestinationForUpdate :one
SELECT * FROM destinations WHERE id = @id FOR UPDATE;

-- name: UpdateDestination :one
UPDATE destinations SET
    name = @name, snowflake_account = @snowflake_account, snowflake_user = @snowflake_user,
    snowflake_database = @snowflake_database, snowflake_schema = @snowflake_schema,
    snowflake_role = @snowflake_role, snowflake_private_key_path = sqlc.narg(snowflake_private_key_path),
    snowflake_private_key = sqlc.narg(snowflake_private_key),
    snowflake_host = sqlc.narg(snowflake_host), snowflake_warehouse = sqlc.narg(snowflake_warehouse),
    snowflake_private_key_passphrase = sqlc.narg(snowflake_private_key_passphrase),
    updated_at = now()
WHERE id = @id
RETURNING *;

-- name: DeleteDestination :execrows
DELETE FROM destinations WHERE id = @id;

-- Lists are built by catalog/listquery.go (sorts and filters each with their index).
-- name: CountDestinations :one
SELECT count(*) FROM destinations;

-- name: ListAllSealedPassphrases :many
SELECT id, snowflake_private_key_passphrase FROM destinations
WHERE snowflake_private_key_passphrase IS NOT NULL ORDER BY id;

-- name: SetDestinationPassphrase :exec
UPDATE destinations SET snowflake_private_key_passphrase = @passphrase WHERE id = @id;

-- name: SealedPrivateKeysAfter :many
SELECT id, snowflake_private_key FROM destinations
WHERE id > @after AND snowflake_private_key IS NOT NULL
ORDER BY id LIMIT @lim FOR UPDATE;

-- name: SetDestinationPrivateKey :exec
UPDATE destinations SET snowflake_private_key = @private_key WHERE id = @id;

-- name: RecordDestinationTest :exec
-- Not an edit: updated_at stays, so "Updated" keeps meaning what an operator changed.
UPDATE destinations SET last_test_status = @status, last_test_summary = @summary, last_test_at = now()
WHERE id = @id;

-- The pipeline selects, as ListSourceNames.
-- name: ListDestinationNames :many
SELECT id, name FROM destinations ORDER BY lower(name) LIMIT @lim;

-- The pipelines list's destination filter, as SearchSourceNames.
-- name: SearchDestinationNames :many
SELECT id, name FROM destinations WHERE name ILIKE '%' || @pattern::text || '%' ORDER BY lower(name) LIMIT @lim;

-- A name typed into the destination filter, as GetSourceNamed.
-- name: GetDestinationNamed :one
SELECT id, name FROM destinations WHERE lower(name) = lower(@name::text);
