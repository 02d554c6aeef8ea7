package client_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/client"
)

func TestProfile(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t)
	app := mustNewApp(t, srv)
	email := newEmail()
	if err := app.EmailPasswordAuth().RegisterUser(ctx, email, password); err != nil {
		t.Fatal(err)
	}
	u := mustLogIn(t, app, client.EmailPasswordCredentials(email, password))
	p, err := u.Profile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.UserID != u.ID() || p.DomainID != srv.App.ID || p.Type != "normal" || p.Email() != email {
		t.Fatalf("profile = %+v", p)
	}
	if len(p.Identities) != 1 || p.Identities[0].ProviderType != client.ProviderEmailPassword {
		t.Fatalf("identities = %+v, want one local-userpass", p.Identities)
	}

	// After a key login the profile also lists an api-key identity.
	key := mustCreateKey(t, u, "k")
	ku := mustLogIn(t, mustNewApp(t, srv), client.APIKeyCredentials(key.Value))
	if p, err = ku.Profile(ctx); err != nil {
		t.Fatal(err)
	}
	types := []string{}
	for _, id := range p.Identities {
		types = append(types, id.ProviderType)
	}
	if !slices.Contains(types, client.ProviderAPIKey) || p.UserID != u.ID() {
		t.Fatalf("key user's profile: user %q, identities %v; want %q with an api-key identity", p.UserID, types, u.ID())
	}

	anon := mustLogIn(t, app, client.AnonymousCredentials())
	if p, err = anon.Profile(ctx); err != nil || p.Email() != "" {
		t.Fatalf("anonymous profile: %+v, %v", p, err)
	}
}

func TestRefresh(t *testing.T) {
	ctx := context.Background()

	t.Run("AccessTokenExpired", func(t *testing.T) {
		srv := newServer(t)
		app := mustNewApp(t, srv)
		u := mustRegister(t, app)
		before := u.AccessToken()
		srv.Clock.Advance(31 * time.Minute)
		if got := rawStatus(t, srv, "GET", "/auth/profile", before); got != 401 {
			t.Fatalf("profile with the old access token after 31 minutes: status %d, want 401", got)
		}
		p, err := u.Profile(ctx)
		if err != nil {
			t.Fatalf("Profile after the access token expired: %v", err)
		}
		if p.UserID != u.ID() || u.AccessToken() == before || !u.IsLoggedIn() {
			t.Fatal("the SDK did not refresh the access token")
		}
		// DeleteUser uses the access token too.
		srv.Clock.Advance(31 * time.Minute)
		if err := app.DeleteUser(ctx, u); err != nil {
			t.Fatalf("DeleteUser after the access token expired: %v", err)
		}
	})
	t.Run("RefreshAccessToken", func(t *testing.T) {
		srv := newServer(t)
		u := mustRegister(t, mustNewApp(t, srv))
		before := u.AccessToken()
		if err := u.RefreshAccessToken(ctx); err != nil {
			t.Fatal(err)
		}
		if u.AccessToken() == before || rawStatus(t, srv, "GET", "/auth/profile", u.AccessToken()) != 200 {
			t.Fatal("RefreshAccessToken did not give a new, working access token")
		}
	})
	t.Run("LogOutOn401KeySessionEnded", func(t *testing.T) {
		srv := newServer(t)
		owner := mustRegister(t, mustNewApp(t, srv))
		key := mustCreateKey(t, owner, "laptop")
		keyApp := mustNewApp(t, srv)
		ku := mustLogIn(t, keyApp, client.APIKeyCredentials(key.Value))

		// Disabling the key ends the key's sessions on the server; the next refresh-token call
		// of the key session gets 401 and logs it out here.
		if err := owner.APIKeys().Disable(ctx, key.ID); err != nil {
			t.Fatal(err)
		}
		_, err := ku.APIKeys().FetchAll(ctx)
		wantError(t, err, 401, client.ErrInvalidSession)
		if ku.IsLoggedIn() || ku.AccessToken() != "" || keyApp.CurrentUser() != nil {
			t.Fatal("a 401 on a refresh-token call did not log the user out")
		}
		if !slices.Equal(keyApp.AllUsers(), []*client.User{ku}) {
			t.Fatal("the logged-out user is no longer known")
		}
		if _, err := ku.Profile(ctx); !errors.Is(err, client.ErrNotLoggedIn) {
			t.Fatalf("Profile after being logged out: %v, want ErrNotLoggedIn", err)
		}
	})
	t.Run("LogOutWhenRefreshRefused", func(t *testing.T) {
		srv := newServer(t)
		owner := mustRegister(t, mustNewApp(t, srv))
		key := mustCreateKey(t, owner, "laptop")
		keyApp := mustNewApp(t, srv)
		ku := mustLogIn(t, keyApp, client.APIKeyCredentials(key.Value))
		if err := owner.APIKeys().Delete(ctx, key.ID); err != nil {
			t.Fatal(err)
		}
		// The access token expires, the refresh is refused: the call fails with the original
		// 401 and the user is logged out.
		srv.Clock.Advance(31 * time.Minute)
		_, err := ku.Profile(ctx)
		wantError(t, err, 401, client.ErrInvalidSession)
		if ku.IsLoggedIn() || keyApp.CurrentUser() != nil {
			t.Fatal("a refused refresh did not log the user out")
		}
		if err := ku.RefreshAccessToken(ctx); !errors.Is(err, client.ErrNotLoggedIn) {
			t.Fatalf("RefreshAccessToken when logged out: %v, want ErrNotLoggedIn", err)
		}
	})
	t.Run("RefreshTokenExpired", func(t *testing.T) {
		srv := newServer(t)
		app := mustNewApp(t, srv)
		u := mustRegister(t, app)
		srv.Clock.Advance(61 * 24 * time.Hour) // past the default 60-day refresh lifetime
		err := u.RefreshAccessToken(ctx)
		wantError(t, err, 401, client.ErrInvalidSession)
		if u.IsLoggedIn() {
			t.Fatal("an expired refresh token did not log the user out")
		}
	})
}

func TestPersistence(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t)

	t.Run("FileStore", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "latchkey", "credentials.json")
		app := mustNewApp(t, srv, client.WithTokenStore(client.NewFileStore(path)))
		ann := mustRegister(t, app)
		bob := mustRegister(t, app)
		if err := app.SwitchUser(ann); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("credentials file mode = %v, want 0600", fi.Mode().Perm())
		}
		if di, err := os.Stat(filepath.Dir(path)); err != nil || di.Mode().Perm() != 0o700 {
			t.Fatalf("credentials directory: %v, %v; want mode 0700", di.Mode().Perm(), err)
		}

		// A new App value, as after a program restart.
		again := mustNewApp(t, srv, client.WithTokenStore(client.NewFileStore(path)))
		cur := again.CurrentUser()
		if cur == nil || cur.ID() != ann.ID() || cur.Provider() != client.ProviderEmailPassword {
			t.Fatalf("CurrentUser() after restart = %v, want ann", cur)
		}
		if all := again.AllUsers(); len(all) != 2 || all[1].ID() != bob.ID() {
			t.Fatalf("AllUsers() after restart: %d users", len(all))
		}
		if again.DeviceID() != app.DeviceID() {
			t.Fatalf("device id after restart %q, want %q", again.DeviceID(), app.DeviceID())
		}
		if _, err := cur.APIKeys().Create(ctx, "after-restart"); err != nil {
			t.Fatal(err)
		}
		// A refresh made by the new App is saved too.
		srv.Clock.Advance(31 * time.Minute)
		if _, err := cur.Profile(ctx); err != nil {
			t.Fatal(err)
		}
		third := mustNewApp(t, srv, client.WithTokenStore(client.NewFileStore(path)))
		if third.CurrentUser().AccessToken() != cur.AccessToken() {
			t.Fatal("the refreshed access token was not saved")
		}
		if err := cur.LogOut(ctx); err != nil {
			t.Fatal(err)
		}
		fourth := mustNewApp(t, srv, client.WithTokenStore(client.NewFileStore(path)))
		if fourth.CurrentUser() == nil || fourth.CurrentUser().ID() != bob.ID() {
			t.Fatal("after ann's logout, bob is not the saved current user")
		}
		if all := fourth.AllUsers(); len(all) != 2 || all[1].ID() != ann.ID() || all[1].IsLoggedIn() {
			t.Fatal("ann is not saved as logged out")
		}
	})
	t.Run("FileStoreOtherApps", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "credentials.json")
		store := client.NewFileStore(path)
		a := mustNewApp(t, srv, client.WithTokenStore(store))
		u := mustRegister(t, a)
		other, err := client.NewApp(srv.URL, "other-app", client.WithTokenStore(store))
		if err != nil {
			t.Fatal(err)
		}
		if other.CurrentUser() != nil {
			t.Fatal("another app id sees this app's user")
		}
		if got := mustNewApp(t, srv, client.WithTokenStore(store)).CurrentUser(); got == nil || got.ID() != u.ID() {
			t.Fatal("the app lost its user")
		}
	})
	t.Run("MemoryStoreShared", func(t *testing.T) {
		store := client.NewMemoryStore()
		u := mustRegister(t, mustNewApp(t, srv, client.WithTokenStore(store)))
		if got := mustNewApp(t, srv, client.WithTokenStore(store)).CurrentUser(); got == nil || got.ID() != u.ID() {
			t.Fatal("a new App sharing the MemoryStore lacks the user")
		}
		if mustNewApp(t, srv).CurrentUser() != nil {
			t.Fatal("an App with its own MemoryStore has a user")
		}
	})
	t.Run("ErrCorruptFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "credentials.json")
		if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := client.NewApp(srv.URL, srv.AppID, client.WithTokenStore(client.NewFileStore(path))); err == nil {
			t.Fatal("NewApp with a corrupt credentials file succeeded")
		}
	})
}

// TestConcurrent uses one user from many goroutines while its access token has expired, so
// that they all need a refresh at once; run it with -race.
func TestConcurrent(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t)
	app := mustNewApp(t, srv, client.WithTokenStore(client.NewFileStore(filepath.Join(t.TempDir(), "credentials.json"))))
	u := mustRegister(t, app)
	other := mustRegister(t, app)
	seed := mustCreateKey(t, u, "seed")
	srv.Clock.Advance(31 * time.Minute)

	const n = 16
	errs := make(chan error, 6*n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := u.Profile(ctx); err != nil {
				errs <- fmt.Errorf("profile: %w", err)
			}
			if _, err := u.APIKeys().Create(ctx, fmt.Sprintf("k%02d", i)); err != nil {
				errs <- fmt.Errorf("create: %w", err)
			}
			if _, err := u.APIKeys().FetchAll(ctx); err != nil {
				errs <- fmt.Errorf("fetch all: %w", err)
			}
			if err := <-u.APIKeys().DisableAsync(ctx, seed.ID); err != nil {
				errs <- fmt.Errorf("disable: %w", err)
			}
			if i%2 == 0 {
				errs <- app.SwitchUser(other)
			} else {
				errs <- app.SwitchUser(u)
			}
			_ = app.CurrentUser()
			_ = app.AllUsers()
			if r := <-u.APIKeys().FetchAsync(ctx, seed.ID); r.Err != nil || r.Value.Name != "seed" {
				errs <- fmt.Errorf("fetch: %v, %w", r.Value, r.Err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	keys, err := u.APIKeys().FetchAll(ctx)
	if err != nil || len(keys) != n+1 {
		t.Fatalf("FetchAll = %d keys, %v; want %d", len(keys), err, n+1)
	}
	if !u.IsLoggedIn() || !other.IsLoggedIn() {
		t.Fatal("a user was logged out")
	}
}
