package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// feedCursor returns the store's current cursor: what FindAPIKeyChanges(0) returns, with no
// changes.
func feedCursor(t *testing.T, s latchkey.Store) int64 {
	t.Helper()
	changes, next, err := s.FindAPIKeyChanges(t.Context(), 0)
	if err != nil {
		t.Fatalf("FindAPIKeyChanges(0): %v", err)
	}
	if len(changes) != 0 {
		t.Fatalf("FindAPIKeyChanges(0) = %+v, want no changes", changes)
	}
	if next == 0 {
		t.Fatal("FindAPIKeyChanges(0): next cursor 0, which asks for no past again")
	}
	return next
}

// pollChanges returns the changes since *cursor and moves *cursor on.
func pollChanges(t *testing.T, s latchkey.Store, cursor *int64) []latchkey.APIKeyChange {
	t.Helper()
	changes, next, err := s.FindAPIKeyChanges(t.Context(), *cursor)
	if err != nil {
		t.Fatalf("FindAPIKeyChanges(%d): %v", *cursor, err)
	}
	if next == 0 {
		t.Fatalf("FindAPIKeyChanges(%d): next cursor 0", *cursor)
	}
	*cursor = next
	return changes
}

// hasChange reports whether changes hold c.
func hasChange(changes []latchkey.APIKeyChange, c latchkey.APIKeyChange) bool {
	for _, got := range changes {
		if got == c {
			return true
		}
	}
	return false
}

// mentions reports whether any of changes names id, as a key, user or app.
func mentions(changes []latchkey.APIKeyChange, id string) bool {
	for _, c := range changes {
		if c.KeyID == id || c.UserID == id || c.AppID == id {
			return true
		}
	}
	return false
}

// Each kind of write that a verify answer depends on records a change of its own: every
// case writes to a key, user or app that nothing changed before, so that a change that comes
// again (allowed) cannot stand in for a missing one.
func testVerifyFeedRecordsWrites(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, app, u := openWithUser(t, open)
	ctx := t.Context()
	cursor := feedCursor(t, s)

	disabled := newAPIKey(t, u, "to-enable")
	disabled.Disabled = true
	if err := s.CreateAPIKey(ctx, disabled, latchkey.MaxAPIKeysPerUser); err != nil {
		t.Fatal(err)
	}
	graced := newAPIKey(t, u, "to-end-grace")
	graced.PreviousHash, graced.PreviousExpiresAt = randomBytes(t, 32), timePtr(now().Add(time.Hour))
	if err := s.CreateAPIKey(ctx, graced, latchkey.MaxAPIKeysPerUser); err != nil {
		t.Fatal(err)
	}
	keys := map[string]*latchkey.APIKey{"to-enable": disabled, "to-end-grace": graced}
	withUses := mustCreateKeyWith(t, s, u, "to-remove-remaining", 5, nil, nil)
	for _, name := range []string{"to-disable", "to-delete", "to-rotate", "to-limit"} {
		keys[name] = mustCreateAPIKey(t, s, u, name)
	}
	toDisable := mustCreateUser(t, s, app.ID, "disable@example.com")
	toDelete := mustCreateUser(t, s, app.ID, "delete@example.com")
	other := mustCreateApp(t, s)
	// Creating records nothing.
	for _, c := range pollChanges(t, s, &cursor) {
		t.Fatalf("a create recorded %+v", c)
	}

	writes := []struct {
		name  string
		write func() error
		want  latchkey.APIKeyChange
	}{
		{"DisableKey", func() error { return s.SetAPIKeyDisabled(ctx, u.ID, keys["to-disable"].ID, true) },
			latchkey.APIKeyChange{KeyID: keys["to-disable"].ID}},
		{"EnableKey", func() error { return s.SetAPIKeyDisabled(ctx, u.ID, disabled.ID, false) },
			latchkey.APIKeyChange{KeyID: disabled.ID}},
		{"DeleteKey", func() error { return s.DeleteAPIKey(ctx, u.ID, keys["to-delete"].ID) },
			latchkey.APIKeyChange{KeyID: keys["to-delete"].ID}},
		{"RotateKey", func() error {
			k := *keys["to-rotate"]
			k.Hash, k.PreviousExpiresAt = randomBytes(t, 32), timePtr(now().Add(time.Hour))
			return s.RotateAPIKey(ctx, &k, now())
		}, latchkey.APIKeyChange{KeyID: keys["to-rotate"].ID}},
		{"EndAPIKeyGrace", func() error { return s.EndAPIKeyGrace(ctx, u.ID, graced.ID, graced.PreviousHash, now()) },
			latchkey.APIKeyChange{KeyID: graced.ID}},
		{"DisableUser", func() error { return s.SetUserDisabled(ctx, app.ID, toDisable.ID, true) },
			latchkey.APIKeyChange{UserID: toDisable.ID}},
		{"DeleteUser", func() error { return s.DeleteUser(ctx, app.ID, toDelete.ID) },
			latchkey.APIKeyChange{UserID: toDelete.ID}},
		{"SetAPIKeyLimits", func() error {
			meta := json.RawMessage(`{"plan":"pro"}`)
			_, err := s.SetAPIKeyLimits(ctx, u.ID, keys["to-limit"].ID, latchkey.APIKeyLimits{Meta: &meta}, now())
			return err
		}, latchkey.APIKeyChange{KeyID: keys["to-limit"].ID}},
		{"RemoveRemaining", func() error {
			var none *int64
			_, err := s.SetAPIKeyLimits(ctx, u.ID, withUses.ID, latchkey.APIKeyLimits{Remaining: &none}, now())
			return err
		}, latchkey.APIKeyChange{KeyID: withUses.ID}},
		{"DeleteApp", func() error { return s.DeleteApp(ctx, other.ID) },
			latchkey.APIKeyChange{AppID: other.ID}},
	}
	for _, w := range writes {
		if err := w.write(); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		if changes := pollChanges(t, s, &cursor); !hasChange(changes, w.want) {
			t.Errorf("%s: changes %+v, want %+v among them", w.name, changes, w.want)
		}
	}
}

// A user's delete records the user and each of its keys, which go with it.
func testVerifyFeedCascade(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, app, u := openWithUser(t, open)
	a, b := mustCreateAPIKey(t, s, u, "a"), mustCreateAPIKey(t, s, u, "b")
	cursor := feedCursor(t, s)
	if err := s.DeleteUser(t.Context(), app.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	changes := pollChanges(t, s, &cursor)
	for _, want := range []latchkey.APIKeyChange{{UserID: u.ID}, {KeyID: a.ID}, {KeyID: b.ID}} {
		if !hasChange(changes, want) {
			t.Errorf("changes %+v, want %+v among them", changes, want)
		}
	}
}

// Writes that a verify answer does not depend on record nothing: a key's last use, a user
// enabled again when it was not disabled, a write that changes no value.
func testVerifyFeedIgnoresUse(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, app, u := openWithUser(t, open)
	ctx := t.Context()
	k := mustCreateAPIKey(t, s, u, "ci")
	cursor := feedCursor(t, s)
	if err := s.TouchAPIKey(ctx, k.ID, now()); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAPIKeyDisabled(ctx, u.ID, k.ID, false); err != nil { // enabled already
		t.Fatal(err)
	}
	if err := s.SetUserDisabled(ctx, app.ID, u.ID, false); err != nil { // enabled already
		t.Fatal(err)
	}
	if changes := pollChanges(t, s, &cursor); mentions(changes, k.ID) || mentions(changes, u.ID) {
		t.Fatalf("changes %+v, want none of key %s or user %s", changes, k.ID, u.ID)
	}
}

// A cursor keeps returning what came after it: polling from it twice returns the change
// both times.
func testVerifyFeedCursor(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, _, u := openWithUser(t, open)
	k := mustCreateAPIKey(t, s, u, "ci")
	start := feedCursor(t, s)
	if err := s.SetAPIKeyDisabled(t.Context(), u.ID, k.ID, true); err != nil {
		t.Fatal(err)
	}
	cursor := start
	first := pollChanges(t, s, &cursor)
	again := start
	second := pollChanges(t, s, &again)
	want := latchkey.APIKeyChange{KeyID: k.ID}
	if !hasChange(first, want) || !hasChange(second, want) {
		t.Fatalf("polls from one cursor: %+v and %+v, want %+v in both", first, second, want)
	}
}

// The sweep deletes the changes recorded before its time and leaves the newer.
func testVerifyFeedDeleteBefore(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, _, u := openWithUser(t, open)
	k := mustCreateAPIKey(t, s, u, "ci")
	start := feedCursor(t, s)
	if err := s.SetAPIKeyDisabled(t.Context(), u.ID, k.ID, true); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteAPIKeyChangesBefore(t.Context(), time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("DeleteAPIKeyChangesBefore an hour ago = %d, %v; want 0", n, err)
	}
	cursor := start
	if changes := pollChanges(t, s, &cursor); !mentions(changes, k.ID) {
		t.Fatalf("changes %+v after a sweep of older ones, want key %s", changes, k.ID)
	}
	if n, err := s.DeleteAPIKeyChangesBefore(t.Context(), time.Now().Add(time.Minute)); err != nil || n < 1 {
		t.Fatalf("DeleteAPIKeyChangesBefore a minute on = %d, %v; want at least 1", n, err)
	}
	cursor = start
	if changes := pollChanges(t, s, &cursor); mentions(changes, k.ID) {
		t.Fatalf("changes %+v after the sweep, want none of key %s", changes, k.ID)
	}
	// The cursor still moves on from where it was: a change after the sweep comes.
	if err := s.SetAPIKeyDisabled(t.Context(), u.ID, k.ID, false); err != nil {
		t.Fatal(err)
	}
	if changes := pollChanges(t, s, &cursor); !mentions(changes, k.ID) {
		t.Fatalf("changes %+v after the sweep and a new write, want key %s", changes, k.ID)
	}
}

// Taking a key's uses, leasing from its rate window and adding its usage record nothing: they
// are what every verify does.
func testVerifyFeedIgnoresUsesAndUsage(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, _, u := openWithUser(t, open)
	ctx := t.Context()
	daily := &latchkey.KeyRefill{Amount: 10, Interval: latchkey.RefillDaily}
	k := mustCreateKeyWith(t, s, u, "ci", 5, daily, nil) // a refill is due: the take writes it
	cursor := feedCursor(t, s)
	t0 := now()
	if _, ok, err := s.TakeAPIKeyUses(ctx, k.ID, 2, t0); err != nil || !ok {
		t.Fatalf("TakeAPIKeyUses = %v, %v", ok, err)
	}
	if _, _, err := s.LeaseRateWindow(ctx, k.ID, t0.Truncate(time.Minute), 10, 3); err != nil {
		t.Fatal(err)
	}
	if err := s.AddKeyUsage(ctx, []latchkey.KeyUsage{{KeyID: k.ID, Hour: t0, Valid: 1}}, map[string]time.Time{k.ID: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchAPIKey(ctx, k.ID, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if changes := pollChanges(t, s, &cursor); mentions(changes, k.ID) {
		t.Fatalf("changes %+v, want none of key %s", changes, k.ID)
	}
}
