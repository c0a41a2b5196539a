-- name: CreateSource :one
INSERT INTO sources (name, pg_host, pg_port, pg_database, pg_username, pg_password, publication_name, replication_id,
                     tls_mode, tls_ca_cert, wal_alert_threshold_bytes)
VALUES (@name, @pg_host, @pg_port, @pg_database, @pg_username, @pg_password, @publication_name, @replication_id,
        @tls_mode, sqlc.narg(tls_ca_cert), sqlc.narg(wal_alert_threshold_bytes))
RETURNING *;

-- The single read (the API's GET /sources/{id}, the source pages): one primary-key
-- probe, the newest WAL sample included (its latest_* columns, kept from wal_latest by
-- the triggers of migration 00012).
-- name: GetSource :one
SELECT * FROM sources WHERE id = @id;

-- name: GetSourceForUpdate :one
SELECT * FROM sources WHERE id = @id FOR UPDATE;

-- name: UpdateSource :one
UPDATE sources SET
    name = @name, pg_host = @pg_host, pg_port = @pg_port, pg_database = @pg_database,
    pg_username = @pg_username, pg_password = @pg_password,
    publication_name = @publication_name, replication_id = @replication_id,
    tls_mode = @tls_mode, tls_ca_cert = sqlc.narg(tls_ca_cert),
    wal_alert_threshold_bytes = sqlc.narg(wal_alert_threshold_bytes),
    updated_at = now()
WHERE id = @id
RETURNING *;

-- name: DeleteSource :execrows
DELETE FROM sources WHERE id = @id;

-- Lists are built by catalog/listquery.go (sorts and filters each with their index).
-- name: CountSources :one
SELECT count(*) FROM sources;

-- name: ListAllSealedSourcePasswords :many
SELECT id, pg_password FROM sources ORDER BY id;

-- name: SetSourcePassword :exec
UPDATE sources SET pg_password = @pg_password WHERE id = @id;

-- name: RecordSourceProbeError :exec
UPDATE sources SET last_probe_error = @last_probe_error, last_probe_error_detail = NULL,
    last_probe_error_at = now(), last_probe_at = now()
WHERE id = @id;

-- name: RecordSourceProbeOK :exec
UPDATE sources SET last_probe_error = NULL, last_probe_error_detail = NULL, last_probe_error_at = NULL, last_probe_at = now()
WHERE id = @id;

-- name: CountSourcesWithProbeErrors :one
SELECT count(*) FROM sources WHERE last_probe_error IS NOT NULL;

-- name: SourcesSharingSlot :many
-- Other sources naming the same logical slot (host, port, database, slot): a second
-- source on one slot is allowed, but both faces warn about it.
SELECT id, name FROM sources
WHERE id <> @id AND lower(pg_host) = lower(@pg_host::text) AND pg_port = @pg_port::int
  AND pg_database = @pg_database::text AND replication_id = @replication_id::text
ORDER BY lower(name), id;

-- The pipeline selects: ids and names only, in name order, one walk of the unique
-- lower(name) index that stops after @lim rows (no count, no samples).
-- name: ListSourceNames :many
SELECT id, name FROM sources ORDER BY lower(name) LIMIT @lim;

-- The pipelines list's source filter, as the operator types: names containing @pattern
-- (a LIKE pattern whose wildcards the caller escaped), case-insensitive, in name order.
-- Only for texts shorter than a name gram ("", "so"): they walk the lower(name) index
-- and stop after @lim matches, a short text matching many names. Longer texts walk
-- source_name_grams (catalog.MatchSourceNames), where this walk read 15–20,000 names for
-- a rare text sharing every name's prefix.
-- name: SearchSourceNames :many
SELECT id, name FROM sources WHERE name ILIKE '%' || @pattern::text || '%' ORDER BY lower(name) LIMIT @lim;

-- A name typed into the source filter, matched as names are unique: case-insensitive
-- (the unique lower(name) index).
-- name: GetSourceNamed :one
SELECT id, name FROM sources WHERE lower(name) = lower(@name::text);
