package service_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/service"
)

// mailer records the tokens the service sends.
type mailer struct {
	mu     sync.Mutex
	tokens map[string][2]string // email -> token, token id
}

func (m *mailer) SendConfirmation(ctx context.Context, app *latchkey.App, email, token, tokenID string) error {
	return m.record(email, token, tokenID)
}

func (m *mailer) SendPasswordReset(ctx context.Context, app *latchkey.App, email, token, tokenID string) error {
	return m.record(email, token, tokenID)
}

func (m *mailer) record(email, token, tokenID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tokens == nil {
		m.tokens = map[string][2]string{}
	}
	m.tokens[email] = [2]string{token, tokenID}
	return nil
}

func (m *mailer) last(email string) (token, tokenID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tokens[email][0], m.tokens[email][1]
}

// observer records the events the service reports.
type observer struct {
	latchkey.NopObserver
	mu     sync.Mutex
	events []string
}

func (o *observer) ObserveEvent(e *latchkey.AuditEvent) {
	o.mu.Lock()
	o.events = append(o.events, e.Event+"/"+e.Outcome+"/"+e.Details["provider"])
	o.mu.Unlock()
}

func TestTokenLifetimes(t *testing.T) {
	f := newFixture(t, func(a *latchkey.App) { a.AutoConfirm = false })
	m := &mailer{}
	svc, err := service.New(context.Background(), service.Config{
		Store: f.store, Now: f.Now, Mailer: m, Issuer: "http://latchkey.test", SecretKey: secretKey,
		ConfirmTokenLifetime: time.Hour, ResetTokenLifetime: 5 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	ctx := context.Background()

	t.Run("Confirm", func(t *testing.T) {
		if err := svc.Userpass.Register(ctx, f.app, "late@example.com", "s3cretpass"); err != nil {
			t.Fatal(err)
		}
		token, id := m.last("late@example.com")
		f.advance(time.Hour + time.Second)
		if err := svc.Userpass.Confirm(ctx, f.app, token, id); latchkey.ErrorCode(err) != latchkey.EBadRequest {
			t.Fatalf("confirm after the configured hour: %v, want %s", err, latchkey.EBadRequest)
		}
		if err := svc.Userpass.ResendConfirmation(ctx, f.app, "late@example.com"); err != nil {
			t.Fatal(err)
		}
		token, id = m.last("late@example.com")
		f.advance(time.Hour - time.Minute)
		if err := svc.Userpass.Confirm(ctx, f.app, token, id); err != nil {
			t.Fatalf("confirm within the hour: %v", err)
		}
	})

	t.Run("Reset", func(t *testing.T) {
		if err := svc.Userpass.SendPasswordReset(ctx, f.app, "late@example.com"); err != nil {
			t.Fatal(err)
		}
		token, id := m.last("late@example.com")
		f.advance(5*time.Minute + time.Second)
		if err := svc.Userpass.ResetPassword(ctx, f.app, "n3wpassword", token, id); latchkey.ErrorCode(err) != latchkey.EBadRequest {
			t.Fatalf("reset after the configured 5 minutes: %v, want %s", err, latchkey.EBadRequest)
		}
	})
}

func TestObserver(t *testing.T) {
	f := newFixture(t, nil)
	o := &observer{}
	svc, err := service.New(context.Background(), service.Config{Store: f.store, Now: f.Now, Observer: o, Issuer: "http://latchkey.test", SecretKey: secretKey})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	ctx := context.Background()
	if _, err := svc.Auth.LogIn(ctx, f.app, latchkey.Credentials{Provider: latchkey.ProviderAnonymous}); err != nil {
		t.Fatal(err)
	}
	svc.Auth.LogIn(ctx, f.app, latchkey.Credentials{Provider: latchkey.ProviderUserpass, Username: "nobody@example.com", Password: "wrongpass"})

	o.mu.Lock()
	defer o.mu.Unlock()
	want := []string{"login/success/anon-user", "login/failure/local-userpass"}
	if len(o.events) != 2 || o.events[0] != want[0] || o.events[1] != want[1] {
		t.Errorf("events = %q, want %q", o.events, want)
	}
}

func TestCheckReady(t *testing.T) {
	f := newFixture(t, nil)
	if err := f.svc.CheckReady(context.Background()); err != nil {
		t.Fatalf("CheckReady: %v", err)
	}
	if waiting, running := f.svc.PasswordHashQueue(); waiting != 0 || running != 0 {
		t.Errorf("PasswordHashQueue() = %d, %d at rest, want 0, 0", waiting, running)
	}
	f.store.Close()
	if err := f.svc.CheckReady(context.Background()); err == nil {
		t.Fatal("CheckReady with the store closed = nil, want an error")
	}
}
