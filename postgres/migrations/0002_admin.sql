-- The admin surface: an app's password minimum, server administrators and their sessions,
-- and the audit log.

-- Apps created before this migration get the default the service applied to them.
ALTER TABLE apps ADD COLUMN password_min_length INTEGER NOT NULL DEFAULT 6;

CREATE TABLE admins (
    id            TEXT        PRIMARY KEY,
    email         TEXT        NOT NULL,
    password_hash TEXT        NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    -- The store tells an email conflict by this name: keep it stable.
    CONSTRAINT admins_email_key UNIQUE (email)
);

CREATE TABLE admin_sessions (
    id         TEXT        PRIMARY KEY,
    admin_id   TEXT        NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX admin_sessions_admin_id_idx ON admin_sessions (admin_id);

-- No foreign key on app_id: server-wide events have none, and DeleteApp deletes an app's
-- events itself. Ids sort by creation, so id order is newest-first paging order; the "C"
-- collation makes that order bytewise whatever the database's collation.
CREATE TABLE audit_events (
    id           TEXT COLLATE "C" PRIMARY KEY,
    time         TIMESTAMPTZ NOT NULL,
    app_id       TEXT,  -- NULL for server-wide events
    event        TEXT        NOT NULL,
    outcome      TEXT        NOT NULL,
    actor_type   TEXT        NOT NULL,
    actor_id     TEXT        NOT NULL,
    subject_type TEXT        NOT NULL,
    subject_id   TEXT        NOT NULL,
    ip           TEXT        NOT NULL,
    user_agent   TEXT        NOT NULL,
    request_id   TEXT        NOT NULL,
    details      JSONB  -- object of strings; NULL when there are none
);

CREATE INDEX audit_events_app_id_idx ON audit_events (app_id, id);
CREATE INDEX audit_events_actor_id_idx ON audit_events (actor_id);
CREATE INDEX audit_events_subject_id_idx ON audit_events (subject_id);
CREATE INDEX audit_events_time_idx ON audit_events (time);
