-- +goose Up
-- The fleet overview (/wal) and the dashboard's flagged count, bounded by the page
-- (issue 10). Ranking every source (flags, forecast) before cutting a page of 50 cost
-- 272 ms at 20,000 sources and grew with the fleet. Each source's ranking keys are now
-- stored in wal_fleet, one row per source, kept by triggers whenever an input changes,
-- and each order the overview offers is an index on them: a page walks an index and
-- stops after one page.
--
-- The inputs of a source's keys, and what keeps them:
--   * its newest sample and growth (wal_latest): statement triggers on wal_latest, so
--     every path that stores a sample (the monitor's batch, probe now, imports) and the
--     retention job (which deletes summaries of dropped days) re-rank the sources touched;
--   * its probe state, threshold and name (sources): a row trigger on sources;
--   * the default threshold (WAL_RETENTION_ALERT_BYTES, configuration, not data): held in
--     wal_fleet_settings, which the catalog sets to its configured value before it reads
--     the overview; a change re-ranks the sources that use the default.
--
-- The rules (what is flagged, what the forecast is) are written once, in
-- wal_fleet_judge; everything else only stores or reads its answer.

CREATE TABLE wal_fleet_settings (
    only_row          boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    -- the retention threshold of sources without their own (catalog.MonitorSettings.AlertBytes)
    default_threshold bigint  NOT NULL CHECK (default_threshold > 0)
);
-- the configuration's default (internal/config: WAL_RETENTION_ALERT_BYTES)
INSERT INTO wal_fleet_settings (default_threshold) VALUES (10737418240);

-- The one definition of the overview's flags and forecast:
--   headroom:  safe_wal_size when the slot has a limit (max_slot_wal_keep_size), else
--              threshold - retained
--   forecast:  0 when the headroom is used up; headroom / growth while retention grows;
--              NULL (never, at this rate) otherwise; NULL without a slot sample
--   flags:     over_threshold, slot_inactive, wal_unreserved, wal_lost, probe_failing
--              (catalog.Flag* name them for Go)
-- +goose StatementBegin
CREATE FUNCTION wal_fleet_judge(retained bigint, threshold bigint, slot_active boolean, wal_status text,
                                safe_wal_size bigint, growth float8, probe_failing boolean,
                                OUT flags text[], OUT forecast float8)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_remove(ARRAY[
               CASE WHEN retained > threshold THEN 'over_threshold' END,
               CASE WHEN slot_active = false THEN 'slot_inactive' END,
               CASE WHEN wal_status IN ('unreserved', 'lost') THEN 'wal_' || wal_status END,
               CASE WHEN probe_failing THEN 'probe_failing' END
           ], NULL)::text[],
           CASE WHEN retained IS NULL THEN NULL
                WHEN coalesce(safe_wal_size, threshold - retained) <= 0 THEN 0::float8
                WHEN growth > 0 THEN coalesce(safe_wal_size, threshold - retained)::float8 / growth
           END
$$;
-- +goose StatementEnd

-- One row per source. retained and growth repeat wal_latest's and name_key is
-- lower(sources.name): an index can only order by columns of one table, and every
-- order ends with the name.
CREATE TABLE wal_fleet (
    source_id  bigint  PRIMARY KEY REFERENCES sources (id) ON DELETE CASCADE,
    name_key   text    NOT NULL,
    flags      text[]  NOT NULL,
    flag_count integer GENERATED ALWAYS AS (cardinality(flags)) STORED,
    forecast   float8,
    retained   bigint,
    growth     float8
) WITH (fillfactor = 70); -- rewritten by every cycle

-- Each order of catalog.WALFleetSorts but the name orders (which walk sources'
-- lower(name) index): written exactly as catalog's fleetOrder writes them. worst also
-- serves the flagged filter and count (flag_count > 0 is its leading range).
CREATE INDEX wal_fleet_worst_idx ON wal_fleet (flag_count DESC, forecast ASC NULLS LAST, retained DESC NULLS LAST, name_key);
CREATE INDEX wal_fleet_forecast_idx ON wal_fleet (forecast ASC NULLS LAST, name_key);
CREATE INDEX wal_fleet_retained_idx ON wal_fleet (retained DESC NULLS LAST, name_key);
CREATE INDEX wal_fleet_growth_idx ON wal_fleet (growth DESC NULLS LAST, name_key);

-- Re-ranks the given sources from their current inputs. The sources' rows are locked
-- first, in id order: a concurrent change of a source (an edit, a probe outcome) then
-- either commits before the ranking statement below takes its snapshot, or waits for
-- this transaction and re-ranks after it, so the stored keys never miss either change.
-- An unchanged ranking is not rewritten.
-- +goose StatementBegin
CREATE FUNCTION wal_fleet_refresh(ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM sources WHERE id = ANY(ids) ORDER BY id FOR NO KEY UPDATE;
    INSERT INTO wal_fleet AS k (source_id, name_key, flags, forecast, retained, growth)
    SELECT s.id, lower(s.name), j.flags, j.forecast, l.retained_bytes, l.growth_bps
    FROM sources s
    CROSS JOIN wal_fleet_settings d
    LEFT JOIN wal_latest l ON l.source_id = s.id
    CROSS JOIN LATERAL wal_fleet_judge(l.retained_bytes, coalesce(s.wal_alert_threshold_bytes, d.default_threshold),
        l.slot_active, l.wal_status, l.safe_wal_size, l.growth_bps, s.last_probe_error IS NOT NULL) j
    WHERE s.id = ANY(ids)
    ORDER BY s.id
    ON CONFLICT (source_id) DO UPDATE SET
        name_key = excluded.name_key, flags = excluded.flags, forecast = excluded.forecast,
        retained = excluded.retained, growth = excluded.growth
    WHERE (k.name_key, k.flags, k.forecast, k.retained, k.growth)
          IS DISTINCT FROM (excluded.name_key, excluded.flags, excluded.forecast, excluded.retained, excluded.growth);
END
$$;
-- +goose StatementEnd

-- A new source, or a change of what its ranking reads: its name, whether its probe
-- fails (not the message), its own threshold. Every cycle updates every source's probe
-- time; the WHEN clause keeps those updates free.
-- +goose StatementBegin
CREATE FUNCTION wal_fleet_source_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM wal_fleet_refresh(ARRAY[NEW.id]);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER wal_fleet_source_inserted AFTER INSERT ON sources
    FOR EACH ROW EXECUTE FUNCTION wal_fleet_source_changed();
CREATE TRIGGER wal_fleet_source_updated AFTER UPDATE OF name, last_probe_error, wal_alert_threshold_bytes ON sources
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name
                       OR (OLD.last_probe_error IS NULL) <> (NEW.last_probe_error IS NULL)
                       OR OLD.wal_alert_threshold_bytes IS DISTINCT FROM NEW.wal_alert_threshold_bytes)
    EXECUTE FUNCTION wal_fleet_source_changed();

-- A statement that changed wal_latest (a batch of samples, a retention sweep) re-ranks
-- the sources it touched, once each. Each trigger names its transition table "changed"
-- (PL/pgSQL compiles the function per trigger).
-- +goose StatementBegin
CREATE FUNCTION wal_fleet_latest_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM wal_fleet_refresh(ARRAY(SELECT DISTINCT source_id FROM changed));
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER wal_fleet_latest_inserted AFTER INSERT ON wal_latest
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION wal_fleet_latest_changed();
CREATE TRIGGER wal_fleet_latest_updated AFTER UPDATE ON wal_latest
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION wal_fleet_latest_changed();
CREATE TRIGGER wal_fleet_latest_deleted AFTER DELETE ON wal_latest
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION wal_fleet_latest_changed();

-- The default threshold as the reading instance has it configured. Only a change
-- writes (and re-ranks the sources that use the default), so calling it is cheap.
-- Returns whether it changed.
-- +goose StatementBegin
CREATE FUNCTION wal_fleet_set_default_threshold(bytes bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE wal_fleet_settings SET default_threshold = bytes WHERE default_threshold <> bytes;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM wal_fleet_refresh(ARRAY(SELECT id FROM sources WHERE wal_alert_threshold_bytes IS NULL));
    RETURN true;
END
$$;
-- +goose StatementEnd

-- Every existing source, ranked once.
SELECT wal_fleet_refresh(ARRAY(SELECT id FROM sources));

-- What a page reads: a source, its keys and its newest sample. Both the page and the
-- total select from it (aliased v by the catalog's list builder); the join to
-- wal_latest is dropped by the planner when a statement reads none of its columns.
CREATE VIEW wal_fleet_view AS
SELECT s.id, s.name, s.wal_alert_threshold_bytes, s.last_probe_error, s.last_probe_at,
       k.name_key, k.flags, k.flag_count, k.forecast, k.retained, k.growth,
       l.sample_id, l.size_bytes, l.retained_bytes, l.slot_active, l.wal_status, l.safe_wal_size,
       l.recorded_at, l.growth_bps
FROM wal_fleet k
JOIN sources s ON s.id = k.source_id
LEFT JOIN wal_latest l ON l.source_id = k.source_id;

-- +goose Down
DROP VIEW wal_fleet_view;
DROP FUNCTION wal_fleet_set_default_threshold(bigint);
DROP TRIGGER wal_fleet_latest_deleted ON wal_latest;
DROP TRIGGER wal_fleet_latest_updated ON wal_latest;
DROP TRIGGER wal_fleet_latest_inserted ON wal_latest;
DROP FUNCTION wal_fleet_latest_changed();
DROP TRIGGER wal_fleet_source_updated ON sources;
DROP TRIGGER wal_fleet_source_inserted ON sources;
DROP FUNCTION wal_fleet_source_changed();
DROP FUNCTION wal_fleet_refresh(bigint[]);
DROP TABLE wal_fleet;
DROP FUNCTION wal_fleet_judge(bigint, bigint, boolean, text, bigint, float8, boolean);
DROP TABLE wal_fleet_settings;
