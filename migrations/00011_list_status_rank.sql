-- +goose Up
-- The status sort and the runtime-status filter (issue 12). The runtime status lives on
-- pipeline_metadata, so a status-sorted page walked an index over that table and could
-- not check a name search there: a search sorted by status probed pipeline_metadata
-- once per match (5,000 probes at 100,000 pipelines). The sort's rank is now kept on
-- pipelines itself, beside the name, so a status-sorted page walks one index of
-- pipelines, index-only, as the created_at sort does (catalog's sampleSQL).

-- The rank: errors first, then running, then the rest (what an operator scanning the list
-- wants first). The runtime-status filter asks it for its value's rank too: one mapping.
CREATE FUNCTION pipeline_status_rank(status text) RETURNS smallint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE status WHEN 'ERROR' THEN 0 WHEN 'RUNNING' THEN 1 ELSE 2 END;

-- 2 is a new pipeline's rank: its metadata starts PAUSED.
ALTER TABLE pipelines ADD COLUMN status_rank smallint NOT NULL DEFAULT 2;
UPDATE pipelines p SET status_rank = pipeline_status_rank(m.status)
FROM pipeline_metadata m
WHERE m.pipeline_id = p.id AND p.status_rank <> pipeline_status_rank(m.status);

-- One home for keeping it: every writer of the runtime status (the catalog's state
-- machine, the WAL monitor's ERROR and recovery, any seed) writes pipeline_metadata, and
-- this trigger carries the rank over in the same transaction. Both writers lock the
-- pipeline's row before its metadata (GetPipelineForUpdate, GetPipelineRuntimeForUpdate
-- FOR UPDATE OF p, m), so updating that row here adds no lock-order inversion. Only a
-- change of rank writes the row.
-- +goose StatementBegin
CREATE FUNCTION pipeline_metadata_keep_status_rank() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE pipelines SET status_rank = pipeline_status_rank(NEW.status)
    WHERE id = NEW.pipeline_id AND status_rank <> pipeline_status_rank(NEW.status);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER pipeline_metadata_status_rank AFTER INSERT OR UPDATE OF status ON pipeline_metadata
    FOR EACH ROW EXECUTE FUNCTION pipeline_metadata_keep_status_rank();

-- The status sort's index, ending with id (ties stable; read backwards for nothing: the
-- API offers status ascending only). The name rides along so a name search is checked
-- in the index (index-only), as on (created_at, id) since migration 00010.
CREATE INDEX pipelines_status_rank_id_name_idx ON pipelines (status_rank, id) INCLUDE (name);
-- The rank index on pipeline_metadata (00007) served the sort and the runtime filter;
-- both read pipelines' rank now.
DROP INDEX pipeline_metadata_status_rank_idx;

-- The name sorts' index carries the id and the name, so a name search sorted by name
-- walks it index-only too (catalog's sampleSQL checks the search on the index's key,
-- lower(name)). It replaces the unique index it extends, under the same name: same key,
-- same uniqueness (included columns take no part in it).
CREATE UNIQUE INDEX pipelines_name_lower_key_new ON pipelines (lower(name)) INCLUDE (id, name);
DROP INDEX pipelines_name_lower_key;
ALTER INDEX pipelines_name_lower_key_new RENAME TO pipelines_name_lower_key;

-- The view exposes the rank, so the list sorts and filters on it (a new column goes last:
-- CREATE OR REPLACE VIEW keeps the existing ones in place).
CREATE OR REPLACE VIEW pipeline_view AS
SELECT p.id, p.name, p.status, p.created_at, p.updated_at,
       p.source_id, s.name AS source_name,
       p.destination_id, d.name AS destination_name,
       m.status AS runtime_status, m.last_error, m.last_error_detail, m.last_error_at, m.last_start_at,
       m.preflight_warning, p.status_rank
FROM pipelines p
JOIN sources s ON s.id = p.source_id
JOIN destinations d ON d.id = p.destination_id
JOIN pipeline_metadata m ON m.pipeline_id = p.id;

-- How a name search spreads over a table, read from the name histogram's bounds
-- (pg_stats: names ANALYZE sampled over the whole table, in name order), for a searched
-- list's statement (catalog's sampleSQL): list_name_share is the share of the bounds the
-- search matches, the planner's own reckoning for a pattern that is not a prefix, which
-- sizes the estimated total; list_name_reach is the share of the name order, walked
-- forwards or backwards, before the first matching bound, which says whether the walk
-- can reach the matches. NULL without statistics, or (reach) when no bound matches.
-- pattern is an escaped LIKE pattern, matched anywhere in the name, case-insensitively,
-- as the search itself. Functions, not the pg_stats view written into the statement:
-- planning that view (four catalogs joined, a CASE per statistics slot) was a third of
-- the planning of a searched list, on every request; a PL/pgSQL function's statements
-- are planned once per session.
-- +goose StatementBegin
-- The view is filtered on its own columns, which reach the catalogs' indexes; joined to
-- pg_class instead, it was planned as a scan of pg_class (322 buffers, not 16).
CREATE FUNCTION list_name_bounds(rel regclass) RETURNS text[] LANGUAGE plpgsql STABLE AS $$
DECLARE
    nsp name;
    tbl name;
BEGIN
    SELECT n.nspname, c.relname INTO nsp, tbl FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = rel;
    RETURN (SELECT st.histogram_bounds::text::text[] FROM pg_stats st
            WHERE st.schemaname = nsp AND st.tablename = tbl AND st.attname = 'name');
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION list_name_share(rel regclass, pattern text) RETURNS float8 LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT avg((b.name ILIKE '%' || pattern || '%')::int) FROM unnest(list_name_bounds(rel)) AS b(name));
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION list_name_reach(rel regclass, pattern text, backwards boolean) RETURNS float8 LANGUAGE plpgsql STABLE AS $$
DECLARE
    bounds text[] := list_name_bounds(rel);
BEGIN
    RETURN (SELECT CASE WHEN backwards THEN cardinality(bounds) - max(b.i) ELSE min(b.i) - 1 END::float8
                   / greatest(cardinality(bounds) - 1, 1)
            FROM unnest(bounds) WITH ORDINALITY AS b(name, i)
            WHERE b.name ILIKE '%' || pattern || '%');
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION list_name_reach(regclass, text, boolean);
DROP FUNCTION list_name_share(regclass, text);
DROP FUNCTION list_name_bounds(regclass);
DROP VIEW pipeline_view;
CREATE VIEW pipeline_view AS
SELECT p.id, p.name, p.status, p.created_at, p.updated_at,
       p.source_id, s.name AS source_name,
       p.destination_id, d.name AS destination_name,
       m.status AS runtime_status, m.last_error, m.last_error_detail, m.last_error_at, m.last_start_at,
       m.preflight_warning
FROM pipelines p
JOIN sources s ON s.id = p.source_id
JOIN destinations d ON d.id = p.destination_id
JOIN pipeline_metadata m ON m.pipeline_id = p.id;
CREATE UNIQUE INDEX pipelines_name_lower_key_old ON pipelines (lower(name));
DROP INDEX pipelines_name_lower_key;
ALTER INDEX pipelines_name_lower_key_old RENAME TO pipelines_name_lower_key;
CREATE INDEX pipeline_metadata_status_rank_idx ON pipeline_metadata
    ((CASE status WHEN 'ERROR' THEN 0 WHEN 'RUNNING' THEN 1 ELSE 2 END), pipeline_id);
DROP INDEX pipelines_status_rank_id_name_idx;
DROP TRIGGER pipeline_metadata_status_rank ON pipeline_metadata;
DROP FUNCTION pipeline_metadata_keep_status_rank();
ALTER TABLE pipelines DROP COLUMN status_rank;
DROP FUNCTION pipeline_status_rank(text);
