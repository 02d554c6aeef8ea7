package service_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/service"
)

// webToken is a cookie's random value, as the pages make it.
func webToken() string { return rand.Text() + rand.Text() }

func TestWebSession(t *testing.T) {
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		f := newFixture(t, nil)
		caller, _ := f.login(t, "ann@example.com")
		token := webToken()
		if err := f.svc.WebSessions.CreateWebSession(caller, token, "ann@example.com"); err != nil {
			t.Fatal(err)
		}
		wa, err := f.svc.WebSessions.AuthenticateWebSession(ctx, f.app, token)
		if err != nil {
			t.Fatal(err)
		}
		if wa.User == nil || wa.User.User.Email != "ann@example.com" || wa.User.TokenType != latchkey.RefreshToken || wa.Admin != nil {
			t.Fatalf("caller = %+v, want ann's refresh session", wa)
		}
		if wa.Session.Email != "ann@example.com" {
			t.Fatalf("email = %q", wa.Session.Email)
		}
		// The key calls take the caller as they take a refresh token's.
		if _, err := f.svc.APIKeys.FindAPIKeys(latchkey.NewContextWithAuth(ctx, wa.User)); err != nil {
			t.Fatalf("FindAPIKeys as the web session's user: %v", err)
		}
	})

	t.Run("AdminAsAnAccessToken", func(t *testing.T) {
		f := newFixture(t, nil)
		if _, err := f.svc.Admins.CreateAdmin(ctx, "root@example.com", "admin password 1"); err != nil {
			t.Fatal(err)
		}
		login, err := f.svc.Admins.LogInAdmin(ctx, "root@example.com", "admin password 1")
		if err != nil {
			t.Fatal(err)
		}
		auth, err := f.svc.Admins.AuthenticateAdmin(ctx, login.RefreshToken, latchkey.AdminRefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		token := webToken()
		if err := f.svc.WebSessions.CreateWebSession(latchkey.NewContextWithAdmin(ctx, auth), token, "root@example.com"); err != nil {
			t.Fatal(err)
		}
		wa, err := f.svc.WebSessions.AuthenticateWebSession(ctx, nil, token)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Apps.FindApps(latchkey.NewContextWithAdmin(ctx, wa.Admin)); err != nil {
			t.Fatalf("FindApps as the web session's admin: %v", err)
		}
		// A console session opens no app's page.
		_, err = f.svc.WebSessions.AuthenticateWebSession(ctx, f.app, token)
		wantCode(t, err, latchkey.ENotFound)
	})

	t.Run("ErrAreas", func(t *testing.T) {
		f := newFixture(t, nil)
		caller, _ := f.login(t, "ann@example.com")
		token := webToken()
		if err := f.svc.WebSessions.CreateWebSession(caller, token, "ann@example.com"); err != nil {
			t.Fatal(err)
		}
		other := service.NewDefaultApp("other")
		if err := f.svc.BootstrapApp(ctx, other); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.WebSessions.AuthenticateWebSession(ctx, other, token)
		wantCode(t, err, latchkey.ENotFound)
		_, err = f.svc.WebSessions.AuthenticateWebSession(ctx, nil, token)
		wantCode(t, err, latchkey.ENotFound)
		if _, err := f.svc.WebSessions.AuthenticateWebSession(ctx, f.app, token); err != nil {
			t.Fatalf("the app's page after other areas asked: %v", err)
		}
	})

	t.Run("ErrUnauthenticated", func(t *testing.T) {
		f := newFixture(t, nil)
		caller, login := f.login(t, "ann@example.com")
		// Only a refresh caller opens a web session.
		wantCode(t, f.svc.WebSessions.CreateWebSession(ctx, webToken(), "x"), latchkey.EUnauthenticated)
		wantCode(t, f.svc.WebSessions.CreateWebSession(f.caller(t, login.AccessToken, latchkey.AccessToken), webToken(), "x"), latchkey.EUnauthenticated)
		wantCode(t, f.svc.WebSessions.CreateWebSession(caller, "short", "x"), latchkey.EBadRequest)

		token := webToken()
		if err := f.svc.WebSessions.CreateWebSession(caller, token, "ann@example.com"); err != nil {
			t.Fatal(err)
		}
		// Only the web session's own caller signs it out.
		other, _ := f.login(t, "bob@example.com")
		wantCode(t, f.svc.WebSessions.EndWebSession(other, token), latchkey.EUnauthenticated)
		wantCode(t, f.svc.WebSessions.EndWebSession(ctx, token), latchkey.EUnauthenticated)
		if err := f.svc.WebSessions.EndWebSession(caller, token); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.WebSessions.AuthenticateWebSession(ctx, f.app, token)
		wantCode(t, err, latchkey.ENotFound)
		// Its refresh session ended with it.
		_, err = f.svc.Auth.Authenticate(ctx, login.RefreshToken, latchkey.RefreshToken)
		wantCode(t, err, latchkey.EUnauthenticated)
	})

	t.Run("ExpiresWithItsSession", func(t *testing.T) {
		// A refresh token lifetime shorter than a web session's idle time ends it first.
		f := newFixture(t, func(app *latchkey.App) { app.RefreshTokenLifetime = time.Hour })
		caller, _ := f.login(t, "ann@example.com")
		token := webToken()
		if err := f.svc.WebSessions.CreateWebSession(caller, token, "ann@example.com"); err != nil {
			t.Fatal(err)
		}
		f.advance(time.Hour - time.Second)
		if _, err := f.svc.WebSessions.AuthenticateWebSession(ctx, f.app, token); err != nil {
			t.Fatal(err)
		}
		f.advance(time.Second)
		_, err := f.svc.WebSessions.AuthenticateWebSession(ctx, f.app, token)
		wantCode(t, err, latchkey.EUnauthenticated)
		_, err = f.svc.WebSessions.AuthenticateWebSession(ctx, f.app, token)
		wantCode(t, err, latchkey.ENotFound)
	})
}
