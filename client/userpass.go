package client

import (
	"context"
	"net/http"
	"net/url"
)

// EmailPasswordAuth is the email/password provider's registration and recovery. None of its
// calls logs anyone in.
type EmailPasswordAuth struct {
	app *App
}

// RegisterUser registers an email/password user. An app that confirms users at registration
// (Latchkey's default) lets them log in at once; otherwise the server sends a confirmation
// message. Errors: ErrAccountNameInUse, ErrBadRequest (bad email or password length).
func (e *EmailPasswordAuth) RegisterUser(ctx context.Context, email, password string) error {
	return e.post(ctx, "/register", map[string]string{"email": email, "password": password})
}

// ConfirmUser confirms a user with the token and token id of a confirmation message.
// Errors: ErrBadRequest ("invalid token data").
func (e *EmailPasswordAuth) ConfirmUser(ctx context.Context, token, tokenID string) error {
	return e.post(ctx, "/confirm", map[string]string{"token": token, "tokenId": tokenID})
}

// ResendConfirmationEmail asks the server to send a new confirmation message.
// Errors: ErrUserNotFound, ErrUserAlreadyConfirmed.
func (e *EmailPasswordAuth) ResendConfirmationEmail(ctx context.Context, email string) error {
	return e.post(ctx, "/confirm/send", map[string]string{"email": email})
}

// SendResetPasswordEmail asks the server to send a password reset message.
// Errors: ErrUserNotFound.
func (e *EmailPasswordAuth) SendResetPasswordEmail(ctx context.Context, email string) error {
	return e.post(ctx, "/reset/send", map[string]string{"email": email})
}

// ResetPassword sets a new password with the token and token id of a reset message; the
// server ends the user's sessions. Errors: ErrBadRequest (bad token or password length).
func (e *EmailPasswordAuth) ResetPassword(ctx context.Context, token, tokenID, password string) error {
	return e.post(ctx, "/reset", map[string]string{"token": token, "tokenId": tokenID, "password": password})
}

func (e *EmailPasswordAuth) post(ctx context.Context, path string, body map[string]string) error {
	return e.app.send(ctx, http.MethodPost, "/app/"+url.PathEscape(e.app.appID)+"/auth/providers/"+ProviderEmailPassword+path, "", body, nil)
}
