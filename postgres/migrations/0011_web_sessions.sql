-- Signed-in browsers of the console and the self-service pages, shared by every node. A
-- row is keyed by the SHA-256 of the cookie's random token, never the token. It rides on
-- the admin session (console) or user session (self-service page) that its sign-in opened,
-- and goes with it: a sign-out, a removed admin, a disabled user or a revocation ends it.
CREATE TABLE web_sessions (
    id_hash          BYTEA       PRIMARY KEY,
    app_id           TEXT        REFERENCES apps (id) ON DELETE CASCADE, -- NULL for the console
    admin_session_id TEXT        REFERENCES admin_sessions (id) ON DELETE CASCADE,
    session_id       TEXT        REFERENCES sessions (id) ON DELETE CASCADE,
    email            TEXT        NOT NULL,
    flash            BYTEA, -- sealed with a key of the cookie's token; NULL when none
    created_at       TIMESTAMPTZ NOT NULL,
    last_seen_at     TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    CHECK ((admin_session_id IS NULL) <> (session_id IS NULL))
);

-- Ending a session finds its web sessions by these; the sweep by expiry.
CREATE INDEX web_sessions_admin_session_id_idx ON web_sessions (admin_session_id);
CREATE INDEX web_sessions_session_id_idx ON web_sessions (session_id);
CREATE INDEX web_sessions_expires_at_idx ON web_sessions (expires_at);
