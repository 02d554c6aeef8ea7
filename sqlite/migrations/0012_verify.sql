-- Key verification for an app's own backend: a key's limits and metadata, an app's default
-- rate limit for new keys, the feed of changes that end cached verify answers, the rate limit
-- windows shared by the nodes and the hourly usage counts. Every new column is NULL for
-- "none", so that keys and apps created before keep working as they did.

ALTER TABLE api_keys ADD COLUMN ratelimit_limit INTEGER;
ALTER TABLE api_keys ADD COLUMN ratelimit_duration_ms INTEGER;
ALTER TABLE api_keys ADD COLUMN remaining INTEGER;
ALTER TABLE api_keys ADD COLUMN refill_amount INTEGER;
ALTER TABLE api_keys ADD COLUMN refill_interval TEXT; -- 'daily' or 'monthly'
ALTER TABLE api_keys ADD COLUMN refilled_at INTEGER;
ALTER TABLE api_keys ADD COLUMN meta TEXT; -- a JSON object

ALTER TABLE apps ADD COLUMN key_ratelimit_limit INTEGER;
ALTER TABLE apps ADD COLUMN key_ratelimit_duration_ms INTEGER;

-- The change feed: a row for each write that a cached verify answer depends on, recorded by
-- the triggers below so that no write path can miss it. One of key_id, user_id and app_id is
-- set. The single writer commits in seq order, so a reader that has seen seq n has seen every
-- row before it; AUTOINCREMENT never reuses a seq, also after the sweep (changed_at).
CREATE TABLE api_key_changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    key_id     TEXT,
    user_id    TEXT,
    app_id     TEXT,
    changed_at INTEGER NOT NULL -- Unix milliseconds
);
CREATE INDEX api_key_changes_changed_at ON api_key_changes (changed_at);

-- A key's change: its value, state, expiry, scopes, limits or meta. Not its last use, and not
-- the value of its remaining uses, which every verify of a key with remaining changes; only
-- whether it has any.
CREATE TRIGGER api_keys_changed AFTER UPDATE ON api_keys
WHEN OLD.disabled IS NOT NEW.disabled
    OR OLD.hash IS NOT NEW.hash
    OR OLD.previous_hash IS NOT NEW.previous_hash
    OR OLD.previous_expires_at IS NOT NEW.previous_expires_at
    OR OLD.expires_at IS NOT NEW.expires_at
    OR OLD.scopes IS NOT NEW.scopes
    OR OLD.ratelimit_limit IS NOT NEW.ratelimit_limit
    OR OLD.ratelimit_duration_ms IS NOT NEW.ratelimit_duration_ms
    OR OLD.refill_amount IS NOT NEW.refill_amount
    OR OLD.refill_interval IS NOT NEW.refill_interval
    OR OLD.meta IS NOT NEW.meta
    OR (OLD.remaining IS NULL) <> (NEW.remaining IS NULL)
BEGIN
    INSERT INTO api_key_changes (key_id, changed_at)
    VALUES (NEW.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER api_keys_deleted AFTER DELETE ON api_keys
BEGIN
    INSERT INTO api_key_changes (key_id, changed_at)
    VALUES (OLD.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER users_disabled_changed AFTER UPDATE OF disabled ON users
WHEN OLD.disabled IS NOT NEW.disabled
BEGIN
    INSERT INTO api_key_changes (user_id, changed_at)
    VALUES (NEW.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER users_deleted AFTER DELETE ON users
BEGIN
    INSERT INTO api_key_changes (user_id, changed_at)
    VALUES (OLD.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER apps_deleted AFTER DELETE ON apps
BEGIN
    INSERT INTO api_key_changes (app_id, changed_at)
    VALUES (OLD.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

-- Each key's current rate limit window, shared by the nodes: its start (Unix milliseconds),
-- the uses leased from it so far, and what the last lease granted (returned by the lease's
-- one statement, which sees only the row after).
CREATE TABLE key_rate_windows (
    key_id       TEXT    PRIMARY KEY REFERENCES api_keys (id) ON DELETE CASCADE,
    window_start INTEGER NOT NULL,
    used         INTEGER NOT NULL,
    granted      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX key_rate_windows_window_start ON key_rate_windows (window_start);

-- Verify calls of each key per hour (Unix milliseconds of the hour's start), by outcome.
CREATE TABLE key_usage (
    key_id         TEXT    NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    hour           INTEGER NOT NULL,
    valid          INTEGER NOT NULL DEFAULT 0,
    rate_limited   INTEGER NOT NULL DEFAULT 0,
    usage_exceeded INTEGER NOT NULL DEFAULT 0,
    other          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, hour)
) WITHOUT ROWID;
CREATE INDEX key_usage_hour ON key_usage (hour);
