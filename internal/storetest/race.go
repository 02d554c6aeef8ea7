package storetest

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// raceCases interleave, step by step, a login with the writes that must end its session: the
// login reads the key or user as the service does, the write commits, then the login inserts
// its session. Under concurrent nodes these steps happen in any order; the store must refuse
// the late insert.
var raceCases = []storeCase{
	{"KeyRotatedDuringLogin", testRaceKeyRotatedDuringLogin},
	{"KeyRotatedWithGraceDuringLogin", testRaceKeyRotatedWithGraceDuringLogin},
	{"UserDisabledDuringLogin", testRaceUserDisabledDuringLogin},
	{"RotationsChain", testRaceRotationsChain},
	{"CreateFirstApp", testRaceCreateFirstApp},
}

// A grace-0 rotation between a key login's read and its session insert: the session,
// opened with the value the rotation replaced, is refused.
func testRaceKeyRotatedDuringLogin(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, u, read := keyReadByLogin(t, open)
	rot := *read
	rot.Hash, rot.Start, rot.PreviousHash, rot.PreviousExpiresAt = randomBytes(t, 32), "lk_New1", nil, nil
	if err := s.RotateAPIKey(t.Context(), &rot, now()); err != nil {
		t.Fatal(err)
	}

	late := newSession(u, read)
	assertCode(t, s.CreateSession(t.Context(), late), latchkey.ENotFound)
	assertSessionGone(t, s, late.ID)
	// A value that never was the key's opens nothing either; the new value does.
	made := newSession(u, read)
	made.KeyHash = randomBytes(t, 32)
	assertCode(t, s.CreateSession(t.Context(), made), latchkey.ENotFound)
	mustCreateSession(t, s, u, &rot)
}

// With a grace period, the replaced value still opens sessions, but only ones that end
// with the grace period, and none once it is over.
func testRaceKeyRotatedWithGraceDuringLogin(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, u, read := keyReadByLogin(t, open)
	graceEnd := now().Add(time.Hour)
	rot := *read
	rot.Hash, rot.Start, rot.PreviousExpiresAt = randomBytes(t, 32), "lk_New1", &graceEnd
	if err := s.RotateAPIKey(t.Context(), &rot, graceEnd); err != nil {
		t.Fatal(err)
	}

	// The login took the value for the current one and asks for its full lifetime.
	long := newSession(u, read)
	assertCode(t, s.CreateSession(t.Context(), long), latchkey.ENotFound)
	assertSessionGone(t, s, long.ID)

	inGrace := newSession(u, read)
	inGrace.ExpiresAt = graceEnd
	if err := s.CreateSession(t.Context(), inGrace); err != nil {
		t.Fatalf("CreateSession with the previous value in its grace period: %v", err)
	}

	afterGrace := newSession(u, read)
	afterGrace.CreatedAt, afterGrace.ExpiresAt = graceEnd, graceEnd
	assertCode(t, s.CreateSession(t.Context(), afterGrace), latchkey.ENotFound)
}

// Disabling a user between a login's read of the user and its session insert: no session
// of the disabled user is left, with or without a key; once enabled again, logins work.
func testRaceUserDisabledDuringLogin(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, app, u := openWithUser(t, open)
	k := mustCreateAPIKey(t, s, u, "ci")

	if _, err := s.FindUserByEmail(t.Context(), app.ID, "ada@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.FindAPIKeyAndUser(t.Context(), app.ID, k.Hash); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserDisabled(t.Context(), app.ID, u.ID, true); err != nil {
		t.Fatal(err)
	}

	for _, sess := range []*latchkey.Session{newSession(u, nil), newSession(u, k)} {
		assertCode(t, s.CreateSession(t.Context(), sess), latchkey.ENotFound)
		assertSessionGone(t, s, sess.ID)
	}
	if err := s.SetUserDisabled(t.Context(), app.ID, u.ID, false); err != nil {
		t.Fatal(err)
	}
	mustCreateSession(t, s, u, nil)
	mustCreateSession(t, s, u, k)
}

// Two rotations that both read the key before either writes: the second keeps the first
// one's value as its previous value, and the original value stops working.
func testRaceRotationsChain(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, app, u := openWithUser(t, open)
	k := mustCreateAPIKey(t, s, u, "ci")

	readA, readB := mustFindAPIKey(t, s, u.ID, k.ID), mustFindAPIKey(t, s, u.ID, k.ID)
	graceEnd := now().Add(time.Hour)
	rotA, rotB := *readA, *readB
	// Each carries the previous hash it read, as a rotation computed from its own read
	// would: the store must not trust it.
	rotA.Hash, rotA.Start, rotA.PreviousHash, rotA.PreviousExpiresAt = randomBytes(t, 32), "lk_A", readA.Hash, &graceEnd
	rotB.Hash, rotB.Start, rotB.PreviousHash, rotB.PreviousExpiresAt = randomBytes(t, 32), "lk_B", readB.Hash, &graceEnd
	for _, rot := range []*latchkey.APIKey{&rotA, &rotB} {
		if err := s.RotateAPIKey(t.Context(), rot, graceEnd); err != nil {
			t.Fatal(err)
		}
	}

	if !bytes.Equal(rotB.PreviousHash, rotA.Hash) {
		t.Fatalf("second rotation's PreviousHash = %x, want the first rotation's hash %x", rotB.PreviousHash, rotA.Hash)
	}
	got := mustFindAPIKey(t, s, u.ID, k.ID)
	if !bytes.Equal(got.Hash, rotB.Hash) || !bytes.Equal(got.PreviousHash, rotA.Hash) {
		t.Fatalf("after two rotations: hash %x, previous %x; want %x, %x", got.Hash, got.PreviousHash, rotB.Hash, rotA.Hash)
	}
	_, err := s.FindAPIKeyByHash(t.Context(), app.ID, k.Hash)
	assertCode(t, err, latchkey.ENotFound)
	sess := newSession(u, k)
	sess.ExpiresAt = graceEnd
	assertCode(t, s.CreateSession(t.Context(), sess), latchkey.ENotFound)
	inGrace := newSession(u, &rotA)
	inGrace.ExpiresAt = graceEnd
	if err := s.CreateSession(t.Context(), inGrace); err != nil {
		t.Fatalf("CreateSession with the first rotation's value in its grace period: %v", err)
	}
}

// Nodes starting at once on an empty database: each offers its own first app, one is
// created, and every node gets that one.
func testRaceCreateFirstApp(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	const nodes = 8
	firsts := make([]*latchkey.App, nodes)
	created := make([]bool, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() {
			var err error
			if firsts[i], created[i], err = s.CreateFirstApp(t.Context(), newApp()); err != nil {
				t.Errorf("CreateFirstApp: %v", err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	apps, err := s.FindApps(t.Context())
	if err != nil {
		t.Fatal(err)
	} else if len(apps) != 1 {
		t.Fatalf("FindApps: %d apps, want 1", len(apps))
	}
	n := 0
	for i, first := range firsts {
		if first.ClientAppID != apps[0].ClientAppID {
			t.Errorf("node %d got app %q, want %q", i, first.ClientAppID, apps[0].ClientAppID)
		}
		if created[i] {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d nodes created the app, want 1", n)
	}

	// Later starts find it.
	first, ok, err := s.CreateFirstApp(t.Context(), newApp())
	if err != nil || ok || first.ClientAppID != apps[0].ClientAppID {
		t.Fatalf("CreateFirstApp on a database with an app = %q, %v, %v; want %q, false, nil",
			first.ClientAppID, ok, err, apps[0].ClientAppID)
	}
}

// keyReadByLogin makes a store with a user and a key, and reads the key as a key login does,
// before the step a test interleaves.
func keyReadByLogin(t *testing.T, open func(t *testing.T) latchkey.Store) (latchkey.Store, *latchkey.User, *latchkey.APIKey) {
	t.Helper()
	s := open(t)
	app := mustCreateApp(t, s)
	u := mustCreateUser(t, s, app.ID, "ada@example.com")
	k := mustCreateAPIKey(t, s, u, "ci")
	read, _, err := s.FindAPIKeyAndUser(t.Context(), app.ID, k.Hash)
	if err != nil {
		t.Fatal(err)
	}
	return s, u, read
}
