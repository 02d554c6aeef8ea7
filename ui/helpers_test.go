package ui_test

import (
	"context"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/testserver"
)

const (
	adminEmail    = "root@example.com"
	adminPassword = "admin password 1"
)

// newConsoleServer starts a server with an admin and a few users of the default app.
func newConsoleServer(t *testing.T) *testserver.Server {
	t.Helper()
	srv := testserver.New(t, testserver.Options{})
	ctx := context.Background()
	if _, err := srv.Service.Admins.CreateAdmin(ctx, adminEmail, adminPassword); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ann", "bob", "cy"} {
		if err := srv.Service.Userpass.Register(ctx, srv.App, name+"@example.com", "password "+name); err != nil {
			t.Fatal(err)
		}
	}
	return srv
}

const (
	userEmail    = "ann@example.com"
	userPassword = "password ann" // newConsoleServer registers ann with it
)

// keyLogIn logs in with a key value, as an SDK would.
func keyLogIn(srv *testserver.Server, value string) error {
	_, err := srv.Service.Auth.LogIn(context.Background(), srv.App, latchkey.Credentials{Provider: latchkey.ProviderAPIKey, Key: value})
	return err
}

// userContext is a context with the user's refresh session, as the key calls need it.
func userContext(t *testing.T, srv *testserver.Server, email, password string) context.Context {
	t.Helper()
	ctx := context.Background()
	login, err := srv.Service.Auth.LogIn(ctx, srv.App, latchkey.Credentials{Provider: latchkey.ProviderUserpass, Username: email, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	auth, err := srv.Service.Auth.Authenticate(ctx, login.RefreshToken, latchkey.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	return latchkey.NewContextWithAuth(ctx, auth)
}
