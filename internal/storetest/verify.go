package storetest

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// verifyCases are the cases of what key verification keeps: a key's limits and meta as every
// read of a key returns them, an app's default rate limit, and latchkey.VerifyStore.
var verifyCases = []storeCase{
	{"KeyLimitsRead", testVerifyKeyLimitsRead},
	{"KeyWithoutLimits", testVerifyKeyWithoutLimits},
	{"AppKeyRateLimit", testVerifyAppKeyRateLimit},
	{"FeedRecordsWrites", testVerifyFeedRecordsWrites},
	{"FeedCascade", testVerifyFeedCascade},
	{"FeedIgnoresUse", testVerifyFeedIgnoresUse},
	{"FeedCursor", testVerifyFeedCursor},
	{"FeedDeleteBefore", testVerifyFeedDeleteBefore},
	{"FeedIgnoresUsesAndUsage", testVerifyFeedIgnoresUsesAndUsage},
	{"SetLimits", testVerifySetLimits},
	{"TakeUses", testVerifyTakeUses},
	{"TakeUsesRefill", testVerifyTakeUsesRefill},
	{"TakeUsesConcurrent", testVerifyTakeUsesConcurrent},
	{"LeaseWindow", testVerifyLeaseWindow},
	{"LeaseWindowConcurrent", testVerifyLeaseWindowConcurrent},
	{"LeaseWindows", testVerifyLeaseWindows},
	{"LeaseWindowsConcurrent", testVerifyLeaseWindowsConcurrent},
	{"Usage", testVerifyUsage},
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

func int64Ptr(v int64) *int64 { return &v }

// setLimits calls SetAPIKeyLimits and fails the test on error.
func setLimits(t *testing.T, s latchkey.Store, u *latchkey.User, k *latchkey.APIKey, l latchkey.APIKeyLimits, at time.Time) *latchkey.APIKey {
	t.Helper()
	got, err := s.SetAPIKeyLimits(t.Context(), u.ID, k.ID, l, at)
	if err != nil {
		t.Fatalf("SetAPIKeyLimits: %v", err)
	}
	return got
}

// SetAPIKeyLimits writes the fields that are set, leaves the others, and removes what points
// at nil; removing Remaining removes Refill too.
func testVerifySetLimits(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, _, u := openWithUser(t, open)
	k := mustCreateAPIKey(t, s, u, "ci")
	t0 := now()
	rl := &latchkey.KeyRateLimit{Limit: 100, Duration: time.Minute}
	remaining := int64Ptr(1000)
	refill := &latchkey.KeyRefill{Amount: 1000, Interval: latchkey.RefillDaily}
	meta := json.RawMessage(`{"plan": "pro"}`)
	got := setLimits(t, s, u, k, latchkey.APIKeyLimits{RateLimit: &rl, Remaining: &remaining, Refill: &refill, Meta: &meta}, t0)
	want := &latchkey.APIKey{RateLimit: rl, Remaining: remaining, Refill: refill, RefilledAt: &t0, Meta: meta}
	assertKeyLimits(t, "after setting all", got, want)
	assertKeyLimits(t, "FindAPIKey after setting all", mustFindAPIKey(t, s, u.ID, k.ID), want)
	if got.ID != k.ID || got.Name != k.Name || !bytes.Equal(got.Hash, k.Hash) {
		t.Fatalf("SetAPIKeyLimits returned %+v, want key %s as it is", got, k.ID)
	}

	// Only the rate limit: the rest stays, RefilledAt too.
	rl2 := &latchkey.KeyRateLimit{Limit: 5, Duration: time.Second}
	got = setLimits(t, s, u, k, latchkey.APIKeyLimits{RateLimit: &rl2}, t0.Add(time.Hour))
	want.RateLimit = rl2
	assertKeyLimits(t, "after setting the rate limit", got, want)

	// Nothing set: the key as it is.
	assertKeyLimits(t, "after setting nothing", setLimits(t, s, u, k, latchkey.APIKeyLimits{}, t0.Add(time.Hour)), want)

	// Remaining again: RefilledAt moves to now.
	t1 := t0.Add(2 * time.Hour)
	remaining2 := int64Ptr(7)
	got = setLimits(t, s, u, k, latchkey.APIKeyLimits{Remaining: &remaining2}, t1)
	want.Remaining, want.RefilledAt = remaining2, &t1
	assertKeyLimits(t, "after setting remaining", got, want)

	// Removing the rate limit and meta; removing remaining removes the refill with it.
	var noRL *latchkey.KeyRateLimit
	var noRemaining *int64
	var noMeta json.RawMessage
	got = setLimits(t, s, u, k, latchkey.APIKeyLimits{RateLimit: &noRL, Remaining: &noRemaining, Meta: &noMeta}, t1)
	assertKeyLimits(t, "after removing all", got, &latchkey.APIKey{})

	// A refill alone on a key without remaining uses does not stay.
	got = setLimits(t, s, u, k, latchkey.APIKeyLimits{Refill: &refill}, t1)
	assertKeyLimits(t, "after a refill without remaining", got, &latchkey.APIKey{})

	// A meta of "null" removes it too.
	got = setLimits(t, s, u, k, latchkey.APIKeyLimits{Meta: &meta}, t1)
	null := json.RawMessage("null")
	if got = setLimits(t, s, u, k, latchkey.APIKeyLimits{Meta: &null}, t1); got.Meta != nil {
		t.Fatalf("Meta = %s after setting null, want none", got.Meta)
	}

	// Another user's key, or none, is not found.
	other := mustCreateUser(t, s, u.AppID, "other@example.com")
	_, err := s.SetAPIKeyLimits(t.Context(), other.ID, k.ID, latchkey.APIKeyLimits{Meta: &meta}, t1)
	assertCode(t, err, latchkey.ENotFound)
	_, err = s.SetAPIKeyLimits(t.Context(), u.ID, newID(), latchkey.APIKeyLimits{}, t1)
	assertCode(t, err, latchkey.ENotFound)
}

// mustCreateKeyWith creates a key of the user with remaining uses and a refill.
func mustCreateKeyWith(t *testing.T, s latchkey.Store, u *latchkey.User, name string, remaining int64, refill *latchkey.KeyRefill, refilledAt *time.Time) *latchkey.APIKey {
	t.Helper()
	k := newAPIKey(t, u, name)
	k.Remaining, k.Refill, k.RefilledAt = &remaining, refill, refilledAt
	if err := s.CreateAPIKey(t.Context(), k, latchkey.MaxAPIKeysPerUser); err != nil {
		t.Fatal(err)
	}
	return k
}

// take calls TakeAPIKeyUses and fails the test unless it answers remaining and ok.
func take(t *testing.T, s latchkey.Store, k *latchkey.APIKey, cost int64, at time.Time, wantRemaining int64, wantOK bool) {
	t.Helper()
	remaining, ok, err := s.TakeAPIKeyUses(t.Context(), k.ID, cost, at)
	if err != nil {
		t.Fatalf("TakeAPIKeyUses(cost %d): %v", cost, err)
	}
	if remaining != wantRemaining || ok != wantOK {
		t.Fatalf("TakeAPIKeyUses(cost %d) = %d, %v; want %d, %v", cost, remaining, ok, wantRemaining, wantOK)
	}
}

// TakeAPIKeyUses takes cost while enough is left; a refused take, and a cost of 0, take
// nothing; a key without remaining uses, or none, is not found.
func testVerifyTakeUses(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, _, u := openWithUser(t, open)
	t0 := now()
	k := mustCreateKeyWith(t, s, u, "ci", 3, nil, nil)
	take(t, s, k, 0, t0, 3, true)
	take(t, s, k, 1, t0, 2, true)
	take(t, s, k, 5, t0, 2, false)
	take(t, s, k, 2, t0, 0, true)
	take(t, s, k, 1, t0, 0, false)
	take(t, s, k, 0, t0, 0, false)
	if got := mustFindAPIKey(t, s, u.ID, k.ID); got.Remaining == nil || *got.Remaining != 0 {
		t.Fatalf("Remaining = %v after the takes, want 0", ptrString(got.Remaining))
	}
	plain := mustCreateAPIKey(t, s, u, "plain")
	_, ok, err := s.TakeAPIKeyUses(t.Context(), plain.ID, 1, t0)
	assertCode(t, err, latchkey.ENotFound)
	if ok {
		t.Fatal("a key without remaining uses: ok true")
	}
	_, _, err = s.TakeAPIKeyUses(t.Context(), newID(), 1, t0)
	assertCode(t, err, latchkey.ENotFound)
}

// A key's uses go back to the refill amount once, at the first take of each new period
// (00:00 UTC of a day, or of a month's first day), and when it was never refilled.
func testVerifyTakeUsesRefill(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, _, u := openWithUser(t, open)
	day := time.Date(2031, 3, 14, 0, 0, 0, 0, time.UTC)
	daily := &latchkey.KeyRefill{Amount: 10, Interval: latchkey.RefillDaily}
	k := mustCreateKeyWith(t, s, u, "daily", 0, daily, timePtr(day.Add(-time.Hour)))
	take(t, s, k, 0, day.Add(time.Hour), 10, true) // a check refills nothing it keeps
	take(t, s, k, 1, day.Add(time.Hour), 9, true)
	take(t, s, k, 1, day.Add(23*time.Hour), 8, true)
	got := mustFindAPIKey(t, s, u.ID, k.ID)
	if got.RefilledAt == nil || !got.RefilledAt.Equal(day.Add(time.Hour)) {
		t.Fatalf("RefilledAt = %v, want the first take of the day %v", got.RefilledAt, day.Add(time.Hour))
	}
	take(t, s, k, 20, day.Add(25*time.Hour), 10, false) // refused: refilled, not kept
	take(t, s, k, 4, day.Add(25*time.Hour), 6, true)

	monthly := &latchkey.KeyRefill{Amount: 100, Interval: latchkey.RefillMonthly}
	m := mustCreateKeyWith(t, s, u, "monthly", 1, monthly, timePtr(day)) // refilled on March 14
	take(t, s, m, 1, time.Date(2031, 3, 31, 23, 0, 0, 0, time.UTC), 0, true)
	take(t, s, m, 1, time.Date(2031, 3, 31, 23, 30, 0, 0, time.UTC), 0, false)
	take(t, s, m, 1, time.Date(2031, 4, 1, 0, 0, 0, 0, time.UTC), 99, true)

	never := mustCreateKeyWith(t, s, u, "never", 0, daily, nil)
	take(t, s, never, 1, day, 9, true)
}

// Of 50 concurrent takes of one use from 30, exactly 30 succeed and none is left.
func testVerifyTakeUsesConcurrent(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, _, u := openWithUser(t, open)
	k := mustCreateKeyWith(t, s, u, "ci", 30, nil, nil)
	t0 := now()
	var (
		wg sync.WaitGroup
		ok atomic.Int64
	)
	for range 50 {
		wg.Go(func() {
			_, took, err := s.TakeAPIKeyUses(t.Context(), k.ID, 1, t0)
			if err != nil {
				t.Error(err)
			}
			if took {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 30 {
		t.Fatalf("%d of 50 takes succeeded from 30, want 30", ok.Load())
	}
	if got := mustFindAPIKey(t, s, u.ID, k.ID); got.Remaining == nil || *got.Remaining != 0 {
		t.Fatalf("Remaining = %v, want 0", ptrString(got.Remaining))
	}
}

// LeaseRateWindow grants up to the limit in a window, and starts again at zero in another.
func testVerifyLeaseWindow(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, _, u := openWithUser(t, open)
	k := mustCreateAPIKey(t, s, u, "ci")
	w0 := time.Date(2031, 3, 14, 9, 26, 0, 0, time.UTC)
	lease := func(window time.Time, want, wantGranted, wantUsed int64) {
		t.Helper()
		granted, used, err := s.LeaseRateWindow(t.Context(), k.ID, window, 10, want)
		if err != nil {
			t.Fatalf("LeaseRateWindow: %v", err)
		}
		if granted != wantGranted || used != wantUsed {
			t.Fatalf("LeaseRateWindow(want %d) = %d, %d; want %d, %d", want, granted, used, wantGranted, wantUsed)
		}
	}
	lease(w0, 4, 4, 4)
	lease(w0, 4, 4, 8)
	lease(w0, 4, 2, 10)
	lease(w0, 1, 0, 10)
	lease(w0, 0, 0, 10)
	w1 := w0.Add(time.Minute)
	lease(w1, 3, 3, 3)
	lease(w1, 20, 7, 10)
	// A lease of the older window (a node whose clock lags) gets nothing and leaves the
	// newer window as it is.
	lease(w0, 5, 0, 10)
	lease(w1, 1, 0, 10)

	if n, err := s.DeleteRateWindowsBefore(t.Context(), w1); err != nil || n != 0 {
		t.Fatalf("DeleteRateWindowsBefore(the window's start) = %d, %v; want 0", n, err)
	}
	if n, err := s.DeleteRateWindowsBefore(t.Context(), w1.Add(time.Millisecond)); err != nil || n != 1 {
		t.Fatalf("DeleteRateWindowsBefore(after the window's start) = %d, %v; want 1", n, err)
	}
	lease(w1, 3, 3, 3) // the window's count went with its row

	if err := s.DeleteAPIKey(t.Context(), u.ID, k.ID); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.LeaseRateWindow(t.Context(), k.ID, w1, 10, 1)
	assertCode(t, err, latchkey.ENotFound)
}

// Concurrent leases never grant more than the limit in all.
func testVerifyLeaseWindowConcurrent(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, _, u := openWithUser(t, open)
	k := mustCreateAPIKey(t, s, u, "ci")
	w := now().Truncate(time.Minute)
	var (
		wg      sync.WaitGroup
		granted atomic.Int64
	)
	for range 20 {
		wg.Go(func() {
			g, used, err := s.LeaseRateWindow(t.Context(), k.ID, w, 25, 3)
			if err != nil {
				t.Error(err)
			}
			if used > 25 {
				t.Errorf("used %d past the limit 25", used)
			}
			granted.Add(g)
		})
	}
	wg.Wait()
	if granted.Load() != 25 {
		t.Fatalf("leases granted %d in all, want the limit 25", granted.Load())
	}
}

// LeaseRateWindows answers each lease as LeaseRateWindow would, in order, a key twice in one
// batch included, and a key that is gone fails alone.
func testVerifyLeaseWindows(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, _, u := openWithUser(t, open)
	a := mustCreateAPIKey(t, s, u, "a")
	b := mustCreateAPIKey(t, s, u, "b")
	gone := mustCreateAPIKey(t, s, u, "gone")
	if err := s.DeleteAPIKey(t.Context(), u.ID, gone.ID); err != nil {
		t.Fatal(err)
	}
	w := now().Truncate(time.Minute)
	leases := []*latchkey.RateLease{
		{KeyID: b.ID, Window: w, Limit: 10, Want: 4},
		{KeyID: a.ID, Window: w, Limit: 10, Want: 6},
		{KeyID: gone.ID, Window: w, Limit: 10, Want: 1},
		{KeyID: a.ID, Window: w, Limit: 10, Want: 6},
		{KeyID: b.ID, Window: w.Add(time.Minute), Limit: 10, Want: 3},
	}
	if err := s.LeaseRateWindows(t.Context(), leases); err != nil {
		t.Fatalf("LeaseRateWindows: %v", err)
	}
	want := []struct{ granted, used int64 }{{4, 4}, {6, 6}, {0, 0}, {4, 10}, {3, 3}}
	for i, l := range leases {
		if i == 2 {
			assertCode(t, l.Err, latchkey.ENotFound)
			continue
		}
		if l.Err != nil || l.Granted != want[i].granted || l.Used != want[i].used {
			t.Errorf("lease %d = %d, %d, %v; want %d, %d", i, l.Granted, l.Used, l.Err, want[i].granted, want[i].used)
		}
	}
	// The batch's leases are the store's: a single lease reads what they left.
	if g, used, err := s.LeaseRateWindow(t.Context(), a.ID, w, 10, 1); err != nil || g != 0 || used != 10 {
		t.Fatalf("LeaseRateWindow after the batch = %d, %d, %v; want 0, 10", g, used, err)
	}
}

// Concurrent batches over the same keys, in opposite orders, neither deadlock nor grant past
// the limit.
func testVerifyLeaseWindowsConcurrent(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, _, u := openWithUser(t, open)
	keys := []*latchkey.APIKey{mustCreateAPIKey(t, s, u, "a"), mustCreateAPIKey(t, s, u, "b"), mustCreateAPIKey(t, s, u, "c")}
	w := now().Truncate(time.Minute)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		granted = map[string]int64{}
	)
	for i := range 16 {
		wg.Go(func() {
			var leases []*latchkey.RateLease
			for j := range keys {
				k := keys[j]
				if i%2 == 1 {
					k = keys[len(keys)-1-j]
				}
				leases = append(leases, &latchkey.RateLease{KeyID: k.ID, Window: w, Limit: 20, Want: 2})
			}
			if err := s.LeaseRateWindows(t.Context(), leases); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, l := range leases {
				if l.Err != nil {
					t.Error(l.Err)
				}
				granted[l.KeyID] += l.Granted
			}
		})
	}
	wg.Wait()
	for _, k := range keys {
		if granted[k.ID] != 20 {
			t.Errorf("key %s: granted %d in all, want the limit 20", k.Name, granted[k.ID])
		}
	}
}

// AddKeyUsage adds to the hourly counts, merging a batch's rows of one hour, drops the counts
// of keys that are gone without failing the batch, and moves last uses only forward.
func testVerifyUsage(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, _, u := openWithUser(t, open)
	ctx := t.Context()
	k := mustCreateAPIKey(t, s, u, "ci")
	gone := mustCreateAPIKey(t, s, u, "gone")
	if err := s.DeleteAPIKey(ctx, u.ID, gone.ID); err != nil {
		t.Fatal(err)
	}
	h := time.Date(2031, 3, 14, 9, 0, 0, 0, time.UTC)
	t1 := h.Add(26 * time.Minute)
	if err := s.AddKeyUsage(ctx, []latchkey.KeyUsage{
		{KeyID: k.ID, Hour: h.Add(5 * time.Minute), Valid: 3, Other: 1},
		{KeyID: k.ID, Hour: h, Valid: 2, RateLimited: 1},
		{KeyID: k.ID, Hour: h.Add(-time.Hour), UsageExceeded: 4},
		{KeyID: gone.ID, Hour: h, Valid: 9},
	}, map[string]time.Time{k.ID: t1, gone.ID: t1}); err != nil {
		t.Fatalf("AddKeyUsage: %v", err)
	}
	if err := s.AddKeyUsage(ctx, []latchkey.KeyUsage{{KeyID: k.ID, Hour: h, Valid: 10}},
		map[string]time.Time{k.ID: t1.Add(-time.Minute)}); err != nil {
		t.Fatalf("AddKeyUsage: %v", err)
	}
	got, err := s.FindKeyUsage(ctx, k.ID, h.Add(-2*time.Hour), h.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []latchkey.KeyUsage{
		{KeyID: k.ID, Hour: h.Add(-time.Hour), UsageExceeded: 4},
		{KeyID: k.ID, Hour: h, Valid: 15, RateLimited: 1, Other: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("FindKeyUsage = %+v, want %+v", got, want)
	}
	if got, err := s.FindKeyUsage(ctx, k.ID, h, h.Add(time.Hour)); err != nil || len(got) != 1 || !got[0].Hour.Equal(h) {
		t.Fatalf("FindKeyUsage from the hour = %+v, %v; want that hour only", got, err)
	}
	if got, err := s.FindKeyUsage(ctx, gone.ID, h.Add(-2*time.Hour), h.Add(time.Hour)); err != nil || len(got) != 0 {
		t.Fatalf("FindKeyUsage of a deleted key = %+v, %v; want none", got, err)
	}
	if got := mustFindAPIKey(t, s, u.ID, k.ID); got.LastUsedAt == nil || !got.LastUsedAt.Equal(t1) {
		t.Fatalf("LastUsedAt = %v, want %v (an earlier time does not move it back)", got.LastUsedAt, t1)
	}

	if n, err := s.DeleteKeyUsageBefore(ctx, h); err != nil || n != 1 {
		t.Fatalf("DeleteKeyUsageBefore = %d, %v; want 1", n, err)
	}
	if got, err := s.FindKeyUsage(ctx, k.ID, h.Add(-2*time.Hour), h.Add(time.Hour)); err != nil || len(got) != 1 {
		t.Fatalf("FindKeyUsage after the sweep = %+v, %v; want the newer hour", got, err)
	}
	// Deleting the key deletes its counts.
	if err := s.DeleteAPIKey(ctx, u.ID, k.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteKeyUsageBefore(ctx, h.Add(24*time.Hour)); err != nil || n != 0 {
		t.Fatalf("DeleteKeyUsageBefore after the key's delete = %d, %v; want 0", n, err)
	}
}
