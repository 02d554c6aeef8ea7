package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Error is an error answer from the server: its HTTP status and the App Services error body
// ({"error", "error_code", "link"}). Compare it with the sentinel values below through
// errors.Is, or read its fields through errors.As.
type Error struct {
	StatusCode int    // HTTP status, e.g. 404
	Code       string // the server's error_code, e.g. "APIKeyNotFound"; "" when it sent none
	Message    string // the server's error text, e.g. "API key not found"
	Link       string // where the server's log line for this request is, with its request id
	// RetryAfter is how long to wait before trying again, from the Retry-After header of a
	// refusal such as a rate limit or a locked account (429); zero when the server sent none.
	RetryAfter time.Duration
}

// Error returns the message with the code, or the status when the server sent no code, so
// that a person reading it can act on it and a log search can find it.
func (e *Error) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("%s (%s)", e.Message, e.Code)
	}
	return fmt.Sprintf("%s (status %d)", e.Message, e.StatusCode)
}

// Is reports whether target is the sentinel of e's error code.
func (e *Error) Is(target error) bool {
	s, ok := sentinels[e.Code]
	return ok && s == target
}

// Sentinel errors, one per error_code a client can act on. An *Error matches the one of its
// Code: errors.Is(err, client.ErrAPIKeyNotFound).
var (
	ErrAPIKeyNotFound       = errors.New("APIKeyNotFound")       // no such key for this user
	ErrAPIKeyExists         = errors.New("APIKeyAlreadyExists")  // the user has a key of that name
	ErrInvalidParameter     = errors.New("InvalidParameter")     // a bad key name, the key cap, an unknown app id
	ErrInvalidSession       = errors.New("InvalidSession")       // a missing, expired or ended session
	ErrAuth                 = errors.New("AuthError")            // bad key, unconfirmed user, or not allowed (403)
	ErrInvalidPassword      = errors.New("InvalidPassword")      // wrong email or password
	ErrUserDisabled         = errors.New("UserDisabled")         // an admin disabled the user
	ErrAccountNameInUse     = errors.New("AccountNameInUse")     // the email is already registered
	ErrUserNotFound         = errors.New("UserNotFound")         // no user with that email
	ErrUserAlreadyConfirmed = errors.New("UserAlreadyConfirmed") // confirmation asked for a confirmed user
	ErrBadRequest           = errors.New("BadRequest")           // malformed request, bad password or email, bad token
	ErrAuthProviderNotFound = errors.New("AuthProviderNotFound") // the provider is not enabled for the app
	ErrInternalServer       = errors.New("InternalServerError")  // the server failed; retrying may help
)

// sentinels maps each error_code to its sentinel, for Is.
var sentinels = byCode(
	ErrAPIKeyNotFound, ErrAPIKeyExists, ErrInvalidParameter, ErrInvalidSession, ErrAuth,
	ErrInvalidPassword, ErrUserDisabled, ErrAccountNameInUse, ErrUserNotFound,
	ErrUserAlreadyConfirmed, ErrBadRequest, ErrAuthProviderNotFound, ErrInternalServer,
)

func byCode(errs ...error) map[string]error {
	m := make(map[string]error, len(errs))
	for _, err := range errs {
		m[err.Error()] = err
	}
	return m
}

// ErrNotLoggedIn is returned for a call on a user whose session has ended locally: logged
// out, removed, deleted, or logged out because the server refused its refresh token.
var ErrNotLoggedIn = errors.New("client: user is not logged in")

// newError reads an error answer. A body that is not the App Services error shape (a proxy's
// HTML page, say) still gives an *Error with the status.
func newError(resp *http.Response, body []byte) *Error {
	e := &Error{StatusCode: resp.StatusCode}
	var wire struct {
		Error     string `json:"error"`
		ErrorCode string `json:"error_code"`
		Link      string `json:"link"`
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && json.Unmarshal(body, &wire) == nil {
		e.Message, e.Code, e.Link = wire.Error, wire.ErrorCode, wire.Link
	}
	if e.Message == "" {
		e.Message = "http status " + resp.Status
	}
	e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	return e
}

// retryAfter reads a Retry-After header: a number of seconds, or an HTTP date (then the wait
// from now). Anything else, or a time past, is no wait.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if n, err := strconv.ParseInt(h, 10, 64); err == nil {
		if n <= 0 || n > int64(math.MaxInt64/time.Second) {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// hasStatus reports whether err is an *Error with the given HTTP status.
func hasStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == status
}
