package ui

import (
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
)

// tooManyAttempts answers a refusal by a rate limit or a lockout: it sets Retry-After, in
// whole seconds as the API does, and returns what the page says. The service words a lockout
// like a rate limit, so the page does too and tells nobody whether an account exists.
func tooManyAttempts(w http.ResponseWriter, err error) string {
	d, _ := latchkey.RetryAfter(err)
	w.Header().Set("Retry-After", latchkey.RetrySeconds(d))
	return "Too many attempts; try again " + retryIn(d) + "."
}

// retryIn says when to try again, in whole minutes rounded up.
func retryIn(d time.Duration) string {
	if d < time.Minute {
		return "in a minute"
	}
	return "in " + plural(int64((d+time.Minute-1)/time.Minute), "minute")
}
