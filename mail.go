package latchkey

import "time"

// MailSend records one message of the email/password provider to one recipient, so that the
// messages a recipient receives can be bounded across every node over one database. The
// recipient is a hash: no store holds the address for this.
type MailSend struct {
	AppID     string
	Recipient []byte // SHA-256 of the app id and the normalized email
	Kind      string // UserTokenConfirm or UserTokenReset
	SentAt    time.Time
}

// MailLimit bounds the messages to one recipient of an app: none within Cooldown after the
// last one of any kind, and at most Max of one kind within any Window. Zero values bound
// nothing.
type MailLimit struct {
	Cooldown time.Duration
	Max      int
	Window   time.Duration
}
