-- Key verification for an app's own backend: a key's limits and metadata, an app's default
-- rate limit for new keys, the feed of changes that end cached verify answers, the rate limit
-- windows shared by the nodes and the hourly usage counts. Every new column is NULL for
-- "none", so that keys and apps created before keep working as they did.

ALTER TABLE api_keys
    ADD COLUMN ratelimit_limit       BIGINT,
    ADD COLUMN ratelimit_duration_ms BIGINT,
    ADD COLUMN remaining             BIGINT,
    ADD COLUMN refill_amount         BIGINT,
    ADD COLUMN refill_interval       TEXT, -- 'daily' or 'monthly'
    ADD COLUMN refilled_at           TIMESTAMPTZ,
    ADD COLUMN meta                  JSONB; -- an object

ALTER TABLE apps
    ADD COLUMN key_ratelimit_limit       BIGINT,
    ADD COLUMN key_ratelimit_duration_ms BIGINT;

-- The change feed: a row for each write that a cached verify answer depends on, recorded by
-- the triggers below so that no write path can miss it. One of key_id, user_id and app_id is
-- set. Sequence values do not commit in order, so a row carries its transaction's id instead:
-- a reader whose snapshot had xmin x has seen every transaction with an id below x, and the
-- next read asks for xid >= x (FindAPIKeyChanges).
CREATE TABLE api_key_changes (
    xid        BIGINT      NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    key_id     TEXT,
    user_id    TEXT,
    app_id     TEXT,
    changed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX api_key_changes_xid_idx ON api_key_changes (xid);
CREATE INDEX api_key_changes_changed_at_idx ON api_key_changes (changed_at);

CREATE FUNCTION api_key_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO api_key_changes (key_id) VALUES (NEW.id);
    RETURN NULL;
END $$;

-- Deletes are recorded a statement at a time: a user's or an app's delete cascades to every
-- key of it.
CREATE FUNCTION api_keys_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO api_key_changes (key_id) SELECT id FROM gone;
    RETURN NULL;
END $$;

CREATE FUNCTION user_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO api_key_changes (user_id) VALUES (NEW.id);
    RETURN NULL;
END $$;

CREATE FUNCTION users_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO api_key_changes (user_id) SELECT id FROM gone;
    RETURN NULL;
END $$;

CREATE FUNCTION apps_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO api_key_changes (app_id) SELECT id FROM gone;
    RETURN NULL;
END $$;

-- A key's change: its value, state, expiry, scopes, limits or meta. Not its last use, and not
-- the value of its remaining uses, which every verify of a key with remaining changes; only
-- whether it has any. The WHEN is checked without calling the function.
CREATE TRIGGER api_keys_changed AFTER UPDATE ON api_keys FOR EACH ROW
WHEN (OLD.disabled IS DISTINCT FROM NEW.disabled
    OR OLD.hash IS DISTINCT FROM NEW.hash
    OR OLD.previous_hash IS DISTINCT FROM NEW.previous_hash
    OR OLD.previous_expires_at IS DISTINCT FROM NEW.previous_expires_at
    OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
    OR OLD.scopes IS DISTINCT FROM NEW.scopes
    OR OLD.ratelimit_limit IS DISTINCT FROM NEW.ratelimit_limit
    OR OLD.ratelimit_duration_ms IS DISTINCT FROM NEW.ratelimit_duration_ms
    OR OLD.refill_amount IS DISTINCT FROM NEW.refill_amount
    OR OLD.refill_interval IS DISTINCT FROM NEW.refill_interval
    OR OLD.meta IS DISTINCT FROM NEW.meta
    OR (OLD.remaining IS NULL) <> (NEW.remaining IS NULL))
EXECUTE FUNCTION api_key_changed();

CREATE TRIGGER api_keys_deleted AFTER DELETE ON api_keys
REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
EXECUTE FUNCTION api_keys_deleted();

CREATE TRIGGER users_disabled_changed AFTER UPDATE OF disabled ON users FOR EACH ROW
WHEN (OLD.disabled IS DISTINCT FROM NEW.disabled)
EXECUTE FUNCTION user_changed();

CREATE TRIGGER users_deleted AFTER DELETE ON users
REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
EXECUTE FUNCTION users_deleted();

CREATE TRIGGER apps_deleted AFTER DELETE ON apps
REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
EXECUTE FUNCTION apps_deleted();

-- Each key's current rate limit window, shared by the nodes: its start, the uses leased from
-- it so far, and what the last lease granted (returned by the lease's one statement, which
-- sees only the row after).
CREATE TABLE key_rate_windows (
    key_id       TEXT        PRIMARY KEY REFERENCES api_keys (id) ON DELETE CASCADE,
    window_start TIMESTAMPTZ NOT NULL,
    used         BIGINT      NOT NULL,
    granted      BIGINT      NOT NULL
);
CREATE INDEX key_rate_windows_window_start_idx ON key_rate_windows (window_start);

-- Verify calls of each key per hour (the hour's start), by outcome.
CREATE TABLE key_usage (
    key_id         TEXT        NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    hour           TIMESTAMPTZ NOT NULL,
    valid          BIGINT      NOT NULL DEFAULT 0,
    rate_limited   BIGINT      NOT NULL DEFAULT 0,
    usage_exceeded BIGINT      NOT NULL DEFAULT 0,
    other          BIGINT      NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, hour)
);
CREATE INDEX key_usage_hour_idx ON key_usage (hour);
