package latchkey

import (
	"context"
	"time"
)

// Audit event names.
const (
	EventLogin               = "login"
	EventRegister            = "register"
	EventIdentityLinked      = "identity_linked"
	EventConfirm             = "user_confirmed"
	EventPasswordReset       = "password_reset"
	EventLogout              = "logout"
	EventUserDeleted         = "user_deleted"
	EventUserDisabled        = "user_disabled"
	EventUserEnabled         = "user_enabled"
	EventSessionsRevoked     = "sessions_revoked"
	EventUserCustomDataSet   = "user_custom_data_set"
	EventAPIKeyCreated       = "api_key_created"
	EventAPIKeyDisabled      = "api_key_disabled"
	EventAPIKeyEnabled       = "api_key_enabled"
	EventAPIKeyDeleted       = "api_key_deleted"
	EventAPIKeyRotated       = "api_key_rotated"
	EventAPIKeyLeaked        = "api_key_leaked"
	EventAPIKeyLimitsSet     = "api_key_limits_set"
	EventLeakSecretRotated   = "leak_secret_rotated"
	EventAdminLogin          = "admin_login"
	EventAdminLogout         = "admin_logout"
	EventAdminCreated        = "admin_created"
	EventAppCreated          = "app_created"
	EventAppUpdated          = "app_updated"
	EventAppDeleted          = "app_deleted"
	EventAuthProviderSet     = "auth_provider_set"
	EventAuthProviderDeleted = "auth_provider_deleted"
	EventServerKeyCreated    = "server_api_key_created"
	EventServerKeyDisabled   = "server_api_key_disabled"
	EventServerKeyEnabled    = "server_api_key_enabled"
	EventServerKeyDeleted    = "server_api_key_deleted"
	EventSigningKeysRotated  = "signing_keys_rotated"
)

// Actor kinds of audit events.
const (
	ActorUser      = "user"
	ActorAdmin     = "admin"
	ActorAnonymous = "anonymous" // an unauthenticated caller, e.g. a failed login
	ActorSystem    = "system"
)

// Outcomes of audit events.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// AuditEvent is one security event. It never holds a secret: no key value, password or
// token, only ids and error codes.
type AuditEvent struct {
	ID          string
	Time        time.Time
	AppID       string // internal app id, "" for server-wide events
	Event       string
	Outcome     string
	ActorType   string
	ActorID     string
	SubjectType string // "user", "api_key", "app", "admin"
	SubjectID   string
	IP          string
	UserAgent   string
	RequestID   string
	Details     map[string]string // e.g. provider, key id, error code
}

// AuditFilter selects audit events, newest first. Zero fields do not filter.
type AuditFilter struct {
	AppID  string
	UserID string // events whose actor or subject is this id
	Event  string
	// RequestID selects the events of one request (an error's co_id, X-Request-Id).
	RequestID string
	From      time.Time
	To        time.Time
	Before    string // paging cursor: the last id of the previous page
	Limit     int
}

// AuditService reads the audit log. It needs an admin access caller in the context
// (AdminFromContext) and returns EUnauthenticated without one.
type AuditService interface {
	// FindAuditEvents returns the events that filter selects, newest first.
	// Errors: EAppNotFound, EBadRequest.
	FindAuditEvents(ctx context.Context, filter AuditFilter) ([]*AuditEvent, error)
}

// RequestMeta describes the request behind an operation, for the audit log.
type RequestMeta struct {
	IP        string
	UserAgent string
	RequestID string
}

type requestMetaKey struct{}

// NewContextWithRequestMeta returns a context carrying the request's metadata.
func NewContextWithRequestMeta(ctx context.Context, m RequestMeta) context.Context {
	return context.WithValue(ctx, requestMetaKey{}, m)
}

// RequestMetaFromContext returns the request's metadata, or zero values.
func RequestMetaFromContext(ctx context.Context) RequestMeta {
	m, _ := ctx.Value(requestMetaKey{}).(RequestMeta)
	return m
}
