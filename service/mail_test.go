package service_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/service"
)

// countingMailer counts the messages sent to each address.
type countingMailer struct {
	mu   sync.Mutex
	sent map[string]int
}

func (m *countingMailer) SendConfirmation(ctx context.Context, app *latchkey.App, email, token, tokenID string) error {
	return m.count(email)
}

func (m *countingMailer) SendPasswordReset(ctx context.Context, app *latchkey.App, email, token, tokenID string) error {
	return m.count(email)
}

func (m *countingMailer) count(email string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sent == nil {
		m.sent = map[string]int{}
	}
	m.sent[email]++
	return nil
}

func (m *countingMailer) get(email string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sent[email]
}

// TestMailLimitsAcrossNodes sends reset messages through two services over one store, as
// two nodes over one database: the limits count the messages of both.
func TestMailLimitsAcrossNodes(t *testing.T) {
	f := newFixture(t, nil)
	m := &countingMailer{}
	var nodes []*service.Service
	for range 2 {
		svc, err := service.New(context.Background(), service.Config{
			Store: f.store, Now: f.Now, Mailer: m, Issuer: "http://latchkey.test", SecretKey: secretKey,
			MailLimits: &service.MailLimits{Cooldown: time.Minute, PerHour: 3},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer svc.Close()
		nodes = append(nodes, svc)
	}
	ctx := context.Background()
	f.login(t, "ann@example.com")

	for i := range 20 {
		if err := nodes[i%2].Userpass.SendPasswordReset(ctx, f.app, "ann@example.com"); err != nil {
			t.Fatalf("reset %d: %v", i+1, err)
		}
		f.advance(10 * time.Second)
	}
	// 200 seconds: the cooldown lets one a minute through, and the cap stops at three.
	if got := m.get("ann@example.com"); got != 3 {
		t.Fatalf("20 resets through two nodes sent %d messages, want 3", got)
	}

	t.Run("ZeroLimitsNothing", func(t *testing.T) {
		svc, err := service.New(ctx, service.Config{Store: f.store, Now: f.Now, Mailer: m, Issuer: "http://latchkey.test",
			SecretKey: secretKey, MailLimits: &service.MailLimits{}})
		if err != nil {
			t.Fatal(err)
		}
		defer svc.Close()
		f.login(t, "bob@example.com")
		for range 10 {
			if err := svc.Userpass.SendPasswordReset(ctx, f.app, "bob@example.com"); err != nil {
				t.Fatal(err)
			}
		}
		if got := m.get("bob@example.com"); got != 10 {
			t.Fatalf("without limits: %d messages, want 10", got)
		}
	})

	t.Run("DeleteOldMailSends", func(t *testing.T) {
		f.advance(time.Hour + time.Second)
		n, err := nodes[0].DeleteOldMailSends(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// ann's three records and bob's ten have left the hour.
		if n != 13 {
			t.Fatalf("deleted %d records, want 13", n)
		}
	})
}
