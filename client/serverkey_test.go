package client_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
)

func TestServerAPIKeys(t *testing.T) {
	ctx := context.Background()
	srv := newAdminServer(t)
	a := mustLogInAdmin(t, srv)
	keys := a.ServerAPIKeys(srv.AppID)

	t.Run("OK", func(t *testing.T) {
		created, err := keys.Create(ctx, "backend")
		if err != nil {
			t.Fatal(err)
		}
		if !latchkey.IsID(created.ID) || created.Name != "backend" || created.Disabled || len(created.Value) < 27 {
			t.Fatalf("created = %+v", created)
		}
		want := created
		want.Value = ""
		all, err := keys.FetchAll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]client.APIKey{want}, all); diff != "" {
			t.Fatalf("FetchAll (-want +got):\n%s", diff)
		}
		// The internal app id works as well as the client app id.
		got, err := a.ServerAPIKeys(srv.App.ID).Fetch(ctx, created.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("Fetch (-want +got):\n%s", diff)
		}

		// Logging in with a server key gives a server user, which cannot manage user keys.
		u := mustLogIn(t, mustNewApp(t, srv), client.APIKeyCredentials(created.Value))
		p, err := u.Profile(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p.Type != "server" {
			t.Fatalf("server key user's profile type = %q, want server", p.Type)
		}
		_, err = u.APIKeys().FetchAll(ctx)
		wantError(t, err, 403, client.ErrAuth)
		if info, err := a.Users(srv.AppID).Fetch(ctx, u.ID()); err != nil || info.Type != "server" {
			t.Fatalf("the server user as the admin sees it: %+v, %v", info, err)
		}

		if err := keys.Disable(ctx, created.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := keys.Fetch(ctx, created.ID); !got.Disabled {
			t.Fatal("the key is enabled after Disable")
		}
		_, err = mustNewApp(t, srv).LogIn(ctx, client.APIKeyCredentials(created.Value))
		wantError(t, err, 401, client.ErrAuth)
		if err := keys.Enable(ctx, created.ID); err != nil {
			t.Fatal(err)
		}
		mustLogIn(t, mustNewApp(t, srv), client.APIKeyCredentials(created.Value))

		if err := keys.Delete(ctx, created.ID); err != nil {
			t.Fatal(err)
		}
		_, err = keys.Fetch(ctx, created.ID)
		wantError(t, err, 404, client.ErrAPIKeyNotFound)
		_, err = mustNewApp(t, srv).LogIn(ctx, client.APIKeyCredentials(created.Value))
		wantError(t, err, 401, client.ErrAuth)
	})
	t.Run("Errors", func(t *testing.T) {
		if _, err := keys.Create(ctx, "dup"); err != nil {
			t.Fatal(err)
		}
		_, err := keys.Create(ctx, "dup")
		wantError(t, err, 409, client.ErrAPIKeyExists)
		_, err = keys.Create(ctx, "bad name")
		wantError(t, err, 400, client.ErrInvalidParameter)
		_, err = keys.Create(ctx, "")
		wantError(t, err, 400, nil)
		_, err = keys.Fetch(ctx, latchkey.ZeroID)
		wantError(t, err, 404, client.ErrAPIKeyNotFound)
		wantError(t, keys.Enable(ctx, latchkey.ZeroID), 404, client.ErrAPIKeyNotFound)
		wantError(t, keys.Disable(ctx, "not-an-id"), 404, client.ErrAPIKeyNotFound)
		wantError(t, keys.Delete(ctx, latchkey.ZeroID), 404, client.ErrAPIKeyNotFound)
		_, err = a.ServerAPIKeys("nope").FetchAll(ctx)
		wantError(t, err, 404, client.ErrInvalidParameter)
		// Another app's key is not found through this app.
		if _, err := a.CreateApp(ctx, "other-app", client.AppSettingsUpdate{}); err != nil {
			t.Fatal(err)
		}
		other, err := a.ServerAPIKeys("other-app").Create(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		_, err = keys.Fetch(ctx, other.ID)
		wantError(t, err, 404, client.ErrAPIKeyNotFound)
	})
	t.Run("Limit", func(t *testing.T) {
		if _, err := a.CreateApp(ctx, "limit-app", client.AppSettingsUpdate{}); err != nil {
			t.Fatal(err)
		}
		lk := a.ServerAPIKeys("limit-app")
		for i := range latchkey.MaxServerAPIKeysPerApp {
			if _, err := lk.Create(ctx, fmt.Sprintf("k%d", i)); err != nil {
				t.Fatalf("key %d: %v", i, err)
			}
		}
		_, err := lk.Create(ctx, "one-too-many")
		wantError(t, err, 400, client.ErrInvalidParameter)
	})
}
