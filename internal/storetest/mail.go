package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// mailCases are the cases of latchkey.MailStore: the cooldown and the cap checked with the
// insert, also under concurrent sends, and the prune.
var mailCases = []storeCase{
	{"Cooldown", testMailCooldown},
	{"Cap", testMailCap},
	{"Concurrent", testMailConcurrent},
	{"Prune", testMailPrune},
}

func testMailCooldown(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	ann, t0 := randomBytes(t, 32), now()
	limit := latchkey.MailLimit{Cooldown: time.Minute}
	if err := s.CreateMailSend(t.Context(), newMailSend(app.ID, ann, latchkey.UserTokenReset, t0), limit); err != nil {
		t.Fatal(err)
	}
	// The cooldown holds across kinds.
	for _, kind := range []string{latchkey.UserTokenReset, latchkey.UserTokenConfirm} {
		err := s.CreateMailSend(t.Context(), newMailSend(app.ID, ann, kind, t0.Add(59*time.Second)), limit)
		assertCode(t, err, latchkey.ELimitReached)
	}
	// Other recipients, and the same recipient in another app, are not held back.
	if err := s.CreateMailSend(t.Context(), newMailSend(app.ID, randomBytes(t, 32), latchkey.UserTokenReset, t0), limit); err != nil {
		t.Fatal(err)
	}
	other := mustCreateApp(t, s)
	if err := s.CreateMailSend(t.Context(), newMailSend(other.ID, ann, latchkey.UserTokenReset, t0), limit); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateMailSend(t.Context(), newMailSend(app.ID, ann, latchkey.UserTokenConfirm, t0.Add(time.Minute)), limit); err != nil {
		t.Fatalf("a minute later: %v", err)
	}
}

func testMailCap(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	ann, t0 := randomBytes(t, 32), now()
	limit := latchkey.MailLimit{Max: 3, Window: time.Hour}
	for i := range 3 {
		if err := s.CreateMailSend(t.Context(), newMailSend(app.ID, ann, latchkey.UserTokenReset, t0.Add(time.Duration(i)*time.Minute)), limit); err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
	}
	// Refused messages are not recorded, so they do not push the next one further away.
	for range 5 {
		err := s.CreateMailSend(t.Context(), newMailSend(app.ID, ann, latchkey.UserTokenReset, t0.Add(30*time.Minute)), limit)
		assertCode(t, err, latchkey.ELimitReached)
	}
	// The cap counts each kind apart.
	if err := s.CreateMailSend(t.Context(), newMailSend(app.ID, ann, latchkey.UserTokenConfirm, t0.Add(30*time.Minute)), limit); err != nil {
		t.Fatal(err)
	}
	// An hour after the first message, one more fits; not two.
	if err := s.CreateMailSend(t.Context(), newMailSend(app.ID, ann, latchkey.UserTokenReset, t0.Add(time.Hour)), limit); err != nil {
		t.Fatalf("an hour later: %v", err)
	}
	err := s.CreateMailSend(t.Context(), newMailSend(app.ID, ann, latchkey.UserTokenReset, t0.Add(time.Hour)), limit)
	assertCode(t, err, latchkey.ELimitReached)
}

func testMailConcurrent(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	ann, t0 := randomBytes(t, 32), now()
	limit := latchkey.MailLimit{Max: 5, Window: time.Hour}
	var wg sync.WaitGroup
	var mu sync.Mutex
	sent := 0
	for range 35 {
		wg.Go(func() {
			err := s.CreateMailSend(t.Context(), newMailSend(app.ID, ann, latchkey.UserTokenReset, t0), limit)
			if err != nil && latchkey.ErrorCode(err) != latchkey.ELimitReached {
				t.Errorf("CreateMailSend: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				sent++
			}
		})
	}
	wg.Wait()
	if sent != limit.Max {
		t.Fatalf("%d of 35 concurrent messages recorded, want %d", sent, limit.Max)
	}
}

func testMailPrune(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	ann, bob, t0 := randomBytes(t, 32), randomBytes(t, 32), now()
	limit := latchkey.MailLimit{Cooldown: time.Minute, Max: 5, Window: time.Hour}
	for _, m := range []*latchkey.MailSend{
		newMailSend(app.ID, ann, latchkey.UserTokenReset, t0),
		newMailSend(app.ID, bob, latchkey.UserTokenReset, t0),
		newMailSend(app.ID, bob, latchkey.UserTokenReset, t0.Add(30*time.Minute)),
		// Two hours on, ann's first record has left both periods and goes.
		newMailSend(app.ID, ann, latchkey.UserTokenReset, t0.Add(2*time.Hour)),
	} {
		if err := s.CreateMailSend(t.Context(), m, limit); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.DeleteMailSendsBefore(t.Context(), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	} else if n != 2 {
		t.Fatalf("DeleteMailSendsBefore deleted %d records, want bob's 2", n)
	}
	if err := s.DeleteApp(t.Context(), app.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteMailSendsBefore(t.Context(), t0.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	} else if n != 0 {
		t.Fatalf("%d records outlived their app", n)
	}
}

// newMailSend returns a record of a message of the kind sent to recipient at at.
func newMailSend(appID string, recipient []byte, kind string, at time.Time) *latchkey.MailSend {
	return &latchkey.MailSend{AppID: appID, Recipient: recipient, Kind: kind, SentAt: at}
}
