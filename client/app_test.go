package client_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
)

func TestLogIn(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t)

	t.Run("EmailPassword", func(t *testing.T) {
		app := mustNewApp(t, srv)
		email := newEmail()
		if err := app.EmailPasswordAuth().RegisterUser(ctx, email, password); err != nil {
			t.Fatal(err)
		}
		u, err := app.LogIn(ctx, client.EmailPasswordCredentials(email, password))
		if err != nil {
			t.Fatal(err)
		}
		if !latchkey.IsID(u.ID()) || !u.IsLoggedIn() || u.Provider() != client.ProviderEmailPassword || u.App() != app {
			t.Fatalf("user %q, logged in %v, provider %q", u.ID(), u.IsLoggedIn(), u.Provider())
		}
		if u.AccessToken() == "" || u.RefreshToken() == "" || u.AccessToken() == u.RefreshToken() {
			t.Fatal("the user lacks its two tokens")
		}
		if got := app.CurrentUser(); got != u {
			t.Fatalf("CurrentUser() = %v, want the logged-in user", got)
		}
	})
	t.Run("Anonymous", func(t *testing.T) {
		app := mustNewApp(t, srv)
		a := mustLogIn(t, app, client.AnonymousCredentials())
		b := mustLogIn(t, app, client.AnonymousCredentials())
		if a.ID() == b.ID() || a.Provider() != client.ProviderAnonymous {
			t.Fatalf("two anonymous logins gave users %q and %q (provider %q); want two users", a.ID(), b.ID(), a.Provider())
		}
	})
	t.Run("APIKeyLogsInAsTheOwner", func(t *testing.T) {
		app := mustNewApp(t, srv)
		owner := mustRegister(t, app)
		key := mustCreateKey(t, owner, "laptop")
		u := mustLogIn(t, app, client.APIKeyCredentials(key.Value))
		// One User value per user id: the key session replaced the password session.
		if u != owner || u.Provider() != client.ProviderAPIKey || len(app.AllUsers()) != 1 {
			t.Fatalf("key login gave %p (provider %q), %d users; want the owner's value %p with provider api-key", u, u.Provider(), len(app.AllUsers()), owner)
		}
	})
	t.Run("Async", func(t *testing.T) {
		app := mustNewApp(t, srv)
		r := <-app.LogInAsync(ctx, client.AnonymousCredentials())
		if r.Err != nil || r.Value == nil || app.CurrentUser() != r.Value {
			t.Fatalf("LogInAsync = %v, %v", r.Value, r.Err)
		}
		r = <-app.LogInAsync(ctx, client.EmailPasswordCredentials("nobody@example.com", password))
		wantError(t, r.Err, 401, client.ErrInvalidPassword)
	})
	t.Run("ErrInvalidPassword", func(t *testing.T) {
		app := mustNewApp(t, srv)
		email := newEmail()
		if err := app.EmailPasswordAuth().RegisterUser(ctx, email, password); err != nil {
			t.Fatal(err)
		}
		_, err := app.LogIn(ctx, client.EmailPasswordCredentials(email, "wrong-password"))
		e := wantError(t, err, 401, client.ErrInvalidPassword)
		if e.Message != "unauthorized" {
			t.Errorf("message = %q, want unauthorized", e.Message)
		}
		_, err = app.LogIn(ctx, client.EmailPasswordCredentials("nobody@example.com", password))
		wantError(t, err, 401, client.ErrInvalidPassword)
		if app.CurrentUser() != nil || len(app.AllUsers()) != 0 {
			t.Fatal("a failed login left a user behind")
		}
	})
	t.Run("ErrAuthBadKey", func(t *testing.T) {
		_, err := mustNewApp(t, srv).LogIn(ctx, client.APIKeyCredentials("not-a-key"))
		wantError(t, err, 401, client.ErrAuth)
	})
	t.Run("ErrAuthUnconfirmed", func(t *testing.T) {
		srv.CreateApp(t, "unconfirmed-app", func(a *latchkey.App) { a.AutoConfirm = false })
		app, err := client.NewApp(srv.URL, "unconfirmed-app")
		if err != nil {
			t.Fatal(err)
		}
		if err := app.EmailPasswordAuth().RegisterUser(ctx, "ann@example.com", password); err != nil {
			t.Fatal(err)
		}
		_, err = app.LogIn(ctx, client.EmailPasswordCredentials("ann@example.com", password))
		wantError(t, err, 401, client.ErrAuth)
	})
	t.Run("ErrUserDisabled", func(t *testing.T) {
		// No API disables users yet, so the test writes a disabled user and its key to the store.
		now := srv.Clock.Now()
		u := &latchkey.User{ID: latchkey.NewID(now), AppID: srv.App.ID, Type: latchkey.UserTypeNormal, Disabled: true, Confirmed: true, CreatedAt: now}
		if err := srv.Store.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		value := latchkey.NewKeyValue(latchkey.DefaultKeyPrefix)
		sum := sha256.Sum256([]byte(value))
		k := &latchkey.APIKey{ID: latchkey.NewID(now), AppID: srv.App.ID, UserID: u.ID, Name: "k", Hash: sum[:], Start: latchkey.KeyStart(value), CreatedAt: now}
		if err := srv.Store.CreateAPIKey(ctx, k, latchkey.MaxAPIKeysPerUser); err != nil {
			t.Fatal(err)
		}
		_, err := mustNewApp(t, srv).LogIn(ctx, client.APIKeyCredentials(value))
		wantError(t, err, 401, client.ErrUserDisabled)
	})
	t.Run("ErrAuthProviderNotFound", func(t *testing.T) {
		srv.CreateApp(t, "no-anon-app", func(a *latchkey.App) { a.AnonymousEnabled = false })
		app, err := client.NewApp(srv.URL, "no-anon-app")
		if err != nil {
			t.Fatal(err)
		}
		_, err = app.LogIn(ctx, client.AnonymousCredentials())
		wantError(t, err, 400, client.ErrAuthProviderNotFound)
	})
	t.Run("ErrInvalidParameterUnknownApp", func(t *testing.T) {
		app, err := client.NewApp(srv.URL, "no-such-app")
		if err != nil {
			t.Fatal(err)
		}
		_, err = app.LogIn(ctx, client.AnonymousCredentials())
		e := wantError(t, err, 404, client.ErrInvalidParameter)
		if !strings.Contains(e.Message, "no-such-app") {
			t.Errorf("message = %q, want the app id in it", e.Message)
		}
	})
	t.Run("ErrEmptyCredentials", func(t *testing.T) {
		if _, err := mustNewApp(t, srv).LogIn(ctx, client.Credentials{}); err == nil {
			t.Fatal("logging in with zero Credentials succeeded")
		}
	})
}

// TestLocation checks that the App asks the location endpoint first and then sends every
// request to the hostname it names: the base URL here answers nothing else.
func TestLocation(t *testing.T) {
	srv := newServer(t)
	var asked, other atomic.Int64
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "GET" && r.URL.Path == "/api/client/v2.0/app/"+srv.AppID+"/location" {
			asked.Add(1)
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]string{"deployment_model": "GLOBAL", "location": "local", "hostname": srv.URL + "/", "ws_hostname": "ws://unused"})
			return
		}
		other.Add(1)
		http.Error(w, "this front answers only the location", http.StatusTeapot)
	}))
	defer front.Close()

	app, err := client.NewApp(front.URL+"/", srv.AppID)
	if err != nil {
		t.Fatal(err)
	}
	u := mustRegister(t, app)
	mustCreateKey(t, u, "k")
	if _, err := u.Profile(context.Background()); err != nil {
		t.Fatal(err)
	}
	if asked.Load() != 1 || other.Load() != 0 {
		t.Fatalf("location asked %d times, other requests to the base URL %d; want 1 and 0", asked.Load(), other.Load())
	}
}

func TestLocationError(t *testing.T) {
	t.Run("NotJSON", func(t *testing.T) {
		front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html>bad gateway</html>")
		}))
		defer front.Close()
		app, err := client.NewApp(front.URL, "some-app")
		if err != nil {
			t.Fatal(err)
		}
		_, err = app.LogIn(context.Background(), client.AnonymousCredentials())
		e := wantError(t, err, 502, nil)
		if e.Message != "http status 502 Bad Gateway" || e.Error() != "http status 502 Bad Gateway (status 502)" {
			t.Errorf("message %q, Error() %q", e.Message, e.Error())
		}
	})
	t.Run("NoServer", func(t *testing.T) {
		front := httptest.NewServer(http.NotFoundHandler())
		url := front.URL
		front.Close()
		app, err := client.NewApp(url, "some-app")
		if err != nil {
			t.Fatal(err)
		}
		_, err = app.LogIn(context.Background(), client.AnonymousCredentials())
		var e *client.Error
		if err == nil || errors.As(err, &e) {
			t.Fatalf("err = %v; want a transport error, not a server answer", err)
		}
	})
}

func TestDeviceID(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t)
	store := client.NewMemoryStore()
	app := mustNewApp(t, srv, client.WithTokenStore(store))
	if app.DeviceID() != "" {
		t.Fatalf("a new App has device id %q", app.DeviceID())
	}
	u := mustRegister(t, app)
	device := app.DeviceID()
	if !latchkey.IsID(device) || device == latchkey.ZeroID {
		t.Fatalf("device id after the first login = %q", device)
	}
	if err := u.LogOut(ctx); err != nil {
		t.Fatal(err)
	}
	mustLogIn(t, app, client.AnonymousCredentials())
	if app.DeviceID() != device {
		t.Fatalf("second login: device %q, want the first login's %q", app.DeviceID(), device)
	}
	// The device id is saved with the users, so a new App value keeps it.
	again := mustNewApp(t, srv, client.WithTokenStore(store))
	mustLogIn(t, again, client.AnonymousCredentials())
	if again.DeviceID() != device {
		t.Fatalf("new App: device %q, want %q", again.DeviceID(), device)
	}
}

func TestUsers(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t)

	t.Run("CurrentAllSwitch", func(t *testing.T) {
		app := mustNewApp(t, srv)
		if app.CurrentUser() != nil || len(app.AllUsers()) != 0 {
			t.Fatal("a new App has users")
		}
		ann := mustRegister(t, app)
		bob := mustRegister(t, app)
		if app.CurrentUser() != bob || !slices.Equal(app.AllUsers(), []*client.User{bob, ann}) {
			t.Fatal("after two logins the latest is not current, first in AllUsers")
		}
		if err := app.SwitchUser(ann); err != nil {
			t.Fatal(err)
		}
		if app.CurrentUser() != ann || !slices.Equal(app.AllUsers(), []*client.User{ann, bob}) {
			t.Fatal("SwitchUser did not make ann current")
		}
	})
	t.Run("LogOut", func(t *testing.T) {
		app := mustNewApp(t, srv)
		ann := mustRegister(t, app)
		bob := mustRegister(t, app)
		refresh := bob.RefreshToken()
		if err := bob.LogOut(ctx); err != nil {
			t.Fatal(err)
		}
		if bob.IsLoggedIn() || bob.AccessToken() != "" || bob.RefreshToken() != "" {
			t.Fatal("bob still has tokens after LogOut")
		}
		if got := rawStatus(t, srv, "POST", "/auth/session", refresh); got != 401 {
			t.Fatalf("refresh with a logged-out token: status %d, want 401", got)
		}
		// A logged-out user stays known, behind the logged-in ones; ann is current again.
		if app.CurrentUser() != ann || !slices.Equal(app.AllUsers(), []*client.User{ann, bob}) {
			t.Fatal("after bob's logout: ann not current, or bob not last")
		}
		if err := bob.LogOut(ctx); err != nil {
			t.Fatalf("second LogOut: %v", err)
		}
		_, err := bob.Profile(ctx)
		if !errors.Is(err, client.ErrNotLoggedIn) {
			t.Fatalf("Profile of a logged-out user: %v, want ErrNotLoggedIn", err)
		}
		if _, err := bob.APIKeys().FetchAll(ctx); !errors.Is(err, client.ErrNotLoggedIn) {
			t.Fatalf("FetchAll of a logged-out user: %v, want ErrNotLoggedIn", err)
		}
		if err := app.SwitchUser(bob); !errors.Is(err, client.ErrNotLoggedIn) {
			t.Fatalf("SwitchUser to a logged-out user: %v, want ErrNotLoggedIn", err)
		}
	})
	t.Run("LogOutAnonymousForgets", func(t *testing.T) {
		app := mustNewApp(t, srv)
		anon := mustLogIn(t, app, client.AnonymousCredentials())
		if err := anon.LogOut(ctx); err != nil {
			t.Fatal(err)
		}
		if len(app.AllUsers()) != 0 {
			t.Fatal("a logged-out anonymous user is still known")
		}
	})
	t.Run("LogInAgainKeepsTheUserValue", func(t *testing.T) {
		app := mustNewApp(t, srv)
		email := newEmail()
		if err := app.EmailPasswordAuth().RegisterUser(ctx, email, password); err != nil {
			t.Fatal(err)
		}
		u := mustLogIn(t, app, client.EmailPasswordCredentials(email, password))
		if err := u.LogOut(ctx); err != nil {
			t.Fatal(err)
		}
		if again := mustLogIn(t, app, client.EmailPasswordCredentials(email, password)); again != u || !u.IsLoggedIn() {
			t.Fatal("logging in again made another User value")
		}
	})
	t.Run("RemoveUser", func(t *testing.T) {
		app := mustNewApp(t, srv)
		ann := mustRegister(t, app)
		refresh := ann.RefreshToken()
		if err := app.RemoveUser(ctx, ann); err != nil {
			t.Fatal(err)
		}
		if app.CurrentUser() != nil || len(app.AllUsers()) != 0 || ann.IsLoggedIn() {
			t.Fatal("a removed user is still known or logged in")
		}
		if got := rawStatus(t, srv, "POST", "/auth/session", refresh); got != 401 {
			t.Fatalf("refresh after RemoveUser: status %d, want 401", got)
		}
		other := mustNewApp(t, srv)
		if err := other.RemoveUser(ctx, mustRegister(t, app)); err == nil {
			t.Fatal("RemoveUser of another App's user succeeded")
		}
	})
	t.Run("DeleteUser", func(t *testing.T) {
		app := mustNewApp(t, srv)
		email := newEmail()
		if err := app.EmailPasswordAuth().RegisterUser(ctx, email, password); err != nil {
			t.Fatal(err)
		}
		u := mustLogIn(t, app, client.EmailPasswordCredentials(email, password))
		key := mustCreateKey(t, u, "k")
		if err := app.DeleteUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if len(app.AllUsers()) != 0 || u.IsLoggedIn() {
			t.Fatal("a deleted user is still known or logged in")
		}
		_, err := app.LogIn(ctx, client.EmailPasswordCredentials(email, password))
		wantError(t, err, 401, client.ErrInvalidPassword)
		_, err = app.LogIn(ctx, client.APIKeyCredentials(key.Value))
		wantError(t, err, 401, client.ErrAuth)
		if err := app.DeleteUser(ctx, u); !errors.Is(err, client.ErrNotLoggedIn) {
			t.Fatalf("deleting a deleted user: %v, want ErrNotLoggedIn", err)
		}
	})
}
