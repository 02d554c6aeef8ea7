package latchkey

import (
	"context"
	"time"
)

// GroupID is the one implicit App Services "group" (project) that holds every app.
const GroupID = "6c617463686b657900000001"

// Limits of the admin surface.
const (
	MaxServerAPIKeysPerApp    = 100
	AdminRefreshTokenLifetime = 24 * time.Hour
)

// Admin is an administrator of the whole server. Admins are not app users: their tokens
// never open the client API, and app users' tokens never open the admin API.
type Admin struct {
	ID           string
	Email        string
	PasswordHash string
	CreatedAt    time.Time
}

// AdminSession is an admin's refresh session.
type AdminSession struct {
	ID        string
	AdminID   string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// AdminAuth is the verified admin caller of a request.
type AdminAuth struct {
	Admin     *Admin
	SessionID string
	TokenType TokenType
}

// Admin token types, distinct from app users' so that neither opens the other's API.
const (
	AdminAccessToken  TokenType = "admin-access"
	AdminRefreshToken TokenType = "admin-refresh"
)

// UserFilter selects users for an admin listing. Nil fields do not filter.
type UserFilter struct {
	AppID    string
	Email    *string // exact email (normalized)
	Provider *string // users with an identity of this provider type
	Disabled *bool
	Type     *string
	After    string // paging cursor: the last id of the previous page
	Limit    int
}

// UserStats are counts an admin sees with a user.
type UserStats struct {
	APIKeys  int
	Sessions int // live (unexpired) sessions
}

// AppSettings is a partial update of an app's settings; nil fields stay as they are.
type AppSettings struct {
	Name                 *string
	AutoConfirm          *bool
	AnonymousEnabled     *bool
	UserpassEnabled      *bool
	APIKeyEnabled        *bool
	PasswordMinLength    *int
	RefreshTokenLifetime *time.Duration
	AllowedOrigins       *[]string
	HideAccountExistence *bool
	KeyPrefix            *string
	MaxKeyLifetime       *time.Duration
	Scopes               *[]string
}

// AdminService is the admin API: admin accounts, apps, server API keys and users. Every
// method but LogInAdmin, CreateAdmin and AuthenticateAdmin needs an AdminAuth in the context
// (EUnauthenticated otherwise).
type AdminService interface {
	// CreateAdmin creates an admin account. Errors: EBadRequest, EAccountNameInUse.
	CreateAdmin(ctx context.Context, email, password string) (*Admin, error)
	// LogInAdmin checks an admin's credentials and opens an admin session.
	// Errors: EInvalidPassword.
	LogInAdmin(ctx context.Context, email, password string) (*Login, error)
	// AuthenticateAdmin verifies an admin token. Errors: EUnauthenticated.
	AuthenticateAdmin(ctx context.Context, token string, typ TokenType) (*AdminAuth, error)
	// RefreshAdmin issues a new admin access token for the caller's admin session.
	RefreshAdmin(ctx context.Context) (string, error)
	// LogOutAdmin ends the caller's admin session.
	LogOutAdmin(ctx context.Context) error

	// FindApps, FindApp, CreateApp, UpdateApp, DeleteApp manage apps; id is the internal id
	// or the client app id. Errors: EAppNotFound, EInvalid, EConflict.
	AdminFindApps(ctx context.Context) ([]*App, error)
	AdminFindApp(ctx context.Context, id string) (*App, error)
	AdminCreateApp(ctx context.Context, app *App) error
	AdminUpdateApp(ctx context.Context, id string, upd AppSettings) (*App, error)
	AdminDeleteApp(ctx context.Context, id string) error

	// Server API keys of an app. Errors: EAppNotFound, EAPIKeyNotFound, ERequired, EInvalid,
	// EAPIKeyExists, ELimitReached.
	CreateServerAPIKey(ctx context.Context, appID string, in APIKeyInput) (*APIKey, error)
	FindServerAPIKeys(ctx context.Context, appID string) ([]*APIKey, error)
	FindServerAPIKey(ctx context.Context, appID, id string) (*APIKey, error)
	SetServerAPIKeyDisabled(ctx context.Context, appID, id string, disabled bool) error
	DeleteServerAPIKey(ctx context.Context, appID, id string) error

	// Users of an app. Errors: EAppNotFound, EUserNotFound, EAPIKeyNotFound, EBadRequest.
	FindUsers(ctx context.Context, appID string, filter UserFilter) ([]*User, error)
	FindUser(ctx context.Context, appID, userID string) (*User, UserStats, error)
	SetUserDisabled(ctx context.Context, appID, userID string, disabled bool) error
	AdminDeleteUser(ctx context.Context, appID, userID string) error
	RevokeUserSessions(ctx context.Context, appID, userID string) error
	FindUserAPIKeys(ctx context.Context, appID, userID string) ([]*APIKey, error)
	SetUserAPIKeyDisabled(ctx context.Context, appID, userID, keyID string, disabled bool) error
	DeleteUserAPIKey(ctx context.Context, appID, userID, keyID string) error
	// VerifyToken checks an app user's access token and returns its claims.
	// Errors: EUnauthenticated.
	VerifyToken(ctx context.Context, appID, token string) (map[string]any, error)

	// RotateLeakSecret makes a new secret for the app's leak reports and returns it, the only
	// time it is shown. Errors: EAppNotFound.
	RotateLeakSecret(ctx context.Context, appID string) (string, error)

	// FindAuditEvents queries the audit log. Errors: EAppNotFound, EBadRequest.
	FindAuditEvents(ctx context.Context, filter AuditFilter) ([]*AuditEvent, error)

	// FindSigningKeys lists the token signing keys that sign or still verify, newest
	// first, without their key material. Errors: EUnauthenticated.
	FindSigningKeys(ctx context.Context) ([]*SigningKeyInfo, error)
	// RotateSigningKeys makes new access- and refresh-token signing keys, which sign at once;
	// the old ones keep verifying until the tokens they signed have expired. It returns the
	// keys as FindSigningKeys does. Errors: EUnauthenticated.
	RotateSigningKeys(ctx context.Context) ([]*SigningKeyInfo, error)
}

type adminContextKey struct{}

// NewContextWithAdmin returns a context carrying the verified admin caller.
func NewContextWithAdmin(ctx context.Context, auth *AdminAuth) context.Context {
	return context.WithValue(ctx, adminContextKey{}, auth)
}

// AdminFromContext returns the verified admin caller, or nil.
func AdminFromContext(ctx context.Context) *AdminAuth {
	auth, _ := ctx.Value(adminContextKey{}).(*AdminAuth)
	return auth
}
