package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
)

// wireError is how one domain error code goes on the wire: the HTTP status and the App
// Services error_code ("" sends none, which some SDK error paths match on).
type wireError struct {
	status int
	code   string
}

// errorTable is the one place where domain error codes become HTTP statuses and wire codes.
// Wire codes are only ever names that realm-core knows (notes §6.3).
var errorTable = map[string]wireError{
	latchkey.EBadRequest:         {http.StatusBadRequest, "BadRequest"},
	latchkey.EInvalid:            {http.StatusBadRequest, "InvalidParameter"},
	latchkey.ELimitReached:       {http.StatusBadRequest, "InvalidParameter"},
	latchkey.ERequired:           {http.StatusBadRequest, ""},
	latchkey.EProviderDisabled:   {http.StatusBadRequest, "AuthProviderNotFound"},
	latchkey.EAlreadyConfirmed:   {http.StatusBadRequest, "UserAlreadyConfirmed"},
	latchkey.EUnauthenticated:    {http.StatusUnauthorized, "InvalidSession"},
	latchkey.EBadAuthHeader:      {http.StatusUnauthorized, ""},
	latchkey.EInvalidPassword:    {http.StatusUnauthorized, "InvalidPassword"},
	latchkey.EUnauthorized:       {http.StatusUnauthorized, "AuthError"},
	latchkey.EUserDisabled:       {http.StatusUnauthorized, "UserDisabled"},
	latchkey.EForbidden:          {http.StatusForbidden, "AuthError"},
	latchkey.EAppNotFound:        {http.StatusNotFound, "InvalidParameter"},
	latchkey.EAPIKeyNotFound:     {http.StatusNotFound, "APIKeyNotFound"},
	latchkey.EUserNotFound:       {http.StatusNotFound, "UserNotFound"},
	latchkey.ENotFound:           {http.StatusNotFound, ""},
	latchkey.ENoRoute:            {http.StatusNotFound, "InvalidParameter"},
	latchkey.EMethodNotAllowed:   {http.StatusMethodNotAllowed, "BadRequest"},
	latchkey.EAPIKeyExists:       {http.StatusConflict, "APIKeyAlreadyExists"},
	latchkey.EAccountNameInUse:   {http.StatusConflict, "AccountNameInUse"},
	latchkey.EConflict:           {http.StatusConflict, ""},
	latchkey.ETooLarge:           {http.StatusRequestEntityTooLarge, "BadRequest"},
	latchkey.ETooManyRequests:    {http.StatusTooManyRequests, "BadRequest"},
	latchkey.EServiceUnavailable: {http.StatusServiceUnavailable, "InternalServerError"},
	latchkey.EStoreUnavailable:   {http.StatusServiceUnavailable, "ServiceUnavailable"},
	latchkey.EInternal:           {http.StatusInternalServerError, "InternalServerError"},
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
	wire, ok := errorTable[code]
	if !ok {
		code, wire = latchkey.EInternal, errorTable[latchkey.EInternal]
	}
	if code == latchkey.EInternal && errors.Is(r.Context().Err(), context.Canceled) {
		// The store gave up because the client closed the connection: not an internal error.
		s.logger.DebugContext(r.Context(), "client closed the request", slog.String(attrRequestID, requestID(r)), slog.Any("err", err))
		wire = wireError{statusClientClosed, ""}
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
	writeJSON(w, wire.status, errorBody{
		Error:     latchkey.ErrorMessage(err),
		ErrorCode: wire.code,
		Link:      s.logLink(r),
	})
}
