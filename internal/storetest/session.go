package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey"
)

func testSession(t *testing.T, open func(t *testing.T) latchkey.Store) {
	t.Run("CreateAndFind", func(t *testing.T) {
		s := open(t)
		app := mustCreateApp(t, s)
		u := mustCreateUser(t, s, app.ID, "ada@example.com")
		k := mustCreateAPIKey(t, s, u, "ci")

		for _, sess := range []*latchkey.Session{newSession(u, ""), newSession(u, k.ID)} {
			before := *sess
			if err := s.CreateSession(t.Context(), sess); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&before, sess); diff != "" {
				t.Fatalf("CreateSession changed its argument (-before +after):\n%s", diff)
			}
			got, err := s.FindSession(t.Context(), sess.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(sess, got); diff != "" {
				t.Fatalf("FindSession mismatch (-want +got):\n%s", diff)
			}
		}
	})

	t.Run("Scopes", func(t *testing.T) {
		s := open(t)
		app := mustCreateApp(t, s)
		u := mustCreateUser(t, s, app.ID, "ada@example.com")
		k := mustCreateAPIKey(t, s, u, "ci")

		scoped := newSession(u, k.ID)
		scoped.Scopes = []string{"read", "write:all"}
		unscoped := newSession(u, k.ID)
		unscoped.Scopes = []string{}
		plain := newSession(u, "")
		for _, sess := range []*latchkey.Session{scoped, unscoped, plain} {
			if err := s.CreateSession(t.Context(), sess); err != nil {
				t.Fatal(err)
			}
		}
		// An empty list comes back nil, as from every store.
		unscoped.Scopes = nil
		for _, sess := range []*latchkey.Session{scoped, unscoped, plain} {
			got, err := s.FindSession(t.Context(), sess.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(sess, got); diff != "" {
				t.Fatalf("FindSession mismatch (-want +got):\n%s", diff)
			}
		}
	})

	t.Run("FindExpired", func(t *testing.T) {
		s := open(t)
		app := mustCreateApp(t, s)
		u := mustCreateUser(t, s, app.ID, "")
		sess := newSession(u, "")
		sess.CreatedAt = now().Add(-2 * time.Hour)
		sess.ExpiresAt = now().Add(-time.Hour)
		if err := s.CreateSession(t.Context(), sess); err != nil {
			t.Fatal(err)
		}
		// Expiry is the service's rule: the store still returns the session.
		got, err := s.FindSession(t.Context(), sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(sess, got); diff != "" {
			t.Fatalf("FindSession mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		_, err := s.FindSession(t.Context(), newID())
		assertCode(t, err, latchkey.ENotFound)
		assertCode(t, s.DeleteSession(t.Context(), newID()), latchkey.ENotFound)
	})

	t.Run("ErrAPIKeyDisabled", func(t *testing.T) {
		s := open(t)
		app := mustCreateApp(t, s)
		u := mustCreateUser(t, s, app.ID, "ada@example.com")
		k := mustCreateAPIKey(t, s, u, "ci")
		if err := s.SetAPIKeyDisabled(t.Context(), u.ID, k.ID, true); err != nil {
			t.Fatal(err)
		}

		sess := newSession(u, k.ID)
		assertCode(t, s.CreateSession(t.Context(), sess), latchkey.ENotFound)
		assertSessionGone(t, s, sess.ID)
	})

	t.Run("ErrAPIKeyDeleted", func(t *testing.T) {
		s := open(t)
		app := mustCreateApp(t, s)
		u := mustCreateUser(t, s, app.ID, "ada@example.com")
		k := mustCreateAPIKey(t, s, u, "ci")
		if err := s.DeleteAPIKey(t.Context(), u.ID, k.ID); err != nil {
			t.Fatal(err)
		}

		sess := newSession(u, k.ID)
		assertCode(t, s.CreateSession(t.Context(), sess), latchkey.ENotFound)
		assertSessionGone(t, s, sess.ID)
	})

	t.Run("Delete", func(t *testing.T) {
		s := open(t)
		app := mustCreateApp(t, s)
		u := mustCreateUser(t, s, app.ID, "")
		sess := mustCreateSession(t, s, u, "")
		other := mustCreateSession(t, s, u, "")

		if err := s.DeleteSession(t.Context(), sess.ID); err != nil {
			t.Fatal(err)
		}
		assertSessionGone(t, s, sess.ID)
		assertSessionExists(t, s, other.ID)
		assertCode(t, s.DeleteSession(t.Context(), sess.ID), latchkey.ENotFound)
	})

	t.Run("DeleteExpired", func(t *testing.T) {
		s := open(t)
		app := mustCreateApp(t, s)
		u := mustCreateUser(t, s, app.ID, "")
		cutoff := now()

		var expired []*latchkey.Session
		for _, age := range []time.Duration{time.Millisecond, time.Hour} {
			sess := newSession(u, "")
			sess.CreatedAt = cutoff.Add(-age - time.Hour)
			sess.ExpiresAt = cutoff.Add(-age)
			if err := s.CreateSession(t.Context(), sess); err != nil {
				t.Fatal(err)
			}
			expired = append(expired, sess)
		}
		live := newSession(u, "")
		live.ExpiresAt = cutoff.Add(time.Millisecond)
		if err := s.CreateSession(t.Context(), live); err != nil {
			t.Fatal(err)
		}

		n, err := s.DeleteExpiredSessions(t.Context(), cutoff)
		if err != nil {
			t.Fatal(err)
		} else if n != int64(len(expired)) {
			t.Fatalf("DeleteExpiredSessions = %d, want %d", n, len(expired))
		}
		for _, sess := range expired {
			assertSessionGone(t, s, sess.ID)
		}
		assertSessionExists(t, s, live.ID)

		if n, err := s.DeleteExpiredSessions(t.Context(), cutoff); err != nil {
			t.Fatal(err)
		} else if n != 0 {
			t.Fatalf("second DeleteExpiredSessions = %d, want 0", n)
		}
	})
}
