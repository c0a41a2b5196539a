-- +goose Up
-- Names are unique case-insensitively: "Orders" and "orders" would be the same thing to an
-- operator reading a list, so the database refuses the second one.
CREATE TABLE sources (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    pg_host             text        NOT NULL,
    pg_port             integer     NOT NULL DEFAULT 5432 CHECK (pg_port BETWEEN 1 AND 65535),
    pg_database         text        NOT NULL,
    pg_username         text        NOT NULL,
    -- sealed by internal/secrets (key id prefix + AES-256-GCM); never plaintext
    pg_password         bytea       NOT NULL,
    publication_name    text        NOT NULL,
    replication_id      text        NOT NULL,
    -- written by the WAL monitor when a probe fails after all retries, cleared on success
    last_probe_error    text,
    last_probe_error_at timestamptz,
    last_probe_at       timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX sources_name_lower_key ON sources (lower(name));

CREATE TABLE destinations (
    id                                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                              text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    snowflake_account                 text        NOT NULL,
    snowflake_user                    text        NOT NULL,
    snowflake_database                text        NOT NULL,
    snowflake_schema                  text        NOT NULL,
    snowflake_role                    text        NOT NULL,
    snowflake_private_key_path        text        NOT NULL,
    snowflake_host                    text,
    snowflake_warehouse               text,
    -- sealed like sources.pg_password
    snowflake_private_key_passphrase  bytea,
    created_at                        timestamptz NOT NULL DEFAULT now(),
    updated_at                        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX destinations_name_lower_key ON destinations (lower(name));

-- ON DELETE RESTRICT: the service refuses such deletes with a message naming the pipelines;
-- the constraint is the backstop for a pipeline created between the check and the delete.
CREATE TABLE pipelines (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    source_id       bigint      NOT NULL REFERENCES sources (id) ON DELETE RESTRICT,
    destination_id  bigint      NOT NULL REFERENCES destinations (id) ON DELETE RESTRICT,
    status          text        NOT NULL DEFAULT 'PAUSE' CHECK (status IN ('START', 'PAUSE', 'REFRESH')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX pipelines_name_lower_key ON pipelines (lower(name));
CREATE INDEX pipelines_source_id_idx ON pipelines (source_id);
CREATE INDEX pipelines_destination_id_idx ON pipelines (destination_id);

CREATE TABLE pipeline_metadata (
    pipeline_id    bigint      PRIMARY KEY REFERENCES pipelines (id) ON DELETE CASCADE,
    status         text        NOT NULL DEFAULT 'PAUSED' CHECK (status IN ('RUNNING', 'PAUSED', 'ERROR')),
    last_error     text,
    last_error_at  timestamptz,
    last_start_at  timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE wal_metrics (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id       bigint      NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    size_bytes      bigint      NOT NULL,
    -- WAL held back by the source's replication slot; NULL when the slot does not exist
    retained_bytes  bigint,
    slot_active     boolean,
    wal_status      text,
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX wal_metrics_source_recorded_idx ON wal_metrics (source_id, recorded_at DESC);
CREATE INDEX wal_metrics_recorded_idx ON wal_metrics (recorded_at DESC);

-- +goose Down
DROP TABLE wal_metrics;
DROP TABLE pipeline_metadata;
DROP TABLE pipelines;
DROP TABLE destinations;
DROP TABLE sources;
