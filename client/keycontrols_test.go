package client_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
	"github.com/latchkey/latchkey/internal/testserver"
)

var keyPattern = regexp.MustCompile(`^` + latchkey.KeyPattern + `$`)

// mustNewScopedApp creates an app that declares the scopes read, write and billing, and
// returns an App of it.
func mustNewScopedApp(t *testing.T, srv *testserver.Server, clientAppID string) *client.App {
	t.Helper()
	srv.CreateApp(t, clientAppID, func(a *latchkey.App) { a.Scopes = []string{"read", "write", "billing"} })
	app, err := client.NewApp(srv.URL, clientAppID)
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// tokenClaims decodes a JWT's payload without verifying it.
func tokenClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a JWT", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCreateAPIKeyOptions(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t)
	app := mustNewScopedApp(t, srv, "scoped-app")

	t.Run("ExpiresInAndScopes", func(t *testing.T) {
		u := mustRegister(t, app)
		before := srv.Clock.Now().Truncate(time.Second)
		k, err := u.APIKeys().Create(ctx, "ci", client.KeyExpiresIn(time.Hour), client.KeyScopes("read", "write"))
		if err != nil {
			t.Fatal(err)
		}
		if k.ExpiresAt == nil || k.ExpiresAt.Before(before.Add(time.Hour)) || k.ExpiresAt.After(srv.Clock.Now().Add(time.Hour)) {
			t.Fatalf("expires at %v, want an hour from %v", k.ExpiresAt, before)
		}
		if diff := cmp.Diff([]string{"read", "write"}, k.Scopes); diff != "" {
			t.Fatalf("scopes (-want +got):\n%s", diff)
		}
		want := k
		want.Value = ""
		all, err := u.APIKeys().FetchAll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]client.APIKey{want}, all); diff != "" {
			t.Fatalf("FetchAll (-want +got):\n%s", diff)
		}

		// A session opened with the key carries its scopes in the access token.
		device, err := client.NewApp(srv.URL, app.ID())
		if err != nil {
			t.Fatal(err)
		}
		ku := mustLogIn(t, device, client.APIKeyCredentials(k.Value))
		if got := tokenClaims(t, ku.AccessToken())["scope"]; got != "read write" {
			t.Fatalf("scope claim = %v, want \"read write\"", got)
		}
	})
	t.Run("ExpiresAt", func(t *testing.T) {
		u := mustRegister(t, app)
		at := srv.Clock.Now().Add(48 * time.Hour).Truncate(time.Second).UTC()
		k, err := u.APIKeys().Create(ctx, "until", client.KeyExpiresAt(at))
		if err != nil {
			t.Fatal(err)
		}
		if k.ExpiresAt == nil || !k.ExpiresAt.Equal(at) || k.Scopes != nil {
			t.Fatalf("expires at %v, scopes %v; want %v and none", k.ExpiresAt, k.Scopes, at)
		}
		got, err := u.APIKeys().Fetch(ctx, k.ID)
		if err != nil || got.ExpiresAt == nil || !got.ExpiresAt.Equal(at) {
			t.Fatalf("Fetch: expires at %v, %v", got.ExpiresAt, err)
		}
	})
	t.Run("Async", func(t *testing.T) {
		u := mustRegister(t, app)
		r := <-u.APIKeys().CreateAsync(ctx, "async", client.KeyScopes("billing"))
		if r.Err != nil || !slices.Equal(r.Value.Scopes, []string{"billing"}) {
			t.Fatalf("CreateAsync = %+v", r)
		}
	})
	for _, tt := range []struct {
		name string
		opts []client.KeyOption
	}{
		{"ErrBothExpiries", []client.KeyOption{client.KeyExpiresIn(time.Hour), client.KeyExpiresAt(time.Now().Add(time.Hour))}},
		{"ErrExpiresAtPast", []client.KeyOption{client.KeyExpiresAt(time.Now().Add(-time.Hour))}},
		{"ErrExpiresInZero", []client.KeyOption{client.KeyExpiresIn(time.Millisecond)}},
		{"ErrUnknownScope", []client.KeyOption{client.KeyScopes("read", "admin")}},
		{"ErrScopeTwice", []client.KeyOption{client.KeyScopes("read", "read")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := mustRegister(t, app)
			_, err := u.APIKeys().Create(ctx, "k", tt.opts...)
			wantError(t, err, 400, client.ErrInvalidParameter)
		})
	}
	t.Run("ErrScopesOfAppWithout", func(t *testing.T) {
		u := mustRegister(t, mustNewApp(t, srv))
		_, err := u.APIKeys().Create(ctx, "k", client.KeyScopes("read"))
		wantError(t, err, 400, client.ErrInvalidParameter)
	})
}

func TestAPIKeyExpiry(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t) // its own: the test moves the clock
	owner := mustRegister(t, mustNewApp(t, srv))
	k, err := owner.APIKeys().Create(ctx, "short", client.KeyExpiresIn(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ku := mustLogIn(t, mustNewApp(t, srv), client.APIKeyCredentials(k.Value))

	srv.Clock.Advance(10 * time.Minute)
	_, err = mustNewApp(t, srv).LogIn(ctx, client.APIKeyCredentials(k.Value))
	wantError(t, err, 401, client.ErrAuth)
	// The session opened with the key ended with it.
	if got := rawStatus(t, srv, "POST", "/auth/session", ku.RefreshToken()); got != 401 {
		t.Fatalf("refresh of the expired key's session: status %d, want 401", got)
	}
	// The owner still sees the key, with its expiry.
	got, err := owner.APIKeys().Fetch(ctx, k.ID)
	if err != nil || got.ExpiresAt == nil || !got.ExpiresAt.Equal(*k.ExpiresAt) {
		t.Fatalf("Fetch of the expired key: %+v, %v", got, err)
	}
}

func TestRotateAPIKey(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t) // its own: the test moves the clock

	t.Run("GracePeriod", func(t *testing.T) {
		owner := mustRegister(t, mustNewApp(t, srv))
		old := mustCreateKey(t, owner, "deploy")
		rotated, err := owner.APIKeys().Rotate(ctx, old.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if rotated.ID != old.ID || rotated.Name != old.Name || rotated.Value == old.Value || !keyPattern.MatchString(rotated.Value) ||
			rotated.Start != latchkey.KeyStart(rotated.Value) {
			t.Fatalf("rotated %+v from %+v: want the same id and name, a new value and its start", rotated, old)
		}
		if got, _ := owner.APIKeys().Fetch(ctx, old.ID); got.Start != rotated.Start || got.Value != "" {
			t.Fatalf("Fetch after Rotate = %+v", got)
		}
		mustLogIn(t, mustNewApp(t, srv), client.APIKeyCredentials(rotated.Value))
		srv.Clock.Advance(59 * time.Minute)
		mustLogIn(t, mustNewApp(t, srv), client.APIKeyCredentials(old.Value))

		srv.Clock.Advance(time.Minute)
		_, err = mustNewApp(t, srv).LogIn(ctx, client.APIKeyCredentials(old.Value))
		wantError(t, err, 401, client.ErrAuth)
		mustLogIn(t, mustNewApp(t, srv), client.APIKeyCredentials(rotated.Value))
	})
	t.Run("NoGrace", func(t *testing.T) {
		owner := mustRegister(t, mustNewApp(t, srv))
		old := mustCreateKey(t, owner, "deploy")
		r := <-owner.APIKeys().RotateAsync(ctx, old.ID, 0)
		if r.Err != nil || r.Value.Value == "" || r.Value.ID != old.ID {
			t.Fatalf("RotateAsync = %+v", r)
		}
		_, err := mustNewApp(t, srv).LogIn(ctx, client.APIKeyCredentials(old.Value))
		wantError(t, err, 401, client.ErrAuth)
		mustLogIn(t, mustNewApp(t, srv), client.APIKeyCredentials(r.Value.Value))
	})
	t.Run("ErrInvalidParameter", func(t *testing.T) {
		owner := mustRegister(t, mustNewApp(t, srv))
		k := mustCreateKey(t, owner, "k")
		for _, grace := range []time.Duration{-time.Second, 7*24*time.Hour + time.Second} {
			_, err := owner.APIKeys().Rotate(ctx, k.ID, grace)
			wantError(t, err, 400, client.ErrInvalidParameter)
		}
		mustLogIn(t, mustNewApp(t, srv), client.APIKeyCredentials(k.Value))
	})
	t.Run("ErrAPIKeyNotFound", func(t *testing.T) {
		owner := mustRegister(t, mustNewApp(t, srv))
		theirs := mustCreateKey(t, mustRegister(t, mustNewApp(t, srv)), "theirs")
		for _, id := range []string{latchkey.NewID(time.Now()), "not-an-id", theirs.ID} {
			_, err := owner.APIKeys().Rotate(ctx, id, 0)
			wantError(t, err, 404, client.ErrAPIKeyNotFound)
		}
		if _, err := owner.APIKeys().Rotate(ctx, "", 0); err == nil {
			t.Fatal("Rotate of an empty id succeeded")
		}
	})
	t.Run("ErrAuthKeySession", func(t *testing.T) {
		owner := mustRegister(t, mustNewApp(t, srv))
		k := mustCreateKey(t, owner, "k")
		ku := mustLogIn(t, mustNewApp(t, srv), client.APIKeyCredentials(k.Value))
		_, err := ku.APIKeys().Rotate(ctx, k.ID, 0)
		wantError(t, err, 403, client.ErrAuth)
	})
}

func TestValidKeyValue(t *testing.T) {
	v := latchkey.NewKeyValue("lk")
	flipped := []byte(v)
	if flipped[5] == 'a' {
		flipped[5] = 'b'
	} else {
		flipped[5] = 'a'
	}
	for _, tt := range []struct {
		s    string
		want bool
	}{
		{v, true},
		{latchkey.NewKeyValue("acme"), true},
		{strings.Repeat("aB3", 21) + "x", true}, // a key made before the format
		{string(flipped), false},
		{v[:len(v)-1], false},
		{"", false},
		{"not-a-key", false},
	} {
		if got := client.ValidKeyValue(tt.s); got != tt.want {
			t.Errorf("ValidKeyValue(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

// TestAdminKeyListings checks that admins see the key controls' fields of user and server keys.
func TestAdminKeyListings(t *testing.T) {
	ctx := context.Background()
	srv := newAdminServer(t)
	a := mustLogInAdmin(t, srv)
	app := mustNewScopedApp(t, srv, "scoped-app")
	if _, err := a.UpdateAppSettings(ctx, "scoped-app", client.AppSettingsUpdate{KeyPrefix: new("acme")}); err != nil {
		t.Fatal(err)
	}

	t.Run("UserKeys", func(t *testing.T) {
		u := mustRegister(t, app)
		k, err := u.APIKeys().Create(ctx, "ci", client.KeyExpiresIn(time.Hour), client.KeyScopes("read"))
		if err != nil {
			t.Fatal(err)
		}
		mine, err := u.APIKeys().FetchAll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := a.Users("scoped-app").APIKeys(ctx, u.ID())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(mine, theirs); diff != "" {
			t.Fatalf("the admin's listing differs from the owner's (-owner +admin):\n%s", diff)
		}
		if got := theirs[0]; got.Start != latchkey.KeyStart(k.Value) || got.ExpiresAt == nil || !slices.Equal(got.Scopes, []string{"read"}) ||
			!strings.HasPrefix(got.Start, "acme_") {
			t.Fatalf("the admin's listing = %+v", got)
		}
	})
	t.Run("ServerKeys", func(t *testing.T) {
		k, err := a.ServerAPIKeys("scoped-app").Create(ctx, "backend")
		if err != nil {
			t.Fatal(err)
		}
		if k.Start != latchkey.KeyStart(k.Value) || !strings.HasPrefix(k.Value, "acme_") || k.CreatedAt.IsZero() {
			t.Fatalf("created = %+v", k)
		}
		scoped, err := a.ServerAPIKeys("scoped-app").Create(ctx, "scoped", client.KeyScopes("read"), client.KeyExpiresIn(time.Hour))
		if err != nil || !slices.Equal(scoped.Scopes, []string{"read"}) || scoped.ExpiresAt == nil {
			t.Fatalf("server key with scopes and expiry = %+v, %v", scoped, err)
		}
		if err := a.ServerAPIKeys("scoped-app").Delete(ctx, scoped.ID); err != nil {
			t.Fatal(err)
		}
		mustLogIn(t, app, client.APIKeyCredentials(k.Value))
		all, err := a.ServerAPIKeys("scoped-app").FetchAll(ctx)
		if err != nil || len(all) != 1 || all[0].Start != k.Start || all[0].Value != "" || all[0].LastUsedAt == nil {
			t.Fatalf("FetchAll after a login with the key = %+v, %v", all, err)
		}
	})
}
