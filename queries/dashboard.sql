-- Queries behind the console's dashboard (internal/catalog/dashboard.go).

-- Sources whose last WAL probe failed, newest failure first.
-- name: ListSourcesWithProbeErrors :many
SELECT * FROM sources
WHERE last_probe_error IS NOT NULL
ORDER BY last_probe_error_at DESC NULLS LAST, id
LIMIT @lim;

-- Sources by the WAL their newest sample says the slot retains (then by WAL size),
-- largest first: the ones an operator should look at before a disk fills. Sources never
-- sampled come last.
-- name: ListSourcesByLatestWAL :many
SELECT s.* FROM sources s
LEFT JOIN LATERAL (
    SELECT m.size_bytes, m.retained_bytes FROM wal_metrics m
    WHERE m.source_id = s.id ORDER BY m.recorded_at DESC LIMIT 1
) w ON true
ORDER BY w.retained_bytes DESC NULLS LAST, w.size_bytes DESC NULLS LAST, lower(s.name), s.id
LIMIT @lim;
