-- Queries behind the console's dashboard (internal/catalog/dashboard.go).

-- Sources whose last WAL probe failed, newest failure first.
-- name: ListSourcesWithProbeErrors :many
SELECT * FROM sources
WHERE last_probe_error IS NOT NULL
ORDER BY last_probe_error_at DESC NULLS LAST, id
LIMIT @lim;

-- Sources by the WAL their newest sample says the slot retains (then by WAL size),
-- largest first: the ones an operator should look at before a disk fills. Sources never
-- sampled come last. The newest sample is wal_latest's (see migration 00008).
-- name: ListSourcesByLatestWAL :many
SELECT s.* FROM sources s
LEFT JOIN wal_latest w ON w.source_id = s.id
ORDER BY w.retained_bytes DESC NULLS LAST, w.size_bytes DESC NULLS LAST, lower(s.name), s.id
LIMIT @lim;
