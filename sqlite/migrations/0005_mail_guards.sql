-- Guards of the email/password provider's messages: a record of each message sent, for the
-- per-recipient cooldown and cap, and an app setting that answers unknown emails as known
-- ones.

-- One row per message sent. The recipient is the SHA-256 of the app id and the normalized
-- email, never the address; rows older than the longest limit period are deleted.
CREATE TABLE mail_sends (
    app_id    TEXT    NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    recipient BLOB    NOT NULL,
    kind      TEXT    NOT NULL,
    sent_at   INTEGER NOT NULL
);

CREATE INDEX mail_sends_recipient ON mail_sends (app_id, recipient, sent_at);
CREATE INDEX mail_sends_sent_at ON mail_sends (sent_at);

-- Apps created before this migration keep App Services' answers (404 UserNotFound).
ALTER TABLE apps ADD COLUMN hide_account_existence INTEGER NOT NULL DEFAULT 0
    CHECK (hide_account_existence IN (0, 1));
