-- +goose Up
-- The sources' name searches at fleet scale (issue 12, sixth pass), as migration 00013
-- did for pipelines. Grown twenty times (1,000 → 20,000 sources), a search matching 5 %
-- of the list read every match through the trigram index and sorted it in every order
-- but created_at's (and there too, up to the exact total's cap of 1,000 matches):
-- 2.0–2.5× the cost at the bench fleet's size.
--
-- 1. Name grams, as pipeline_name_grams: a name-sorted search walks one of the search's
--    grams in name order (catalog's nameSearchSQL), every order counts its exact total
--    along the gram, index-only, instead of fetching every match, and the name
--    suggestions (SearchSourceNames) walk them too.
-- 2. The host order carries the name (and the column the key lowers, without which the
--    planner does not consider an index-only scan of an expression index), so that a
--    search walks its index checking names as it goes, as created_at's does since
--    migration 00010 (catalog's sampleSQL).
--
-- Destinations keep no grams: a few thousand at most, a search reads its matches through
-- the trigram index for about what the page itself costs, and a gram table would cost
-- every destination write for nothing a page shows (BENCHMARKS.md, seventh pass).
--
-- The triggers are 00013's made generic: one set of functions for both gram tables,
-- told by the trigger's arguments which gram table and id column they keep, so the
-- pipelines' triggers now call them too (00013's functions are dropped). Their
-- statements are dynamic (EXECUTE), planned on each call: transition tables are visible
-- to them as to static statements.
CREATE TABLE source_name_grams (
    gram text NOT NULL,
    lname text NOT NULL,
    source_id bigint NOT NULL
);

-- TG_ARGV[0]: the gram table; TG_ARGV[1]: its id column. The rows' names are lowered by
-- the database's lower(), as in 00013; the same repair of leftovers (ON CONFLICT: a
-- lowered name is unique in each of the two tables).
-- +goose StatementBegin
CREATE FUNCTION name_grams_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('INSERT INTO %I (gram, lname, %I) '
        'SELECT g.gram, lower(n.name), n.id FROM new_rows n, unnest(name_grams(lower(n.name))) AS g(gram) '
        'ON CONFLICT (gram, lname) DO UPDATE SET %2$I = EXCLUDED.%2$I', TG_ARGV[0], TG_ARGV[1]);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION name_grams_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('DELETE FROM %I x USING old_rows o, unnest(name_grams(lower(o.name))) AS g(gram) '
        'WHERE x.gram = g.gram AND x.lname = lower(o.name)', TG_ARGV[0]);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION name_grams_rename() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('DELETE FROM %I WHERE gram = ANY(name_grams(lower($1))) AND lname = lower($1)', TG_ARGV[0])
        USING OLD.name;
    EXECUTE format('INSERT INTO %I (gram, lname, %I) SELECT g.gram, lower($1), $2 FROM unnest(name_grams(lower($1))) AS g(gram) '
        'ON CONFLICT (gram, lname) DO UPDATE SET %2$I = EXCLUDED.%2$I', TG_ARGV[0], TG_ARGV[1])
        USING NEW.name, NEW.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION name_grams_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('TRUNCATE %I', TG_ARGV[0]);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

DROP TRIGGER pipelines_name_grams_truncate ON pipelines;
DROP TRIGGER pipelines_name_grams_rename ON pipelines;
DROP TRIGGER pipelines_name_grams_delete ON pipelines;
DROP TRIGGER pipelines_name_grams_insert ON pipelines;
DROP FUNCTION pipelines_name_grams_truncate();
DROP FUNCTION pipelines_name_grams_rename();
DROP FUNCTION pipelines_name_grams_delete();
DROP FUNCTION pipelines_name_grams_insert();

CREATE TRIGGER pipelines_name_grams_insert AFTER INSERT ON pipelines REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION name_grams_insert('pipeline_name_grams', 'pipeline_id');
CREATE TRIGGER pipelines_name_grams_delete AFTER DELETE ON pipelines REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION name_grams_delete('pipeline_name_grams');
CREATE TRIGGER pipelines_name_grams_rename AFTER UPDATE OF name ON pipelines
    FOR EACH ROW WHEN (lower(OLD.name) IS DISTINCT FROM lower(NEW.name))
    EXECUTE FUNCTION name_grams_rename('pipeline_name_grams', 'pipeline_id');
CREATE TRIGGER pipelines_name_grams_truncate AFTER TRUNCATE ON pipelines
    FOR EACH STATEMENT EXECUTE FUNCTION name_grams_truncate('pipeline_name_grams');

CREATE TRIGGER sources_name_grams_insert AFTER INSERT ON sources REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION name_grams_insert('source_name_grams', 'source_id');
CREATE TRIGGER sources_name_grams_delete AFTER DELETE ON sources REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION name_grams_delete('source_name_grams');
CREATE TRIGGER sources_name_grams_rename AFTER UPDATE OF name ON sources
    FOR EACH ROW WHEN (lower(OLD.name) IS DISTINCT FROM lower(NEW.name))
    EXECUTE FUNCTION name_grams_rename('source_name_grams', 'source_id');
CREATE TRIGGER sources_name_grams_truncate AFTER TRUNCATE ON sources
    FOR EACH STATEMENT EXECUTE FUNCTION name_grams_truncate('source_name_grams');

-- Backfilled, then keyed in one sorted pass (as 00013: smaller than grown row by row).
INSERT INTO source_name_grams (gram, lname, source_id)
SELECT g.gram, lower(s.name), s.id FROM sources s, unnest(name_grams(lower(s.name))) AS g(gram);
ALTER TABLE source_name_grams ADD PRIMARY KEY (gram, lname) INCLUDE (source_id);

-- Same keys and order as the index it replaces (00007).
CREATE INDEX sources_host_id_name_idx ON sources (lower(pg_host), id) INCLUDE (name, pg_host);
DROP INDEX sources_host_id_idx;

-- +goose Down
CREATE INDEX sources_host_id_idx ON sources (lower(pg_host), id);
DROP INDEX sources_host_id_name_idx;

DROP TRIGGER sources_name_grams_truncate ON sources;
DROP TRIGGER sources_name_grams_rename ON sources;
DROP TRIGGER sources_name_grams_delete ON sources;
DROP TRIGGER sources_name_grams_insert ON sources;
DROP TRIGGER pipelines_name_grams_truncate ON pipelines;
DROP TRIGGER pipelines_name_grams_rename ON pipelines;
DROP TRIGGER pipelines_name_grams_delete ON pipelines;
DROP TRIGGER pipelines_name_grams_insert ON pipelines;

-- 00013's functions for pipelines, as they were.
-- +goose StatementBegin
CREATE FUNCTION pipelines_name_grams_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO pipeline_name_grams (gram, lname, pipeline_id)
    SELECT g.gram, lower(n.name), n.id FROM new_rows n, unnest(name_grams(lower(n.name))) AS g(gram)
    ON CONFLICT (gram, lname) DO UPDATE SET pipeline_id = EXCLUDED.pipeline_id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION pipelines_name_grams_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM pipeline_name_grams x USING old_rows o, unnest(name_grams(lower(o.name))) AS g(gram)
    WHERE x.gram = g.gram AND x.lname = lower(o.name);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION pipelines_name_grams_rename() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM pipeline_name_grams WHERE gram = ANY(name_grams(lower(OLD.name))) AND lname = lower(OLD.name);
    INSERT INTO pipeline_name_grams (gram, lname, pipeline_id)
    SELECT g.gram, lower(NEW.name), NEW.id FROM unnest(name_grams(lower(NEW.name))) AS g(gram)
    ON CONFLICT (gram, lname) DO UPDATE SET pipeline_id = EXCLUDED.pipeline_id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION pipelines_name_grams_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE pipeline_name_grams;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER pipelines_name_grams_insert AFTER INSERT ON pipelines
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pipelines_name_grams_insert();
CREATE TRIGGER pipelines_name_grams_delete AFTER DELETE ON pipelines
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION pipelines_name_grams_delete();
CREATE TRIGGER pipelines_name_grams_rename AFTER UPDATE OF name ON pipelines
    FOR EACH ROW WHEN (lower(OLD.name) IS DISTINCT FROM lower(NEW.name)) EXECUTE FUNCTION pipelines_name_grams_rename();
CREATE TRIGGER pipelines_name_grams_truncate AFTER TRUNCATE ON pipelines
    FOR EACH STATEMENT EXECUTE FUNCTION pipelines_name_grams_truncate();

DROP FUNCTION name_grams_truncate();
DROP FUNCTION name_grams_rename();
DROP FUNCTION name_grams_delete();
DROP FUNCTION name_grams_insert();
DROP TABLE source_name_grams;
