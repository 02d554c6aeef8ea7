package latchkey

import (
	"context"
	"encoding/json"
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
	Token    string // custom-token: the JWT
	IDToken  string // oauth2-google, oauth2-apple: the ID token
	AuthCode string // oauth2-google's auth-code form, which Latchkey does not take
	Nonce    string // oauth2-google, oauth2-apple: the nonce the ID token must carry, if any
	// Payload is a custom-function login's document as the SDK sent it, without "options".
	Payload  json.RawMessage
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

	// Link links the credentials' identity to the caller of an access token, and returns a
	// new access token of the caller's session (no refresh token: the session stays).
	// Only local-userpass credentials link: those of a registered user that was never used,
	// whose email, password and identity move onto the caller.
	// Errors: EUnauthenticated, EForbidden (a key session or a server user),
	// EProviderDisabled, EBadRequest (api-key credentials), EInternal (anonymous
	// credentials, or a caller that already has an email/password identity),
	// EInvalidPassword, EUnauthorized, EUserDisabled, EAccountNameInUse (the email's user
	// has been used), ETooManyRequests.
	Link(ctx context.Context, creds Credentials) (*Login, error)

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
