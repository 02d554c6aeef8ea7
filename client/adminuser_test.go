package client_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
)

// userIDs returns the ids of users.
func userIDs(users []client.UserInfo) []string {
	ids := []string{}
	for _, u := range users {
		ids = append(ids, u.ID)
	}
	return ids
}

func TestAdminUsers(t *testing.T) {
	ctx := context.Background()
	srv := newAdminServer(t)
	a := mustLogInAdmin(t, srv)
	users := a.Users(srv.AppID)

	app := mustNewApp(t, srv)
	registered := srv.Clock.Now()
	ann := mustRegister(t, app)
	annEmail := mustProfileEmail(t, users, ann.ID())
	annKey := mustCreateKey(t, ann, "laptop")
	bob := mustRegister(t, mustNewApp(t, srv))
	anon := mustLogIn(t, mustNewApp(t, srv), client.AnonymousCredentials())

	t.Run("Find", func(t *testing.T) {
		all, err := users.Find(ctx, client.UserFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := userIDs(all), []string{ann.ID(), bob.ID(), anon.ID()}; !slices.Equal(got, want) {
			t.Fatalf("Find = %v, want %v", got, want)
		}
		if all[0].Email() != annEmail || all[0].Type != "normal" || !all[0].Confirmed || all[0].Disabled ||
			len(all[0].Identities) != 1 || all[0].Identities[0].ProviderType != client.ProviderEmailPassword ||
			!between(all[0].CreatedAt(), registered, srv.Clock.Now()) || all[0].APIKeyCount != nil {
			t.Fatalf("ann in the list = %+v", all[0])
		}
		for _, c := range []struct {
			name   string
			filter client.UserFilter
			want   []string
		}{
			{"Email", client.UserFilter{Email: strings.ToUpper(annEmail)}, []string{ann.ID()}},
			{"Provider", client.UserFilter{Provider: client.ProviderAnonymous}, []string{anon.ID()}},
			{"Type", client.UserFilter{Type: "server"}, []string{}},
			{"NotDisabled", client.UserFilter{Disabled: new(false)}, []string{ann.ID(), bob.ID(), anon.ID()}},
			{"Disabled", client.UserFilter{Disabled: new(true)}, []string{}},
			{"Page1", client.UserFilter{Limit: 2}, []string{ann.ID(), bob.ID()}},
			{"Page2", client.UserFilter{Limit: 2, After: bob.ID()}, []string{anon.ID()}},
		} {
			t.Run(c.name, func(t *testing.T) {
				got, err := users.Find(ctx, c.filter)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(userIDs(got), c.want) {
					t.Fatalf("Find(%+v) = %v, want %v", c.filter, userIDs(got), c.want)
				}
			})
		}
	})
	t.Run("Fetch", func(t *testing.T) {
		u, err := users.Fetch(ctx, ann.ID())
		if err != nil {
			t.Fatal(err)
		}
		if u.ID != ann.ID() || u.Email() != annEmail || u.APIKeyCount == nil || *u.APIKeyCount != 1 ||
			u.SessionCount == nil || *u.SessionCount != 1 {
			t.Fatalf("Fetch = %+v", u)
		}
		// The internal app id works as well.
		if _, err := a.Users(srv.App.ID).Fetch(ctx, ann.ID()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("DisableEnable", func(t *testing.T) {
		if err := users.Disable(ctx, bob.ID()); err != nil {
			t.Fatal(err)
		}
		// The session ended at once: bob's next refresh-token call logs him out.
		_, err := bob.APIKeys().FetchAll(ctx)
		wantError(t, err, 401, client.ErrInvalidSession)
		if bob.IsLoggedIn() {
			t.Fatal("bob is still logged in after being disabled")
		}
		bobEmail := mustProfileEmail(t, users, bob.ID())
		_, err = mustNewApp(t, srv).LogIn(ctx, client.EmailPasswordCredentials(bobEmail, password))
		wantError(t, err, 401, client.ErrUserDisabled)
		if got, _ := users.Find(ctx, client.UserFilter{Disabled: new(true)}); !slices.Equal(userIDs(got), []string{bob.ID()}) {
			t.Fatalf("disabled users = %v", userIDs(got))
		}
		if err := users.Enable(ctx, bob.ID()); err != nil {
			t.Fatal(err)
		}
		mustLogIn(t, mustNewApp(t, srv), client.EmailPasswordCredentials(bobEmail, password))
	})
	t.Run("LogOut", func(t *testing.T) {
		u := mustLogIn(t, mustNewApp(t, srv), client.EmailPasswordCredentials(annEmail, password))
		if err := users.LogOut(ctx, ann.ID()); err != nil {
			t.Fatal(err)
		}
		_, err := u.APIKeys().FetchAll(ctx)
		wantError(t, err, 401, client.ErrInvalidSession)
		if got, _ := users.Fetch(ctx, ann.ID()); got.SessionCount == nil || *got.SessionCount != 0 {
			t.Fatalf("sessions after LogOut = %v", got.SessionCount)
		}
		// Ann may log in again.
		mustLogIn(t, app, client.EmailPasswordCredentials(annEmail, password))
	})
	t.Run("APIKeys", func(t *testing.T) {
		keys, err := users.APIKeys(ctx, ann.ID())
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 1 || keys[0].ID != annKey.ID || keys[0].Name != "laptop" || keys[0].Value != "" {
			t.Fatalf("APIKeys = %+v", keys)
		}
		key, err := users.APIKey(ctx, ann.ID(), annKey.ID)
		if err != nil {
			t.Fatal(err)
		}
		if key.ID != annKey.ID || key.Name != "laptop" || key.Value != "" || key.Disabled {
			t.Fatalf("APIKey = %+v", key)
		}
		if err := users.DisableAPIKey(ctx, ann.ID(), annKey.ID); err != nil {
			t.Fatal(err)
		}
		_, err = mustNewApp(t, srv).LogIn(ctx, client.APIKeyCredentials(annKey.Value))
		wantError(t, err, 401, client.ErrAuth)
		if err := users.EnableAPIKey(ctx, ann.ID(), annKey.ID); err != nil {
			t.Fatal(err)
		}
		mustLogIn(t, mustNewApp(t, srv), client.APIKeyCredentials(annKey.Value))
		if err := users.DeleteAPIKey(ctx, ann.ID(), annKey.ID); err != nil {
			t.Fatal(err)
		}
		if keys, _ := users.APIKeys(ctx, ann.ID()); len(keys) != 0 {
			t.Fatalf("APIKeys after DeleteAPIKey = %+v", keys)
		}
		wantError(t, users.DeleteAPIKey(ctx, ann.ID(), annKey.ID), 404, client.ErrAPIKeyNotFound)
		wantError(t, users.DisableAPIKey(ctx, ann.ID(), latchkey.ZeroID), 404, client.ErrAPIKeyNotFound)
		wantError(t, users.EnableAPIKey(ctx, bob.ID(), "not-an-id"), 404, client.ErrAPIKeyNotFound)
		_, err = users.APIKey(ctx, ann.ID(), annKey.ID)
		wantError(t, err, 404, client.ErrAPIKeyNotFound)
		// A key is found only through its owner.
		k := mustCreateKey(t, app.CurrentUser(), "desk")
		wantError(t, users.DisableAPIKey(ctx, bob.ID(), k.ID), 404, client.ErrAPIKeyNotFound)
		_, err = users.APIKey(ctx, bob.ID(), k.ID)
		wantError(t, err, 404, client.ErrAPIKeyNotFound)
	})
	t.Run("VerifyToken", func(t *testing.T) {
		u := app.CurrentUser()
		claims, err := users.VerifyToken(ctx, u.AccessToken())
		if err != nil {
			t.Fatal(err)
		}
		if claims["sub"] != u.ID() || claims["aud"] != srv.AppID || claims["domain_id"] != srv.App.ID {
			t.Fatalf("claims = %v", claims)
		}
		_, err = users.VerifyToken(ctx, "not-a-token")
		wantError(t, err, 401, client.ErrInvalidSession)
		_, err = users.VerifyToken(ctx, u.RefreshToken())
		wantError(t, err, 401, client.ErrInvalidSession)
		if _, err := a.CreateApp(ctx, "verify-other", client.AppSettingsUpdate{}); err != nil {
			t.Fatal(err)
		}
		_, err = a.Users("verify-other").VerifyToken(ctx, u.AccessToken())
		wantError(t, err, 401, client.ErrInvalidSession)
		if !a.IsLoggedIn() {
			t.Fatal("a refused user token logged the admin out")
		}
	})
	t.Run("Delete", func(t *testing.T) {
		bobEmail := mustProfileEmail(t, users, bob.ID())
		if err := users.Delete(ctx, bob.ID()); err != nil {
			t.Fatal(err)
		}
		_, err := users.Fetch(ctx, bob.ID())
		wantError(t, err, 404, client.ErrUserNotFound)
		_, err = mustNewApp(t, srv).LogIn(ctx, client.EmailPasswordCredentials(bobEmail, password))
		wantError(t, err, 401, client.ErrInvalidPassword)
		wantError(t, users.Delete(ctx, bob.ID()), 404, client.ErrUserNotFound)
	})
	t.Run("Errors", func(t *testing.T) {
		_, err := users.Fetch(ctx, latchkey.ZeroID)
		wantError(t, err, 404, client.ErrUserNotFound)
		_, err = users.Fetch(ctx, "not-an-id")
		wantError(t, err, 404, client.ErrUserNotFound)
		wantError(t, users.Disable(ctx, latchkey.ZeroID), 404, client.ErrUserNotFound)
		wantError(t, users.Enable(ctx, latchkey.ZeroID), 404, client.ErrUserNotFound)
		wantError(t, users.LogOut(ctx, latchkey.ZeroID), 404, client.ErrUserNotFound)
		_, err = users.APIKeys(ctx, latchkey.ZeroID)
		wantError(t, err, 404, client.ErrUserNotFound)
		_, err = users.APIKey(ctx, latchkey.ZeroID, latchkey.ZeroID)
		wantError(t, err, 404, client.ErrUserNotFound)
		_, err = users.Find(ctx, client.UserFilter{After: "bad-cursor"})
		wantError(t, err, 400, client.ErrBadRequest)
		_, err = a.Users("nope").Find(ctx, client.UserFilter{})
		wantError(t, err, 404, client.ErrInvalidParameter)
		// A user is found only in its own app.
		if _, err := a.CreateApp(ctx, "errors-other", client.AppSettingsUpdate{}); err != nil {
			t.Fatal(err)
		}
		_, err = a.Users("errors-other").Fetch(ctx, ann.ID())
		wantError(t, err, 404, client.ErrUserNotFound)
	})
}

// mustProfileEmail returns a user's email as the admin API shows it.
func mustProfileEmail(t *testing.T, users *client.AppUsers, id string) string {
	t.Helper()
	u, err := users.Fetch(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if u.Email() == "" {
		t.Fatalf("user %s has no email", id)
	}
	return u.Email()
}
