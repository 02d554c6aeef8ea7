package latchkey

import "time"

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
