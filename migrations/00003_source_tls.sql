-- +goose Up
-- Per-source TLS, with libpq's sslmode meanings. Existing sources get 'prefer', which is
-- exactly how Rosetta connected before this migration (TLS when the server offers it,
-- certificate not verified, plain text otherwise): no source that worked stops working,
-- and none becomes less safe. Cleartext password authentication without TLS is refused
-- in every mode by the client (internal/pgsource), whatever the row says.
ALTER TABLE sources
    ADD COLUMN tls_mode text NOT NULL DEFAULT 'prefer'
        CHECK (tls_mode IN ('disable', 'prefer', 'require', 'verify-ca', 'verify-full')),
    -- PEM certificate(s) of the CA that signs the server's certificate; only used by
    -- verify-ca and verify-full (NULL: the system's trusted roots). Public, not sealed.
    ADD COLUMN tls_ca_cert text,
    -- The probe error with its network detail (addresses, refusals, TLS reasons), shown
    -- only to those who may edit the source; last_probe_error is the sentence for everyone.
    ADD COLUMN last_probe_error_detail text;

-- Same split for a pipeline's last error: last_error is the sentence every viewer sees,
-- last_error_detail (when set) the one for operators and admins.
ALTER TABLE pipeline_metadata ADD COLUMN last_error_detail text;

-- +goose Down
ALTER TABLE pipeline_metadata DROP COLUMN last_error_detail;
ALTER TABLE sources DROP COLUMN last_probe_error_detail, DROP COLUMN tls_ca_cert, DROP COLUMN tls_mode;
