-- Queries behind the console's dashboard (internal/catalog/dashboard.go).

-- Sources by the WAL their newest sample says the slot retains (then by WAL size),
-- largest first: the ones an operator should look at before a disk fills. Sources never
-- sampled come last. The newest sample is on the source's row (migration 00012).
-- name: ListSourcesByLatestWAL :many
SELECT s.* FROM sources s
ORDER BY s.latest_retained_bytes DESC NULLS LAST, s.latest_size_bytes DESC NULLS LAST, lower(s.name), s.id
LIMIT @lim;

-- Why things are failing, one row per cause, so ten pipelines broken by one wrong
-- password read as one line. A cause is where it is fixed:
--   probe: the WAL monitor cannot probe the source (or its slot is lost); its pipelines
--          in ERROR because of the monitor are counted here, as is a failing probe with
--          no pipeline affected.
--   source: a start or refresh failed a source check (fixed by editing the source).
--   destination: a start failed a destination check (fixed by editing the destination).
-- Grouped here, not in Go, so the page reads @lim rows whatever the fleet's size; total
-- (every cause, before the limit) lets the page say how many more there are.
-- name: ListErrorCauses :many
WITH failing AS (
    SELECT p.id, p.source_id, p.destination_id, m.last_error, m.last_error_detail, m.last_error_at,
           (m.monitor_error_at IS NOT NULL AND m.monitor_error_at = m.last_error_at) AS by_monitor,
           -- the catalog's prefix of a failed destination check (destinationCheckPrefix)
           coalesce(starts_with(m.last_error, @destination_prefix::text), false) AS by_destination
    FROM pipelines p
    JOIN pipeline_metadata m ON m.pipeline_id = p.id
    WHERE m.status = 'ERROR'
), causes AS (
    SELECT 'probe'::text AS kind, s.id AS entity_id, s.name AS entity_name,
           coalesce(s.last_probe_error, min(f.last_error)) AS message,
           CASE WHEN s.last_probe_error IS NOT NULL THEN s.last_probe_error_detail ELSE min(f.last_error_detail) END AS detail,
           count(f.id) AS pipelines,
           greatest(s.last_probe_error_at, max(f.last_error_at)) AS last_at
    FROM sources s
    LEFT JOIN failing f ON f.source_id = s.id AND f.by_monitor
    WHERE s.last_probe_error IS NOT NULL OR f.id IS NOT NULL
    GROUP BY s.id
    UNION ALL
    SELECT 'source', s.id, s.name, f.last_error, f.last_error_detail, count(*), max(f.last_error_at)
    FROM failing f
    JOIN sources s ON s.id = f.source_id
    WHERE NOT f.by_monitor AND NOT f.by_destination
    GROUP BY s.id, f.last_error, f.last_error_detail
    UNION ALL
    SELECT 'destination', d.id, d.name, f.last_error, f.last_error_detail, count(*), max(f.last_error_at)
    FROM failing f
    JOIN destinations d ON d.id = f.destination_id
    WHERE NOT f.by_monitor AND f.by_destination
    GROUP BY d.id, f.last_error, f.last_error_detail
)
SELECT kind::text AS kind, entity_id::bigint AS entity_id, entity_name::text AS entity_name,
       coalesce(message, '')::text AS message, coalesce(detail, '')::text AS detail, pipelines::bigint AS pipelines,
       -- never NULL in practice: every recorded error has its time
       coalesce(last_at, now())::timestamptz AS last_at, (count(*) OVER ())::bigint AS total
FROM causes
ORDER BY pipelines DESC, last_at DESC NULLS LAST, lower(entity_name), kind
LIMIT @lim;
