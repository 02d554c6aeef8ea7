package client_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
)

func TestAdminApps(t *testing.T) {
	ctx := context.Background()
	srv := newAdminServer(t)
	a := mustLogInAdmin(t, srv)

	t.Run("OK", func(t *testing.T) {
		apps, err := a.Apps(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(apps) != 1 || apps[0].ClientAppID != srv.AppID || apps[0].ID != srv.App.ID || apps[0].GroupID != latchkey.GroupID {
			t.Fatalf("Apps = %+v, want the default app", apps)
		}

		before := srv.Clock.Now()
		created, err := a.CreateApp(ctx, "shop", client.AppSettingsUpdate{Name: new("The shop"), AutoConfirm: new(false)})
		if err != nil {
			t.Fatal(err)
		}
		if !latchkey.IsID(created.ID) || created.ClientAppID != "shop" || created.Name != "The shop" || created.DomainID != created.ID ||
			!between(created.CreatedAt, before, srv.Clock.Now()) {
			t.Fatalf("created = %+v", created)
		}
		for _, id := range []string{created.ID, "shop"} {
			got, err := a.App(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(created, got); diff != "" {
				t.Fatalf("App(%q) (-want +got):\n%s", id, diff)
			}
		}
		if apps, _ := a.Apps(ctx); len(apps) != 2 || apps[1].ID != created.ID {
			t.Fatalf("Apps after CreateApp = %+v", apps)
		}

		// A generated client app id and the quickstart settings.
		gen, err := a.CreateApp(ctx, "", client.AppSettingsUpdate{})
		if err != nil {
			t.Fatal(err)
		}
		s, err := a.AppSettings(ctx, gen.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := client.AppSettings{
			Name: gen.ClientAppID, AutoConfirm: true, AnonUserEnabled: true, LocalUserpassEnabled: true, APIKeyEnabled: true,
			PasswordMinLength: 6, RefreshTokenLifetimeSeconds: int64(latchkey.DefaultRefreshTokenLifetime / time.Second), AllowedOrigins: []string{},
			KeyPrefix: latchkey.DefaultKeyPrefix, Scopes: []string{},
		}
		if diff := cmp.Diff(want, s); diff != "" {
			t.Fatalf("settings of a new app (-want +got):\n%s", diff)
		}

		if err := a.DeleteApp(ctx, gen.ClientAppID); err != nil {
			t.Fatal(err)
		}
		_, err = a.App(ctx, gen.ID)
		wantError(t, err, 404, client.ErrInvalidParameter)
	})
	t.Run("Settings", func(t *testing.T) {
		if _, err := a.CreateApp(ctx, "settings-app", client.AppSettingsUpdate{}); err != nil {
			t.Fatal(err)
		}
		s, err := a.UpdateAppSettings(ctx, "settings-app", client.AppSettingsUpdate{
			AutoConfirm: new(false), AnonUserEnabled: new(false), PasswordMinLength: new(12),
			RefreshTokenLifetimeSeconds: new(int64(3600)), AllowedOrigins: &[]string{"https://app.example.com"},
			HideAccountExistence: new(true),
		})
		if err != nil {
			t.Fatal(err)
		}
		want := client.AppSettings{
			Name: "settings-app", LocalUserpassEnabled: true, APIKeyEnabled: true, PasswordMinLength: 12,
			RefreshTokenLifetimeSeconds: 3600, AllowedOrigins: []string{"https://app.example.com"}, HideAccountExistence: true,
			KeyPrefix: latchkey.DefaultKeyPrefix, Scopes: []string{},
		}
		if diff := cmp.Diff(want, s); diff != "" {
			t.Fatalf("UpdateAppSettings (-want +got):\n%s", diff)
		}
		if got, err := a.AppSettings(ctx, "settings-app"); err != nil || got.RefreshTokenLifetime() != time.Hour {
			t.Fatalf("AppSettings = %+v, %v", got, err)
		}
		// All or nothing: a bad value changes nothing.
		_, err = a.UpdateAppSettings(ctx, "settings-app", client.AppSettingsUpdate{AutoConfirm: new(true), PasswordMinLength: new(3)})
		wantError(t, err, 400, client.ErrInvalidParameter)
		if got, _ := a.AppSettings(ctx, "settings-app"); got.AutoConfirm || got.PasswordMinLength != 12 {
			t.Fatalf("a refused update changed the settings: %+v", got)
		}

		if err := a.SetRefreshTokenExpiration(ctx, "settings-app", 48*time.Hour); err != nil {
			t.Fatal(err)
		}
		if d, err := a.RefreshTokenExpiration(ctx, "settings-app"); err != nil || d != 48*time.Hour {
			t.Fatalf("RefreshTokenExpiration = %v, %v; want 48h", d, err)
		}
		wantError(t, a.SetRefreshTokenExpiration(ctx, "settings-app", time.Minute), 400, client.ErrInvalidParameter)

		origins := []string{"https://a.example.com", "http://localhost:3000"}
		if err := a.SetAllowedRequestOrigins(ctx, "settings-app", origins); err != nil {
			t.Fatal(err)
		}
		if got, err := a.AllowedRequestOrigins(ctx, "settings-app"); err != nil || !slices.Equal(got, origins) {
			t.Fatalf("AllowedRequestOrigins = %v, %v", got, err)
		}
		if err := a.SetAllowedRequestOrigins(ctx, "settings-app", nil); err != nil {
			t.Fatal(err)
		}
		if got, err := a.AllowedRequestOrigins(ctx, "settings-app"); err != nil || got == nil || len(got) != 0 {
			t.Fatalf("AllowedRequestOrigins after clearing = %#v, %v", got, err)
		}
		wantError(t, a.SetAllowedRequestOrigins(ctx, "settings-app", []string{"not an origin"}), 400, client.ErrInvalidParameter)
	})
	t.Run("KeyControls", func(t *testing.T) {
		if _, err := a.CreateApp(ctx, "keys-app", client.AppSettingsUpdate{KeyPrefix: new("shop")}); err != nil {
			t.Fatal(err)
		}
		s, err := a.UpdateAppSettings(ctx, "keys-app", client.AppSettingsUpdate{
			MaxKeyLifetimeSeconds: new(int64(7776000)), Scopes: &[]string{"read", "write"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if s.KeyPrefix != "shop" || s.MaxKeyLifetime() != 90*24*time.Hour || !slices.Equal(s.Scopes, []string{"read", "write"}) || s.LeakSecretSet {
			t.Fatalf("UpdateAppSettings = %+v", s)
		}

		// New keys get the prefix and the maximum lifetime, and may carry the scopes.
		app, err := client.NewApp(srv.URL, "keys-app")
		if err != nil {
			t.Fatal(err)
		}
		u := mustRegister(t, app)
		k, err := u.APIKeys().Create(ctx, "ci", client.KeyScopes("write"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(k.Value, "shop_") || k.ExpiresAt == nil || k.ExpiresAt.Sub(k.CreatedAt) != 90*24*time.Hour {
			t.Fatalf("key of keys-app: value %q, created %v, expires %v", k.Value, k.CreatedAt, k.ExpiresAt)
		}
		_, err = u.APIKeys().Create(ctx, "long", client.KeyExpiresIn(91*24*time.Hour))
		wantError(t, err, 400, client.ErrInvalidParameter)

		// 0 and an empty list remove the maximum and the vocabulary.
		s, err = a.UpdateAppSettings(ctx, "keys-app", client.AppSettingsUpdate{MaxKeyLifetimeSeconds: new(int64(0)), Scopes: &[]string{}})
		if err != nil || s.MaxKeyLifetimeSeconds != 0 || s.Scopes == nil || len(s.Scopes) != 0 {
			t.Fatalf("UpdateAppSettings clearing = %+v, %v", s, err)
		}
		if k, err := u.APIKeys().Create(ctx, "forever"); err != nil || k.ExpiresAt != nil {
			t.Fatalf("key after clearing the maximum: %+v, %v", k, err)
		}

		for _, upd := range []client.AppSettingsUpdate{
			{KeyPrefix: new("A")}, {KeyPrefix: new("toolongprefix")}, {MaxKeyLifetimeSeconds: new(int64(-1))},
			{Scopes: &[]string{"no spaces"}},
		} {
			_, err := a.UpdateAppSettings(ctx, "keys-app", upd)
			wantError(t, err, 400, client.ErrInvalidParameter)
		}
	})
	t.Run("AuthProviders", func(t *testing.T) {
		if _, err := a.CreateApp(ctx, "providers-app", client.AppSettingsUpdate{}); err != nil {
			t.Fatal(err)
		}
		ps, err := a.AuthProviders(ctx, "providers-app")
		if err != nil {
			t.Fatal(err)
		}
		want := []client.AuthProvider{
			{ID: "anon-user", Name: "anon-user", Type: "anon-user"},
			{ID: "local-userpass", Name: "local-userpass", Type: "local-userpass"},
			{ID: "api-key", Name: "api-key", Type: "api-key"},
		}
		if diff := cmp.Diff(want, ps); diff != "" {
			t.Fatalf("AuthProviders (-want +got):\n%s", diff)
		}
		if err := a.DisableAuthProvider(ctx, "providers-app", client.ProviderAnonymous); err != nil {
			t.Fatal(err)
		}
		app, err := client.NewApp(srv.URL, "providers-app")
		if err != nil {
			t.Fatal(err)
		}
		_, err = app.LogIn(ctx, client.AnonymousCredentials())
		wantError(t, err, 400, client.ErrAuthProviderNotFound)
		if ps, _ := a.AuthProviders(ctx, "providers-app"); !ps[0].Disabled {
			t.Fatalf("anon-user is enabled after DisableAuthProvider: %+v", ps)
		}
		if err := a.EnableAuthProvider(ctx, "providers-app", client.ProviderAnonymous); err != nil {
			t.Fatal(err)
		}
		mustLogIn(t, app, client.AnonymousCredentials())
		wantError(t, a.EnableAuthProvider(ctx, "providers-app", "oauth2-google"), 404, nil)
	})
	t.Run("Errors", func(t *testing.T) {
		_, err := a.App(ctx, "nope")
		wantError(t, err, 404, client.ErrInvalidParameter)
		_, err = a.AppSettings(ctx, latchkey.ZeroID)
		wantError(t, err, 404, client.ErrInvalidParameter)
		wantError(t, a.DeleteApp(ctx, "nope"), 404, client.ErrInvalidParameter)
		_, err = a.CreateApp(ctx, srv.AppID, client.AppSettingsUpdate{})
		e := wantError(t, err, 409, nil)
		if e.Message != "an app with client app id '"+srv.AppID+"' already exists" {
			t.Errorf("conflict message = %q", e.Message)
		}
		_, err = a.CreateApp(ctx, "Bad Id", client.AppSettingsUpdate{})
		wantError(t, err, 400, client.ErrInvalidParameter)
		_, err = a.UpdateAppSettings(ctx, "nope", client.AppSettingsUpdate{AutoConfirm: new(true)})
		wantError(t, err, 404, client.ErrInvalidParameter)
	})
}
