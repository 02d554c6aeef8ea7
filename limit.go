package latchkey

import (
	"errors"
	"strconv"
	"time"
)

// EventAccountLocked is the audit event of an account locked after repeated password failures.
const EventAccountLocked = "account_locked"

// RetryError is a refusal that the caller may retry after a while: a rate limit or a
// temporary lockout. Its code is ETooManyRequests.
type RetryError struct {
	Err   *Error
	After time.Duration
}

// Error implements the error interface.
func (e *RetryError) Error() string { return e.Err.Error() }

// Unwrap lets ErrorCode and ErrorMessage find the *Error.
func (e *RetryError) Unwrap() error { return e.Err }

// TooManyRequests returns the error of a request refused by a rate limit or a lockout, to be
// retried after d. Its message is the contract's "too many requests", whatever the reason, so
// that a locked account reads like a busy one.
func TooManyRequests(d time.Duration) error {
	return &RetryError{Err: Errorf(ETooManyRequests, "too many requests"), After: d}
}

// RetryAfter returns how long the caller of a refused request should wait, if err says.
func RetryAfter(err error) (time.Duration, bool) {
	var e *RetryError
	if errors.As(err, &e) {
		return e.After, true
	}
	return 0, false
}

// RetrySeconds is a wait as a Retry-After header says it: whole seconds, rounded up, at
// least one.
func RetrySeconds(d time.Duration) string {
	return strconv.FormatInt(int64(max(1, (d+time.Second-1)/time.Second)), 10)
}

// Lockout is the password-failure state of one account, kept in the store so that every
// node shares it and a restart keeps it. The service decides what it means; the store only
// keeps it and changes it one caller at a time (Store.UpdateLockout).
type Lockout struct {
	// Failures are the wrong passwords in a row since the last success or lock.
	Failures int
	// Pending are the password checks under way, on any node, and PendingUntil when they
	// are given up as lost (a node that died while checking never ends its checks).
	Pending      int
	PendingUntil time.Time
	// Locks are the locks since the last success, for the doubling of the next one.
	Locks       int
	LockedUntil time.Time
	// LastFailure is the time of the last wrong password.
	LastFailure time.Time
}

// IsZero reports whether l holds nothing: a store keeps no row for it.
func (l Lockout) IsZero() bool { return l == Lockout{} }

// RateTokenWait is how long, at now, until a bucket of burst tokens that earns one per
// interval and is full again at fullAt has a token to take (Store.TakeRateToken): at least a
// nanosecond, since a refused take has something to wait for.
func RateTokenWait(fullAt, now time.Time, interval time.Duration, burst int) time.Duration {
	return max(max(fullAt.Sub(now), 0)+interval-time.Duration(burst)*interval, 1)
}
