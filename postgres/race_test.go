package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/pgtest"
)

// newKeySession returns a session of u opened with k's current value, not yet stored.
func newKeySession(u *latchkey.User, k *latchkey.APIKey) *latchkey.Session {
	now := time.Now()
	return &latchkey.Session{
		ID: latchkey.NewID(now), AppID: u.AppID, UserID: u.ID, DeviceID: latchkey.ZeroID,
		Provider: latchkey.ProviderAPIKey, APIKeyID: k.ID, KeyHash: k.Hash,
		CreatedAt: now, ExpiresAt: now.Add(latchkey.DefaultRefreshTokenLifetime),
	}
}

// createSessionDuring runs CreateSession while tx, another node's write, holds its locks
// uncommitted, and commits tx once the insert waits for it (or has finished without
// waiting). It returns the insert's error.
func createSessionDuring(t *testing.T, s latchkey.Store, url string, tx pgx.Tx, sess *latchkey.Session) error {
	t.Helper()
	ctx := context.Background()
	done := make(chan error, 1)
	go func() { done <- s.CreateSession(ctx, sess) }()
	watch := MustConnect(t, url)
	var err error
	waiting := false
	for !waiting {
		select {
		case err = <-done:
			waiting = true // it did not wait: too late to make a difference
			done <- err
		default:
			if err := watch.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock')`).Scan(&waiting); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return <-done
}

// A rotation that has written the key's row but not committed when a login's insert checks
// the key: the insert waits, then checks the row the rotation wrote, and refuses the old
// value. (In the other order the rotation waits for the insert and then ends its session:
// TestCreateSession_ConcurrentRotate.)
func TestCreateSession_WaitsForRotation(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := MustOpen(t, url)
	u := MustCreateUser(t, s)
	k := NewAPIKey(u, "ci")
	if err := s.CreateAPIKey(context.Background(), k, 100); err != nil {
		t.Fatal(err)
	}
	tx, err := MustConnect(t, url).Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), `UPDATE api_keys SET hash = $2 WHERE id = $1`,
		k.ID, []byte("rotated-"+k.ID)); err != nil {
		t.Fatal(err)
	}

	sess := newKeySession(u, k)
	if code := latchkey.ErrorCode(createSessionDuring(t, s, url, tx, sess)); code != latchkey.ENotFound {
		t.Fatalf("CreateSession with the value a concurrent rotation replaced: code %q, want %q", code, latchkey.ENotFound)
	}
	if _, err := s.FindSession(context.Background(), sess.ID); latchkey.ErrorCode(err) != latchkey.ENotFound {
		t.Fatalf("FindSession: %v, want no session", err)
	}
}

// Disabling a user that has written the user's row but not committed when a login's insert
// checks the user: the insert waits, then refuses.
func TestCreateSession_WaitsForUserDisable(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := MustOpen(t, url)
	u := MustCreateUser(t, s)
	tx, err := MustConnect(t, url).Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), `UPDATE users SET disabled = TRUE WHERE id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), `DELETE FROM sessions WHERE user_id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}

	now := time.Now()
	sess := &latchkey.Session{
		ID: latchkey.NewID(now), AppID: u.AppID, UserID: u.ID, DeviceID: latchkey.ZeroID,
		Provider: latchkey.ProviderUserpass, CreatedAt: now, ExpiresAt: now.Add(time.Hour),
	}
	if code := latchkey.ErrorCode(createSessionDuring(t, s, url, tx, sess)); code != latchkey.ENotFound {
		t.Fatalf("CreateSession of a user being disabled: code %q, want %q", code, latchkey.ENotFound)
	}
	if _, err := s.FindSession(context.Background(), sess.ID); latchkey.ErrorCode(err) != latchkey.ENotFound {
		t.Fatalf("FindSession: %v, want no session", err)
	}
}

// Logins with a key's value on two nodes while the key is rotated without grace: no session
// opened with the old value outlives the rotation, whichever commits first.
func TestCreateSession_ConcurrentRotate(t *testing.T) {
	url := pgtest.NewDatabase(t)
	stores := []latchkey.Store{MustOpen(t, url), MustOpen(t, url)}
	u := MustCreateUser(t, stores[0])
	conn := MustConnect(t, url)
	ctx := context.Background()

	for round := range 10 {
		k := NewAPIKey(u, fmt.Sprintf("key-%02d", round))
		if err := stores[0].CreateAPIKey(ctx, k, 100); err != nil {
			t.Fatal(err)
		}
		rotatedAt := time.Now().UTC().Truncate(time.Millisecond)
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				err := stores[i%2].CreateSession(ctx, newKeySession(u, k))
				if code := latchkey.ErrorCode(err); code != "" && code != latchkey.ENotFound {
					t.Errorf("CreateSession: %v", err)
				}
			})
		}
		wg.Go(func() {
			rot := *k
			rot.Hash, rot.Start = []byte("rotated-"+k.ID), "lk_New"
			if err := stores[1].RotateAPIKey(ctx, &rot, rotatedAt); err != nil {
				t.Errorf("RotateAPIKey: %v", err)
			}
		})
		wg.Wait()

		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE api_key_id = $1 AND expires_at > $2`,
			k.ID, rotatedAt).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("round %d: %d sessions opened with the replaced value outlive the rotation", round, n)
		}
	}
}

// Logins of a user on two nodes while the user is disabled: no session is left.
func TestCreateSession_ConcurrentUserDisable(t *testing.T) {
	url := pgtest.NewDatabase(t)
	stores := []latchkey.Store{MustOpen(t, url), MustOpen(t, url)}
	u := MustCreateUser(t, stores[0])
	conn := MustConnect(t, url)
	ctx := context.Background()

	for round := range 10 {
		if err := stores[0].SetUserDisabled(ctx, u.AppID, u.ID, false); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				now := time.Now()
				err := stores[i%2].CreateSession(ctx, &latchkey.Session{
					ID: latchkey.NewID(now), AppID: u.AppID, UserID: u.ID, DeviceID: latchkey.ZeroID,
					Provider: latchkey.ProviderUserpass, CreatedAt: now, ExpiresAt: now.Add(time.Hour),
				})
				if code := latchkey.ErrorCode(err); code != "" && code != latchkey.ENotFound {
					t.Errorf("CreateSession: %v", err)
				}
			})
		}
		wg.Go(func() {
			if err := stores[1].SetUserDisabled(ctx, u.AppID, u.ID, true); err != nil {
				t.Errorf("SetUserDisabled: %v", err)
			}
		})
		wg.Wait()

		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE user_id = $1`, u.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("round %d: %d sessions of the disabled user are left", round, n)
		}
	}
}
