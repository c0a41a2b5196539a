-- name: CreateSource :one
INSERT INTO sources (name, pg_host, pg_port, pg_database, pg_username, pg_password, publication_name, replication_id,
                     tls_mode, tls_ca_cert)
VALUES (@name, @pg_host, @pg_port, @pg_database, @pg_username, @pg_password, @publication_name, @replication_id,
        @tls_mode, sqlc.narg(tls_ca_cert))
RETURNING *;

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
    updated_at = now()
WHERE id = @id
RETURNING *;

-- name: DeleteSource :execrows
DELETE FROM sources WHERE id = @id;

-- Lists are built by catalog/listquery.go (sorts and filters each with their index).
-- name: CountSources :one
SELECT count(*) FROM sources;

-- The newest sample of each listed source, one index probe per source (a DISTINCT ON over
-- the whole table would read every sample those sources ever had).
-- name: LatestWALForSources :many
SELECT w.id, w.source_id, w.size_bytes, w.retained_bytes, w.slot_active, w.wal_status, w.safe_wal_size, w.recorded_at
FROM unnest(@source_ids::bigint[]) AS i(source_id)
CROSS JOIN LATERAL (
    SELECT m.* FROM wal_metrics m WHERE m.source_id = i.source_id ORDER BY m.recorded_at DESC LIMIT 1
) w;

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
