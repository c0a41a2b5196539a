-- +goose Up
-- What the WAL pages read, kept so that their cost no longer grows with the data
-- (issue 10, storage budgets at 10 million samples):
--
-- * wal_metrics_source_recorded_idx covers the sample columns, so one source's range is
--   an index-only scan: a cycle writes every source's sample together, so one source's
--   rows lie one per heap page and a plain index scan paid a page per sample.
-- * wal_metrics_hourly: each source's peak sample of each hour (the sample the
--   downsampled chart shows), so a 30-day chart reads ~720 rows instead of ~8,640.
--   Partitioned by day like wal_metrics; retention drops both days together.
-- * wal_latest: each source's newest sample and its retained WAL's growth over the hour
--   before it, so the fleet overview and the source list read one small row per source
--   instead of probing the partitioned table per source.
--
-- Both summaries are written by a statement trigger on wal_metrics, in the inserting
-- statement's transaction: every path that stores a sample (the monitor's batch, probe
-- now, fixtures, imports) keeps them, so they cannot disagree with the samples.

DROP INDEX wal_metrics_source_recorded_idx;
CREATE INDEX wal_metrics_source_recorded_idx ON wal_metrics (source_id, recorded_at DESC)
    INCLUDE (id, size_bytes, retained_bytes, slot_active, wal_status, safe_wal_size);

CREATE TABLE wal_metrics_hourly (
    source_id       bigint      NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    -- the UTC hour the sample falls in (date_bin from 2000-01-01 00:00 UTC)
    hour_at         timestamptz NOT NULL,
    -- the hour's peak sample (largest size_bytes, then the largest id), copied whole:
    -- the downsampled chart shows real samples, never averages
    sample_id       bigint      NOT NULL,
    size_bytes      bigint      NOT NULL,
    retained_bytes  bigint,
    slot_active     boolean,
    wal_status      text,
    safe_wal_size   bigint,
    recorded_at     timestamptz NOT NULL,
    PRIMARY KEY (source_id, hour_at)
) PARTITION BY RANGE (hour_at);

CREATE TABLE wal_latest (
    source_id       bigint      PRIMARY KEY REFERENCES sources (id) ON DELETE CASCADE,
    sample_id       bigint      NOT NULL,
    size_bytes      bigint      NOT NULL,
    retained_bytes  bigint,
    slot_active     boolean,
    wal_status      text,
    safe_wal_size   bigint,
    recorded_at     timestamptz NOT NULL,
    -- (retained now - retained at the oldest sample with a slot in the hour before this
    -- one) / seconds between them; NULL without such a sample or without a slot. The
    -- fleet overview's growth rate and forecast are built on it.
    growth_bps      float8
) WITH (fillfactor = 50); -- every cycle rewrites every row: room for HOT updates

-- wal_metrics_ensure_partitions, as in 00004, now creates each day's partition of both
-- tables. The samples' partitions vacuum after a fixed number of inserts rather than a
-- fraction of the table, so today's partition stays mostly all-visible and the covering
-- index answers without visiting the heap; the rollup's partitions keep room for the
-- updates of the current hour.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION wal_metrics_ensure_partitions(from_at timestamptz, to_at timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    d       date := (from_at AT TIME ZONE 'UTC')::date;
    last    date := (to_at AT TIME ZONE 'UTC')::date;
    part    text;
    hourly  text;
    lo      timestamptz;
    hi      timestamptz;
    created integer := 0;
BEGIN
    WHILE d <= last LOOP
        part := 'wal_metrics_p' || to_char(d, 'YYYYMMDD');
        hourly := 'wal_metrics_hourly_p' || to_char(d, 'YYYYMMDD');
        IF to_regclass(quote_ident(part)) IS NULL OR to_regclass(quote_ident(hourly)) IS NULL THEN
            PERFORM pg_advisory_xact_lock(hashtext('rosetta.wal_metrics_partitions'));
            lo := d::timestamp AT TIME ZONE 'UTC';
            hi := (d + 1)::timestamp AT TIME ZONE 'UTC';
            IF to_regclass(quote_ident(part)) IS NULL THEN
                EXECUTE format('CREATE TABLE %I PARTITION OF wal_metrics FOR VALUES FROM (%L) TO (%L) '
                    'WITH (autovacuum_vacuum_insert_threshold = 2000, autovacuum_vacuum_insert_scale_factor = 0)',
                    part, lo, hi);
                created := created + 1;
            END IF;
            IF to_regclass(quote_ident(hourly)) IS NULL THEN
                EXECUTE format('CREATE TABLE %I PARTITION OF wal_metrics_hourly FOR VALUES FROM (%L) TO (%L) '
                    'WITH (fillfactor = 50)', hourly, lo, hi);
                created := created + 1;
            END IF;
        END IF;
        d := d + 1;
    END LOOP;
    RETURN created;
END
$$;
-- +goose StatementEnd

-- Existing days: the samples' partitions get the vacuum settings, and each gets its
-- rollup partition.
-- +goose StatementBegin
DO $$
DECLARE
    p record;
BEGIN
    FOR p IN SELECT c.relname::text AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'wal_metrics'::regclass AND c.relname ~ '^wal_metrics_p[0-9]{8}$'
    LOOP
        EXECUTE format('ALTER TABLE %I SET (autovacuum_vacuum_insert_threshold = 2000, autovacuum_vacuum_insert_scale_factor = 0)', p.name);
        PERFORM wal_metrics_ensure_partitions(to_date(right(p.name, 8), 'YYYYMMDD')::timestamp AT TIME ZONE 'UTC',
                                              to_date(right(p.name, 8), 'YYYYMMDD')::timestamp AT TIME ZONE 'UTC');
    END LOOP;
END
$$;
-- +goose StatementEnd

-- The summaries of the samples stored so far.
INSERT INTO wal_metrics_hourly (source_id, hour_at, sample_id, size_bytes, retained_bytes, slot_active, wal_status, safe_wal_size, recorded_at)
SELECT DISTINCT ON (m.source_id, date_bin('1 hour', m.recorded_at, timestamptz '2000-01-01 00:00:00+00'))
       m.source_id, date_bin('1 hour', m.recorded_at, timestamptz '2000-01-01 00:00:00+00'), m.id, m.size_bytes,
       m.retained_bytes, m.slot_active, m.wal_status, m.safe_wal_size, m.recorded_at
FROM wal_metrics m
ORDER BY m.source_id, date_bin('1 hour', m.recorded_at, timestamptz '2000-01-01 00:00:00+00'), m.size_bytes DESC, m.id DESC;

INSERT INTO wal_latest (source_id, sample_id, size_bytes, retained_bytes, slot_active, wal_status, safe_wal_size, recorded_at, growth_bps)
SELECT s.id, l.id, l.size_bytes, l.retained_bytes, l.slot_active, l.wal_status, l.safe_wal_size, l.recorded_at,
       CASE WHEN h.recorded_at IS NOT NULL AND l.retained_bytes IS NOT NULL
            THEN (l.retained_bytes - h.retained_bytes)::float8 / extract(epoch FROM l.recorded_at - h.recorded_at)::float8
       END
FROM sources s
CROSS JOIN LATERAL (
    SELECT m.* FROM wal_metrics m WHERE m.source_id = s.id ORDER BY m.recorded_at DESC, m.id DESC LIMIT 1
) l
LEFT JOIN LATERAL (
    SELECT m.retained_bytes, m.recorded_at FROM wal_metrics m
    WHERE m.source_id = s.id AND m.retained_bytes IS NOT NULL
      AND m.recorded_at >= l.recorded_at - interval '1 hour' AND m.recorded_at < l.recorded_at
    ORDER BY m.recorded_at ASC LIMIT 1
) h ON true;

-- The trigger: one statement's new samples update both summaries. Rows are taken in
-- source order, so two concurrent writers lock the summary rows in the same order.
-- A summary row is only ever replaced by a sample at least as new (wal_latest) or a
-- higher peak (wal_metrics_hourly), so a writer that commits late cannot move them back.
-- +goose StatementBegin
CREATE FUNCTION wal_metrics_summarise() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO wal_metrics_hourly AS h (source_id, hour_at, sample_id, size_bytes, retained_bytes, slot_active,
                                         wal_status, safe_wal_size, recorded_at)
    SELECT DISTINCT ON (n.source_id, date_bin('1 hour', n.recorded_at, timestamptz '2000-01-01 00:00:00+00'))
           n.source_id, date_bin('1 hour', n.recorded_at, timestamptz '2000-01-01 00:00:00+00'), n.id, n.size_bytes,
           n.retained_bytes, n.slot_active, n.wal_status, n.safe_wal_size, n.recorded_at
    FROM new_samples n
    ORDER BY n.source_id, date_bin('1 hour', n.recorded_at, timestamptz '2000-01-01 00:00:00+00'), n.size_bytes DESC, n.id DESC
    ON CONFLICT (source_id, hour_at) DO UPDATE SET
        sample_id = excluded.sample_id, size_bytes = excluded.size_bytes, retained_bytes = excluded.retained_bytes,
        slot_active = excluded.slot_active, wal_status = excluded.wal_status, safe_wal_size = excluded.safe_wal_size,
        recorded_at = excluded.recorded_at
    WHERE (excluded.size_bytes, excluded.sample_id) > (h.size_bytes, h.sample_id);

    -- Each source written is summarised again from its samples, so a back-dated sample
    -- inside the hour before the newest (an import) corrects the growth too. The newest
    -- and the hour-old sample are two probes of wal_metrics_source_recorded_idx per
    -- source written, paid once per write here instead of once per source on every page
    -- view. >= lets a recomputation of the same newest sample through.
    INSERT INTO wal_latest AS w (source_id, sample_id, size_bytes, retained_bytes, slot_active, wal_status,
                                 safe_wal_size, recorded_at, growth_bps)
    SELECT l.source_id, l.id, l.size_bytes, l.retained_bytes, l.slot_active, l.wal_status, l.safe_wal_size, l.recorded_at,
           CASE WHEN h.recorded_at IS NOT NULL AND l.retained_bytes IS NOT NULL
                THEN (l.retained_bytes - h.retained_bytes)::float8 / extract(epoch FROM l.recorded_at - h.recorded_at)::float8
           END
    FROM (SELECT DISTINCT source_id FROM new_samples) n
    CROSS JOIN LATERAL (
        SELECT m.* FROM wal_metrics m WHERE m.source_id = n.source_id ORDER BY m.recorded_at DESC, m.id DESC LIMIT 1
    ) l
    LEFT JOIN LATERAL (
        SELECT m.retained_bytes, m.recorded_at FROM wal_metrics m
        WHERE m.source_id = l.source_id AND m.retained_bytes IS NOT NULL
          AND m.recorded_at >= l.recorded_at - interval '1 hour' AND m.recorded_at < l.recorded_at
        ORDER BY m.recorded_at ASC LIMIT 1
    ) h ON true
    ORDER BY l.source_id
    ON CONFLICT (source_id) DO UPDATE SET
        sample_id = excluded.sample_id, size_bytes = excluded.size_bytes, retained_bytes = excluded.retained_bytes,
        slot_active = excluded.slot_active, wal_status = excluded.wal_status, safe_wal_size = excluded.safe_wal_size,
        recorded_at = excluded.recorded_at, growth_bps = excluded.growth_bps
    WHERE (excluded.recorded_at, excluded.sample_id) >= (w.recorded_at, w.sample_id);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER wal_metrics_summarise AFTER INSERT ON wal_metrics
    REFERENCING NEW TABLE AS new_samples FOR EACH STATEMENT EXECUTE FUNCTION wal_metrics_summarise();

-- +goose Down
DROP TRIGGER wal_metrics_summarise ON wal_metrics;
DROP FUNCTION wal_metrics_summarise();
DROP TABLE wal_latest;
DROP TABLE wal_metrics_hourly;
-- +goose StatementBegin
DO $$
DECLARE
    p record;
BEGIN
    FOR p IN SELECT c.relname::text AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'wal_metrics'::regclass
    LOOP
        EXECUTE format('ALTER TABLE %I RESET (autovacuum_vacuum_insert_threshold, autovacuum_vacuum_insert_scale_factor)', p.name);
    END LOOP;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION wal_metrics_ensure_partitions(from_at timestamptz, to_at timestamptz) RETURNS integer
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
DROP INDEX wal_metrics_source_recorded_idx;
CREATE INDEX wal_metrics_source_recorded_idx ON wal_metrics (source_id, recorded_at DESC);
