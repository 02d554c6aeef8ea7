package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey"
)

func testAPIKey(t *testing.T, open func(t *testing.T) latchkey.Store) {
	t.Run("Create", func(t *testing.T) {
		s := open(t)
		app := mustCreateApp(t, s)
		u := mustCreateUser(t, s, app.ID, "ada@example.com")
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
	})

	t.Run("ErrLimitReached", func(t *testing.T) {
		s := open(t)
		app := mustCreateApp(t, s)
		u := mustCreateUser(t, s, app.ID, "ada@example.com")
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
	})

	t.Run("ErrExists", func(t *testing.T) {
		s := open(t)
		app := mustCreateApp(t, s)
		u := mustCreateUser(t, s, app.ID, "ada@example.com")
		mustCreateAPIKey(t, s, u, "ci")
		dup := newAPIKey(t, u, "ci")
		assertCode(t, s.CreateAPIKey(t.Context(), dup, latchkey.MaxAPIKeysPerUser), latchkey.EAPIKeyExists)
		_, err := s.FindAPIKey(t.Context(), u.ID, dup.ID)
		assertCode(t, err, latchkey.ENotFound)

		// Names are per user.
		other := mustCreateUser(t, s, app.ID, "bob@example.com")
		mustCreateAPIKey(t, s, other, "ci")
	})

	t.Run("ConcurrentCap", func(t *testing.T) {
		s := open(t)
		app := mustCreateApp(t, s)
		u := mustCreateUser(t, s, app.ID, "ada@example.com")
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
	})

	t.Run("ConcurrentSameName", func(t *testing.T) {
		s := open(t)
		app := mustCreateApp(t, s)
		u := mustCreateUser(t, s, app.ID, "ada@example.com")
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
	})

	t.Run("FindAPIKeysCreationOrder", func(t *testing.T) {
		s := open(t)
		app := mustCreateApp(t, s)
		u := mustCreateUser(t, s, app.ID, "ada@example.com")
		if got := mustFindAPIKeys(t, s, u.ID); len(got) != 0 {
			t.Fatalf("a new user has %d keys, want 0", len(got))
		}

		// Ids are handed out newest first, so that neither id order nor name order is
		// creation order.
		const n = 5
		ids := make([]string, n)
		for i := range ids {
			ids[n-1-i] = newID()
		}
		base := now()
		var want []*latchkey.APIKey
		for i := range n {
			k := newAPIKey(t, u, keyName(n-i))
			k.ID = ids[i]
			k.CreatedAt = base.Add(time.Duration(i) * time.Millisecond)
			if err := s.CreateAPIKey(t.Context(), k, latchkey.MaxAPIKeysPerUser); err != nil {
				t.Fatal(err)
			}
			want = append(want, k)
		}
		// Another user's keys are not listed.
		mustCreateAPIKey(t, s, mustCreateUser(t, s, app.ID, "bob@example.com"), "other")

		if diff := cmp.Diff(want, mustFindAPIKeys(t, s, u.ID)); diff != "" {
			t.Fatalf("FindAPIKeys mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("OtherUser", func(t *testing.T) {
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
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		app := mustCreateApp(t, s)
		u := mustCreateUser(t, s, app.ID, "ada@example.com")
		_, err := s.FindAPIKey(t.Context(), u.ID, newID())
		assertCode(t, err, latchkey.ENotFound)
		assertCode(t, s.SetAPIKeyDisabled(t.Context(), u.ID, newID(), true), latchkey.ENotFound)
		assertCode(t, s.SetAPIKeyDisabled(t.Context(), u.ID, newID(), false), latchkey.ENotFound)
		assertCode(t, s.DeleteAPIKey(t.Context(), u.ID, newID()), latchkey.ENotFound)
		assertCode(t, s.TouchAPIKey(t.Context(), newID(), now()), latchkey.ENotFound)
	})

	t.Run("FindAPIKeyByHash", func(t *testing.T) {
		s := open(t)
		app, other := mustCreateApp(t, s), mustCreateApp(t, s)
		u := mustCreateUser(t, s, app.ID, "ada@example.com")
		k := mustCreateAPIKey(t, s, u, "ci")
		mustCreateAPIKey(t, s, u, "deploy")

		got, err := s.FindAPIKeyByHash(t.Context(), app.ID, k.Hash)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(k, got); diff != "" {
			t.Fatalf("FindAPIKeyByHash mismatch (-want +got):\n%s", diff)
		}

		_, err = s.FindAPIKeyByHash(t.Context(), app.ID, randomBytes(t, 32))
		assertCode(t, err, latchkey.ENotFound)
		// A key works only in its own app.
		_, err = s.FindAPIKeyByHash(t.Context(), other.ID, k.Hash)
		assertCode(t, err, latchkey.ENotFound)
	})

	t.Run("Disable", func(t *testing.T) {
		s := open(t)
		app := mustCreateApp(t, s)
		u := mustCreateUser(t, s, app.ID, "ada@example.com")
		k := mustCreateAPIKey(t, s, u, "ci")
		otherKey := mustCreateAPIKey(t, s, u, "deploy")
		keySess1 := mustCreateSession(t, s, u, k.ID)
		keySess2 := mustCreateSession(t, s, u, k.ID)
		otherKeySess := mustCreateSession(t, s, u, otherKey.ID)
		plainSess := mustCreateSession(t, s, u, "")

		if err := s.SetAPIKeyDisabled(t.Context(), u.ID, k.ID, true); err != nil {
			t.Fatal(err)
		}
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
		if err := s.SetAPIKeyDisabled(t.Context(), u.ID, k.ID, true); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("Enable", func(t *testing.T) {
		s := open(t)
		app := mustCreateApp(t, s)
		u := mustCreateUser(t, s, app.ID, "ada@example.com")
		k := mustCreateAPIKey(t, s, u, "ci")

		// Enabling an enabled key succeeds.
		if err := s.SetAPIKeyDisabled(t.Context(), u.ID, k.ID, false); err != nil {
			t.Fatal(err)
		}
		if err := s.SetAPIKeyDisabled(t.Context(), u.ID, k.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := s.SetAPIKeyDisabled(t.Context(), u.ID, k.ID, false); err != nil {
			t.Fatal(err)
		}
		if got := mustFindAPIKey(t, s, u.ID, k.ID); got.Disabled {
			t.Fatal("key still disabled")
		}
		// An enabled key opens sessions again.
		mustCreateSession(t, s, u, k.ID)
	})

	t.Run("Delete", func(t *testing.T) {
		s := open(t)
		app := mustCreateApp(t, s)
		u := mustCreateUser(t, s, app.ID, "ada@example.com")
		k := mustCreateAPIKey(t, s, u, "ci")
		otherKey := mustCreateAPIKey(t, s, u, "deploy")
		keySess := mustCreateSession(t, s, u, k.ID)
		otherKeySess := mustCreateSession(t, s, u, otherKey.ID)
		plainSess := mustCreateSession(t, s, u, "")

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
	})

	t.Run("Touch", func(t *testing.T) {
		s := open(t)
		app := mustCreateApp(t, s)
		u := mustCreateUser(t, s, app.ID, "ada@example.com")
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
	})
}

func testServerAPIKey(t *testing.T, open func(t *testing.T) latchkey.Store) {
	t.Run("Create", func(t *testing.T) {
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
	})

	t.Run("ErrLimitReached", func(t *testing.T) {
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
	})

	t.Run("ErrExists", func(t *testing.T) {
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
	})

	t.Run("ErrAppNotFound", func(t *testing.T) {
		s := open(t)
		u, k := newServerAPIKey(t, newID(), "backend")
		assertCode(t, s.CreateServerAPIKey(t.Context(), u, k, latchkey.MaxServerAPIKeysPerApp), latchkey.ENotFound)
	})

	t.Run("ConcurrentCap", func(t *testing.T) {
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
	})

	t.Run("FindServerAPIKeysCreationOrder", func(t *testing.T) {
		s := open(t)
		app, other := mustCreateApp(t, s), mustCreateApp(t, s)
		if got := mustFindServerAPIKeys(t, s, app.ID); len(got) != 0 {
			t.Fatalf("a new app has %d server keys, want 0", len(got))
		}

		// Ids are handed out newest first, so that neither id order nor name order is
		// creation order.
		const n = 5
		ids := make([]string, n)
		for i := range ids {
			ids[n-1-i] = newID()
		}
		base := now()
		var want []*latchkey.APIKey
		for i := range n {
			u, k := newServerAPIKey(t, app.ID, keyName(n-i))
			k.ID = ids[i]
			k.CreatedAt = base.Add(time.Duration(i) * time.Millisecond)
			if err := s.CreateServerAPIKey(t.Context(), u, k, latchkey.MaxServerAPIKeysPerApp); err != nil {
				t.Fatal(err)
			}
			want = append(want, k)
		}
		// User keys and another app's server keys are not listed.
		mustCreateAPIKey(t, s, mustCreateUser(t, s, app.ID, "ada@example.com"), "user-key")
		mustCreateServerAPIKey(t, s, other.ID, "other")

		if diff := cmp.Diff(want, mustFindServerAPIKeys(t, s, app.ID)); diff != "" {
			t.Fatalf("FindServerAPIKeys mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("FindServerAPIKeyErrNotFound", func(t *testing.T) {
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
	})
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
