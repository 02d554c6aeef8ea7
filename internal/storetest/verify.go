package storetest

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// verifyCases are the cases of what key verification keeps: a key's limits and meta as every
// read of a key returns them, and an app's default rate limit.
var verifyCases = []storeCase{
	{"KeyLimitsRead", testVerifyKeyLimitsRead},
	{"KeyWithoutLimits", testVerifyKeyWithoutLimits},
	{"AppKeyRateLimit", testVerifyAppKeyRateLimit},
}

// withLimits sets every limit of k, and meta, to distinct values.
func withLimits(k *latchkey.APIKey, refilledAt time.Time) *latchkey.APIKey {
	remaining := int64(997)
	k.RateLimit = &latchkey.KeyRateLimit{Limit: 100, Duration: time.Minute}
	k.Remaining = &remaining
	k.Refill = &latchkey.KeyRefill{Amount: 1000, Interval: latchkey.RefillMonthly}
	k.RefilledAt = &refilledAt
	k.Meta = json.RawMessage(`{"plan":"pro","seats":3}`)
	return k
}

// assertKeyLimits fails the test unless got has want's limits and meta (meta compared as
// JSON: PostgreSQL's JSONB keeps its own spacing and key order).
func assertKeyLimits(t *testing.T, what string, got, want *latchkey.APIKey) {
	t.Helper()
	if !reflect.DeepEqual(got.RateLimit, want.RateLimit) {
		t.Errorf("%s: RateLimit = %+v, want %+v", what, got.RateLimit, want.RateLimit)
	}
	if !reflect.DeepEqual(got.Remaining, want.Remaining) {
		t.Errorf("%s: Remaining = %v, want %v", what, ptrString(got.Remaining), ptrString(want.Remaining))
	}
	if !reflect.DeepEqual(got.Refill, want.Refill) {
		t.Errorf("%s: Refill = %+v, want %+v", what, got.Refill, want.Refill)
	}
	if (got.RefilledAt == nil) != (want.RefilledAt == nil) ||
		got.RefilledAt != nil && !got.RefilledAt.Equal(*want.RefilledAt) {
		t.Errorf("%s: RefilledAt = %v, want %v", what, got.RefilledAt, want.RefilledAt)
	}
	if !sameJSON(got.Meta, want.Meta) {
		t.Errorf("%s: Meta = %s, want %s", what, got.Meta, want.Meta)
	}
}

// sameJSON reports whether a and b are the same JSON value, or both absent.
func sameJSON(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

func ptrString(p *int64) any {
	if p == nil {
		return "nil"
	}
	return *p
}

// Every read of a key, user's or server's, returns the limits and meta it was created with.
func testVerifyKeyLimitsRead(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, app, u := openWithUser(t, open)
	k := withLimits(newAPIKey(t, u, "ci"), now().Add(-time.Hour))
	if err := s.CreateAPIKey(t.Context(), k, latchkey.MaxAPIKeysPerUser); err != nil {
		t.Fatal(err)
	}
	assertKeyLimits(t, "FindAPIKey", mustFindAPIKey(t, s, u.ID, k.ID), k)
	keys := mustFindAPIKeys(t, s, u.ID)
	if len(keys) != 1 {
		t.Fatalf("FindAPIKeys: %d keys, want 1", len(keys))
	}
	assertKeyLimits(t, "FindAPIKeys", keys[0], k)
	assertKeyLimits(t, "FindAPIKeyByHash", mustFindAPIKeyByHash(t, s, app.ID, k.Hash), k)
	gotKey, gotUser, err := s.FindAPIKeyAndUser(t.Context(), app.ID, k.Hash)
	if err != nil || gotUser == nil || gotUser.ID != u.ID {
		t.Fatalf("FindAPIKeyAndUser: user %v, err %v; want %s", gotUser, err, u.ID)
	}
	assertKeyLimits(t, "FindAPIKeyAndUser", gotKey, k)

	su, sk := newServerAPIKey(t, app.ID, "backend")
	withLimits(sk, now())
	if err := s.CreateServerAPIKey(t.Context(), su, sk, 10); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindServerAPIKey(t.Context(), app.ID, sk.ID)
	if err != nil {
		t.Fatal(err)
	}
	assertKeyLimits(t, "FindServerAPIKey", got, sk)
	list, err := s.FindServerAPIKeys(t.Context(), app.ID)
	if err != nil || len(list) != 1 {
		t.Fatalf("FindServerAPIKeys: %d keys, %v; want 1", len(list), err)
	}
	assertKeyLimits(t, "FindServerAPIKeys", list[0], sk)
}

// A key created without limits reads back without any: nil, not zero values.
func testVerifyKeyWithoutLimits(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, app, u := openWithUser(t, open)
	k := mustCreateAPIKey(t, s, u, "ci")
	assertKeyLimits(t, "FindAPIKey", mustFindAPIKey(t, s, u.ID, k.ID), k)
	assertKeyLimits(t, "FindAPIKeyByHash", mustFindAPIKeyByHash(t, s, app.ID, k.Hash), k)
	// A meta of JSON null is none.
	n := newAPIKey(t, u, "null-meta")
	n.Meta = json.RawMessage("null")
	if err := s.CreateAPIKey(t.Context(), n, latchkey.MaxAPIKeysPerUser); err != nil {
		t.Fatal(err)
	}
	if got := mustFindAPIKey(t, s, u.ID, n.ID); got.Meta != nil {
		t.Fatalf("Meta = %s, want nil for JSON null", got.Meta)
	}
}

// An app's default key rate limit goes in with CreateApp and UpdateApp and comes back from
// every find; nil is none.
func testVerifyAppKeyRateLimit(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := newApp()
	app.KeyRateLimit = &latchkey.KeyRateLimit{Limit: 50, Duration: 90 * time.Second}
	if err := s.CreateApp(t.Context(), app); err != nil {
		t.Fatal(err)
	}
	mustCreateApp(t, s) // an app without a default
	check := func(t *testing.T, want *latchkey.KeyRateLimit) {
		t.Helper()
		byID, err := s.FindAppByID(t.Context(), app.ID)
		if err != nil {
			t.Fatal(err)
		}
		byClientID, err := s.FindAppByClientID(t.Context(), app.ClientAppID)
		if err != nil {
			t.Fatal(err)
		}
		apps, err := s.FindApps(t.Context())
		if err != nil || len(apps) != 2 {
			t.Fatalf("FindApps: %d apps, %v; want 2", len(apps), err)
		}
		for _, got := range []*latchkey.App{byID, byClientID, apps[0]} {
			if !reflect.DeepEqual(got.KeyRateLimit, want) {
				t.Fatalf("KeyRateLimit = %+v, want %+v", got.KeyRateLimit, want)
			}
		}
		if apps[1].KeyRateLimit != nil {
			t.Fatalf("app without a default: KeyRateLimit = %+v, want nil", apps[1].KeyRateLimit)
		}
	}
	check(t, app.KeyRateLimit)
	app.KeyRateLimit = &latchkey.KeyRateLimit{Limit: 7, Duration: time.Second}
	if err := s.UpdateApp(t.Context(), app); err != nil {
		t.Fatal(err)
	}
	check(t, app.KeyRateLimit)
	app.KeyRateLimit = nil
	if err := s.UpdateApp(t.Context(), app); err != nil {
		t.Fatal(err)
	}
	check(t, nil)
}

