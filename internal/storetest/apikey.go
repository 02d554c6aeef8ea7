package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey"
)

// apiKeysCases are the cases of latchkey.APIKeyStore: the cap and the name checked with the
// insert, the lookups by hash, rotation with its grace period, and the sessions a disable, a
// delete or a rotation ends.
var apiKeysCases = []storeCase{
	{"Create", testAPIKeysCreate},
	{"ErrLimitReached", testAPIKeysErrLimitReached},
	{"ErrExists", testAPIKeysErrExists},
	{"ConcurrentCap", testAPIKeysConcurrentCap},
	{"ConcurrentSameName", testAPIKeysConcurrentSameName},
	{"FindAPIKeysCreationOrder", testAPIKeysFindAPIKeysCreationOrder},
	{"OtherUser", testAPIKeysOtherUser},
	{"ErrNotFound", testAPIKeysErrNotFound},
	{"FindAPIKeyByHash", testAPIKeysFindAPIKeyByHash},
	{"KeyControls", testAPIKeysKeyControls},
	{"FindAPIKeyByPreviousHash", testAPIKeysFindAPIKeyByPreviousHash},
	{"FindAPIKeyAndUser", testAPIKeysFindAPIKeyAndUser},
	{"FindAPIKeyAndUserIdentities", testAPIKeysFindAPIKeyAndUserIdentities},
	{"FindAPIKeyAndUserOfAnotherApp", testAPIKeysFindAPIKeyAndUserOfAnotherApp},
	{"Rotate", testAPIKeysRotate},
	{"EndGrace", testAPIKeysEndGrace},
	{"RotateErrNotFound", testAPIKeysRotateErrNotFound},
	{"RotateErrConflict", testAPIKeysRotateErrConflict},
	{"Disable", testAPIKeysDisable},
	{"Enable", testAPIKeysEnable},
	{"Delete", testAPIKeysDelete},
	{"Touch", testAPIKeysTouch},
}

func testAPIKeysCreate(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, _, u := openWithUser(t, open)
	k := newAPIKey(t, u, "ci")
	k.Value = "the-secret-value"
	before := *k
	if err := s.CreateAPIKey(t.Context(), k, latchkey.MaxAPIKeysPerUser); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&before, k); diff != "" {
		t.Fatalf("CreateAPIKey changed its argument (-before +after):\n%s", diff)
	}

	got, err := s.FindAPIKey(t.Context(), u.ID, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The value is never stored.
	want := before
	want.Value = ""
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Fatalf("FindAPIKey mismatch (-want +got):\n%s", diff)
	}
}

func testAPIKeysErrLimitReached(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, app, u := openWithUser(t, open)
	const max = 3
	for i := range max {
		if err := s.CreateAPIKey(t.Context(), newAPIKey(t, u, keyName(i)), max); err != nil {
			t.Fatal(err)
		}
	}
	assertCode(t, s.CreateAPIKey(t.Context(), newAPIKey(t, u, keyName(max)), max), latchkey.ELimitReached)
	if keys := mustFindAPIKeys(t, s, u.ID); len(keys) != max {
		t.Fatalf("user has %d keys, want %d", len(keys), max)
	}

	// The cap is per user.
	other := mustCreateUser(t, s, app.ID, "bob@example.com")
	if err := s.CreateAPIKey(t.Context(), newAPIKey(t, other, keyName(0)), max); err != nil {
		t.Fatal(err)
	}
}

func testAPIKeysErrExists(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, app, u := openWithUser(t, open)
	mustCreateAPIKey(t, s, u, "ci")
	dup := newAPIKey(t, u, "ci")
	assertCode(t, s.CreateAPIKey(t.Context(), dup, latchkey.MaxAPIKeysPerUser), latchkey.EAPIKeyExists)
	_, err := s.FindAPIKey(t.Context(), u.ID, dup.ID)
	assertCode(t, err, latchkey.ENotFound)

	// Names are per user.
	other := mustCreateUser(t, s, app.ID, "bob@example.com")
	mustCreateAPIKey(t, s, other, "ci")
}

func testAPIKeysConcurrentCap(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, _, u := openWithUser(t, open)
	const n, max = 50, 20
	keys := make([]*latchkey.APIKey, n)
	for i := range keys {
		keys[i] = newAPIKey(t, u, keyName(i))
	}
	codes := createConcurrently(t, s, keys, max)

	count := map[string]int{}
	for _, code := range codes {
		count[code]++
	}
	if count[""] != max || count[latchkey.ELimitReached] != n-max || len(count) != 2 {
		t.Fatalf("outcomes = %v, want %d successes and %d %q", count, max, n-max, latchkey.ELimitReached)
	}
	if got := mustFindAPIKeys(t, s, u.ID); len(got) != max {
		t.Fatalf("user has %d keys, want %d", len(got), max)
	}
}

func testAPIKeysConcurrentSameName(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, _, u := openWithUser(t, open)
	const n = 20
	keys := make([]*latchkey.APIKey, n)
	for i := range keys {
		keys[i] = newAPIKey(t, u, "ci")
	}
	codes := createConcurrently(t, s, keys, latchkey.MaxAPIKeysPerUser)

	count := map[string]int{}
	for _, code := range codes {
		count[code]++
	}
	if count[""] != 1 || count[latchkey.EAPIKeyExists] != n-1 || len(count) != 2 {
		t.Fatalf("outcomes = %v, want 1 success and %d %q", count, n-1, latchkey.EAPIKeyExists)
	}
	if got := mustFindAPIKeys(t, s, u.ID); len(got) != 1 {
		t.Fatalf("user has %d keys, want 1", len(got))
	}
}

func testAPIKeysFindAPIKeysCreationOrder(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, app, u := openWithUser(t, open)
	if got := mustFindAPIKeys(t, s, u.ID); len(got) != 0 {
		t.Fatalf("a new user has %d keys, want 0", len(got))
	}

	want := createOutOfOrder(t, func(name, id string, createdAt time.Time) (*latchkey.APIKey, error) {
		k := newAPIKey(t, u, name)
		k.ID, k.CreatedAt = id, createdAt
		return k, s.CreateAPIKey(t.Context(), k, latchkey.MaxAPIKeysPerUser)
	})
	// Another user's keys are not listed.
	mustCreateAPIKey(t, s, mustCreateUser(t, s, app.ID, "bob@example.com"), "other")

	if diff := cmp.Diff(want, mustFindAPIKeys(t, s, u.ID)); diff != "" {
		t.Fatalf("FindAPIKeys mismatch (-want +got):\n%s", diff)
	}
}

func testAPIKeysOtherUser(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	owner := mustCreateUser(t, s, app.ID, "ada@example.com")
	other := mustCreateUser(t, s, app.ID, "bob@example.com")
	k := mustCreateAPIKey(t, s, owner, "ci")

	// Another user can neither see, disable nor delete the key.
	_, err := s.FindAPIKey(t.Context(), other.ID, k.ID)
	assertCode(t, err, latchkey.ENotFound)
	assertCode(t, s.SetAPIKeyDisabled(t.Context(), other.ID, k.ID, true), latchkey.ENotFound)
	assertCode(t, s.DeleteAPIKey(t.Context(), other.ID, k.ID), latchkey.ENotFound)

	got, err := s.FindAPIKey(t.Context(), owner.ID, k.ID)
	if err != nil {
		t.Fatal(err)
	} else if got.Disabled {
		t.Fatal("another user disabled the key")
	}
}

func testAPIKeysErrNotFound(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, _, u := openWithUser(t, open)
	_, err := s.FindAPIKey(t.Context(), u.ID, newID())
	assertCode(t, err, latchkey.ENotFound)
	assertCode(t, s.SetAPIKeyDisabled(t.Context(), u.ID, newID(), true), latchkey.ENotFound)
	assertCode(t, s.SetAPIKeyDisabled(t.Context(), u.ID, newID(), false), latchkey.ENotFound)
	assertCode(t, s.DeleteAPIKey(t.Context(), u.ID, newID()), latchkey.ENotFound)
	assertCode(t, s.TouchAPIKey(t.Context(), newID(), now()), latchkey.ENotFound)
}

func testAPIKeysFindAPIKeyByHash(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app, other := mustCreateApp(t, s), mustCreateApp(t, s)
	u := mustCreateUser(t, s, app.ID, "ada@example.com")
	k := mustCreateAPIKey(t, s, u, "ci")
	mustCreateAPIKey(t, s, u, "deploy")

	got := mustFindAPIKeyByHash(t, s, app.ID, k.Hash)
	if diff := cmp.Diff(k, got); diff != "" {
		t.Fatalf("FindAPIKeyByHash mismatch (-want +got):\n%s", diff)
	}

	_, err := s.FindAPIKeyByHash(t.Context(), app.ID, randomBytes(t, 32))
	assertCode(t, err, latchkey.ENotFound)
	// A key works only in its own app.
	_, err = s.FindAPIKeyByHash(t.Context(), other.ID, k.Hash)
	assertCode(t, err, latchkey.ENotFound)
}

func testAPIKeysKeyControls(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, app, u := openWithUser(t, open)
	full := newAPIKey(t, u, "full")
	full.Start = "lk_AbC1"
	full.Scopes = []string{"read", "write:all"}
	full.ExpiresAt = timePtr(now().Add(24 * time.Hour))
	full.PreviousHash = randomBytes(t, 32)
	full.PreviousExpiresAt = timePtr(now().Add(time.Hour))
	bare := newAPIKey(t, u, "bare")
	// An empty list is stored as none: it comes back nil, as from every store.
	bare.Scopes = []string{}
	for _, k := range []*latchkey.APIKey{full, bare} {
		before := *k
		if err := s.CreateAPIKey(t.Context(), k, latchkey.MaxAPIKeysPerUser); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(&before, k); diff != "" {
			t.Fatalf("CreateAPIKey changed its argument (-before +after):\n%s", diff)
		}
	}
	bare.Scopes = nil

	for _, k := range []*latchkey.APIKey{full, bare} {
		if diff := cmp.Diff(k, mustFindAPIKey(t, s, u.ID, k.ID)); diff != "" {
			t.Fatalf("FindAPIKey(%s) mismatch (-want +got):\n%s", k.Name, diff)
		}
		got := mustFindAPIKeyByHash(t, s, app.ID, k.Hash)
		if diff := cmp.Diff(k, got); diff != "" {
			t.Fatalf("FindAPIKeyByHash(%s) mismatch (-want +got):\n%s", k.Name, diff)
		}
	}
	if diff := cmp.Diff([]*latchkey.APIKey{full, bare}, mustFindAPIKeys(t, s, u.ID)); diff != "" {
		t.Fatalf("FindAPIKeys mismatch (-want +got):\n%s", diff)
	}
}

func testAPIKeysFindAPIKeyByPreviousHash(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app, other := mustCreateApp(t, s), mustCreateApp(t, s)
	u := mustCreateUser(t, s, app.ID, "ada@example.com")
	k := newAPIKey(t, u, "ci")
	k.PreviousHash = randomBytes(t, 32)
	k.PreviousExpiresAt = timePtr(now().Add(time.Hour))
	if err := s.CreateAPIKey(t.Context(), k, latchkey.MaxAPIKeysPerUser); err != nil {
		t.Fatal(err)
	}
	mustCreateAPIKey(t, s, u, "deploy")

	// Found whether or not the previous hash is still valid: that is the caller's rule.
	got := mustFindAPIKeyByHash(t, s, app.ID, k.PreviousHash)
	if diff := cmp.Diff(k, got); diff != "" {
		t.Fatalf("FindAPIKeyByHash mismatch (-want +got):\n%s", diff)
	}
	_, err := s.FindAPIKeyByHash(t.Context(), other.ID, k.PreviousHash)
	assertCode(t, err, latchkey.ENotFound)

	// A hash that is a key's previous hash is taken.
	dup := newAPIKey(t, u, "dup")
	dup.Hash = k.PreviousHash
	assertCode(t, s.CreateAPIKey(t.Context(), dup, latchkey.MaxAPIKeysPerUser), latchkey.EConflict)
	_, err = s.FindAPIKey(t.Context(), u.ID, dup.ID)
	assertCode(t, err, latchkey.ENotFound)
}

func testAPIKeysFindAPIKeyAndUser(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app, other := mustCreateApp(t, s), mustCreateApp(t, s)
	u := mustCreateUser(t, s, app.ID, "ada@example.com")
	k := newAPIKey(t, u, "ci")
	k.Scopes = []string{"read"}
	k.ExpiresAt = timePtr(now().Add(24 * time.Hour))
	k.PreviousHash = randomBytes(t, 32)
	k.PreviousExpiresAt = timePtr(now().Add(time.Hour))
	if err := s.CreateAPIKey(t.Context(), k, latchkey.MaxAPIKeysPerUser); err != nil {
		t.Fatal(err)
	}
	mustCreateAPIKey(t, s, u, "deploy")
	mustCreateAPIKey(t, s, mustCreateUser(t, s, app.ID, "bob@example.com"), "ci")

	// By the current hash and by the previous one, whether or not it is still valid:
	// that is the caller's rule.
	assertKeyAndUser(t, s, app.ID, k.Hash, k, u)
	assertKeyAndUser(t, s, app.ID, k.PreviousHash, k, u)

	for name, hash := range map[string][]byte{"Unknown": randomBytes(t, 32), "Empty": nil} {
		gotKey, gotUser, err := s.FindAPIKeyAndUser(t.Context(), app.ID, hash)
		assertCode(t, err, latchkey.ENotFound)
		if gotKey != nil || gotUser != nil {
			t.Fatalf("%s hash: got key %v and user %v, want neither", name, gotKey, gotUser)
		}
	}
	// A key works only in its own app.
	for _, hash := range [][]byte{k.Hash, k.PreviousHash} {
		gotKey, gotUser, err := s.FindAPIKeyAndUser(t.Context(), other.ID, hash)
		assertCode(t, err, latchkey.ENotFound)
		if gotKey != nil || gotUser != nil {
			t.Fatalf("another app: got key %v and user %v, want neither", gotKey, gotUser)
		}
	}
}

func testAPIKeysFindAPIKeyAndUserIdentities(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	base := now()
	u := &latchkey.User{
		ID: newID(), AppID: app.ID, Type: latchkey.UserTypeNormal, Email: "ada@example.com",
		PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA", Confirmed: true,
		Disabled: true, CreatedAt: base,
	}
	ident := func(provider string, at time.Time) *latchkey.Identity {
		return &latchkey.Identity{ID: newID(), UserID: u.ID, ProviderType: provider, ProviderID: newID(), CreatedAt: at}
	}
	third := ident(latchkey.ProviderAPIKey, base.Add(2*time.Millisecond))
	first := ident(latchkey.ProviderAnonymous, base)
	second := ident(latchkey.ProviderUserpass, base.Add(time.Millisecond))
	u.Identities = []*latchkey.Identity{third, first, second}
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	k := mustCreateAPIKey(t, s, u, "ci")
	u.Identities = []*latchkey.Identity{first, second, third}
	assertKeyAndUser(t, s, app.ID, k.Hash, k, u)

	// A user without identities comes too.
	bare := &latchkey.User{ID: newID(), AppID: app.ID, Type: latchkey.UserTypeServer, CreatedAt: base}
	if err := s.CreateUser(t.Context(), bare); err != nil {
		t.Fatal(err)
	}
	bareKey := mustCreateAPIKey(t, s, bare, "ci")
	assertKeyAndUser(t, s, app.ID, bareKey.Hash, bareKey, bare)
}

func testAPIKeysFindAPIKeyAndUserOfAnotherApp(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app, other := mustCreateApp(t, s), mustCreateApp(t, s)
	u := mustCreateUser(t, s, app.ID, "ada@example.com")
	// The store does not tie a key's app to its user's; the service does. A key whose
	// user is not of the key's app comes without its user.
	k := newAPIKey(t, u, "ci")
	k.AppID = other.ID
	if err := s.CreateAPIKey(t.Context(), k, latchkey.MaxAPIKeysPerUser); err != nil {
		t.Fatal(err)
	}
	gotKey, gotUser, err := s.FindAPIKeyAndUser(t.Context(), other.ID, k.Hash)
	assertCode(t, err, latchkey.ENotFound)
	if diff := cmp.Diff(k, gotKey); diff != "" {
		t.Fatalf("FindAPIKeyAndUser key mismatch (-want +got):\n%s", diff)
	}
	if gotUser != nil {
		t.Fatalf("FindAPIKeyAndUser user = %+v, want none", gotUser)
	}
}

func testAPIKeysRotate(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, app, u := openWithUser(t, open)
	k := newAPIKey(t, u, "ci")
	k.Start = "lk_Old1"
	k.Scopes = []string{"read"}
	k.ExpiresAt = timePtr(now().Add(30 * 24 * time.Hour))
	if err := s.CreateAPIKey(t.Context(), k, latchkey.MaxAPIKeysPerUser); err != nil {
		t.Fatal(err)
	}
	otherKey := mustCreateAPIKey(t, s, u, "deploy")
	sessionsEnd := now().Add(time.Hour)
	longSess := mustCreateSession(t, s, u, k)
	shortSess := newSession(u, k)
	shortSess.ExpiresAt = sessionsEnd.Add(-time.Minute)
	if err := s.CreateSession(t.Context(), shortSess); err != nil {
		t.Fatal(err)
	}
	shortSess.KeyHash = nil
	otherKeySess := mustCreateSession(t, s, u, otherKey)
	plainSess := mustCreateSession(t, s, u, nil)

	rot := *k
	rot.Hash, rot.Start = randomBytes(t, 32), "lk_New2"
	rot.PreviousHash, rot.PreviousExpiresAt = k.Hash, timePtr(sessionsEnd)
	before := rot
	if err := s.RotateAPIKey(t.Context(), &rot, sessionsEnd); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&before, &rot); diff != "" {
		t.Fatalf("RotateAPIKey changed its argument (-before +after):\n%s", diff)
	}
	// The value's fields change; the name, scopes, expiry and the rest do not.
	if diff := cmp.Diff(&rot, mustFindAPIKey(t, s, u.ID, k.ID)); diff != "" {
		t.Fatalf("after RotateAPIKey (-want +got):\n%s", diff)
	}
	for _, hash := range [][]byte{rot.Hash, k.Hash} {
		got := mustFindAPIKeyByHash(t, s, app.ID, hash)
		if diff := cmp.Diff(&rot, got); diff != "" {
			t.Fatalf("FindAPIKeyByHash after RotateAPIKey (-want +got):\n%s", diff)
		}
	}

	// The key's sessions end by sessionsEnd; one that ends sooner, and other sessions, keep
	// their expiry.
	want := *longSess
	want.ExpiresAt = sessionsEnd
	for _, sess := range []*latchkey.Session{&want, shortSess, otherKeySess, plainSess} {
		got, err := s.FindSession(t.Context(), sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(sess, got); diff != "" {
			t.Fatalf("session after RotateAPIKey (-want +got):\n%s", diff)
		}
	}

	// Rotating again without a grace period clears the previous hash.
	again := rot
	again.Hash, again.Start = randomBytes(t, 32), "lk_New3"
	again.PreviousHash, again.PreviousExpiresAt = nil, nil
	if err := s.RotateAPIKey(t.Context(), &again, now()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&again, mustFindAPIKey(t, s, u.ID, k.ID)); diff != "" {
		t.Fatalf("after second RotateAPIKey (-want +got):\n%s", diff)
	}
	for _, hash := range [][]byte{rot.Hash, k.Hash} {
		_, err := s.FindAPIKeyByHash(t.Context(), app.ID, hash)
		assertCode(t, err, latchkey.ENotFound)
	}
}

func testAPIKeysEndGrace(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, app, u := openWithUser(t, open)
	other := mustCreateUser(t, s, app.ID, "bob@example.com")
	k := mustCreateAPIKey(t, s, u, "ci")
	graceEnd := now().Add(time.Hour)
	rotate := func(t *testing.T) *latchkey.APIKey {
		t.Helper()
		rot := *mustFindAPIKey(t, s, u.ID, k.ID)
		rot.Hash, rot.PreviousExpiresAt = randomBytes(t, 32), timePtr(graceEnd)
		if err := s.RotateAPIKey(t.Context(), &rot, graceEnd); err != nil {
			t.Fatal(err)
		}
		return &rot
	}
	first := rotate(t) // previous: k.Hash
	sess := mustCreateSession(t, s, u, first)

	// A rotation since the caller read the key keeps its values: the caller's previous
	// hash is not the key's any more.
	second := rotate(t) // previous: first.Hash
	ended := now()
	if err := s.EndAPIKeyGrace(t.Context(), u.ID, k.ID, k.Hash, ended); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(second, mustFindAPIKey(t, s, u.ID, k.ID)); diff != "" {
		t.Fatalf("EndAPIKeyGrace with a stale previous hash changed the key (-want +got):\n%s", diff)
	}

	// With the key's previous hash it ends the grace period; either way the key's
	// sessions end.
	if err := s.EndAPIKeyGrace(t.Context(), u.ID, k.ID, first.Hash, ended); err != nil {
		t.Fatal(err)
	}
	want := *second
	want.PreviousHash, want.PreviousExpiresAt = nil, nil
	if diff := cmp.Diff(&want, mustFindAPIKey(t, s, u.ID, k.ID)); diff != "" {
		t.Fatalf("after EndAPIKeyGrace (-want +got):\n%s", diff)
	}
	_, err := s.FindAPIKeyByHash(t.Context(), app.ID, first.Hash)
	assertCode(t, err, latchkey.ENotFound)
	got, err := s.FindSession(t.Context(), sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.ExpiresAt.Equal(ended) {
		t.Fatalf("the key's session expires at %v, want %v", got.ExpiresAt, ended)
	}

	assertCode(t, s.EndAPIKeyGrace(t.Context(), other.ID, k.ID, first.Hash, ended), latchkey.ENotFound)
	assertCode(t, s.EndAPIKeyGrace(t.Context(), u.ID, newID(), first.Hash, ended), latchkey.ENotFound)
}

func testAPIKeysRotateErrNotFound(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	owner := mustCreateUser(t, s, app.ID, "ada@example.com")
	other := mustCreateUser(t, s, app.ID, "bob@example.com")
	k := mustCreateAPIKey(t, s, owner, "ci")
	sess := mustCreateSession(t, s, owner, k)

	// Another user cannot rotate the key.
	rot := *k
	rot.UserID = other.ID
	rot.Hash, rot.Start, rot.PreviousHash = randomBytes(t, 32), "lk_New1", k.Hash
	assertCode(t, s.RotateAPIKey(t.Context(), &rot, now()), latchkey.ENotFound)
	rot.UserID, rot.ID = owner.ID, newID()
	assertCode(t, s.RotateAPIKey(t.Context(), &rot, now()), latchkey.ENotFound)

	if diff := cmp.Diff(k, mustFindAPIKey(t, s, owner.ID, k.ID)); diff != "" {
		t.Fatalf("a refused RotateAPIKey changed the key (-want +got):\n%s", diff)
	}
	if got, err := s.FindSession(t.Context(), sess.ID); err != nil {
		t.Fatal(err)
	} else if !got.ExpiresAt.Equal(sess.ExpiresAt) {
		t.Fatalf("a refused RotateAPIKey moved a session's expiry to %v", got.ExpiresAt)
	}
}

func testAPIKeysRotateErrConflict(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, _, u := openWithUser(t, open)
	k := mustCreateAPIKey(t, s, u, "ci")
	other := newAPIKey(t, u, "deploy")
	other.PreviousHash = randomBytes(t, 32)
	if err := s.CreateAPIKey(t.Context(), other, latchkey.MaxAPIKeysPerUser); err != nil {
		t.Fatal(err)
	}

	// The new hash may be neither a key's hash nor its previous hash.
	for _, hash := range [][]byte{other.Hash, other.PreviousHash} {
		rot := *k
		rot.Hash, rot.PreviousHash = hash, k.Hash
		assertCode(t, s.RotateAPIKey(t.Context(), &rot, now()), latchkey.EConflict)
	}
	if diff := cmp.Diff(k, mustFindAPIKey(t, s, u.ID, k.ID)); diff != "" {
		t.Fatalf("a refused RotateAPIKey changed the key (-want +got):\n%s", diff)
	}
}

func testAPIKeysDisable(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, _, u := openWithUser(t, open)
	k := mustCreateAPIKey(t, s, u, "ci")
	otherKey := mustCreateAPIKey(t, s, u, "deploy")
	keySess1 := mustCreateSession(t, s, u, k)
	keySess2 := mustCreateSession(t, s, u, k)
	otherKeySess := mustCreateSession(t, s, u, otherKey)
	plainSess := mustCreateSession(t, s, u, nil)

	mustSetAPIKeyDisabled(t, s, u.ID, k.ID, true)
	if got := mustFindAPIKey(t, s, u.ID, k.ID); !got.Disabled {
		t.Fatal("key not disabled")
	}
	if got := mustFindAPIKey(t, s, u.ID, otherKey.ID); got.Disabled {
		t.Fatal("the other key was disabled")
	}
	// Only the sessions opened with the disabled key end.
	assertSessionGone(t, s, keySess1.ID)
	assertSessionGone(t, s, keySess2.ID)
	assertSessionExists(t, s, otherKeySess.ID)
	assertSessionExists(t, s, plainSess.ID)

	// Disabling a disabled key succeeds.
	mustSetAPIKeyDisabled(t, s, u.ID, k.ID, true)
}

func testAPIKeysEnable(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, _, u := openWithUser(t, open)
	k := mustCreateAPIKey(t, s, u, "ci")

	// Enabling an enabled key succeeds.
	mustSetAPIKeyDisabled(t, s, u.ID, k.ID, false)
	mustSetAPIKeyDisabled(t, s, u.ID, k.ID, true)
	mustSetAPIKeyDisabled(t, s, u.ID, k.ID, false)
	if got := mustFindAPIKey(t, s, u.ID, k.ID); got.Disabled {
		t.Fatal("key still disabled")
	}
	// An enabled key opens sessions again.
	mustCreateSession(t, s, u, k)
}

func testAPIKeysDelete(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, app, u := openWithUser(t, open)
	k := mustCreateAPIKey(t, s, u, "ci")
	otherKey := mustCreateAPIKey(t, s, u, "deploy")
	keySess := mustCreateSession(t, s, u, k)
	otherKeySess := mustCreateSession(t, s, u, otherKey)
	plainSess := mustCreateSession(t, s, u, nil)

	if err := s.DeleteAPIKey(t.Context(), u.ID, k.ID); err != nil {
		t.Fatal(err)
	}
	_, err := s.FindAPIKey(t.Context(), u.ID, k.ID)
	assertCode(t, err, latchkey.ENotFound)
	_, err = s.FindAPIKeyByHash(t.Context(), app.ID, k.Hash)
	assertCode(t, err, latchkey.ENotFound)
	assertSessionGone(t, s, keySess.ID)
	assertSessionExists(t, s, otherKeySess.ID)
	assertSessionExists(t, s, plainSess.ID)

	assertCode(t, s.DeleteAPIKey(t.Context(), u.ID, k.ID), latchkey.ENotFound)
	// The name is free again.
	mustCreateAPIKey(t, s, u, "ci")
}

func testAPIKeysTouch(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, _, u := openWithUser(t, open)
	k := mustCreateAPIKey(t, s, u, "ci")
	if got := mustFindAPIKey(t, s, u.ID, k.ID); got.LastUsedAt != nil {
		t.Fatalf("LastUsedAt = %v for an unused key, want nil", got.LastUsedAt)
	}

	used := now().Add(time.Minute)
	if err := s.TouchAPIKey(t.Context(), k.ID, used); err != nil {
		t.Fatal(err)
	}
	got := mustFindAPIKey(t, s, u.ID, k.ID)
	if got.LastUsedAt == nil || !got.LastUsedAt.Equal(used) {
		t.Fatalf("LastUsedAt = %v, want %v", got.LastUsedAt, used)
	}
}

// createConcurrently creates the keys at once, one goroutine each, and returns each call's
// error code ("" for success).
func createConcurrently(t *testing.T, s latchkey.Store, keys []*latchkey.APIKey, max int) []string {
	t.Helper()
	codes := make([]string, len(keys))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Go(func() {
			<-start
			err := s.CreateAPIKey(t.Context(), k, max)
			codes[i] = latchkey.ErrorCode(err)
			if codes[i] == latchkey.EInternal {
				t.Errorf("CreateAPIKey: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	return codes
}

// createOutOfOrder stores five keys with create, each with the name, id and creation time
// it is given, a millisecond apart, and returns them in creation order. Ids are handed out
// newest first and names count down, so that neither id order nor name order is creation
// order.
func createOutOfOrder(t *testing.T, create func(name, id string, createdAt time.Time) (*latchkey.APIKey, error)) []*latchkey.APIKey {
	t.Helper()
	const n = 5
	ids := make([]string, n)
	for i := range ids {
		ids[n-1-i] = newID()
	}
	base := now()
	var keys []*latchkey.APIKey
	for i := range n {
		k, err := create(keyName(n-i), ids[i], base.Add(time.Duration(i)*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	return keys
}

// mustSetAPIKeyDisabled disables or enables one of the user's keys.
func mustSetAPIKeyDisabled(t *testing.T, s latchkey.Store, userID, id string, disabled bool) {
	t.Helper()
	if err := s.SetAPIKeyDisabled(t.Context(), userID, id, disabled); err != nil {
		t.Fatalf("SetAPIKeyDisabled: %v", err)
	}
}

// mustFindAPIKeys returns the user's keys.
func mustFindAPIKeys(t *testing.T, s latchkey.Store, userID string) []*latchkey.APIKey {
	t.Helper()
	keys, err := s.FindAPIKeys(t.Context(), userID)
	if err != nil {
		t.Fatalf("FindAPIKeys: %v", err)
	}
	return keys
}

// mustFindAPIKey returns one of the user's keys.
func mustFindAPIKey(t *testing.T, s latchkey.Store, userID, id string) *latchkey.APIKey {
	t.Helper()
	k, err := s.FindAPIKey(t.Context(), userID, id)
	if err != nil {
		t.Fatalf("FindAPIKey: %v", err)
	}
	return k
}

// mustFindAPIKeyByHash returns the app's key whose hash, or still-kept previous hash, is hash.
func mustFindAPIKeyByHash(t *testing.T, s latchkey.Store, appID string, hash []byte) *latchkey.APIKey {
	t.Helper()
	k, err := s.FindAPIKeyByHash(t.Context(), appID, hash)
	if err != nil {
		t.Fatalf("FindAPIKeyByHash: %v", err)
	}
	return k
}

// assertKeyAndUser checks that FindAPIKeyAndUser finds the key by hash with its user, and
// that both equal what FindAPIKeyByHash and FindUserByID return.
func assertKeyAndUser(t *testing.T, s latchkey.Store, appID string, hash []byte, wantKey *latchkey.APIKey, wantUser *latchkey.User) {
	t.Helper()
	gotKey, gotUser, err := s.FindAPIKeyAndUser(t.Context(), appID, hash)
	if err != nil {
		t.Fatalf("FindAPIKeyAndUser: %v", err)
	}
	if diff := cmp.Diff(wantKey, gotKey); diff != "" {
		t.Fatalf("FindAPIKeyAndUser key mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantUser, gotUser); diff != "" {
		t.Fatalf("FindAPIKeyAndUser user mismatch (-want +got):\n%s", diff)
	}
	byHash := mustFindAPIKeyByHash(t, s, appID, hash)
	if diff := cmp.Diff(byHash, gotKey); diff != "" {
		t.Fatalf("FindAPIKeyAndUser key differs from FindAPIKeyByHash (-FindAPIKeyByHash +got):\n%s", diff)
	}
	if diff := cmp.Diff(mustFindUser(t, s, appID, byHash.UserID), gotUser); diff != "" {
		t.Fatalf("FindAPIKeyAndUser user differs from FindUserByID (-FindUserByID +got):\n%s", diff)
	}
}

// timePtr returns a pointer to t, for the optional times.
func timePtr(t time.Time) *time.Time {
	return &t
}
