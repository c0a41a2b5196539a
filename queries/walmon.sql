-- Queries of the WAL monitor (internal/walmon through internal/catalog/wal.go).

-- Every source, for one cycle. SELECT * so the catalog's one source→connection mapping
-- sees every connection setting the table has.
-- name: ListSourcesForProbe :many
SELECT * FROM sources ORDER BY id;

-- One cycle's samples in one statement. The batch travels as JSON so absent slot values
-- stay NULL; the join skips a source deleted while it was being probed instead of
-- failing the whole batch on the foreign key.
-- name: InsertWALSamples :many
INSERT INTO wal_metrics (source_id, size_bytes, retained_bytes, slot_active, wal_status, safe_wal_size, recorded_at)
SELECT r.source_id, r.size_bytes, r.retained_bytes, r.slot_active, r.wal_status, r.safe_wal_size, r.recorded_at
FROM jsonb_to_recordset(@samples::jsonb) AS r(source_id bigint, size_bytes bigint, retained_bytes bigint,
    slot_active boolean, wal_status text, safe_wal_size bigint, recorded_at timestamptz)
JOIN sources s ON s.id = r.source_id
RETURNING *;

-- Announces stored samples to every instance's LISTEN (the live chart); called in the
-- writing transaction, so a notification is only delivered for a committed sample.
-- name: NotifyWALSamples :exec
SELECT pg_notify('wal_samples', p) FROM unnest(@payloads::text[]) AS p;

-- name: EnsureWALPartitions :one
SELECT wal_metrics_ensure_partitions(@from_at::timestamptz, @to_at::timestamptz)::integer AS created;

-- Daily partitions whose whole range ends at or before the cutoff, of the samples and of
-- their hourly rollup: the retention job detaches and drops them, the day's samples first.
-- name: ListExpiredWALPartitions :many
SELECT i.inhparent::regclass::text AS parent, c.relname::text AS name,
       ((to_date(right(c.relname, 8), 'YYYYMMDD') + 1)::timestamp AT TIME ZONE 'UTC')::timestamptz AS day_end
FROM pg_catalog.pg_inherits i
JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent IN ('wal_metrics'::regclass, 'wal_metrics_hourly'::regclass)
  AND c.relname ~ '^wal_metrics_(hourly_)?p[0-9]{8}$'
  AND ((to_date(right(c.relname, 8), 'YYYYMMDD') + 1)::timestamp AT TIME ZONE 'UTC') <= @cutoff::timestamptz
ORDER BY right(c.relname, 8), (i.inhparent = 'wal_metrics'::regclass) DESC;

-- A source whose newest sample went with a dropped day has no sample left: its summary
-- goes too, so wal_latest never shows what wal_metrics no longer holds.
-- name: DeleteWALLatestBefore :execrows
DELETE FROM wal_latest WHERE recorded_at < @before::timestamptz;

-- name: ListWALPartitions :many
SELECT c.relname::text AS name
FROM pg_catalog.pg_inherits i
JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'wal_metrics'::regclass
ORDER BY c.relname;

-- A cycle's successful probes, in one statement: each clears its source's failure state.
-- Returns each source's state before, so the caller sees what changed (a recovery, an
-- alert that clears); a source deleted meanwhile returns no row. Only the leader's cycle
-- updates many sources in one statement (every other writer updates one), so two writers
-- can never wait on each other's row locks in a cycle.
-- name: RecordProbeSuccesses :many
UPDATE sources s SET last_probe_at = r.at, last_probe_error = NULL, last_probe_error_detail = NULL,
    last_probe_error_at = NULL, last_probe_reason = NULL, probe_failures = 0, probe_failing_since = NULL
FROM sources old,
     (SELECT unnest(@ids::bigint[]) AS id, unnest(@ats::timestamptz[]) AS at) AS r
WHERE s.id = r.id AND old.id = s.id
RETURNING s.id, old.probe_failures AS failures_before, old.active_alerts AS alerts_before,
    s.wal_alert_threshold_bytes AS threshold, s.replication_id;

-- A failed probe as two sentences (see pgsource.Describe): error for everyone, detail
-- (network reasons, addresses) only for those who may edit the source.
-- name: RecordProbeFailure :one
UPDATE sources s SET last_probe_at = @at, last_probe_error = @error,
    last_probe_error_detail = sqlc.narg(detail), last_probe_error_at = @at,
    last_probe_reason = @reason, probe_failures = s.probe_failures + 1,
    probe_failing_since = coalesce(s.probe_failing_since, @at)
WHERE s.id = @id
RETURNING s.probe_failures AS failures, s.active_alerts AS alerts_before;

-- name: SetSourceAlerts :exec
UPDATE sources SET active_alerts = coalesce(@alerts::text[], '{}') WHERE id = @id;

-- The pipelines of a source the monitor may have to move, for its per-pipeline
-- transactions.
-- The pipelines of a cycle's probed sources, in one statement rather than one per source.
-- name: ListPipelinesOfSources :many
SELECT p.source_id, p.id, p.name, p.status AS desired_status, m.status AS runtime_status, m.last_error,
       (m.monitor_error_at IS NOT NULL AND m.monitor_error_at = m.last_error_at)::boolean AS monitor_error
FROM pipelines p JOIN pipeline_metadata m ON m.pipeline_id = p.id
WHERE p.source_id = ANY(@source_ids::bigint[])
ORDER BY p.source_id, p.id;

-- name: GetPipelineRuntimeForUpdate :one
SELECT p.id, p.name, p.source_id, p.status AS desired_status, m.status AS runtime_status, m.last_error,
       (m.monitor_error_at IS NOT NULL AND m.monitor_error_at = m.last_error_at)::boolean AS monitor_error
FROM pipelines p JOIN pipeline_metadata m ON m.pipeline_id = p.id
WHERE p.id = @id
FOR UPDATE OF p, m;

-- name: SetPipelineMonitorError :exec
UPDATE pipeline_metadata SET status = 'ERROR', last_error = @last_error,
    last_error_detail = sqlc.narg(last_error_detail), last_error_at = now(),
    monitor_error_at = now(), updated_at = now()
WHERE pipeline_id = @pipeline_id;

-- Back to RUNNING after the monitor's own error: last_start_at stays, the pipeline was
-- not started again.
-- name: ClearPipelineMonitorError :exec
UPDATE pipeline_metadata SET status = 'RUNNING', last_error = NULL, last_error_detail = NULL, last_error_at = NULL,
    monitor_error_at = NULL, updated_at = now()
WHERE pipeline_id = @pipeline_id;

-- The console's truthful health counts: a source never probed is neither healthy nor
-- failing (probe state as catalog.probeState derives it).
-- name: CountSourcesByProbeState :one
SELECT count(*) FILTER (WHERE last_probe_at IS NULL)::bigint AS never,
       count(*) FILTER (WHERE last_probe_at IS NOT NULL AND last_probe_error IS NULL)::bigint AS healthy,
       count(*) FILTER (WHERE last_probe_at IS NOT NULL AND last_probe_error IS NOT NULL)::bigint AS failing
FROM sources;

-- Sources with an alert raised, for the dashboard's flags; the most recent failure first.
-- name: ListSourcesWithAlerts :many
SELECT * FROM sources
WHERE cardinality(active_alerts) > 0
ORDER BY probe_failing_since DESC NULLS LAST, lower(name), id
LIMIT @lim;

-- One source's recent samples for the slot panels: newest first, bounded, and served by
-- wal_metrics_source_recorded_idx (source_id, recorded_at DESC) without a sort.
-- name: ListRecentWALSamples :many
SELECT * FROM wal_metrics
WHERE source_id = @source_id
ORDER BY recorded_at DESC
LIMIT @lim;
