package latchkey

import (
	"context"
	"time"
)

// AccessTokenLifetime is how long an access token is valid, as in App Services.
const AccessTokenLifetime = 30 * time.Minute

// Session is a refresh session: the refresh token is valid only while its session row lives.
type Session struct {
	ID       string
	AppID    string
	UserID   string
	DeviceID string
	Provider string // the provider the session was opened with
	// APIKeyID is the key the session was opened with, or "" for other providers. Disabling or
	// deleting that key ends the session.
	APIKeyID string
	// Scopes are the scopes of the key the session was opened with; access tokens carry them.
	Scopes    []string
	CreatedAt time.Time
	ExpiresAt time.Time

	// KeyHash is the hash of the key value that the login presented, for a session with an
	// APIKeyID. CreateSession checks it against the key as it stands when the session is
	// inserted; it is not stored, and sessions read back have none.
	KeyHash []byte
}

// TokenType tells access tokens from refresh tokens.
type TokenType string

// Token types, as they appear in the tokens' "typ" claim.
const (
	AccessToken  TokenType = "access"
	RefreshToken TokenType = "refresh"
)

// Login is the result of a successful login.
type Login struct {
	AccessToken  string
	RefreshToken string
	UserID       string
	DeviceID     string
}

// Credentials are what a login request presents.
type Credentials struct {
	Provider string
	Username string // local-userpass
	Password string // local-userpass
	Key      string // api-key
	DeviceID string // the device id the client already has, or ""
}

// Auth is the verified caller of a request: the app, the user, and the session of the token.
type Auth struct {
	App       *App
	User      *User
	SessionID string
	TokenType TokenType
	// Session is set for refresh-token callers (the session row was checked to be live).
	Session *Session
	// Claims of an access token: the device and issue time.
	DeviceID string
}

// AuthService logs users in and verifies their tokens.
type AuthService interface {
	// LogIn checks the credentials and opens a session.
	// Errors: EProviderDisabled, EInvalidPassword, EUnauthorized, EUserDisabled, EBadRequest.
	LogIn(ctx context.Context, app *App, creds Credentials) (*Login, error)

	// Authenticate verifies a token of the given type and loads its caller.
	// Errors: EUnauthenticated.
	Authenticate(ctx context.Context, token string, typ TokenType) (*Auth, error)

	// Refresh issues a new access token for the caller's refresh session.
	Refresh(ctx context.Context) (string, error)

	// LogOut ends the caller's refresh session.
	LogOut(ctx context.Context) error

	// Profile returns the caller with its identities.
	Profile(ctx context.Context) (*User, error)

	// DeleteUser deletes the caller with its identities, keys and sessions.
	DeleteUser(ctx context.Context) error

	// JWKS returns the JSON Web Key Set of the public keys that verify access tokens.
	JWKS(ctx context.Context) ([]byte, error)
}

// SigningKey is a token signing key, kept in the store so that every node shares it and
// sessions survive restarts. The store holds PrivateKey as the service gives it: sealed
// with the server's secret (see the service package), never in the clear.
type SigningKey struct {
	ID         string // the JWT "kid"
	Algorithm  string // "ES256" (access tokens) or "HS256" (refresh tokens)
	PrivateKey []byte // sealed; once opened, PKCS #8 DER for ES256, the HMAC key for HS256
	CreatedAt  time.Time
	// RetiredAt is when a newer key of the algorithm replaced this one; nil for the key
	// that signs. A retired key still verifies the tokens it signed until they expire.
	RetiredAt *time.Time
}

// SigningKeyInfo describes a signing key without its key material, for the admin API.
type SigningKeyInfo struct {
	ID        string
	Algorithm string
	CreatedAt time.Time
	// State is SigningKeyCurrent or SigningKeyRetired.
	State     string
	RetiredAt *time.Time
	// VerifiesUntil is when a retired key stops verifying: the tokens it signed have all
	// expired by then, and it leaves the JWKS.
	VerifiesUntil *time.Time
}

// The states of a signing key.
const (
	SigningKeyCurrent = "current" // signs new tokens and verifies
	SigningKeyRetired = "retired" // only verifies, until its tokens have expired
)
