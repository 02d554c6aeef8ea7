-- Guards of the email/password provider's messages: a record of each message sent, for the
-- per-recipient cooldown and cap, and an app setting that answers unknown emails as known
-- ones.

-- One row per message sent. The recipient is the SHA-256 of the app id and the normalized
-- email, never the address; rows older than the longest limit period are deleted.
CREATE TABLE mail_sends (
    app_id    TEXT        NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    recipient BYTEA       NOT NULL,
    kind      TEXT        NOT NULL,
    sent_at   TIMESTAMPTZ NOT NULL
);

CREATE INDEX mail_sends_recipient_idx ON mail_sends (app_id, recipient, sent_at);
CREATE INDEX mail_sends_sent_at_idx ON mail_sends (sent_at);

-- Apps created before this migration keep App Services' answers (404 UserNotFound).
ALTER TABLE apps ADD COLUMN hide_account_existence BOOLEAN NOT NULL DEFAULT FALSE;
