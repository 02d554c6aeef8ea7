package service_test

import (
	"context"
	"testing"
	"time"

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
