package postgres_test

import (
	"context"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/pgtest"
)

// A transaction that recorded a change before another but commits after it, and after a poll
// that returned the other's change, still has its change returned by the next poll: the
// cursor is the xmin of the poll's snapshot, not the highest id seen.
func TestFindAPIKeyChanges_LateCommit(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	s := MustOpen(t, url)
	u := MustCreateUser(t, s)
	early, late := NewAPIKey(u, "early"), NewAPIKey(u, "late")
	for _, k := range []*latchkey.APIKey{early, late} {
		if err := s.CreateAPIKey(ctx, k, latchkey.MaxAPIKeysPerUser); err != nil {
			t.Fatal(err)
		}
	}
	_, cursor, err := s.FindAPIKeyChanges(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}

	// A takes its transaction id first, by its write, and stays open.
	a, err := MustConnect(t, url).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Rollback(ctx)
	if _, err := a.Exec(ctx, `UPDATE api_keys SET disabled = TRUE WHERE id = $1`, early.ID); err != nil {
		t.Fatal(err)
	}
	var aXID, bXID int64
	if err := a.QueryRow(ctx, `SELECT pg_current_xact_id()::text::bigint`).Scan(&aXID); err != nil {
		t.Fatal(err)
	}
	// B, with a higher id, commits.
	if err := s.SetAPIKeyDisabled(ctx, u.ID, late.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := MustConnect(t, url).QueryRow(ctx, `SELECT max(xid) FROM api_key_changes`).Scan(&bXID); err != nil {
		t.Fatal(err)
	}
	if bXID <= aXID {
		t.Fatalf("B's transaction id %d is not above A's %d: the case needs B to come later", bXID, aXID)
	}

	changes, cursor, err := s.FindAPIKeyChanges(ctx, cursor)
	if err != nil {
		t.Fatal(err)
	}
	if !containsKey(changes, late.ID) || containsKey(changes, early.ID) {
		t.Fatalf("first poll: %+v, want B's key %s and not A's uncommitted %s", changes, late.ID, early.ID)
	}
	if err := a.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	changes, _, err = s.FindAPIKeyChanges(ctx, cursor)
	if err != nil {
		t.Fatal(err)
	}
	if !containsKey(changes, early.ID) {
		t.Fatalf("poll after A's commit: %+v, want A's key %s", changes, early.ID)
	}
}

func containsKey(changes []latchkey.APIKeyChange, keyID string) bool {
	for _, c := range changes {
		if c.KeyID == keyID {
			return true
		}
	}
	return false
}
