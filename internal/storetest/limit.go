package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// limitsCases are the cases of latchkey.LimitStore, the brute-force limits' state: buckets
// and lockouts that concurrent callers change without losing a count, and the sweep of what
// holds nothing.
var limitsCases = []storeCase{
	{"RateToken", testLimitsRateToken},
	{"RateTokenConcurrent", testLimitsRateTokenConcurrent},
	{"Lockout", testLimitsLockout},
	{"LockoutConcurrent", testLimitsLockoutConcurrent},
	{"DeleteIdle", testLimitsDeleteIdle},
}

func testLimitsRateToken(t *testing.T, open func(t *testing.T) latchkey.Store) {
	t0 := now()
	s := open(t)
	for i := range 3 {
		if wait := takeRateToken(t, s, "ann", t0); wait != 0 {
			t.Fatalf("take %d: wait %v, want a token", i, wait)
		}
	}
	if wait := takeRateToken(t, s, "ann", t0); wait != 20*time.Second {
		t.Fatalf("wait = %v, want 20s", wait)
	}
	if wait := takeRateToken(t, s, "ann", t0.Add(5*time.Second)); wait != 15*time.Second {
		t.Fatalf("wait 5s on = %v, want 15s", wait)
	}
	if wait := takeRateToken(t, s, "bob", t0); wait != 0 {
		t.Fatalf("another key: wait %v, want a token", wait)
	}
	// One token earned per interval, and no more than the burst.
	if wait := takeRateToken(t, s, "ann", t0.Add(20*time.Second)); wait != 0 {
		t.Fatalf("after an interval: wait %v, want a token", wait)
	}
	if wait := takeRateToken(t, s, "ann", t0.Add(20*time.Second)); wait != 20*time.Second {
		t.Fatalf("second after an interval: wait %v, want 20s", wait)
	}
	for i := range 3 {
		if wait := takeRateToken(t, s, "ann", t0.Add(time.Hour)); wait != 0 {
			t.Fatalf("an hour on, take %d: wait %v, want a token", i, wait)
		}
	}
}

func testLimitsRateTokenConcurrent(t *testing.T, open func(t *testing.T) latchkey.Store) {
	t0 := now()
	s := open(t)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		taken int
	)
	for range 20 {
		wg.Go(func() {
			wait, err := s.TakeRateToken(t.Context(), []byte("ann"), t0, time.Minute, 5)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if wait == 0 {
				taken++
			}
		})
	}
	wg.Wait()
	if taken != 5 {
		t.Fatalf("%d tokens taken by 20 callers, want 5", taken)
	}
}

func testLimitsLockout(t *testing.T, open func(t *testing.T) latchkey.Store) {
	t0 := now()
	s := open(t)
	if got := readLockout(t, s, "ann"); !got.IsZero() {
		t.Fatalf("new account: %+v, want the zero lockout", got)
	}
	want := latchkey.Lockout{
		Failures: 2, Pending: 1, PendingUntil: t0.Add(time.Minute), Locks: 3,
		LockedUntil: t0.Add(time.Hour).Add(123 * time.Nanosecond), LastFailure: t0,
	}
	if err := s.UpdateLockout(t.Context(), []byte("ann"), func(l *latchkey.Lockout) bool {
		*l = want
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if got := readLockout(t, s, "ann"); !lockoutEqual(got, want) {
		t.Fatalf("read back %+v, want %+v", got, want)
	}
	if got := readLockout(t, s, "bob"); !got.IsZero() {
		t.Fatalf("other account: %+v, want the zero lockout", got)
	}
	// fn returning false writes nothing.
	if err := s.UpdateLockout(t.Context(), []byte("ann"), func(l *latchkey.Lockout) bool {
		l.Failures = 99
		return false
	}); err != nil {
		t.Fatal(err)
	}
	if got := readLockout(t, s, "ann"); got.Failures != 2 {
		t.Fatalf("failures = %d after fn refused to write, want 2", got.Failures)
	}
	// A zero state deletes the row.
	if err := s.UpdateLockout(t.Context(), []byte("ann"), func(l *latchkey.Lockout) bool {
		*l = latchkey.Lockout{}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteIdleLimits(t.Context(), t0, t0.Add(time.Hour)); err != nil || n != 0 {
		t.Fatalf("DeleteIdleLimits = %d, %v; want nothing left to delete", n, err)
	}
}

func testLimitsLockoutConcurrent(t *testing.T, open func(t *testing.T) latchkey.Store) {
	t0 := now()
	// Every call counts, whether it finds the row or, racing the others, none yet.
	s := open(t)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if err := s.UpdateLockout(t.Context(), []byte("ann"), func(l *latchkey.Lockout) bool {
				l.Failures++
				l.LastFailure = t0
				return true
			}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := readLockout(t, s, "ann"); got.Failures != 20 {
		t.Fatalf("failures = %d after 20 concurrent calls, want 20", got.Failures)
	}
}

func testLimitsDeleteIdle(t *testing.T, open func(t *testing.T) latchkey.Store) {
	t0 := now()
	s := open(t)
	takeRateToken(t, s, "spent", t0)               // full again 20s on
	takeRateToken(t, s, "busy", t0.Add(time.Hour)) // full again an hour on
	set := func(account string, l latchkey.Lockout) {
		t.Helper()
		if err := s.UpdateLockout(t.Context(), []byte(account), func(st *latchkey.Lockout) bool {
			*st = l
			return true
		}); err != nil {
			t.Fatal(err)
		}
	}
	set("old", latchkey.Lockout{Failures: 3, Locks: 1, LastFailure: t0})
	set("recent", latchkey.Lockout{Failures: 3, LastFailure: t0.Add(2 * time.Hour)})
	set("locked", latchkey.Lockout{Locks: 1, LockedUntil: t0.Add(4 * time.Hour), LastFailure: t0})
	set("checking", latchkey.Lockout{Pending: 1, PendingUntil: t0.Add(4 * time.Hour)})
	set("lost", latchkey.Lockout{Pending: 2, PendingUntil: t0.Add(time.Minute)})

	// Three hours on, forgetting failures before one hour on.
	n, err := s.DeleteIdleLimits(t.Context(), t0.Add(3*time.Hour), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Fatalf("deleted %d rows, want 4 (spent, busy, old, lost)", n)
	}
	for _, account := range []string{"old", "lost"} {
		if got := readLockout(t, s, account); !got.IsZero() {
			t.Errorf("%s: %+v, want deleted", account, got)
		}
	}
	for _, account := range []string{"recent", "locked", "checking"} {
		if got := readLockout(t, s, account); got.IsZero() {
			t.Errorf("%s deleted, want kept", account)
		}
	}
}

// takeRateToken takes a token from the bucket key at at, of 3 tokens earning one each 20s,
// and returns the wait.
func takeRateToken(t *testing.T, s latchkey.Store, key string, at time.Time) time.Duration {
	t.Helper()
	wait, err := s.TakeRateToken(t.Context(), []byte(key), at, 20*time.Second, 3)
	if err != nil {
		t.Fatalf("TakeRateToken: %v", err)
	}
	return wait
}

// readLockout returns the lockout state of account, changing nothing.
func readLockout(t *testing.T, s latchkey.Store, account string) latchkey.Lockout {
	t.Helper()
	var got latchkey.Lockout
	if err := s.UpdateLockout(t.Context(), []byte(account), func(l *latchkey.Lockout) bool {
		got = *l
		return false
	}); err != nil {
		t.Fatalf("UpdateLockout: %v", err)
	}
	return got
}

// lockoutEqual compares lockouts by their times' instants.
func lockoutEqual(a, b latchkey.Lockout) bool {
	return a.Failures == b.Failures && a.Pending == b.Pending && a.Locks == b.Locks &&
		a.PendingUntil.Equal(b.PendingUntil) && a.LockedUntil.Equal(b.LockedUntil) &&
		a.LastFailure.Equal(b.LastFailure)
}
