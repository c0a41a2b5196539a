-- name: InsertWALMetric :one
INSERT INTO wal_metrics (source_id, size_bytes, retained_bytes, slot_active, wal_status, safe_wal_size, recorded_at)
VALUES (@source_id, @size_bytes, sqlc.narg(retained_bytes), sqlc.narg(slot_active), sqlc.narg(wal_status),
        sqlc.narg(safe_wal_size), @recorded_at)
RETURNING *;

-- name: WALMetricsExtent :one
SELECT count(*) AS n, count(DISTINCT source_id) AS sources,
       coalesce(min(recorded_at), now())::timestamptz AS first_at,
       coalesce(max(recorded_at), now())::timestamptz AS last_at
FROM wal_metrics
WHERE (sqlc.narg(source_id)::bigint IS NULL OR source_id = sqlc.narg(source_id))
  AND (sqlc.narg(start_at)::timestamptz IS NULL OR recorded_at >= sqlc.narg(start_at))
  AND (sqlc.narg(end_at)::timestamptz IS NULL OR recorded_at <= sqlc.narg(end_at));

-- name: ListWALMetrics :many
SELECT * FROM wal_metrics
WHERE (sqlc.narg(source_id)::bigint IS NULL OR source_id = sqlc.narg(source_id))
  AND (sqlc.narg(start_at)::timestamptz IS NULL OR recorded_at >= sqlc.narg(start_at))
  AND (sqlc.narg(end_at)::timestamptz IS NULL OR recorded_at <= sqlc.narg(end_at))
ORDER BY recorded_at DESC, id DESC
LIMIT @lim;

-- Downsampling: one point per (source, time bucket) — the bucket's peak sample, returned
-- whole and unaltered, because the peak is what an operator watching disk usage must not miss.
-- name: ListWALMetricsBinned :many
SELECT b.id, b.source_id, b.size_bytes, b.retained_bytes, b.slot_active, b.wal_status, b.safe_wal_size, b.recorded_at
FROM (
    SELECT DISTINCT ON (m.source_id, date_bin(@bucket::interval, m.recorded_at, @origin::timestamptz))
           m.id, m.source_id, m.size_bytes, m.retained_bytes, m.slot_active, m.wal_status, m.safe_wal_size, m.recorded_at
    FROM wal_metrics m
    WHERE (sqlc.narg(source_id)::bigint IS NULL OR m.source_id = sqlc.narg(source_id))
      AND (sqlc.narg(start_at)::timestamptz IS NULL OR m.recorded_at >= sqlc.narg(start_at))
      AND (sqlc.narg(end_at)::timestamptz IS NULL OR m.recorded_at <= sqlc.narg(end_at))
    ORDER BY m.source_id, date_bin(@bucket::interval, m.recorded_at, @origin::timestamptz),
             m.size_bytes DESC, m.id DESC
) b
ORDER BY b.recorded_at DESC, b.id DESC
LIMIT @lim;


-- Samples stored after a sample id, oldest first: what a reconnecting stream
-- (Last-Event-ID) or the LISTEN connection after an outage missed. Ids come from one
-- sequence, so "after" is a total order; each partition's primary key (id, recorded_at)
-- serves the range.
-- name: ListWALMetricsAfter :many
SELECT * FROM wal_metrics
WHERE id > @after_id
  AND (sqlc.narg(source_id)::bigint IS NULL OR source_id = sqlc.narg(source_id))
ORDER BY id
LIMIT @lim;

-- name: MaxWALMetricID :one
SELECT coalesce(max(id), 0)::bigint AS id FROM wal_metrics;
