package sqlite_test

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// TestGroupCommit sends session inserts that succeed and fail at the same time, so that they
// share commits: each must get its own answer, and a failure must not undo the others.
func TestGroupCommit(t *testing.T) {
	s := MustOpen(t, filepath.Join(t.TempDir(), "data", "latchkey.db"))
	app, u, k := populate(t, s)
	ctx := t.Context()
	if err := s.SetAPIKeyDisabled(ctx, u.ID, k.ID, true); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	taken := &latchkey.Session{ID: latchkey.NewID(now), AppID: app.ID, UserID: u.ID, DeviceID: latchkey.ZeroID,
		Provider: latchkey.ProviderAnonymous, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateSession(ctx, taken); err != nil {
		t.Fatal(err)
	}

	const n = 60
	sessions := make([]*latchkey.Session, n)
	codes := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		sess := *taken
		sess.ID = latchkey.NewID(now)
		switch i % 3 {
		case 1: // the id is taken
			sess.ID = taken.ID
		case 2: // the key is disabled
			sess.APIKeyID, sess.Provider = k.ID, latchkey.ProviderAPIKey
		}
		sessions[i] = &sess
		wg.Go(func() { codes[i] = latchkey.ErrorCode(s.CreateSession(ctx, sessions[i])) })
	}
	wg.Wait()
	for i, sess := range sessions {
		want := []string{"", latchkey.EConflict, latchkey.ENotFound}[i%3]
		if codes[i] != want {
			t.Errorf("session %d: error code %q, want %q", i, codes[i], want)
		}
		if i%3 == 0 {
			if _, err := s.FindSession(ctx, sess.ID); err != nil {
				t.Errorf("session %d: %v", i, err)
			}
		}
	}
	// A touch of a key that is gone fails alone too.
	if err := s.TouchAPIKey(ctx, latchkey.NewID(now), now); latchkey.ErrorCode(err) != latchkey.ENotFound {
		t.Errorf("TouchAPIKey of a missing key: %v, want ENotFound", err)
	}
}
