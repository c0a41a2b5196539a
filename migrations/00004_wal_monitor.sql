-- +goose Up
-- The WAL monitor's storage: samples partitioned by day so retention drops whole
-- partitions (never a row-by-row DELETE) and a source's recent samples are read from the
-- few partitions that can hold them; plus what a source's last probe said, so every page
-- and every instance shows the same truth after a reload.

-- Probe state. last_probe_at / last_probe_error / last_probe_error_at exist since 00001.
ALTER TABLE sources
    -- the pgsource reason of the last failure (auth, refused, timeout, ...); NULL after a success
    ADD COLUMN last_probe_reason         text,
    -- failed cycles in a row; 0 after a success
    ADD COLUMN probe_failures            integer NOT NULL DEFAULT 0 CHECK (probe_failures >= 0),
    -- first failure of the current run of failures, so a page can say "failing since"
    ADD COLUMN probe_failing_since       timestamptz,
    -- alert when the slot retains more than this; NULL = WAL_RETENTION_ALERT_BYTES
    ADD COLUMN wal_alert_threshold_bytes bigint CHECK (wal_alert_threshold_bytes > 0),
    -- alerts currently raised (failing, slot_inactive, slot_lost, retention): an alert is
    -- logged and audited when it appears here, not every cycle it stays
    ADD COLUMN active_alerts             text[] NOT NULL DEFAULT '{}';

-- When the monitor (not a preflight) put the pipeline in ERROR: it equals last_error_at
-- while that error is the monitor's, so the monitor only ever clears its own errors.
ALTER TABLE pipeline_metadata ADD COLUMN monitor_error_at timestamptz;

ALTER TABLE wal_metrics RENAME TO wal_metrics_unpartitioned;
ALTER INDEX wal_metrics_pkey RENAME TO wal_metrics_unpartitioned_pkey;
ALTER INDEX wal_metrics_source_recorded_idx RENAME TO wal_metrics_unpartitioned_source_recorded_idx;
ALTER INDEX wal_metrics_recorded_idx RENAME TO wal_metrics_unpartitioned_recorded_idx;

-- A plain sequence rather than an identity column: PostgreSQL 15 does not support
-- identity columns on partitioned tables.
CREATE SEQUENCE wal_metrics_sample_id_seq AS bigint;
CREATE TABLE wal_metrics (
    id              bigint      NOT NULL DEFAULT nextval('wal_metrics_sample_id_seq'),
    source_id       bigint      NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    size_bytes      bigint      NOT NULL,
    -- WAL held back by the source's replication slot; NULL when the slot does not exist
    retained_bytes  bigint,
    slot_active     boolean,
    wal_status      text,
    -- bytes that can still be written before the slot is lost (max_slot_wal_keep_size);
    -- NULL when no limit is set or there is no slot
    safe_wal_size   bigint,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    -- the partition key must be part of every unique index of a partitioned table
    PRIMARY KEY (id, recorded_at)
) PARTITION BY RANGE (recorded_at);
ALTER SEQUENCE wal_metrics_sample_id_seq OWNED BY wal_metrics.id;
-- Serves both reads that matter: the newest sample per source (one backward index scan
-- per partition, newest partition first) and one source over a time range.
CREATE INDEX wal_metrics_source_recorded_idx ON wal_metrics (source_id, recorded_at DESC);

-- wal_metrics_ensure_partitions creates the missing daily (UTC) partitions covering
-- [from_at, to_at] and returns how many it created. The advisory lock serialises
-- concurrent callers (several instances, or a batch insert racing the maintenance job),
-- which would otherwise collide on the catalog's unique names.
-- +goose StatementBegin
CREATE FUNCTION wal_metrics_ensure_partitions(from_at timestamptz, to_at timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    d       date := (from_at AT TIME ZONE 'UTC')::date;
    last    date := (to_at AT TIME ZONE 'UTC')::date;
    part    text;
    created integer := 0;
BEGIN
    WHILE d <= last LOOP
        part := 'wal_metrics_p' || to_char(d, 'YYYYMMDD');
        IF to_regclass(quote_ident(part)) IS NULL THEN
            PERFORM pg_advisory_xact_lock(hashtext('rosetta.wal_metrics_partitions'));
            IF to_regclass(quote_ident(part)) IS NULL THEN
                EXECUTE format('CREATE TABLE %I PARTITION OF wal_metrics FOR VALUES FROM (%L) TO (%L)',
                    part, d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
                created := created + 1;
            END IF;
        END IF;
        d := d + 1;
    END LOOP;
    RETURN created;
END
$$;
-- +goose StatementEnd

-- Carry the existing samples over, partitions first.
SELECT wal_metrics_ensure_partitions(
    coalesce((SELECT min(recorded_at) FROM wal_metrics_unpartitioned), now()),
    greatest(coalesce((SELECT max(recorded_at) FROM wal_metrics_unpartitioned), now()), now() + interval '3 days'));
INSERT INTO wal_metrics (id, source_id, size_bytes, retained_bytes, slot_active, wal_status, recorded_at)
SELECT id, source_id, size_bytes, retained_bytes, slot_active, wal_status, recorded_at FROM wal_metrics_unpartitioned;
SELECT setval('wal_metrics_sample_id_seq', coalesce((SELECT max(id) FROM wal_metrics_unpartitioned), 0) + 1, false);
DROP TABLE wal_metrics_unpartitioned;

-- +goose Down
ALTER TABLE wal_metrics RENAME TO wal_metrics_partitioned;
ALTER INDEX wal_metrics_source_recorded_idx RENAME TO wal_metrics_partitioned_source_recorded_idx;
ALTER INDEX wal_metrics_pkey RENAME TO wal_metrics_partitioned_pkey;
CREATE TABLE wal_metrics (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id       bigint      NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    size_bytes      bigint      NOT NULL,
    retained_bytes  bigint,
    slot_active     boolean,
    wal_status      text,
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
INSERT INTO wal_metrics (id, source_id, size_bytes, retained_bytes, slot_active, wal_status, recorded_at)
OVERRIDING SYSTEM VALUE
SELECT id, source_id, size_bytes, retained_bytes, slot_active, wal_status, recorded_at FROM wal_metrics_partitioned;
SELECT setval(pg_get_serial_sequence('wal_metrics', 'id'), coalesce((SELECT max(id) FROM wal_metrics), 0) + 1, false);
DROP TABLE wal_metrics_partitioned;
DROP FUNCTION wal_metrics_ensure_partitions(timestamptz, timestamptz);
CREATE INDEX wal_metrics_source_recorded_idx ON wal_metrics (source_id, recorded_at DESC);
CREATE INDEX wal_metrics_recorded_idx ON wal_metrics (recorded_at DESC);
ALTER TABLE pipeline_metadata DROP COLUMN monitor_error_at;
ALTER TABLE sources
    DROP COLUMN last_probe_reason,
    DROP COLUMN probe_failures,
    DROP COLUMN probe_failing_since,
    DROP COLUMN wal_alert_threshold_bytes,
    DROP COLUMN active_alerts;
