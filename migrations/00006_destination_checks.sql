-- +goose Up
-- Destination readiness checks (issue 14).

-- The private key may be pasted instead of read from a file on the server, so that adding
-- a destination needs no shell on the Rosetta host. Sealed like sources.pg_password, and
-- exactly one of the two key sources is set.
ALTER TABLE destinations
    ADD COLUMN snowflake_private_key bytea,
    ALTER COLUMN snowflake_private_key_path DROP NOT NULL,
    ADD CONSTRAINT destinations_one_key_source
        CHECK (num_nonnulls(snowflake_private_key_path, snowflake_private_key) = 1),
    -- The outcome of the last "Test connection" (or preflight), so the list shows which
    -- destinations are known to work without re-running the network checks.
    ADD COLUMN last_test_status  text CHECK (last_test_status IN ('ok', 'warn', 'fail')),
    ADD COLUMN last_test_summary text,
    ADD COLUMN last_test_at      timestamptz;

-- A pipeline started while Snowflake could not be reached carries that warning until
-- its next successful preflight.
ALTER TABLE pipeline_metadata ADD COLUMN preflight_warning text;

-- +goose Down
ALTER TABLE pipeline_metadata DROP COLUMN preflight_warning;
DELETE FROM destinations WHERE snowflake_private_key_path IS NULL;
ALTER TABLE destinations
    DROP CONSTRAINT destinations_one_key_source,
    DROP COLUMN snowflake_private_key,
    ALTER COLUMN snowflake_private_key_path SET NOT NULL,
    DROP COLUMN last_test_status,
    DROP COLUMN last_test_summary,
    DROP COLUMN last_test_at;
