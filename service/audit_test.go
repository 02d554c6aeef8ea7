package service_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/latchkey/latchkey"
)

func TestAuditRetention(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	f.login(t, "ann@example.com") // a register and a login event, now
	f.advance(48 * time.Hour)
	if _, err := f.svc.LogIn(ctx, f.app, latchkey.Credentials{Provider: latchkey.ProviderAnonymous}); err != nil {
		t.Fatal(err) // a login event, two days later
	}
	if err := f.svc.FlushAudit(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := f.svc.DeleteOldAuditEvents(ctx, 24*time.Hour)
	if err != nil || n != 2 {
		t.Fatalf("DeleteOldAuditEvents = %d, %v; want the 2 events older than a day", n, err)
	}
	left, err := f.store.FindAuditEvents(ctx, latchkey.AuditFilter{AppID: f.app.ID})
	if err != nil || len(left) != 1 || left[0].Event != latchkey.EventLogin {
		t.Fatalf("events left = %v, %v; want the later login", left, err)
	}
}

// TestAuditBoundsCallerText checks that what an unauthenticated caller sends is kept bounded
// and visible: a failed login's username is cut, and bidi controls are written out.
func TestAuditBoundsCallerText(t *testing.T) {
	failedLoginEmail := func(t *testing.T, f *fixture, username string) string {
		t.Helper()
		ctx := context.Background()
		_, err := f.svc.LogIn(ctx, f.app, latchkey.Credentials{Provider: latchkey.ProviderUserpass, Username: username, Password: "wrongpass"})
		wantCode(t, err, latchkey.EInvalidPassword)
		if err := f.svc.FlushAudit(ctx); err != nil {
			t.Fatal(err)
		}
		events, err := f.store.FindAuditEvents(ctx, latchkey.AuditFilter{AppID: f.app.ID, Event: latchkey.EventLogin})
		if err != nil || len(events) != 1 {
			t.Fatalf("login events = %v, %v; want the one failure", events, err)
		}
		return events[0].Details["email"]
	}
	t.Run("LongUsername", func(t *testing.T) {
		f := newFixture(t, nil)
		got := failedLoginEmail(t, f, strings.Repeat("a", 60<<10)+"@example.com")
		if want := strings.Repeat("a", 256) + "…(cut)"; got != want {
			t.Fatalf("stored email = %d runes %q…, want the first 256 runes and the cut marker", utf8.RuneCountInString(got), got[:min(len(got), 40)])
		}
	})
	t.Run("Bidi", func(t *testing.T) {
		f := newFixture(t, nil)
		if got, want := failedLoginEmail(t, f, "ann\u202Emoc.elpmaxe@evil.example"), `ann\u{202E}moc.elpmaxe@evil.example`; got != want {
			t.Fatalf("stored email = %q, want %q", got, want)
		}
	})
	t.Run("EscapedThenCut", func(t *testing.T) {
		// Escapes count toward the bound: 100 controls are 800 runes once written out.
		f := newFixture(t, nil)
		got := failedLoginEmail(t, f, strings.Repeat("\u202E", 100))
		if n := utf8.RuneCountInString(got); n != 256+utf8.RuneCountInString("…(cut)") || !strings.HasPrefix(got, `\u{202E}\u{202E}`) || strings.ContainsRune(got, '\u202E') {
			t.Fatalf("stored email = %q (%d runes), want escaped text cut to 256 runes", got, n)
		}
	})
}

func TestAuditSizeBound(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	for range 3 {
		if _, err := f.svc.LogIn(ctx, f.app, latchkey.Credentials{Provider: latchkey.ProviderAnonymous}); err != nil {
			t.Fatal(err)
		}
	}
	// Unflushed on purpose: the bound counts the events still queued.
	f.login(t, "ann@example.com") // a register and a login event, the newest two
	if n, err := f.svc.DeleteExcessAuditEvents(ctx, 0); err != nil || n != 0 {
		t.Fatalf("DeleteExcessAuditEvents(0) = %d, %v; want 0, nil: no bound", n, err)
	}
	n, err := f.svc.DeleteExcessAuditEvents(ctx, 2)
	if err != nil || n != 3 {
		t.Fatalf("DeleteExcessAuditEvents(2) = %d, %v; want the 3 oldest deleted", n, err)
	}
	left, err := f.store.FindAuditEvents(ctx, latchkey.AuditFilter{AppID: f.app.ID})
	if err != nil || len(left) != 2 || left[0].Event != latchkey.EventLogin || left[1].Event != latchkey.EventRegister {
		t.Fatalf("events left = %v, %v; want ann's register and login", left, err)
	}
}
