package latchkey

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes. Each is a stable, machine-readable name of a failure that the caller can act
// on; Status below is the one table from a code to an HTTP status, and httpapi/error.go the
// one place that gives a code its wire code and writes the wire body.
const (
	EInternal           = "internal"            // anything unexpected: logged, answered blandly
	EBadRequest         = "bad_request"         // malformed request: bad JSON, wrong types, bad token data
	EInvalid            = "invalid"             // a parameter breaks a rule (name characters, key cap)
	ERequired           = "required"            // a required value is missing (answered without a wire code)
	ETooLarge           = "too_large"           // request body over the limit
	EUnauthenticated    = "unauthenticated"     // missing, invalid, expired or revoked token
	EBadAuthHeader      = "bad_auth_header"     // Authorization header present but without a token
	EInvalidPassword    = "invalid_password"    // wrong email or password
	EUnauthorized       = "unauthorized"        // any other failed credential: key, unconfirmed user
	EUserDisabled       = "user_disabled"       // the user was disabled by an admin
	EForbidden          = "forbidden"           // authenticated, but not allowed to do this
	EProviderDisabled   = "provider_disabled"   // the auth provider is not enabled for the app
	EAppNotFound        = "app_not_found"       // no app with that client app id
	EAPIKeyNotFound     = "api_key_not_found"   // no such key for this user
	EUserNotFound       = "user_not_found"      // no such user (email/password flows)
	ENotFound           = "not_found"           // no such resource
	ENoRoute            = "no_route"            // no such route
	EMethodNotAllowed   = "method_not_allowed"  // route exists, method does not
	EAPIKeyExists       = "api_key_exists"      // key name already used by this user
	EAccountNameInUse   = "account_name_in_use" // email already registered
	EAlreadyConfirmed   = "already_confirmed"   // confirmation asked for a confirmed user
	EConflict           = "conflict"            // a store-level unique constraint
	ELimitReached       = "limit_reached"       // a per-owner cap was reached
	ETooManyRequests    = "too_many_requests"   // rate limited
	EServiceUnavailable = "unavailable"         // shutting down or overloaded
	EStoreUnavailable   = "store_unavailable"   // the database cannot be reached, or the request ran out of time
)

// statuses is the one table from error codes to HTTP statuses. It lives here, rather than in
// httpapi, because both HTTP surfaces answer with it, the API (httpapi) and the pages (ui),
// and neither may import the other.
var statuses = map[string]int{
	EBadRequest:         http.StatusBadRequest,
	EInvalid:            http.StatusBadRequest,
	ELimitReached:       http.StatusBadRequest,
	ERequired:           http.StatusBadRequest,
	EProviderDisabled:   http.StatusBadRequest,
	EAlreadyConfirmed:   http.StatusBadRequest,
	EUnauthenticated:    http.StatusUnauthorized,
	EBadAuthHeader:      http.StatusUnauthorized,
	EInvalidPassword:    http.StatusUnauthorized,
	EUnauthorized:       http.StatusUnauthorized,
	EUserDisabled:       http.StatusUnauthorized,
	EForbidden:          http.StatusForbidden,
	EAppNotFound:        http.StatusNotFound,
	EAPIKeyNotFound:     http.StatusNotFound,
	EUserNotFound:       http.StatusNotFound,
	ENotFound:           http.StatusNotFound,
	ENoRoute:            http.StatusNotFound,
	EMethodNotAllowed:   http.StatusMethodNotAllowed,
	EAPIKeyExists:       http.StatusConflict,
	EAccountNameInUse:   http.StatusConflict,
	EConflict:           http.StatusConflict,
	ETooLarge:           http.StatusRequestEntityTooLarge,
	ETooManyRequests:    http.StatusTooManyRequests,
	EServiceUnavailable: http.StatusServiceUnavailable,
	EStoreUnavailable:   http.StatusServiceUnavailable,
	EInternal:           http.StatusInternalServerError,
}

// Status returns the HTTP status that answers an error with the given code: 500 for
// EInternal and for a code that is not in the list above.
func Status(code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Error is a domain error: a code from the list above and a message meant for the caller.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("latchkey error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EInternal for any other
// error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the message of the first *Error in err's chain, or a bland message
// for any other error so that internals never reach a caller.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "internal server error"
}

// storeUnavailableError is an operation that failed because the database could not be
// reached. Its code is EStoreUnavailable; the cause stays in the chain for the logs.
type storeUnavailableError struct {
	err   *Error
	cause error
}

func (e *storeUnavailableError) Error() string   { return e.err.Error() + ": " + e.cause.Error() }
func (e *storeUnavailableError) Unwrap() []error { return []error{e.err, e.cause} }

// StoreUnavailable returns the error of an operation that failed because the database could
// not be reached (refused or lost connections, a server shutting down, a locked or unreadable
// file), so that callers answer "try again shortly" rather than "internal error". The stores
// return it; cause says why, for the logs.
func StoreUnavailable(cause error) error {
	return &storeUnavailableError{err: Errorf(EStoreUnavailable, "service temporarily unavailable, try again shortly"), cause: cause}
}
