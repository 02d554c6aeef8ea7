package service

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// downStore is a store whose database never answers an audit write.
type downStore struct{ latchkey.Store }

func (downStore) CreateAuditEvents(context.Context, []*latchkey.AuditEvent) error {
	return errors.New("connection refused")
}

// TestAuditorBound checks that the events held for a database that is away are bounded:
// past the bound, and at a shutdown that the database does not come back for, events are
// dropped and counted, never silently.
func TestAuditorBound(t *testing.T) {
	a := &auditor{store: downStore{}, logger: slog.New(slog.DiscardHandler), queue: make(chan auditItem, 16),
		done: make(chan struct{}), maxPending: 2, retryMin: time.Millisecond, retryMax: time.Millisecond}
	go a.run()
	for range 5 {
		a.record(&latchkey.AuditEvent{ID: latchkey.NewID(time.Now()), Event: latchkey.EventLogin})
	}
	for a.pendingNow.Load()+a.dropped.Load() < 5 {
		time.Sleep(time.Millisecond)
	}
	if pending, dropped := a.pendingNow.Load(), a.dropped.Load(); pending != 2 || dropped != 3 {
		t.Fatalf("pending, dropped = %d, %d; want 2, 3", pending, dropped)
	}
	a.close() // closeTimeout 0: the database is not waited for
	if dropped := a.dropped.Load(); dropped != 5 {
		t.Fatalf("dropped after close = %d, want 5", dropped)
	}
}
