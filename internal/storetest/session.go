package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey"
)

// sessionsCases are the cases of latchkey.SessionStore: the checks of a session's insert, and
// the lookups of a refresh.
var sessionsCases = []storeCase{
	{"CreateAndFind", testSessionsCreateAndFind},
	{"Scopes", testSessionsScopes},
	{"FindExpired", testSessionsFindExpired},
	{"ErrNotFound", testSessionsErrNotFound},
	{"ErrAPIKeyDisabled", testSessionsErrAPIKeyDisabled},
	{"ErrAPIKeyDeleted", testSessionsErrAPIKeyDeleted},
	{"Delete", testSessionsDelete},
	{"DeleteExpired", testSessionsDeleteExpired},
	{"FindSessionAndUser", testSessionsFindSessionAndUser},
	{"FindSessionAndUserNoIdentitiesExpired", testSessionsFindSessionAndUserNoIdentitiesExpired},
	{"FindSessionAndUserErrNotFound", testSessionsFindSessionAndUserErrNotFound},
}

func testSessionsCreateAndFind(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, _, u := openWithUser(t, open)
	k := mustCreateAPIKey(t, s, u, "ci")

	for _, sess := range []*latchkey.Session{newSession(u, nil), newSession(u, k)} {
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
		if diff := cmp.Diff(stored(sess), got); diff != "" {
			t.Fatalf("FindSession mismatch (-want +got):\n%s", diff)
		}
	}
}

func testSessionsScopes(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, _, u := openWithUser(t, open)
	k := mustCreateAPIKey(t, s, u, "ci")

	scoped := newSession(u, k)
	scoped.Scopes = []string{"read", "write:all"}
	unscoped := newSession(u, k)
	unscoped.Scopes = []string{}
	plain := newSession(u, nil)
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
		if diff := cmp.Diff(stored(sess), got); diff != "" {
			t.Fatalf("FindSession mismatch (-want +got):\n%s", diff)
		}
	}
}

func testSessionsFindExpired(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	u := mustCreateUser(t, s, app.ID, "")
	sess := newSession(u, nil)
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
}

func testSessionsErrNotFound(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	_, err := s.FindSession(t.Context(), newID())
	assertCode(t, err, latchkey.ENotFound)
	assertCode(t, s.DeleteSession(t.Context(), newID()), latchkey.ENotFound)
}

func testSessionsErrAPIKeyDisabled(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, _, u := openWithUser(t, open)
	k := mustCreateAPIKey(t, s, u, "ci")
	mustSetAPIKeyDisabled(t, s, u.ID, k.ID, true)

	sess := newSession(u, k)
	assertCode(t, s.CreateSession(t.Context(), sess), latchkey.ENotFound)
	assertSessionGone(t, s, sess.ID)
}

func testSessionsErrAPIKeyDeleted(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, _, u := openWithUser(t, open)
	k := mustCreateAPIKey(t, s, u, "ci")
	if err := s.DeleteAPIKey(t.Context(), u.ID, k.ID); err != nil {
		t.Fatal(err)
	}

	sess := newSession(u, k)
	assertCode(t, s.CreateSession(t.Context(), sess), latchkey.ENotFound)
	assertSessionGone(t, s, sess.ID)
}

func testSessionsDelete(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	u := mustCreateUser(t, s, app.ID, "")
	sess := mustCreateSession(t, s, u, nil)
	other := mustCreateSession(t, s, u, nil)

	if err := s.DeleteSession(t.Context(), sess.ID); err != nil {
		t.Fatal(err)
	}
	assertSessionGone(t, s, sess.ID)
	assertSessionExists(t, s, other.ID)
	assertCode(t, s.DeleteSession(t.Context(), sess.ID), latchkey.ENotFound)
}

func testSessionsDeleteExpired(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	u := mustCreateUser(t, s, app.ID, "")
	cutoff := now()

	var expired []*latchkey.Session
	for _, age := range []time.Duration{time.Millisecond, time.Hour} {
		sess := newSession(u, nil)
		sess.CreatedAt = cutoff.Add(-age - time.Hour)
		sess.ExpiresAt = cutoff.Add(-age)
		if err := s.CreateSession(t.Context(), sess); err != nil {
			t.Fatal(err)
		}
		expired = append(expired, sess)
	}
	live := newSession(u, nil)
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
}

func testSessionsFindSessionAndUser(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	base := now()
	u := newUser(app.ID, "ada@example.com")
	u.Confirmed = true
	// Inserted out of order; read oldest first, the tie of equal times broken by id.
	first, second, third := u.Identities[0], &latchkey.Identity{
		ID: newID(), UserID: u.ID, ProviderType: latchkey.ProviderAnonymous,
		ProviderID: newID(), CreatedAt: base,
	}, &latchkey.Identity{
		ID: newID(), UserID: u.ID, ProviderType: latchkey.ProviderAPIKey,
		ProviderID: newID(), CreatedAt: base.Add(time.Millisecond),
	}
	first.CreatedAt = base
	if first.ID > second.ID {
		first, second = second, first
	}
	u.Identities = []*latchkey.Identity{third, second}
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if err := s.AddIdentity(t.Context(), first); err != nil {
		t.Fatal(err)
	}
	u.Identities = []*latchkey.Identity{first, second, third}
	k := mustCreateAPIKey(t, s, u, "ci")
	sess := newSession(u, k)
	sess.Scopes = []string{"read", "write:all"}
	if err := s.CreateSession(t.Context(), sess); err != nil {
		t.Fatal(err)
	}
	mustCreateSession(t, s, u, nil) // another session of the user, not asked for

	assertFindSessionAndUser(t, s, stored(sess), u)
}

// A user without identities comes as one row of NULL identity columns; the session has
// expired, which is the service's rule, not the store's.
func testSessionsFindSessionAndUserNoIdentitiesExpired(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	u := &latchkey.User{
		ID: newID(), AppID: app.ID, Type: latchkey.UserTypeServer, Confirmed: true,
		CreatedAt: now(),
	}
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	sess := newSession(u, nil)
	sess.CreatedAt = now().Add(-2 * time.Hour)
	sess.ExpiresAt = now().Add(-time.Hour)
	if err := s.CreateSession(t.Context(), sess); err != nil {
		t.Fatal(err)
	}

	assertFindSessionAndUser(t, s, sess, u)
}

func testSessionsFindSessionAndUserErrNotFound(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, app, u := openWithUser(t, open)
	deleted := mustCreateSession(t, s, u, nil)
	if err := s.DeleteSession(t.Context(), deleted.ID); err != nil {
		t.Fatal(err)
	}
	other := mustCreateUser(t, s, app.ID, "")
	ofDeletedUser := mustCreateSession(t, s, other, nil)
	if err := s.DeleteUser(t.Context(), app.ID, other.ID); err != nil {
		t.Fatal(err)
	}

	for _, id := range []string{newID(), deleted.ID, ofDeletedUser.ID} {
		sess, u, err := s.FindSessionAndUser(t.Context(), id)
		assertCode(t, err, latchkey.ENotFound)
		if sess != nil || u != nil {
			t.Fatalf("FindSessionAndUser(%s) = %v, %v with ENotFound, want nil, nil", id, sess, u)
		}
	}
}

// stored returns the session as the store reads it back: without the key hash it was
// inserted with.
func stored(sess *latchkey.Session) *latchkey.Session {
	c := *sess
	c.KeyHash = nil
	return &c
}

// assertFindSessionAndUser fails the test unless FindSessionAndUser finds the session and
// its user as want and wantUser, and as FindSession and FindUserByID read them.
func assertFindSessionAndUser(t *testing.T, s latchkey.Store, want *latchkey.Session, wantUser *latchkey.User) {
	t.Helper()
	sess, u, err := s.FindSessionAndUser(t.Context(), want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, sess); diff != "" {
		t.Fatalf("session mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantUser, u); diff != "" {
		t.Fatalf("user mismatch (-want +got):\n%s", diff)
	}
	twoReads, err := s.FindSession(t.Context(), want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(twoReads, sess); diff != "" {
		t.Fatalf("FindSessionAndUser's session differs from FindSession's (-FindSession +got):\n%s", diff)
	}
	if diff := cmp.Diff(mustFindUser(t, s, twoReads.AppID, twoReads.UserID), u); diff != "" {
		t.Fatalf("FindSessionAndUser's user differs from FindUserByID's (-FindUserByID +got):\n%s", diff)
	}
}
