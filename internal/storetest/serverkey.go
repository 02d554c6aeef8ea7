package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey"
)

// serverAPIKeysCases are the cases of latchkey.ServerAPIKeyStore.
var serverAPIKeysCases = []storeCase{
	{"Create", testServerAPIKeysCreate},
	{"KeyControls", testServerAPIKeysKeyControls},
	{"ErrLimitReached", testServerAPIKeysErrLimitReached},
	{"ErrExists", testServerAPIKeysErrExists},
	{"ErrAppNotFound", testServerAPIKeysErrAppNotFound},
	{"ConcurrentCap", testServerAPIKeysConcurrentCap},
	{"FindServerAPIKeysCreationOrder", testServerAPIKeysFindServerAPIKeysCreationOrder},
	{"FindServerAPIKeyErrNotFound", testServerAPIKeysFindServerAPIKeyErrNotFound},
}

func testServerAPIKeysCreate(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	u, k := newServerAPIKey(t, app.ID, "backend")
	k.Value = "the-secret-value"
	beforeUser, beforeKey := cloneUser(u), *k
	if err := s.CreateServerAPIKey(t.Context(), u, k, latchkey.MaxServerAPIKeysPerApp); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(beforeUser, u); diff != "" {
		t.Fatalf("CreateServerAPIKey changed its user (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(&beforeKey, k); diff != "" {
		t.Fatalf("CreateServerAPIKey changed its key (-before +after):\n%s", diff)
	}

	want := beforeKey
	want.Value = ""
	got, err := s.FindServerAPIKey(t.Context(), app.ID, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Fatalf("FindServerAPIKey mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]*latchkey.APIKey{&want}, mustFindServerAPIKeys(t, s, app.ID)); diff != "" {
		t.Fatalf("FindServerAPIKeys mismatch (-want +got):\n%s", diff)
	}
	// The key is also its user's, and the user is stored with its identities.
	if diff := cmp.Diff(&want, mustFindAPIKey(t, s, u.ID, k.ID)); diff != "" {
		t.Fatalf("FindAPIKey mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(u, mustFindUser(t, s, app.ID, u.ID)); diff != "" {
		t.Fatalf("FindUserByID mismatch (-want +got):\n%s", diff)
	}
}

func testServerAPIKeysKeyControls(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	fullUser, full := newServerAPIKey(t, app.ID, "full")
	full.Start = "lk_AbC1"
	full.Scopes = []string{"read", "write:all"}
	full.ExpiresAt = timePtr(now().Add(24 * time.Hour))
	full.PreviousHash = randomBytes(t, 32)
	full.PreviousExpiresAt = timePtr(now().Add(time.Hour))
	bareUser, bare := newServerAPIKey(t, app.ID, "bare")
	bare.Scopes = []string{}
	for i, k := range []*latchkey.APIKey{full, bare} {
		u := []*latchkey.User{fullUser, bareUser}[i]
		if err := s.CreateServerAPIKey(t.Context(), u, k, latchkey.MaxServerAPIKeysPerApp); err != nil {
			t.Fatal(err)
		}
	}
	bare.Scopes = nil

	for _, k := range []*latchkey.APIKey{full, bare} {
		got, err := s.FindServerAPIKey(t.Context(), app.ID, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(k, got); diff != "" {
			t.Fatalf("FindServerAPIKey(%s) mismatch (-want +got):\n%s", k.Name, diff)
		}
	}
	if diff := cmp.Diff([]*latchkey.APIKey{full, bare}, mustFindServerAPIKeys(t, s, app.ID)); diff != "" {
		t.Fatalf("FindServerAPIKeys mismatch (-want +got):\n%s", diff)
	}
	got := mustFindAPIKeyByHash(t, s, app.ID, full.PreviousHash)
	if diff := cmp.Diff(full, got); diff != "" {
		t.Fatalf("FindAPIKeyByHash by previous hash mismatch (-want +got):\n%s", diff)
	}
}

func testServerAPIKeysErrLimitReached(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app, other := mustCreateApp(t, s), mustCreateApp(t, s)
	const max = 3
	// Neither user keys of the app nor server keys of another app count.
	u := mustCreateUser(t, s, app.ID, "ada@example.com")
	for i := range max {
		mustCreateAPIKey(t, s, u, keyName(i))
		mustCreateServerAPIKey(t, s, other.ID, keyName(i))
	}
	for i := range max {
		su, k := newServerAPIKey(t, app.ID, keyName(i))
		if err := s.CreateServerAPIKey(t.Context(), su, k, max); err != nil {
			t.Fatal(err)
		}
	}
	su, k := newServerAPIKey(t, app.ID, keyName(max))
	assertCode(t, s.CreateServerAPIKey(t.Context(), su, k, max), latchkey.ELimitReached)
	// Nothing of the refused call is stored.
	_, err := s.FindUserByID(t.Context(), app.ID, su.ID)
	assertCode(t, err, latchkey.ENotFound)
	if keys := mustFindServerAPIKeys(t, s, app.ID); len(keys) != max {
		t.Fatalf("app has %d server keys, want %d", len(keys), max)
	}
	// The cap is checked before the name.
	su, k = newServerAPIKey(t, app.ID, keyName(0))
	assertCode(t, s.CreateServerAPIKey(t.Context(), su, k, max), latchkey.ELimitReached)
}

func testServerAPIKeysErrExists(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app, other := mustCreateApp(t, s), mustCreateApp(t, s)
	// A user key of the same name does not take the name.
	mustCreateAPIKey(t, s, mustCreateUser(t, s, app.ID, "ada@example.com"), "backend")
	mustCreateServerAPIKey(t, s, app.ID, "backend")

	u, k := newServerAPIKey(t, app.ID, "backend")
	assertCode(t, s.CreateServerAPIKey(t.Context(), u, k, latchkey.MaxServerAPIKeysPerApp), latchkey.EAPIKeyExists)
	_, err := s.FindUserByID(t.Context(), app.ID, u.ID)
	assertCode(t, err, latchkey.ENotFound)
	_, err = s.FindServerAPIKey(t.Context(), app.ID, k.ID)
	assertCode(t, err, latchkey.ENotFound)

	// Names are per app.
	mustCreateServerAPIKey(t, s, other.ID, "backend")
}

func testServerAPIKeysErrAppNotFound(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	u, k := newServerAPIKey(t, newID(), "backend")
	assertCode(t, s.CreateServerAPIKey(t.Context(), u, k, latchkey.MaxServerAPIKeysPerApp), latchkey.ENotFound)
}

func testServerAPIKeysConcurrentCap(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	const n, max = 30, 10
	codes := make([]string, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		u, k := newServerAPIKey(t, app.ID, keyName(i))
		wg.Go(func() {
			<-start
			err := s.CreateServerAPIKey(t.Context(), u, k, max)
			codes[i] = latchkey.ErrorCode(err)
			if codes[i] == latchkey.EInternal {
				t.Errorf("CreateServerAPIKey: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()

	count := map[string]int{}
	for _, code := range codes {
		count[code]++
	}
	if count[""] != max || count[latchkey.ELimitReached] != n-max || len(count) != 2 {
		t.Fatalf("outcomes = %v, want %d successes and %d %q", count, max, n-max, latchkey.ELimitReached)
	}
	if got := mustFindServerAPIKeys(t, s, app.ID); len(got) != max {
		t.Fatalf("app has %d server keys, want %d", len(got), max)
	}
	serverType := latchkey.UserTypeServer
	if got := mustFindUsers(t, s, latchkey.UserFilter{AppID: app.ID, Type: &serverType}); len(got) != max {
		t.Fatalf("app has %d server users, want %d", len(got), max)
	}
}

func testServerAPIKeysFindServerAPIKeysCreationOrder(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app, other := mustCreateApp(t, s), mustCreateApp(t, s)
	if got := mustFindServerAPIKeys(t, s, app.ID); len(got) != 0 {
		t.Fatalf("a new app has %d server keys, want 0", len(got))
	}

	want := createOutOfOrder(t, func(name, id string, createdAt time.Time) (*latchkey.APIKey, error) {
		u, k := newServerAPIKey(t, app.ID, name)
		k.ID, k.CreatedAt = id, createdAt
		return k, s.CreateServerAPIKey(t.Context(), u, k, latchkey.MaxServerAPIKeysPerApp)
	})
	// User keys and another app's server keys are not listed.
	mustCreateAPIKey(t, s, mustCreateUser(t, s, app.ID, "ada@example.com"), "user-key")
	mustCreateServerAPIKey(t, s, other.ID, "other")

	if diff := cmp.Diff(want, mustFindServerAPIKeys(t, s, app.ID)); diff != "" {
		t.Fatalf("FindServerAPIKeys mismatch (-want +got):\n%s", diff)
	}
}

func testServerAPIKeysFindServerAPIKeyErrNotFound(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app, other := mustCreateApp(t, s), mustCreateApp(t, s)
	_, k := mustCreateServerAPIKey(t, s, app.ID, "backend")
	userKey := mustCreateAPIKey(t, s, mustCreateUser(t, s, app.ID, "ada@example.com"), "ci")

	_, err := s.FindServerAPIKey(t.Context(), app.ID, newID())
	assertCode(t, err, latchkey.ENotFound)
	// A server key is found only through its own app, and a user key is no server key.
	_, err = s.FindServerAPIKey(t.Context(), other.ID, k.ID)
	assertCode(t, err, latchkey.ENotFound)
	_, err = s.FindServerAPIKey(t.Context(), app.ID, userKey.ID)
	assertCode(t, err, latchkey.ENotFound)
}

// newServerAPIKey returns a server user of the app and its key, not yet stored, shaped as
// the service makes them: the user's one identity is of the api-key provider.
func newServerAPIKey(t *testing.T, appID, name string) (*latchkey.User, *latchkey.APIKey) {
	t.Helper()
	u := &latchkey.User{
		ID: newID(), AppID: appID, Type: latchkey.UserTypeServer, Confirmed: true, CreatedAt: now(),
	}
	k := newAPIKey(t, u, name)
	u.Identities = []*latchkey.Identity{{
		ID: newID(), UserID: u.ID, ProviderType: latchkey.ProviderAPIKey, ProviderID: k.ID,
		CreatedAt: u.CreatedAt,
	}}
	return u, k
}

// mustCreateServerAPIKey creates a server key of the app with its user, under the default
// cap.
func mustCreateServerAPIKey(t *testing.T, s latchkey.Store, appID, name string) (*latchkey.User, *latchkey.APIKey) {
	t.Helper()
	u, k := newServerAPIKey(t, appID, name)
	if err := s.CreateServerAPIKey(t.Context(), u, k, latchkey.MaxServerAPIKeysPerApp); err != nil {
		t.Fatalf("CreateServerAPIKey: %v", err)
	}
	return u, k
}

// mustFindServerAPIKeys returns the app's server keys.
func mustFindServerAPIKeys(t *testing.T, s latchkey.Store, appID string) []*latchkey.APIKey {
	t.Helper()
	keys, err := s.FindServerAPIKeys(t.Context(), appID)
	if err != nil {
		t.Fatalf("FindServerAPIKeys: %v", err)
	}
	return keys
}
