-- Latchkey's initial schema. Times are INTEGER unix milliseconds (UTC), booleans INTEGER 0/1,
-- hashes BLOB. Ids are 24-hex TEXT made by the caller.

CREATE TABLE apps (
    id                       TEXT    PRIMARY KEY,
    client_app_id            TEXT    NOT NULL UNIQUE,
    name                     TEXT    NOT NULL,
    auto_confirm             INTEGER NOT NULL CHECK (auto_confirm IN (0, 1)),
    anonymous_enabled        INTEGER NOT NULL CHECK (anonymous_enabled IN (0, 1)),
    userpass_enabled         INTEGER NOT NULL CHECK (userpass_enabled IN (0, 1)),
    apikey_enabled           INTEGER NOT NULL CHECK (apikey_enabled IN (0, 1)),
    refresh_token_lifetime_s INTEGER NOT NULL,
    allowed_origins          TEXT    NOT NULL DEFAULT '[]', -- JSON array of strings
    created_at               INTEGER NOT NULL
);

CREATE TABLE users (
    id            TEXT    PRIMARY KEY,
    app_id        TEXT    NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    type          TEXT    NOT NULL,
    -- NULL, not '', for users without email: NULLs never collide in the UNIQUE below.
    email         TEXT,
    password_hash TEXT    NOT NULL DEFAULT '',
    confirmed     INTEGER NOT NULL CHECK (confirmed IN (0, 1)),
    disabled      INTEGER NOT NULL CHECK (disabled IN (0, 1)),
    created_at    INTEGER NOT NULL,
    UNIQUE (app_id, email)
);

CREATE TABLE identities (
    id            TEXT    PRIMARY KEY,
    user_id       TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider_type TEXT    NOT NULL,
    provider_id   TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    -- Also the index for the foreign key: user_id is its first column.
    UNIQUE (user_id, provider_type)
);

CREATE TABLE user_tokens (
    id         TEXT    PRIMARY KEY,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    hash       BLOB    NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE INDEX user_tokens_user_id ON user_tokens (user_id);

CREATE TABLE api_keys (
    id           TEXT    PRIMARY KEY,
    app_id       TEXT    NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    -- Unique across apps: a key value is random, so a collision means a bug or an attack.
    hash         BLOB    NOT NULL UNIQUE,
    disabled     INTEGER NOT NULL CHECK (disabled IN (0, 1)),
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    UNIQUE (user_id, name)
);

-- Serves the foreign key and FindAPIKeys' creation order.
CREATE INDEX api_keys_user_id ON api_keys (user_id, created_at);

CREATE TABLE sessions (
    id         TEXT    PRIMARY KEY,
    app_id     TEXT    NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id  TEXT    NOT NULL,
    provider   TEXT    NOT NULL,
    api_key_id TEXT    REFERENCES api_keys (id) ON DELETE CASCADE, -- NULL unless opened with a key
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE INDEX sessions_api_key_id ON sessions (api_key_id);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE signing_keys (
    id          TEXT    PRIMARY KEY,
    algorithm   TEXT    NOT NULL,
    private_key BLOB    NOT NULL,
    created_at  INTEGER NOT NULL
);
