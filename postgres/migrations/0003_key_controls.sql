-- Key controls: an app's key prefix, key lifetime cap, scopes and leak-report secret; a key's
-- shown start, scopes, expiry and the hash of its value before the last rotation; a
-- session's scopes. Scopes are JSONB arrays of strings, '[]' when empty.

-- Apps and keys created before this migration keep the behaviour they had: the default
-- prefix, no lifetime cap, no scopes, no expiry.
ALTER TABLE apps
    ADD COLUMN key_prefix         TEXT   NOT NULL DEFAULT 'lk',
    ADD COLUMN max_key_lifetime_s BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN scopes             JSONB  NOT NULL DEFAULT '[]',
    ADD COLUMN leak_secret_hash   BYTEA; -- NULL: leak reports are refused

ALTER TABLE api_keys
    ADD COLUMN start               TEXT        NOT NULL DEFAULT '',
    ADD COLUMN scopes              JSONB       NOT NULL DEFAULT '[]',
    ADD COLUMN expires_at          TIMESTAMPTZ, -- NULL: never expires
    ADD COLUMN previous_hash       BYTEA,       -- NULL unless rotated
    ADD COLUMN previous_expires_at TIMESTAMPTZ;

-- Unique as hash is, and the index of FindAPIKeyByHash's second lookup. Partial, since most
-- keys have no previous hash; "previous_hash = $1" implies the index's condition. The store
-- tells a violation by this name: keep it stable.
CREATE UNIQUE INDEX api_keys_previous_hash_key ON api_keys (previous_hash) WHERE previous_hash IS NOT NULL;

ALTER TABLE sessions ADD COLUMN scopes JSONB NOT NULL DEFAULT '[]';
