package service_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/internal/teststore"
	"github.com/latchkey/latchkey/postgres"
)

func TestAuditRetention(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	f.login(t, "ann@example.com") // a register and a login event, now
	f.advance(48 * time.Hour)
	if _, err := f.svc.Auth.LogIn(ctx, f.app, latchkey.Credentials{Provider: latchkey.ProviderAnonymous}); err != nil {
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
		_, err := f.svc.Auth.LogIn(ctx, f.app, latchkey.Credentials{Provider: latchkey.ProviderUserpass, Username: username, Password: "wrongpass"})
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
		if _, err := f.svc.Auth.LogIn(ctx, f.app, latchkey.Credentials{Provider: latchkey.ProviderAnonymous}); err != nil {
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

// flakyAuditStore fails its next failures audit writes, as a database that restarts does.
type flakyAuditStore struct {
	latchkey.Store
	failures atomic.Int32
}

func (s *flakyAuditStore) CreateAuditEvents(ctx context.Context, events []*latchkey.AuditEvent) error {
	if s.failures.Add(-1) >= 0 {
		return errors.New("connection refused")
	}
	return s.Store.CreateAuditEvents(ctx, events)
}

// newFixtureOver is newFixtureOn whose service is closed at the end of the test, so that
// the audit events still queued are written before the store closes.
func newFixtureOver(t *testing.T, store latchkey.Store) *fixture {
	t.Helper()
	f := newFixtureOn(t, store, nil)
	t.Cleanup(func() { f.svc.Close() })
	return f
}

// wantEvent checks that the store holds exactly one event of the kind.
func (f *fixture) wantEvent(t *testing.T, event string) {
	t.Helper()
	got, err := f.store.FindAuditEvents(context.Background(), latchkey.AuditFilter{AppID: f.app.ID, Event: event})
	if err != nil || len(got) != 1 {
		t.Fatalf("%s events = %d, %v; want 1", event, len(got), err)
	}
}

func TestAuditRetry(t *testing.T) {
	store := &flakyAuditStore{Store: teststore.Open(t)}
	f := newFixtureOver(t, store)
	ctx, _ := f.login(t, "ann@example.com")
	if err := f.svc.FlushAudit(ctx); err != nil {
		t.Fatal(err)
	}
	store.failures.Store(3)
	if _, err := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "ci"}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.FlushAudit(ctx); err != nil {
		t.Fatal(err)
	}
	if n := store.failures.Load(); n >= 0 {
		t.Fatalf("failures left = %d, want all 3 used", n)
	}
	f.wantEvent(t, latchkey.EventAPIKeyCreated)
	if pending, dropped := f.svc.AuditBacklog(); pending != 0 || dropped != 0 {
		t.Errorf("AuditBacklog = %d, %d; want 0, 0", pending, dropped)
	}
}

// TestAuditSurvivesRestart restarts PostgreSQL (a cluster of the test's own, pg_ctl restart -m
// fast) while the audit writer writes a key's api_key_created event: the event still arrives.
func TestAuditSurvivesRestart(t *testing.T) {
	cluster := pgtest.NewCluster(t)
	url := cluster.NewDatabase()
	store, err := postgres.Open(context.Background(), postgres.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	f := newFixtureOver(t, store)
	ctx, _ := f.login(t, "ann@example.com")
	if err := f.svc.FlushAudit(ctx); err != nil {
		t.Fatal(err)
	}

	// Hold the audit table, so that the writer is inside its write when the server restarts.
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), `LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "ci"}); err != nil {
		t.Fatal(err)
	}
	// Another connection: in a transaction, pg_stat_activity keeps its first snapshot.
	watch, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close(context.Background())
	for waiting := false; !waiting; time.Sleep(10 * time.Millisecond) {
		if err := watch.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND query LIKE '%audit_events%')`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
	}
	cluster.Restart()

	flushCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := f.svc.FlushAudit(flushCtx); err != nil {
		t.Fatal(err)
	}
	// The pool may still hold connections that the restart ended: each answers once with
	// EStoreUnavailable (503 to a client, which tries again).
	for range 20 {
		_, err := store.FindAuditEvents(ctx, latchkey.AuditFilter{AppID: f.app.ID})
		if latchkey.ErrorCode(err) != latchkey.EStoreUnavailable {
			break
		}
	}
	f.wantEvent(t, latchkey.EventAPIKeyCreated)
}
