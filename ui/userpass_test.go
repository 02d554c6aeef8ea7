package ui_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/service"
)

const resetSent = "If an account exists for that address, we sent a link to it."

// TestForgotPassword: the self-service sign-in page links to a form that sends a password
// reset message, and answers alike whether or not the address has an account.
func TestForgotPassword(t *testing.T) {
	srv := newConsoleServer(t)
	account := "/app/" + srv.AppID + "/account/"
	forgot := account + "forgot"
	b := newClient(t, srv.URL, nil)

	if a := b.get(account); !strings.Contains(a.body, `<a href="`+forgot+`">Forgot your password?</a>`) {
		t.Fatalf("the sign-in page has no link to %s:\n%s", forgot, a.body)
	}
	a := b.get(forgot)
	if a.status != http.StatusOK || !strings.Contains(a.body, `<form method="post" action="`+forgot+`"`) {
		t.Fatalf("GET %s: %d, want 200 with the form\n%s", forgot, a.status, a.body)
	}
	tok := b.csrf(forgot)

	t.Run("OK", func(t *testing.T) {
		a := b.post(forgot, form("csrf", tok, "email", userEmail))
		if a.status != http.StatusOK || !strings.Contains(a.body, resetSent) {
			t.Fatalf("POST: %d, want 200 saying %q\n%s", a.status, resetSent, a.body)
		}
		msg, ok := srv.Mailer.Last(userEmail)
		if !ok || msg.Kind != latchkey.UserTokenReset || msg.App != srv.AppID {
			t.Fatalf("message to %s: %+v, %v; want a reset message", userEmail, msg, ok)
		}
		// The token works as the API's reset/send's would.
		if err := srv.Service.Userpass.ResetPassword(t.Context(), srv.App, "a new password", msg.Token, msg.TokenID); err != nil {
			t.Fatalf("reset with the sent token: %v", err)
		}
	})

	for _, tt := range []struct{ name, email string }{
		{"UnknownEmail", "nobody@example.com"},
		{"NotAnEmail", "not an address"},
		{"Empty", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := b.post(forgot, form("csrf", tok, "email", tt.email))
			if a.status != http.StatusOK || !strings.Contains(a.body, resetSent) {
				t.Fatalf("POST: %d, want 200 saying %q\n%s", a.status, resetSent, a.body)
			}
			if _, ok := srv.Mailer.Last(tt.email); ok {
				t.Fatalf("a message was sent to %q", tt.email)
			}
		})
	}

	t.Run("TooManyRequests", func(t *testing.T) {
		srv := newLimitedServer(t, service.Limits{PerIP: service.Rate{N: 1, Per: 20 * time.Minute}})
		b := newClient(t, srv.URL, nil)
		tok := b.csrf(forgot)
		if a := b.post(forgot, form("csrf", tok, "email", userEmail)); a.status != http.StatusOK {
			t.Fatalf("first POST: %d, want 200", a.status)
		}
		a := b.post(forgot, form("csrf", tok, "email", userEmail))
		if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") != "1200" {
			t.Fatalf("second POST: %d, Retry-After %q; want 429, 1200", a.status, a.header.Get("Retry-After"))
		}
		if want := "Too many attempts; try again in 20 minutes."; !strings.Contains(a.body, want) || strings.Contains(a.body, resetSent) {
			t.Fatalf("page does not say %q alone:\n%s", want, a.body)
		}
		if !strings.Contains(a.body, `value="`+userEmail+`"`) {
			t.Fatalf("the form does not keep the email:\n%s", a.body)
		}
	})
}
