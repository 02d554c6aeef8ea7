package latchkey

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// User types, as the profile reports them.
const (
	UserTypeNormal = "normal"
	UserTypeServer = "server"
)

// User is an app's user. One user may have several identities (email/password, anonymous,
// api-key).
type User struct {
	ID       string
	AppID    string
	Type     string
	Email    string // lowercased; empty unless the user has an email/password identity
	Disabled bool

	// PasswordHash is the encoded argon2id hash; empty for users without a password. Stores
	// fill it; it never leaves the service.
	PasswordHash string
	Confirmed    bool

	Identities []*Identity
	CreatedAt  time.Time
}

// Identity links a user to an auth provider.
type Identity struct {
	ID           string
	UserID       string
	ProviderType string
	ProviderID   string
	CreatedAt    time.Time
}

// ProviderID derives the stable 24-hex id of an app's provider that an identity carries, as
// App Services showed one in profiles; it needs no storage.
func ProviderID(appID, provider string) string {
	sum := sha256.Sum256([]byte(appID + "/" + provider))
	return hex.EncodeToString(sum[:12])
}

// IsAnonymous reports whether the user's only identity is anonymous, the rule the Realm SDKs
// apply.
func (u *User) IsAnonymous() bool {
	return len(u.Identities) == 1 && u.Identities[0].ProviderType == ProviderAnonymous
}

// HasIdentity reports whether the user has an identity of the provider type.
func (u *User) HasIdentity(providerType string) bool {
	for _, id := range u.Identities {
		if id.ProviderType == providerType {
			return true
		}
	}
	return false
}

// UserToken is a single-use token for confirming an email address or resetting a password.
// Only its hash is stored.
type UserToken struct {
	ID        string
	UserID    string
	Kind      string // UserTokenConfirm or UserTokenReset
	Hash      []byte
	ExpiresAt time.Time
	CreatedAt time.Time
}

// User token kinds.
const (
	UserTokenConfirm = "confirm"
	UserTokenReset   = "reset"
)

// Mailer delivers the messages of the email/password provider. A Mailer must never log the
// token.
type Mailer interface {
	SendConfirmation(ctx context.Context, app *App, email, token, tokenID string) error
	SendPasswordReset(ctx context.Context, app *App, email, token, tokenID string) error
}

// UserpassService is the email/password provider's registration and recovery.
type UserpassService interface {
	// Register creates an email/password user, confirmed at once when the app auto-confirms.
	// Errors: EProviderDisabled, EBadRequest, EAccountNameInUse.
	Register(ctx context.Context, app *App, email, password string) error

	// Confirm confirms a user with a token from a confirmation message. Errors: EBadRequest.
	Confirm(ctx context.Context, app *App, token, tokenID string) error

	// ResendConfirmation sends a new confirmation message. Errors: EUserNotFound,
	// EAlreadyConfirmed (neither when app.HideAccountExistence), EBadRequest.
	ResendConfirmation(ctx context.Context, app *App, email string) error

	// SendPasswordReset sends a password reset message. Errors: EUserNotFound (not when
	// app.HideAccountExistence), EBadRequest.
	SendPasswordReset(ctx context.Context, app *App, email string) error

	// ResetPassword sets a new password with a token from a reset message and ends the user's
	// sessions and every other reset link of the user. Errors: EBadRequest.
	ResetPassword(ctx context.Context, app *App, password, token, tokenID string) error
}
