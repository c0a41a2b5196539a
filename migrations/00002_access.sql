-- +goose Up
-- Access control: people (users) with a role, their API tokens, console sessions, the
-- failed sign-ins that drive lockout, and the audit log.

-- Users are disabled, never deleted, so the audit log keeps pointing at real people.
CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    -- argon2id in PHC string form ($argon2id$v=19$m=…,t=…,p=…$salt$hash); never plaintext
    password_hash text        NOT NULL,
    role          text        NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    disabled_at   timestamptz,
    last_login_at timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

-- A token acts with its owner's current role. Only a SHA-256 of the token is stored: the
-- token is 256 random bits, so a fast hash is enough and lookups stay one index probe.
CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash   bytea       NOT NULL,
    -- the first characters of the token, so its owner can tell tokens apart in a list
    prefix       text        NOT NULL,
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX api_tokens_token_hash_key ON api_tokens (token_hash);
CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id);

-- scs pgxstore's schema. Rosetta stores SHA-256 hashes of session tokens here
-- (scs HashTokenInStore), never the cookie value itself.
CREATE TABLE sessions (
    token  text        PRIMARY KEY,
    data   bytea       NOT NULL,
    expiry timestamptz NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

-- Failed sign-ins within the lockout window, per account and per address. Kept in the
-- database rather than in memory so a lockout holds across every instance.
CREATE TABLE login_failures (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email       text        NOT NULL, -- lower-cased, as typed (the account may not exist)
    remote_addr text        NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email_at_idx ON login_failures (email, at);
CREATE INDEX login_failures_addr_at_idx ON login_failures (remote_addr, at);
CREATE INDEX login_failures_at_idx ON login_failures (at);

-- Who changed what, when, from where. changes never holds a secret value: a changed
-- secret is recorded as "(changed)".
CREATE TABLE audit_events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    actor_user_id  bigint      REFERENCES users (id) ON DELETE SET NULL,
    -- kept even when the user is gone; for a failed sign-in, the email that was tried
    actor_email    text        NOT NULL DEFAULT '',
    actor_token_id bigint      REFERENCES api_tokens (id) ON DELETE SET NULL,
    action         text        NOT NULL,
    entity_kind    text        NOT NULL,
    entity_id      bigint,
    entity_name    text        NOT NULL DEFAULT '',
    remote_addr    text        NOT NULL DEFAULT '',
    changes        jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_entity_idx ON audit_events (entity_kind, entity_id);
CREATE INDEX audit_events_actor_user_id_idx ON audit_events (actor_user_id);
CREATE INDEX audit_events_actor_token_id_idx ON audit_events (actor_token_id);
CREATE INDEX audit_events_at_idx ON audit_events (at DESC);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE login_failures;
DROP TABLE sessions;
DROP TABLE api_tokens;
DROP TABLE users;
