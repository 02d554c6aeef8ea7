-- Key controls: an app's key prefix, key lifetime cap, scopes and leak-report secret; a key's
-- shown start, scopes, expiry and the hash of its value before the last rotation; a
-- session's scopes. Lists are JSON arrays of strings, '[]' when empty.

-- Apps and keys created before this migration keep the behaviour they had: the default
-- prefix, no lifetime cap, no scopes, no expiry.
ALTER TABLE apps ADD COLUMN key_prefix TEXT NOT NULL DEFAULT 'lk';
ALTER TABLE apps ADD COLUMN max_key_lifetime_s INTEGER NOT NULL DEFAULT 0;
ALTER TABLE apps ADD COLUMN scopes TEXT NOT NULL DEFAULT '[]';
ALTER TABLE apps ADD COLUMN leak_secret_hash BLOB; -- NULL: leak reports are refused

ALTER TABLE api_keys ADD COLUMN start TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT '[]';
ALTER TABLE api_keys ADD COLUMN expires_at INTEGER; -- NULL: never expires
ALTER TABLE api_keys ADD COLUMN previous_hash BLOB; -- NULL unless rotated
ALTER TABLE api_keys ADD COLUMN previous_expires_at INTEGER;

-- Unique as hash is, and the index of FindAPIKeyByHash's second lookup. Partial, since most
-- keys have no previous hash; "previous_hash = ?" implies the index's condition.
CREATE UNIQUE INDEX api_keys_previous_hash ON api_keys (previous_hash) WHERE previous_hash IS NOT NULL;

ALTER TABLE sessions ADD COLUMN scopes TEXT NOT NULL DEFAULT '[]';
