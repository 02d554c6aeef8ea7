package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/client"
	"github.com/latchkey/latchkey/internal/testserver"
)

// password is every test user's password.
const password = "s3cretpass"

// newServer starts a real server (real store, service and HTTP API) on a loopback port.
func newServer(t *testing.T) *testserver.Server {
	t.Helper()
	return testserver.New(t, testserver.Options{})
}

// mustNewApp returns an App of the server's default app.
func mustNewApp(t *testing.T, srv *testserver.Server, opts ...client.Option) *client.App {
	t.Helper()
	app, err := client.NewApp(srv.URL, srv.AppID, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return app
}

var emailSeq atomic.Int64

// newEmail returns an email address no other test uses.
func newEmail() string {
	return fmt.Sprintf("user%d@example.com", emailSeq.Add(1))
}

// mustRegister registers a new email/password user and logs it in.
func mustRegister(t *testing.T, app *client.App) *client.User {
	t.Helper()
	email := newEmail()
	if err := app.EmailPasswordAuth().RegisterUser(context.Background(), email, password); err != nil {
		t.Fatalf("register %s: %v", email, err)
	}
	return mustLogIn(t, app, client.EmailPasswordCredentials(email, password))
}

func mustLogIn(t *testing.T, app *client.App, creds client.Credentials) *client.User {
	t.Helper()
	u, err := app.LogIn(context.Background(), creds)
	if err != nil {
		t.Fatalf("log in with %s: %v", creds.Provider(), err)
	}
	return u
}

func mustCreateKey(t *testing.T, u *client.User, name string) client.APIKey {
	t.Helper()
	k, err := u.APIKeys().Create(context.Background(), name)
	if err != nil {
		t.Fatalf("create key %q: %v", name, err)
	}
	return k
}

// wantError fails the test unless err is an *Error of the status that matches sentinel
// (nil: an *Error with no code).
func wantError(t *testing.T, err error, status int, sentinel error) *client.Error {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want a *client.Error of status %d", err, err, status)
	}
	if e.StatusCode != status {
		t.Errorf("status = %d, want %d (%v)", e.StatusCode, status, e)
	}
	if sentinel == nil && e.Code != "" {
		t.Errorf("code = %q, want none (%v)", e.Code, e)
	}
	if sentinel != nil && !errors.Is(err, sentinel) {
		t.Errorf("err = %v, want errors.Is %v", err, sentinel)
	}
	return e
}

// rawStatus sends one request with a bearer token outside the SDK and returns the status, to
// check what the server thinks of a token.
func rawStatus(t *testing.T, srv *testserver.Server, method, path, token string) int {
	t.Helper()
	return sendStatus(t, method, srv.URL+"/api/client/v2.0"+path, token)
}

// sendStatus sends one request with a bearer token to url and returns the status.
func sendStatus(t *testing.T, method, url, token string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// between reports whether t, a time the server sent, lies from before to after on the server's
// clock, at the wire's whole seconds.
func between(t, before, after time.Time) bool {
	return !t.Before(before.Truncate(time.Second)) && !t.After(after)
}
