-- name: CreatePipeline :one
INSERT INTO pipelines (name, source_id, destination_id) VALUES (@name, @source_id, @destination_id)
RETURNING *;

-- name: CreatePipelineMetadata :exec
INSERT INTO pipeline_metadata (pipeline_id) VALUES (@pipeline_id);

-- name: GetPipelineForUpdate :one
SELECT * FROM pipelines WHERE id = @id FOR UPDATE;

-- name: UpdatePipeline :one
UPDATE pipelines SET name = @name, source_id = @source_id, destination_id = @destination_id, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: SetPipelineStatus :exec
UPDATE pipelines SET status = @status, updated_at = now() WHERE id = @id;

-- name: SetPipelineRunning :exec
UPDATE pipeline_metadata SET status = 'RUNNING', last_error = NULL, last_error_detail = NULL, last_error_at = NULL,
    last_start_at = now(), updated_at = now()
WHERE pipeline_id = @pipeline_id;

-- name: SetPipelinePreflightWarning :exec
-- NULL clears it: every start or refresh replaces the previous preflight's warning.
UPDATE pipeline_metadata SET preflight_warning = sqlc.narg(warning) WHERE pipeline_id = @pipeline_id;

-- name: SetPipelineError :exec
UPDATE pipeline_metadata SET status = 'ERROR', last_error = @last_error, last_error_detail = sqlc.narg(last_error_detail),
    last_error_at = now(), updated_at = now()
WHERE pipeline_id = @pipeline_id;

-- name: SetPipelinePaused :exec
UPDATE pipeline_metadata SET status = 'PAUSED', updated_at = now() WHERE pipeline_id = @pipeline_id;

-- name: DeletePipeline :execrows
DELETE FROM pipelines WHERE id = @id;

-- The list (catalog/listquery.go) selects from the same view: one home for a pipeline's
-- read shape (migration 00007).
-- name: GetPipelineView :one
SELECT * FROM pipeline_view WHERE id = @id;

-- The pipelines that block deleting a source or a destination (pass one of the two).
-- name: PipelinesUsing :many
SELECT id, name FROM pipelines
WHERE source_id = sqlc.narg(source_id) OR destination_id = sqlc.narg(destination_id)
ORDER BY lower(name), id;

-- name: CountPipelinesByRuntimeStatus :many
SELECT m.status, count(*) AS n FROM pipeline_metadata m GROUP BY m.status ORDER BY m.status;

-- name: LockSlot :exec
-- Serialises every start and refresh that would feed one logical slot (the same host,
-- port, database and slot name, whichever source row names it) until the transaction
-- ends: the check for another consumer and the status change commit as one.
SELECT pg_advisory_xact_lock(hashtextextended('rosetta.slot:' || lower(@pg_host::text) || ':' || @pg_port::int
    || ':' || @pg_database::text || ':' || @replication_id::text, 0));

-- name: SlotConsumers :many
-- The pipelines, other than @pipeline_id, asked to start or refresh on a source that
-- names the same slot: the consumers a second start would compete with.
SELECT p.id, p.name, p.source_id, s.name AS source_name FROM pipelines p
JOIN sources s ON s.id = p.source_id
WHERE p.status IN ('START', 'REFRESH') AND p.id <> @pipeline_id
  AND lower(s.pg_host) = lower(@pg_host::text) AND s.pg_port = @pg_port::int
  AND s.pg_database = @pg_database::text AND s.replication_id = @replication_id::text
ORDER BY p.id;
