-- +goose Up
-- The single read (GET /api/v1/sources/{id}, the source pages, the source list, the
-- dashboard) reads one row: each source's newest sample is kept on its sources row, so
-- the read is one primary-key probe instead of two (sources, then wal_latest), issue 12.
--
-- wal_latest stays the samples' summary: the statement trigger on wal_metrics (00008)
-- writes it, with the growth over the hour, and the fleet overview ranks from it
-- (wal_fleet, 00009). The columns here are a copy of its sample columns, written by
-- statement triggers on wal_latest in the statement that changes it (a cycle's batch,
-- probe now, an import, the retention sweep), so they can never disagree with it in any
-- committed state. The triggers are named to fire after wal_fleet's (alphabetical order):
-- wal_fleet_refresh has then already locked the sources rows in id order, so this
-- update takes no lock of its own in another order.
ALTER TABLE sources
    ADD COLUMN latest_sample_id      bigint,
    ADD COLUMN latest_size_bytes     bigint,
    ADD COLUMN latest_retained_bytes bigint,
    ADD COLUMN latest_slot_active    boolean,
    ADD COLUMN latest_wal_status     text,
    ADD COLUMN latest_safe_wal_size  bigint,
    ADD COLUMN latest_recorded_at    timestamptz,
    -- a sample is there whole or not at all
    ADD CONSTRAINT sources_latest_sample_whole CHECK (
        (latest_sample_id IS NULL) = (latest_size_bytes IS NULL)
        AND (latest_sample_id IS NULL) = (latest_recorded_at IS NULL));

-- Copies wal_latest's row of each source the statement touched (none left: NULLs). A
-- source whose copy is already current is not rewritten. Each trigger names its
-- transition table "changed" (PL/pgSQL compiles the function per trigger).
-- +goose StatementBegin
CREATE FUNCTION wal_latest_copy_to_sources() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sources s SET
        latest_sample_id = l.sample_id, latest_size_bytes = l.size_bytes, latest_retained_bytes = l.retained_bytes,
        latest_slot_active = l.slot_active, latest_wal_status = l.wal_status, latest_safe_wal_size = l.safe_wal_size,
        latest_recorded_at = l.recorded_at
    FROM (SELECT c.source_id, w.sample_id, w.size_bytes, w.retained_bytes, w.slot_active, w.wal_status,
                 w.safe_wal_size, w.recorded_at
          FROM (SELECT DISTINCT source_id FROM changed) c
          LEFT JOIN wal_latest w ON w.source_id = c.source_id) l
    WHERE s.id = l.source_id
      AND (s.latest_sample_id, s.latest_size_bytes, s.latest_retained_bytes, s.latest_slot_active,
           s.latest_wal_status, s.latest_safe_wal_size, s.latest_recorded_at)
          IS DISTINCT FROM (l.sample_id, l.size_bytes, l.retained_bytes, l.slot_active, l.wal_status,
                            l.safe_wal_size, l.recorded_at);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER wal_latest_to_sources_inserted AFTER INSERT ON wal_latest
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION wal_latest_copy_to_sources();
CREATE TRIGGER wal_latest_to_sources_updated AFTER UPDATE ON wal_latest
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION wal_latest_copy_to_sources();
CREATE TRIGGER wal_latest_to_sources_deleted AFTER DELETE ON wal_latest
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION wal_latest_copy_to_sources();

-- Every cycle now writes each sampled source's row twice (this copy, then the probe
-- state): room on the page keeps both heap-only updates, which touch none of the
-- sources' indexes (its trigram index included). New pages get it; the table is small.
ALTER TABLE sources SET (fillfactor = 50);

-- The newest samples stored so far.
UPDATE sources s SET
    latest_sample_id = w.sample_id, latest_size_bytes = w.size_bytes, latest_retained_bytes = w.retained_bytes,
    latest_slot_active = w.slot_active, latest_wal_status = w.wal_status, latest_safe_wal_size = w.safe_wal_size,
    latest_recorded_at = w.recorded_at
FROM wal_latest w
WHERE w.source_id = s.id;

-- +goose Down
ALTER TABLE sources RESET (fillfactor);
DROP TRIGGER wal_latest_to_sources_deleted ON wal_latest;
DROP TRIGGER wal_latest_to_sources_updated ON wal_latest;
DROP TRIGGER wal_latest_to_sources_inserted ON wal_latest;
DROP FUNCTION wal_latest_copy_to_sources();
ALTER TABLE sources
    DROP CONSTRAINT sources_latest_sample_whole,
    DROP COLUMN latest_sample_id, DROP COLUMN latest_size_bytes, DROP COLUMN latest_retained_bytes,
    DROP COLUMN latest_slot_active, DROP COLUMN latest_wal_status, DROP COLUMN latest_safe_wal_size,
    DROP COLUMN latest_recorded_at;
