package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/storeerr"
)

// CreateMailSend records a message unless the limit refuses it (ELimitReached). The write
// pool's single connection makes the count and the insert one step.
func (s *Store) CreateMailSend(ctx context.Context, m *latchkey.MailSend, limit latchkey.MailLimit) error {
	return s.inTx(ctx, "create mail send", func(tx *sql.Tx) error {
		if err := limitMailSend(ctx, tx, m, limit); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO mail_sends (app_id, recipient, kind, sent_at) VALUES (?, ?, ?, ?)`,
			m.AppID, m.Recipient, m.Kind, millis(m.SentAt))
		if isForeignKeyViolation(err) {
			return storeerr.AppNotFound()
		}
		return err
	})
}

// limitMailSend deletes the recipient's records older than both periods, then checks the
// rest against the limit.
func limitMailSend(ctx context.Context, tx *sql.Tx, m *latchkey.MailSend, limit latchkey.MailLimit) error {
	cooldownStart := millis(m.SentAt.Add(-limit.Cooldown))
	windowStart := millis(m.SentAt.Add(-limit.Window))
	if _, err := tx.ExecContext(ctx, `DELETE FROM mail_sends WHERE app_id = ? AND recipient = ? AND sent_at <= ?`,
		m.AppID, m.Recipient, millis(m.SentAt.Add(-max(limit.Cooldown, limit.Window)))); err != nil {
		return err
	}
	var recent, inWindow int
	err := tx.QueryRowContext(ctx, `SELECT
			COALESCE(SUM(sent_at > ?), 0),
			COALESCE(SUM(kind = ? AND sent_at > ?), 0)
		FROM mail_sends WHERE app_id = ? AND recipient = ?`,
		cooldownStart, m.Kind, windowStart, m.AppID, m.Recipient,
	).Scan(&recent, &inWindow)
	if err != nil {
		return err
	}
	return storeerr.MailLimit(limit, recent, inWindow)
}

// DeleteMailSendsBefore deletes the records of messages sent before t.
func (s *Store) DeleteMailSendsBefore(ctx context.Context, t time.Time) (int64, error) {
	return s.execCount(ctx, "delete mail sends", `DELETE FROM mail_sends WHERE sent_at < ?`, millis(t))
}
