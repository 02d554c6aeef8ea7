package ui_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/testserver"
	"github.com/latchkey/latchkey/service"
)

// TestSignInTooManyAttempts: a locked or rate-limited account meets its sign-in page again,
// with 429, Retry-After and when to try again, on both sign-in pages.
func TestSignInTooManyAttempts(t *testing.T) {
	pages := []struct {
		name, path, email, password string
	}{
		{"Console", "/console/sign-in", adminEmail, adminPassword},
		{"Account", "/app/test-app/account/", userEmail, userPassword},
	}
	for _, tt := range []struct {
		name     string
		limits   service.Limits
		refusals int    // wrong passwords sent before the attempt that is refused
		message  string // what the refused page says
		retry    string // its Retry-After
	}{
		{
			name:   "Lockout",
			limits: service.Limits{LockoutFailures: 3, LockoutDuration: 15 * time.Minute},
			// The third wrong password locks the account for 15 minutes.
			refusals: 3, message: "Too many attempts; try again in 15 minutes.", retry: "900",
		},
		{
			name:     "LockoutOfNinetySeconds",
			limits:   service.Limits{LockoutFailures: 2, LockoutDuration: 90 * time.Second},
			refusals: 2, message: "Too many attempts; try again in 2 minutes.", retry: "90",
		},
		{
			name: "RateLimit",
			// Two attempts from one address per 20 minutes: the next token comes in 10.
			limits:   service.Limits{PerIP: service.Rate{N: 2, Per: 20 * time.Minute}},
			refusals: 2, message: "Too many attempts; try again in 10 minutes.", retry: "600",
		},
		{
			name:     "RateLimitOfAMinute",
			limits:   service.Limits{PerIP: service.Rate{N: 1, Per: time.Minute}},
			refusals: 1, message: "Too many attempts; try again in 1 minute.", retry: "60",
		},
		{
			name:     "RateLimitUnderAMinute",
			limits:   service.Limits{PerIP: service.Rate{N: 1, Per: 30 * time.Second}},
			refusals: 1, message: "Too many attempts; try again in a minute.", retry: "30",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, pg := range pages {
				t.Run(pg.name, func(t *testing.T) {
					srv := newLimitedServer(t, tt.limits)
					b := newClient(t, srv.URL, nil)
					action := pg.path
					if !strings.HasPrefix(pg.path, "/console") {
						action += "sign-in"
					}
					tok := b.csrf(pg.path)
					for i := range tt.refusals {
						if a := b.post(action, form("csrf", tok, "email", pg.email, "password", "wrong password")); a.status != http.StatusUnauthorized {
							t.Fatalf("wrong password %d: %d, want 401", i+1, a.status)
						}
					}
					// Now even the right password is refused, with the page and not an error.
					a := b.post(action, form("csrf", tok, "email", pg.email, "password", pg.password))
					if a.status != http.StatusTooManyRequests {
						t.Fatalf("sign in: %d, want 429\n%s", a.status, a.body)
					}
					if got := a.header.Get("Retry-After"); got != tt.retry {
						t.Errorf("Retry-After = %q, want %q", got, tt.retry)
					}
					if !strings.Contains(a.body, `role="alert">`+tt.message+`</p>`) {
						t.Errorf("page lacks %q:\n%s", tt.message, a.body)
					}
					if !strings.Contains(a.body, `action="`+action+`"`) || !strings.Contains(a.body, `value="`+pg.email+`"`) {
						t.Errorf("page lacks the sign-in form with the email kept:\n%s", a.body)
					}
					if strings.Contains(a.body, "Something went wrong") {
						t.Errorf("page says something went wrong:\n%s", a.body)
					}
					if pg.name == "Account" && !strings.Contains(a.body, `<span class="brand">`+srv.App.Name+` <span>account</span>`) {
						t.Errorf("header lacks the app's name %q:\n%s", srv.App.Name, a.body)
					}
				})
			}
		})
	}
}

// newLimitedServer is newConsoleServer with the given brute-force limits and a frozen clock,
// so that a wait does not depend on how fast the test runs.
func newLimitedServer(t *testing.T, limits service.Limits) *testserver.Server {
	t.Helper()
	srv := testserver.New(t, testserver.Options{Limits: &limits})
	ctx := context.Background()
	if _, err := srv.Service.Admins.CreateAdmin(ctx, adminEmail, adminPassword); err != nil {
		t.Fatal(err)
	}
	if err := srv.Service.Userpass.Register(ctx, srv.App, userEmail, userPassword); err != nil {
		t.Fatal(err)
	}
	srv.Clock.Freeze()
	return srv
}
