-- +goose Up
-- A name search's matches in name order (issue 12). The pg_trgm index finds a search's
-- matches but not in any order, and the name index orders names but cannot find a
-- substring: a name-sorted search whose matches sort far from where the walk starts
-- ("billing" 91 % of the way down a descending order at 100,000 pipelines) read every
-- match and sorted it, a cost that grew with the matches (381 → 1,783 buffers, ×4.7,
-- from 5,000 to 100,000 pipelines). Here every 3-character substring ("gram") of a
-- pipeline's lowered name is kept beside that name and the pipeline's id, in a B-tree
-- ordered by (gram, lowered name): every match of a search contains each of the search's
-- grams, so walking one gram's entries in name order, either way, meets the matches in
-- the list's order, and the walk stops at the page (catalog's nameSearchSQL).
--
-- Lowered by the database's lower(), as ILIKE lowers both sides in a UTF-8 database, so
-- a search through this table matches exactly what ILIKE matches. lname takes the
-- default collation, as lower(pipelines.name) does in the list's ORDER BY.
CREATE TABLE pipeline_name_grams (
    gram text NOT NULL,
    lname text NOT NULL,
    pipeline_id bigint NOT NULL
);

-- The distinct grams of a lowered name; none for a name shorter than three characters
-- (a search the table serves has three or more, so such a name cannot match it).
CREATE FUNCTION name_grams(lname text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ARRAY(SELECT DISTINCT substr(lname, i, 3) FROM generate_series(1, char_length(lname) - 2) AS i);

-- Kept by triggers on pipelines, in the writer's transaction, so no writer can miss it.
-- Inserts and deletes are statement-level with transition tables: a bulk create (the
-- API's batch, a seed) writes every name's grams in one INSERT … SELECT instead of one
-- PL/pgSQL call per row. A rename is row-level and fires only when the lowered name
-- changes (a transition-table trigger cannot be limited to UPDATE OF name, and would run
-- on every status or rank update of a pipeline).
--
-- The inserts repair what they meet: a lowered name is unique among pipelines, so an
-- entry already there for a name being written is a leftover of a pipeline gone without
-- its triggers (deleted under session_replication_role = replica, which skips them);
-- its id is replaced, where a unique violation would have refused the create or rename
-- as if the name were taken. A TRUNCATE of pipelines empties the table (its own trigger).
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

INSERT INTO pipeline_name_grams (gram, lname, pipeline_id)
SELECT g.gram, lower(p.name), p.id FROM pipelines p, unnest(name_grams(lower(p.name))) AS g(gram);
-- lower(name) is unique among pipelines (pipelines_name_lower_key), so (gram, lname) is
-- too; the id rides along so a walk is index-only. Built after the backfill, in one
-- sorted pass: at 100,000 pipelines 86 MB, where the same entries inserted one by one
-- (as the triggers will) split pages to 143 MB.
ALTER TABLE pipeline_name_grams ADD PRIMARY KEY (gram, lname) INCLUDE (pipeline_id);

-- Where the name histogram put a search's first match (migration 00011) decided whether
-- a name order was walked; the grams' walk needs no such guess.
DROP FUNCTION list_name_reach(regclass, text, boolean);

-- +goose Down
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
DROP TRIGGER pipelines_name_grams_truncate ON pipelines;
DROP TRIGGER pipelines_name_grams_rename ON pipelines;
DROP TRIGGER pipelines_name_grams_delete ON pipelines;
DROP TRIGGER pipelines_name_grams_insert ON pipelines;
DROP FUNCTION pipelines_name_grams_truncate();
DROP FUNCTION pipelines_name_grams_rename();
DROP FUNCTION pipelines_name_grams_delete();
DROP FUNCTION pipelines_name_grams_insert();
DROP FUNCTION name_grams(text);
DROP TABLE pipeline_name_grams;
