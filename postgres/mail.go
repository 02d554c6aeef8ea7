package postgres

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/storeerr"
)

// mailLockClass is the first key of the advisory locks that serialize one recipient's
// messages: "mail" in ASCII. Two-key advisory locks do not meet the migrations' one-key lock.
const mailLockClass int32 = 0x6d61696c

// CreateMailSend records a message unless the limit refuses it (ELimitReached). A
// transaction-scoped advisory lock on the recipient makes the count and the insert one step
// on every node; recipients that share the lock's 32 bits only wait for each other.
func (s *Store) CreateMailSend(ctx context.Context, m *latchkey.MailSend, limit latchkey.MailLimit) error {
	return s.inTx(ctx, "create mail send", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, mailLockClass, mailLockKey(m.Recipient)); err != nil {
			return err
		}
		if err := limitMailSend(ctx, tx, m, limit); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO mail_sends (app_id, recipient, kind, sent_at) VALUES ($1, $2, $3, $4)`,
			m.AppID, m.Recipient, m.Kind, dbTime(m.SentAt))
		if _, ok := violation(err, codeForeignKeyViolation); ok {
			return storeerr.AppNotFound()
		}
		return err
	})
}

// limitMailSend deletes the recipient's records older than both periods, then checks the
// rest against the limit.
func limitMailSend(ctx context.Context, tx pgx.Tx, m *latchkey.MailSend, limit latchkey.MailLimit) error {
	cooldownStart := dbTime(m.SentAt.Add(-limit.Cooldown))
	windowStart := dbTime(m.SentAt.Add(-limit.Window))
	if _, err := tx.Exec(ctx, `DELETE FROM mail_sends WHERE app_id = $1 AND recipient = $2 AND sent_at <= $3`,
		m.AppID, m.Recipient, dbTime(m.SentAt.Add(-max(limit.Cooldown, limit.Window)))); err != nil {
		return err
	}
	var recent, inWindow int
	err := tx.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE sent_at > $1),
			count(*) FILTER (WHERE kind = $2 AND sent_at > $3)
		FROM mail_sends WHERE app_id = $4 AND recipient = $5`,
		cooldownStart, m.Kind, windowStart, m.AppID, m.Recipient,
	).Scan(&recent, &inWindow)
	if err != nil {
		return err
	}
	return storeerr.MailLimit(limit, recent, inWindow)
}

// mailLockKey is the second key of a recipient's advisory lock: 32 bits of its hash.
func mailLockKey(recipient []byte) int32 {
	var b [4]byte
	copy(b[:], recipient)
	return int32(binary.BigEndian.Uint32(b[:]))
}

// DeleteMailSendsBefore deletes the records of messages sent before t.
func (s *Store) DeleteMailSendsBefore(ctx context.Context, t time.Time) (int64, error) {
	return s.execCount(ctx, "delete mail sends", `DELETE FROM mail_sends WHERE sent_at < $1`, dbTime(t))
}
