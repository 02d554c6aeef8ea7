package client_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
	"github.com/latchkey/latchkey/internal/testserver"
)

// The first admin, created as `latchkey admin create-user` would.
const (
	rootEmail    = "root@example.com"
	rootPassword = "rootpassword1"
)

// adminStoreKey is the key an Admin of srv keeps its session under.
func adminStoreKey(srv *testserver.Server) string { return "latchkey:admin@" + srv.URL }

// newAdminServer starts a server with the first admin created.
func newAdminServer(t *testing.T) *testserver.Server {
	t.Helper()
	srv := newServer(t)
	if _, err := srv.Service.Admins.CreateAdmin(context.Background(), rootEmail, rootPassword); err != nil {
		t.Fatalf("create admin: %v", err)
	}
	return srv
}

// mustLogInAdmin returns an Admin of srv logged in as the first admin.
func mustLogInAdmin(t *testing.T, srv *testserver.Server, opts ...client.Option) *client.Admin {
	t.Helper()
	a, err := client.NewAdmin(srv.URL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.LogIn(context.Background(), rootEmail, rootPassword); err != nil {
		t.Fatalf("admin log in: %v", err)
	}
	return a
}

// adminStatus sends one request to the admin API with a bearer token outside the SDK and
// returns the status.
func adminStatus(t *testing.T, srv *testserver.Server, method, path, token string) int {
	t.Helper()
	return sendStatus(t, method, srv.URL+"/api/admin/v3.0"+path, token)
}

// savedSession returns the admin session a store holds for srv.
func savedSession(t *testing.T, store client.TokenStore, srv *testserver.Server) client.SavedUser {
	t.Helper()
	state, err := store.Load(adminStoreKey(srv))
	if err != nil {
		t.Fatal(err)
	}
	if len(state.Users) != 1 {
		return client.SavedUser{}
	}
	return state.Users[0]
}

func TestAdminLogIn(t *testing.T) {
	ctx := context.Background()
	srv := newAdminServer(t)

	t.Run("OK", func(t *testing.T) {
		store := client.NewMemoryStore()
		a := mustLogInAdmin(t, srv, client.WithTokenStore(store))
		if !a.IsLoggedIn() || !latchkey.IsID(a.UserID()) || a.BaseURL() != srv.URL {
			t.Fatalf("after LogIn: logged in %v, user %q, base URL %q", a.IsLoggedIn(), a.UserID(), a.BaseURL())
		}
		p, err := a.Profile(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p.UserID != a.UserID() || p.Email() != rootEmail || p.GroupID() != latchkey.GroupID ||
			len(p.Roles) != 1 || p.Roles[0].RoleName != "GROUP_OWNER" {
			t.Fatalf("profile = %+v", p)
		}

		// The session is in the store: a new Admin on the same store is logged in.
		s := savedSession(t, store, srv)
		if s.ID != a.UserID() || s.AccessToken == "" || s.RefreshToken == "" {
			t.Fatalf("saved session = %+v", s)
		}
		b, err := client.NewAdmin(srv.URL+"/", client.WithTokenStore(store))
		if err != nil {
			t.Fatal(err)
		}
		if !b.IsLoggedIn() || b.UserID() != a.UserID() {
			t.Fatal("a new Admin on the same store is not logged in")
		}
		if _, err := b.Apps(ctx); err != nil {
			t.Fatal(err)
		}
		// An App on the same store sees no user: the admin session is kept apart.
		if app := mustNewApp(t, srv, client.WithTokenStore(store)); len(app.AllUsers()) != 0 {
			t.Fatalf("an App on the admin's store knows users %v", app.AllUsers())
		}
		// Admin tokens never open the client API.
		if got := rawStatus(t, srv, "GET", "/auth/profile", s.AccessToken); got != 401 {
			t.Fatalf("client profile with an admin access token: status %d, want 401", got)
		}
	})
	t.Run("ErrInvalidPassword", func(t *testing.T) {
		a, _ := client.NewAdmin(srv.URL)
		wantError(t, a.LogIn(ctx, rootEmail, "wrong-password"), 401, client.ErrInvalidPassword)
		wantError(t, a.LogIn(ctx, "nobody@example.com", rootPassword), 401, client.ErrInvalidPassword)
		if a.IsLoggedIn() || a.UserID() != "" {
			t.Fatal("logged in after a refused login")
		}
	})
	t.Run("AppUserCannotLogIn", func(t *testing.T) {
		app := mustNewApp(t, srv)
		email := newEmail()
		if err := app.EmailPasswordAuth().RegisterUser(ctx, email, password); err != nil {
			t.Fatal(err)
		}
		a, _ := client.NewAdmin(srv.URL)
		wantError(t, a.LogIn(ctx, email, password), 401, client.ErrInvalidPassword)
	})
	t.Run("ErrNotLoggedIn", func(t *testing.T) {
		a, _ := client.NewAdmin(srv.URL)
		if _, err := a.Profile(ctx); !errors.Is(err, client.ErrNotLoggedIn) {
			t.Fatalf("Profile before LogIn: %v, want ErrNotLoggedIn", err)
		}
		if _, err := a.Users(srv.AppID).Find(ctx, client.UserFilter{}); !errors.Is(err, client.ErrNotLoggedIn) {
			t.Fatalf("Find before LogIn: %v, want ErrNotLoggedIn", err)
		}
		if err := a.RefreshAccessToken(ctx); !errors.Is(err, client.ErrNotLoggedIn) {
			t.Fatalf("RefreshAccessToken before LogIn: %v, want ErrNotLoggedIn", err)
		}
		if err := a.LogOut(ctx); err != nil {
			t.Fatalf("LogOut without a session: %v", err)
		}
	})
	t.Run("LogOut", func(t *testing.T) {
		store := client.NewMemoryStore()
		a := mustLogInAdmin(t, srv, client.WithTokenStore(store))
		s := savedSession(t, store, srv)
		if err := a.LogOut(ctx); err != nil {
			t.Fatal(err)
		}
		if a.IsLoggedIn() || savedSession(t, store, srv) != (client.SavedUser{}) {
			t.Fatal("the session is still kept after LogOut")
		}
		if got := adminStatus(t, srv, "POST", "/auth/session", s.RefreshToken); got != 401 {
			t.Fatalf("refresh after LogOut: status %d, want 401", got)
		}
		if _, err := a.Apps(ctx); !errors.Is(err, client.ErrNotLoggedIn) {
			t.Fatalf("Apps after LogOut: %v, want ErrNotLoggedIn", err)
		}
		if err := a.LogOut(ctx); err != nil {
			t.Fatalf("second LogOut: %v", err)
		}
	})
	t.Run("LogInAgainEndsTheOldSession", func(t *testing.T) {
		store := client.NewMemoryStore()
		a := mustLogInAdmin(t, srv, client.WithTokenStore(store))
		old := savedSession(t, store, srv)
		if err := a.LogIn(ctx, rootEmail, rootPassword); err != nil {
			t.Fatal(err)
		}
		if s := savedSession(t, store, srv); s.RefreshToken == old.RefreshToken {
			t.Fatal("the store holds the old session")
		}
		if got := adminStatus(t, srv, "POST", "/auth/session", old.RefreshToken); got != 401 {
			t.Fatalf("refresh with the replaced session: status %d, want 401", got)
		}
	})
	t.Run("FileStore", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "admin-credentials.json")
		a := mustLogInAdmin(t, srv, client.WithTokenStore(client.NewFileStore(path)))
		b, err := client.NewAdmin(srv.URL, client.WithTokenStore(client.NewFileStore(path)))
		if err != nil {
			t.Fatal(err)
		}
		if b.UserID() != a.UserID() {
			t.Fatal("the session did not survive through the file")
		}
		if _, err := b.Profile(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAdminRefresh(t *testing.T) {
	ctx := context.Background()

	t.Run("AccessTokenExpired", func(t *testing.T) {
		srv := newAdminServer(t)
		store := client.NewMemoryStore()
		a := mustLogInAdmin(t, srv, client.WithTokenStore(store))
		before := savedSession(t, store, srv)
		srv.Clock.Advance(31 * time.Minute)
		if got := adminStatus(t, srv, "GET", "/auth/profile", before.AccessToken); got != 401 {
			t.Fatalf("profile with the old access token after 31 minutes: status %d, want 401", got)
		}
		if _, err := a.Apps(ctx); err != nil {
			t.Fatalf("Apps after the access token expired: %v", err)
		}
		after := savedSession(t, store, srv)
		if after.AccessToken == before.AccessToken || after.RefreshToken != before.RefreshToken || !a.IsLoggedIn() {
			t.Fatal("the access token was not refreshed and saved")
		}
		if got := adminStatus(t, srv, "GET", "/auth/profile", after.AccessToken); got != 200 {
			t.Fatalf("profile with the refreshed access token: status %d", got)
		}
	})
	t.Run("RefreshAccessToken", func(t *testing.T) {
		srv := newAdminServer(t)
		store := client.NewMemoryStore()
		a := mustLogInAdmin(t, srv, client.WithTokenStore(store))
		before := savedSession(t, store, srv)
		srv.Clock.Advance(time.Second) // a new iat, so a new token
		if err := a.RefreshAccessToken(ctx); err != nil {
			t.Fatal(err)
		}
		if savedSession(t, store, srv).AccessToken == before.AccessToken {
			t.Fatal("RefreshAccessToken kept the old access token")
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		srv := newAdminServer(t)
		a := mustLogInAdmin(t, srv)
		srv.Clock.Advance(31 * time.Minute)
		var wg sync.WaitGroup
		errs := make(chan error, 10)
		for range 10 {
			wg.Go(func() {
				_, err := a.Profile(ctx)
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("a concurrent call after expiry: %v", err)
			}
		}
	})
	t.Run("SessionEnded", func(t *testing.T) {
		srv := newAdminServer(t)
		store := client.NewMemoryStore()
		a := mustLogInAdmin(t, srv, client.WithTokenStore(store))
		// Admin sessions last 24 hours.
		srv.Clock.Advance(latchkey.AdminRefreshTokenLifetime + time.Minute)
		_, err := a.Apps(ctx)
		wantError(t, err, 401, client.ErrInvalidSession)
		if a.IsLoggedIn() || savedSession(t, store, srv) != (client.SavedUser{}) {
			t.Fatal("still logged in after the server refused the refresh token")
		}
		if _, err := a.Apps(ctx); !errors.Is(err, client.ErrNotLoggedIn) {
			t.Fatalf("the next call: %v, want ErrNotLoggedIn", err)
		}
	})
	t.Run("AppUserTokenRefused", func(t *testing.T) {
		srv := newAdminServer(t)
		u := mustRegister(t, mustNewApp(t, srv))
		store := client.NewMemoryStore()
		store.Save(adminStoreKey(srv), client.State{Users: []client.SavedUser{{
			ID: u.ID(), Provider: client.ProviderEmailPassword, AccessToken: u.AccessToken(), RefreshToken: u.RefreshToken(),
		}}})
		a, err := client.NewAdmin(srv.URL, client.WithTokenStore(store))
		if err != nil {
			t.Fatal(err)
		}
		_, err = a.Apps(ctx)
		wantError(t, err, 401, client.ErrInvalidSession)
		if a.IsLoggedIn() {
			t.Fatal("an app user's tokens kept an admin session")
		}
	})
}

func TestAdminEmptyIDs(t *testing.T) {
	ctx := context.Background()
	srv := newAdminServer(t)
	a := mustLogInAdmin(t, srv)
	calls := map[string]error{}
	_, calls["App"] = a.App(ctx, "")
	calls["DeleteApp"] = a.DeleteApp(ctx, "")
	_, calls["ServerAPIKeys.Fetch"] = a.ServerAPIKeys(srv.AppID).Fetch(ctx, "")
	calls["ServerAPIKeys.Delete"] = a.ServerAPIKeys(srv.AppID).Delete(ctx, "")
	_, calls["Users.Fetch"] = a.Users(srv.AppID).Fetch(ctx, "")
	calls["Users.Delete"] = a.Users(srv.AppID).Delete(ctx, "")
	calls["Users.DeleteAPIKey"] = a.Users(srv.AppID).DeleteAPIKey(ctx, latchkey.ZeroID, "")
	for name, err := range calls {
		var e *client.Error
		if err == nil || errors.As(err, &e) {
			t.Errorf("%s with an empty id: %v, want a client-side error", name, err)
		}
	}
}
