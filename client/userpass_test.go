package client_test

import (
	"context"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
)

func TestEmailPasswordAuth(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t)
	srv.CreateApp(t, "confirming-app", func(a *latchkey.App) { a.AutoConfirm = false })
	app, err := client.NewApp(srv.URL, "confirming-app")
	if err != nil {
		t.Fatal(err)
	}
	auth := app.EmailPasswordAuth()
	const email = "ann@example.com"

	t.Run("Register", func(t *testing.T) {
		if err := auth.RegisterUser(ctx, " Ann@Example.com ", password); err != nil {
			t.Fatal(err)
		}
		wantError(t, auth.RegisterUser(ctx, email, password), 409, client.ErrAccountNameInUse)
		wantError(t, auth.RegisterUser(ctx, "bob@example.com", "short"), 400, client.ErrBadRequest)
		wantError(t, auth.RegisterUser(ctx, "not-an-email", password), 400, client.ErrBadRequest)
		_, err := app.LogIn(ctx, client.EmailPasswordCredentials(email, password))
		wantError(t, err, 401, client.ErrAuth) // not confirmed yet
	})
	t.Run("Confirm", func(t *testing.T) {
		if err := auth.ResendConfirmationEmail(ctx, email); err != nil {
			t.Fatal(err)
		}
		msg, ok := srv.Mailer.Last(email)
		if !ok || msg.Kind != latchkey.UserTokenConfirm {
			t.Fatalf("no confirmation message: %+v", msg)
		}
		wantError(t, auth.ConfirmUser(ctx, "wrong", msg.TokenID), 400, client.ErrBadRequest)
		if err := auth.ConfirmUser(ctx, msg.Token, msg.TokenID); err != nil {
			t.Fatal(err)
		}
		mustLogIn(t, app, client.EmailPasswordCredentials(email, password))
		wantError(t, auth.ResendConfirmationEmail(ctx, email), 400, client.ErrUserAlreadyConfirmed)
		wantError(t, auth.ResendConfirmationEmail(ctx, "nobody@example.com"), 404, client.ErrUserNotFound)
	})
	t.Run("ResetPassword", func(t *testing.T) {
		wantError(t, auth.SendResetPasswordEmail(ctx, "nobody@example.com"), 404, client.ErrUserNotFound)
		if err := auth.SendResetPasswordEmail(ctx, email); err != nil {
			t.Fatal(err)
		}
		msg, ok := srv.Mailer.Last(email)
		if !ok || msg.Kind != latchkey.UserTokenReset {
			t.Fatalf("no reset message: %+v", msg)
		}
		wantError(t, auth.ResetPassword(ctx, "wrong", msg.TokenID, "n3wpassword"), 400, client.ErrBadRequest)
		if err := auth.ResetPassword(ctx, msg.Token, msg.TokenID, "n3wpassword"); err != nil {
			t.Fatal(err)
		}
		_, err := app.LogIn(ctx, client.EmailPasswordCredentials(email, password))
		wantError(t, err, 401, client.ErrInvalidPassword)
		mustLogIn(t, app, client.EmailPasswordCredentials(email, "n3wpassword"))
	})
}
