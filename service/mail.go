package service

import (
	"context"
	"crypto/sha256"
	"time"

	"github.com/latchkey/latchkey"
)

// mailWindow is the period of MailLimits.PerHour.
const mailWindow = time.Hour

// MailLimits bound the confirmation and reset messages that one recipient (an email address
// in an app) receives, so that nobody can flood an inbox through reset/send or confirm/send.
// They are kept in the database, so they hold across every node over it. A message a limit
// holds back is answered like a sent one.
type MailLimits struct {
	// Cooldown is the least time between two messages to a recipient, of any kind; zero:
	// none.
	Cooldown time.Duration
	// PerHour is the most messages of one kind a recipient receives within any hour; zero:
	// no cap.
	PerHour int
}

// DefaultMailLimits are the limits `latchkey serve` starts with.
func DefaultMailLimits() MailLimits {
	return MailLimits{Cooldown: time.Minute, PerHour: 5}
}

func (l MailLimits) limit() latchkey.MailLimit {
	return latchkey.MailLimit{Cooldown: l.Cooldown, Max: max(l.PerHour, 0), Window: mailWindow}
}

// allowMail records a message of the kind to the user's address and reports whether it may
// go. A message held back by the limits is logged, without the address, and counted.
func (s *core) allowMail(ctx context.Context, app *latchkey.App, u *latchkey.User, kind string, now time.Time) (bool, error) {
	m := &latchkey.MailSend{AppID: app.ID, Recipient: mailRecipient(app, u.Email), Kind: kind, SentAt: now}
	err := s.store.CreateMailSend(ctx, m, s.mailLimit)
	if latchkey.ErrorCode(err) == latchkey.ELimitReached {
		s.logger.InfoContext(ctx, "mail suppressed", "app", app.ClientAppID, "kind", kind, "user", u.ID,
			"reason", latchkey.ErrorMessage(err))
		s.observer.ObserveMail(kind, latchkey.MailSuppressed)
		return false, nil
	}
	return err == nil, err
}

// mailRecipient names an address of an app in the mail records: a hash, so that the records
// do not hold the address.
func mailRecipient(app *latchkey.App, email string) []byte {
	sum := sha256.Sum256([]byte("mail\x00" + app.ID + "\x00" + normalizeEmail(email)))
	return sum[:]
}

// DeleteOldMailSends deletes the records of messages that no limit looks at any more.
func (s *Service) DeleteOldMailSends(ctx context.Context) (int64, error) {
	return s.store.DeleteMailSendsBefore(ctx, s.now().Add(-max(s.mailLimit.Cooldown, s.mailLimit.Window)))
}
