package latchkey

import "time"

// Observer receives the measurements that Latchkey exports as metrics. Every value it is
// given comes from a small, fixed set (a route pattern, a provider name, an outcome), never
// an id, an email address or a key, so that an implementation may use them as labels.
type Observer interface {
	// ObserveRequest records an answered HTTP request. route is the pattern that matched,
	// such as "GET /api/client/v2.0/auth/api_keys/{id}", or "" when none did.
	ObserveRequest(route string, status int, d time.Duration)
	// ObserveEvent records an audit event: logins by provider and outcome, keys created,
	// disabled and deleted. Implementations read only the event name, outcome and provider.
	ObserveEvent(e *AuditEvent)
	// ObserveMail records what became of a message: kind is UserTokenConfirm or
	// UserTokenReset, outcome one of the MailOutcome constants.
	ObserveMail(kind, outcome string)
	// ObserveRateLimited records a request refused by a rate limit; limit names the limit.
	ObserveRateLimited(limit string)
	// ObserveVerify records the answer to a verify call: code is one of the Verify* codes.
	ObserveVerify(code string)
}

// Outcomes of a mail message, for ObserveMail.
const (
	MailSent    = "sent"    // accepted by the mail server
	MailRetried = "retried" // an attempt failed and another is scheduled
	MailFailed  = "failed"  // given up after the last attempt, or refused for good
	MailDropped = "dropped" // not queued: the queue was full
	// MailSuppressed: not sent, as the recipient had reached a per-recipient limit; the
	// caller was answered as if it had been.
	MailSuppressed = "suppressed"
)

// NopObserver discards every measurement.
type NopObserver struct{}

// ObserveRequest does nothing.
func (NopObserver) ObserveRequest(string, int, time.Duration) {}

// ObserveEvent does nothing.
func (NopObserver) ObserveEvent(*AuditEvent) {}

// ObserveMail does nothing.
func (NopObserver) ObserveMail(string, string) {}

// ObserveRateLimited does nothing.
func (NopObserver) ObserveRateLimited(string) {}

// ObserveVerify does nothing.
func (NopObserver) ObserveVerify(string) {}
