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


-- The same downsampling for buckets of whole hours aligned on UTC hours (origin on an
-- hour), read from wal_metrics_hourly, which holds each source's peak sample of each hour:
-- a bucket's peak is the peak of its hours' peaks, so the answer is the one
-- ListWALMetricsBinned would give, from ~720 rows for 30 days instead of every sample.
-- Hours cut by the range's ends (before full_from, from full_to on) cannot use the
-- hour's peak, which may lie outside the range: their samples are read themselves.
-- name: ListWALMetricsHourlyBinned :many
SELECT b.id, b.source_id, b.size_bytes, b.retained_bytes, b.slot_active, b.wal_status, b.safe_wal_size, b.recorded_at
FROM (
    SELECT DISTINCT ON (p.source_id, date_bin(@bucket::interval, p.recorded_at, @origin::timestamptz))
           p.id, p.source_id, p.size_bytes, p.retained_bytes, p.slot_active, p.wal_status, p.safe_wal_size, p.recorded_at
    FROM (
        SELECT h.sample_id AS id, h.source_id, h.size_bytes, h.retained_bytes, h.slot_active, h.wal_status, h.safe_wal_size, h.recorded_at
        FROM wal_metrics_hourly h
        WHERE (sqlc.narg(source_id)::bigint IS NULL OR h.source_id = sqlc.narg(source_id))
          AND (sqlc.narg(full_from)::timestamptz IS NULL OR h.hour_at >= sqlc.narg(full_from))
          AND (sqlc.narg(full_to)::timestamptz IS NULL OR h.hour_at < sqlc.narg(full_to))
        UNION ALL
        SELECT m.id, m.source_id, m.size_bytes, m.retained_bytes, m.slot_active, m.wal_status, m.safe_wal_size, m.recorded_at
        FROM wal_metrics m
        WHERE sqlc.narg(full_from)::timestamptz IS NOT NULL
          AND (sqlc.narg(source_id)::bigint IS NULL OR m.source_id = sqlc.narg(source_id))
          AND m.recorded_at >= sqlc.narg(start_at)::timestamptz AND m.recorded_at < sqlc.narg(full_from)
          AND (sqlc.narg(end_at)::timestamptz IS NULL OR m.recorded_at <= sqlc.narg(end_at))
        UNION ALL
        SELECT m.id, m.source_id, m.size_bytes, m.retained_bytes, m.slot_active, m.wal_status, m.safe_wal_size, m.recorded_at
        FROM wal_metrics m
        WHERE sqlc.narg(full_to)::timestamptz IS NOT NULL
          AND (sqlc.narg(source_id)::bigint IS NULL OR m.source_id = sqlc.narg(source_id))
          AND m.recorded_at >= sqlc.narg(full_to) AND m.recorded_at <= sqlc.narg(end_at)::timestamptz
          AND (sqlc.narg(start_at)::timestamptz IS NULL OR m.recorded_at >= sqlc.narg(start_at))
    ) p
    ORDER BY p.source_id, date_bin(@bucket::interval, p.recorded_at, @origin::timestamptz), p.size_bytes DESC, p.id DESC
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

-- The fleet overview (/wal) is assembled by the catalog over wal_fleet_view (see
-- internal/catalog/wal_fleet.go and migration 00009, where its rules live); this sets
-- the default threshold its stored ranking uses.
-- name: SetWALFleetDefaultThreshold :one
SELECT wal_fleet_set_default_threshold(@bytes::bigint)::boolean AS changed;

-- The fleet overview's sparklines (/wal): for each source of the page, the peak retained
-- WAL of each time bucket since start_at, oldest first. One query for the whole page, not
-- one per row; each source is a range scan of its (source_id, recorded_at) index, folded
-- into a few dozen buckets in SQL. Samples without a slot (retained unknown) are left out.
-- name: ListWALSparklines :many
SELECT m.source_id,
       date_bin(@bucket::interval, m.recorded_at, @start_at::timestamptz)::timestamptz AS bucket_at,
       max(m.retained_bytes)::bigint AS retained_bytes
FROM wal_metrics m
WHERE m.source_id = ANY(@source_ids::bigint[])
  AND m.recorded_at >= @start_at::timestamptz
  AND m.retained_bytes IS NOT NULL
GROUP BY m.source_id, bucket_at
ORDER BY m.source_id, bucket_at;
