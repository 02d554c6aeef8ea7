package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
)

// wireCodes gives each domain error code the App Services error_code it is sent with ("" or
// absent sends none, which some SDK error paths match on). Its status comes from the one
// table, latchkey.Status. Wire codes are only ever names that realm-core knows (notes §6.3).
var wireCodes = map[string]string{
	latchkey.EBadRequest:         "BadRequest",
	latchkey.EInvalid:            "InvalidParameter",
	latchkey.ELimitReached:       "InvalidParameter",
	latchkey.EProviderDisabled:   "AuthProviderNotFound",
	latchkey.EAlreadyConfirmed:   "UserAlreadyConfirmed",
	latchkey.EUnauthenticated:    "InvalidSession",
	latchkey.EInvalidPassword:    "InvalidPassword",
	latchkey.EUnauthorized:       "AuthError",
	latchkey.EUserDisabled:       "UserDisabled",
	latchkey.EForbidden:          "AuthError",
	latchkey.EAppNotFound:        "InvalidParameter",
	latchkey.EAPIKeyNotFound:     "APIKeyNotFound",
	latchkey.EUserNotFound:       "UserNotFound",
	latchkey.ENoRoute:            "InvalidParameter",
	latchkey.EMethodNotAllowed:   "BadRequest",
	latchkey.EAPIKeyExists:       "APIKeyAlreadyExists",
	latchkey.EAccountNameInUse:   "AccountNameInUse",
	latchkey.ETooLarge:           "BadRequest",
	latchkey.ETooManyRequests:    "BadRequest",
	latchkey.EServiceUnavailable: "InternalServerError",
	latchkey.EStoreUnavailable:   "ServiceUnavailable",
	latchkey.EInternal:           "InternalServerError",
}

// retryAfterTable is the Retry-After of the codes that always carry one. A request that
// failed because the database could not be reached or ran out of time waits long enough for a
// restart or a failover to make progress, and not so long that a client gives up on a blip.
var retryAfterTable = map[string]time.Duration{
	latchkey.EStoreUnavailable: 2 * time.Second,
}

// statusClientClosed is the status logged for a request whose client went away before it was
// answered (nginx's 499): no one reads the answer, and it is not the server's fault.
const statusClientClosed = 499

// errorBody is the contract's error body.
type errorBody struct {
	Error     string `json:"error"`
	ErrorCode string `json:"error_code,omitempty"`
	Link      string `json:"link"`
}

// Error writes err as the contract's JSON error. Internal errors are logged with the request
// id and answered with a bland message.
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	code := latchkey.ErrorCode(err)
	if code == latchkey.EInternal && errors.Is(r.Context().Err(), context.DeadlineExceeded) {
		// The request's own deadline (withDeadline) ran out, behind a lock or a slow
		// database: the client may try again.
		err = latchkey.StoreUnavailable(err)
		code = latchkey.EStoreUnavailable
	}
	status := latchkey.Status(code)
	if status == http.StatusInternalServerError {
		code = latchkey.EInternal // a code the table lacks is internal too
	}
	wireCode := wireCodes[code]
	if code == latchkey.EInternal && errors.Is(r.Context().Err(), context.Canceled) {
		// The store gave up because the client closed the connection: not an internal error.
		s.logger.DebugContext(r.Context(), "client closed the request", slog.String(attrRequestID, requestID(r)), slog.Any("err", err))
		status, wireCode = statusClientClosed, ""
	} else if code == latchkey.EInternal {
		s.logger.ErrorContext(r.Context(), "internal error", slog.String(attrRequestID, requestID(r)), slog.Any("err", err))
	} else if code == latchkey.EStoreUnavailable {
		s.logger.WarnContext(r.Context(), "database unavailable", slog.String(attrRequestID, requestID(r)), slog.Any("err", err))
	}
	if d, ok := retryAfterTable[code]; ok {
		w.Header().Set("Retry-After", latchkey.RetrySeconds(d))
	} else if d, ok := latchkey.RetryAfter(err); ok {
		w.Header().Set("Retry-After", latchkey.RetrySeconds(d))
	}
	writeJSON(w, status, errorBody{
		Error:     latchkey.ErrorMessage(err),
		ErrorCode: wireCode,
		Link:      s.logLink(r),
	})
}
