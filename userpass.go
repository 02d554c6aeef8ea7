package latchkey

import (
	"context"
	"time"
)

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
