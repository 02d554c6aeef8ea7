-- The brute-force limits' state, shared by every node over the database and kept across
-- restarts. Keys are 16-byte hashes of the account (its kind, app and email, key value or
-- token id), never the name itself. Times are Unix nanoseconds, so that a bucket's
-- arithmetic in its one statement is exact; 0 stands for no time.

-- A per-account token bucket: the time at which it is full again (the generic cell rate
-- algorithm). A row whose time has passed is a full bucket and may go.
CREATE TABLE rate_buckets (
    key     BYTEA  PRIMARY KEY,
    full_at BIGINT NOT NULL
);
CREATE INDEX rate_buckets_full_at ON rate_buckets (full_at);

-- An account's password failures, the checks under way on any node, and its lock.
CREATE TABLE lockouts (
    account       BYTEA   PRIMARY KEY,
    failures      INTEGER NOT NULL DEFAULT 0,
    pending       INTEGER NOT NULL DEFAULT 0,
    pending_until BIGINT  NOT NULL DEFAULT 0,
    locks         INTEGER NOT NULL DEFAULT 0,
    locked_until  BIGINT  NOT NULL DEFAULT 0,
    last_failure  BIGINT  NOT NULL DEFAULT 0
);
