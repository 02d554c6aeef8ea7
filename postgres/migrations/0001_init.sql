-- Latchkey's initial PostgreSQL schema. Ids are 24-hex strings (latchkey.NewID); times are
-- TIMESTAMPTZ, written at millisecond precision by the store; secrets are stored only as hashes.

CREATE TABLE apps (
    id                       TEXT        PRIMARY KEY,
    client_app_id            TEXT        NOT NULL UNIQUE,
    name                     TEXT        NOT NULL,
    auto_confirm             BOOLEAN     NOT NULL DEFAULT FALSE,
    anonymous_enabled        BOOLEAN     NOT NULL DEFAULT FALSE,
    userpass_enabled         BOOLEAN     NOT NULL DEFAULT FALSE,
    apikey_enabled           BOOLEAN     NOT NULL DEFAULT FALSE,
    refresh_token_lifetime_s BIGINT      NOT NULL,
    allowed_origins          TEXT[]      NOT NULL DEFAULT '{}',
    created_at               TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id            TEXT        PRIMARY KEY,
    app_id        TEXT        NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    type          TEXT        NOT NULL,
    -- NULL rather than '' for users without an email, so UNIQUE (app_id, email) ignores them.
    email         TEXT,
    password_hash TEXT        NOT NULL DEFAULT '',
    confirmed     BOOLEAN     NOT NULL DEFAULT FALSE,
    disabled      BOOLEAN     NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL,
    CONSTRAINT users_app_id_email_key UNIQUE (app_id, email)
);

CREATE TABLE identities (
    id            TEXT        PRIMARY KEY,
    user_id       TEXT        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider_type TEXT        NOT NULL,
    provider_id   TEXT        NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    CONSTRAINT identities_user_id_provider_type_key UNIQUE (user_id, provider_type)
);

CREATE TABLE user_tokens (
    id         TEXT        PRIMARY KEY,
    user_id    TEXT        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT        NOT NULL,
    hash       BYTEA       NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX user_tokens_user_id_idx ON user_tokens (user_id);

CREATE TABLE api_keys (
    id           TEXT        PRIMARY KEY,
    app_id       TEXT        NOT NULL,
    user_id      TEXT        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT        NOT NULL,
    hash         BYTEA       NOT NULL,
    disabled     BOOLEAN     NOT NULL DEFAULT FALSE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    -- The store tells these two apart by constraint name: keep the names stable.
    CONSTRAINT api_keys_hash_key UNIQUE (hash),
    CONSTRAINT api_keys_user_id_name_key UNIQUE (user_id, name)
);

-- Also serves FindAPIKeys, which lists a user's keys in creation order.
CREATE INDEX api_keys_user_id_idx ON api_keys (user_id, created_at, id);

CREATE TABLE sessions (
    id         TEXT        PRIMARY KEY,
    app_id     TEXT        NOT NULL,
    user_id    TEXT        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id  TEXT        NOT NULL,
    provider   TEXT        NOT NULL,
    -- Deleting a key ends the sessions opened with it.
    api_key_id TEXT        REFERENCES api_keys (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX sessions_api_key_id_idx ON sessions (api_key_id);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

CREATE TABLE signing_keys (
    id          TEXT        PRIMARY KEY,
    algorithm   TEXT        NOT NULL,
    private_key BYTEA       NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
