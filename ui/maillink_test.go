package ui_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/testserver"
)

// sendReset asks for a reset message to email, as the API's reset/send does, and returns it.
func sendReset(t *testing.T, srv *testserver.Server, email string) testserver.Message {
	t.Helper()
	if err := srv.Service.Userpass.SendPasswordReset(context.Background(), srv.App, email); err != nil {
		t.Fatal(err)
	}
	msg, ok := srv.Mailer.Last(email)
	if !ok || msg.Kind != latchkey.UserTokenReset {
		t.Fatalf("message to %s: %+v, %v; want a reset message", email, msg, ok)
	}
	return msg
}

// TestResetPage checks the page a reset link leads to: its form needs no session or CSRF
// token, it keeps the token out of caches, referrers and frames, and a reset on it ends the
// other reset links.
func TestResetPage(t *testing.T) {
	srv := newConsoleServer(t)
	b := newClient(t, srv.URL, nil)
	reset := "/app/" + srv.AppID + "/reset"

	t.Run("Headers", func(t *testing.T) {
		a := b.get(reset + "?token=abc&tokenId=def")
		if a.status != http.StatusOK || !strings.Contains(a.body, `name="token" value="abc"`) {
			t.Fatalf("GET: %d\n%s", a.status, a.body)
		}
		for name, want := range map[string]string{
			"Content-Type":            "text/html; charset=utf-8",
			"Cache-Control":           "no-store",
			"Referrer-Policy":         "no-referrer",
			"X-Frame-Options":         "DENY",
			"X-Content-Type-Options":  "nosniff",
			"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		} {
			if got := a.header.Values(name); len(got) != 1 || got[0] != want {
				t.Errorf("%s = %q, want %q", name, got, want)
			}
		}
	})

	t.Run("EndsOtherResetLinks", func(t *testing.T) {
		first := sendReset(t, srv, userEmail)
		second := sendReset(t, srv, userEmail)
		const newPW = "the second password"
		a := b.post(reset, form("token", second.Token, "tokenId", second.TokenID, "password", newPW, "confirm", newPW))
		if a.status != http.StatusOK || !strings.Contains(a.body, "Password changed") {
			t.Fatalf("reset page: %d, want 200\n%s", a.status, a.body)
		}
		err := srv.Service.Userpass.ResetPassword(context.Background(), srv.App, "a third password", first.Token, first.TokenID)
		if latchkey.ErrorMessage(err) != "invalid token data" {
			t.Fatalf("reset with the first link: %v, want invalid token data", err)
		}
		userContext(t, srv, userEmail, newPW) // logs in
	})
}
