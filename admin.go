package latchkey

import (
	"context"
	"time"
)

// GroupID is the one implicit App Services "group" (project) that holds every app.
const GroupID = "6c617463686b657900000001"

// AdminRefreshTokenLifetime bounds an admin session.
const AdminRefreshTokenLifetime = 24 * time.Hour

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

// AdminService keeps the admin accounts and their sessions. Admins are not app users: their
// tokens never open the client API.
type AdminService interface {
	// CreateAdmin creates an admin account; it needs no caller, and is how a server gets its
	// first admin. Errors: EBadRequest, EAccountNameInUse.
	CreateAdmin(ctx context.Context, email, password string) (*Admin, error)
	// LogInAdmin checks an admin's credentials and opens an admin session.
	// Errors: EInvalidPassword.
	LogInAdmin(ctx context.Context, email, password string) (*Login, error)
	// AuthenticateAdmin verifies an admin token; a refresh token needs a live admin session.
	// Errors: EUnauthenticated.
	AuthenticateAdmin(ctx context.Context, token string, typ TokenType) (*AdminAuth, error)
	// RefreshAdmin issues a new admin access token for the admin refresh caller in ctx.
	// Errors: EUnauthenticated.
	RefreshAdmin(ctx context.Context) (string, error)
	// LogOutAdmin ends the admin session of the admin refresh caller in ctx.
	// Errors: EUnauthenticated.
	LogOutAdmin(ctx context.Context) error
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
