package httpapi_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/testserver"
	"github.com/latchkey/latchkey/metrics"
	"github.com/latchkey/latchkey/service"
)

// TestMailLimits floods reset/send and confirm/send for one address: every request answers
// 204 as a sent message does, and the address receives at most the cooldown and the hourly
// cap allow. The clock is the server's, moved by the test.
func TestMailLimits(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	m := metrics.New()
	limits := service.DefaultMailLimits() // one a minute, five an hour
	e := &env{Server: testserver.New(t, testserver.Options{
		MailLimits: &limits, Observer: m,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
	})}
	resetSend := func(t *testing.T, app, email string) {
		t.Helper()
		e.do(t, "POST", userpassPath(app, "/reset/send"), "", map[string]string{"email": email}).wantEmpty(t, http.StatusNoContent)
	}

	t.Run("HourlyCap", func(t *testing.T) {
		u := e.newUser(t, e.AppID)
		for range 35 {
			resetSend(t, e.AppID, u.Email)
			e.Clock.Advance(61 * time.Second) // past the cooldown; 35 of them stay within the hour
		}
		if got := e.Mailer.Count(u.Email); got != limits.PerHour {
			t.Fatalf("35 reset requests within the hour sent %d messages, want %d", got, limits.PerHour)
		}
		// An hour after the first, the first has left the window: one more goes.
		e.Clock.Advance(time.Hour - 35*61*time.Second)
		resetSend(t, e.AppID, u.Email)
		if got := e.Mailer.Count(u.Email); got != limits.PerHour+1 {
			t.Fatalf("after the hour: %d messages, want %d", got, limits.PerHour+1)
		}
		// The messages that went carry working links.
		msg := lastMessage(t, e.Mailer, u.Email, latchkey.UserTokenReset)
		e.do(t, "POST", userpassPath(e.AppID, "/reset"), "", map[string]string{"password": e.newPassword(), "token": msg.Token, "tokenId": msg.TokenID}).
			wantEmpty(t, http.StatusNoContent)
	})

	t.Run("Cooldown", func(t *testing.T) {
		e.Clock.Advance(time.Hour)
		u := e.newUser(t, e.AppID)
		for range 35 {
			resetSend(t, e.AppID, " "+strings.ToUpper(u.Email)) // one recipient however written
		}
		if got := e.Mailer.Count(u.Email); got != 1 {
			t.Fatalf("35 reset requests at once sent %d messages, want 1", got)
		}
		e.Clock.Advance(time.Minute)
		resetSend(t, e.AppID, u.Email)
		if got := e.Mailer.Count(u.Email); got != 2 {
			t.Fatalf("a minute later: %d messages, want 2", got)
		}
	})

	t.Run("ConfirmSend", func(t *testing.T) {
		e.Clock.Advance(time.Hour)
		app := e.CreateApp(t, "mail-limits-confirm", func(a *latchkey.App) { a.AutoConfirm = false }).ClientAppID
		email := e.newEmail()
		e.register(t, app, email, e.newPassword())
		for range 34 {
			e.do(t, "POST", userpassPath(app, "/confirm/send"), "", map[string]string{"email": email}).wantEmpty(t, http.StatusNoContent)
		}
		// The registration's message is the one the cooldown lets through.
		if got := e.Mailer.Count(email); got != 1 {
			t.Fatalf("a registration and 34 confirm/send sent %d messages, want 1", got)
		}
		// The cooldown spans kinds: a reset right after is held back too.
		resetSend(t, app, email)
		if got := e.Mailer.Count(email); got != 1 {
			t.Fatalf("a reset within the cooldown sent a message")
		}
	})

	t.Run("ObservedAndLogged", func(t *testing.T) {
		// Resets: 30 over the cap, 34 in the cooldown, 1 after the registration; confirms: 34.
		// Metrics have a listener of their own: ask their handler directly.
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		body := rec.Body.Bytes()
		for _, want := range []string{
			`latchkey_mail_messages_total{kind="reset",outcome="suppressed"} 65`,
			`latchkey_mail_messages_total{kind="confirm",outcome="suppressed"} 34`,
		} {
			if !strings.Contains(string(body), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		n := 0
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, `"msg":"mail suppressed"`) {
				n++
				if strings.Contains(line, "@") {
					t.Errorf("the log line names an address: %s", line)
				}
			}
		}
		if n != 65+34 {
			t.Errorf("%d mail suppressed log lines, want %d", n, 65+34)
		}
	})
}
