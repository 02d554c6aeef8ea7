package service

import (
	"fmt"
	"testing"
	"time"
)

// TestLimiterMemory checks that the limiter's tables stay bounded: entries that have nothing
// left to remember are dropped, and a full table makes room.
func TestLimiterMemory(t *testing.T) {
	now := time.Now()
	t.Run("BucketsBounded", func(t *testing.T) {
		b := newBuckets(Rate{N: 5, Per: time.Minute}, 100)
		for i := range 10_000 {
			b.take(fmt.Sprint("ip", i), now)
			if len(b.m) > 100 {
				t.Fatalf("%d buckets after %d keys, want at most 100", len(b.m), i+1)
			}
		}
	})
	t.Run("IdleBucketsDropped", func(t *testing.T) {
		b := newBuckets(Rate{N: 5, Per: time.Minute}, 1000)
		for i := range 50 {
			b.take(fmt.Sprint("ip", i), now)
		}
		for range 5 {
			b.take("busy", now.Add(30*time.Second))
		}
		// A minute on, the 50 have filled up again; "busy" has not.
		b.take("new", now.Add(61*time.Second))
		if len(b.m) != 2 {
			t.Fatalf("%d buckets, want 2 (busy and new)", len(b.m))
		}
	})
	t.Run("LockoutsBounded", func(t *testing.T) {
		l := &lockouts{threshold: 3, duration: time.Minute, max: 100, m: map[string]*lockState{}}
		for i := range 10_000 {
			account := fmt.Sprint("account", i)
			if _, ok := l.begin(account, now); !ok {
				t.Fatalf("account %d refused", i)
			}
			l.end(account, outcomeFailure, now)
			if len(l.m) > 100 {
				t.Fatalf("%d lockout states after %d accounts, want at most 100", len(l.m), i+1)
			}
		}
	})
	t.Run("IdleLockoutsDropped", func(t *testing.T) {
		l := &lockouts{threshold: 3, duration: time.Minute, max: 1000, m: map[string]*lockState{}}
		for i := range 50 {
			account := fmt.Sprint("account", i)
			l.begin(account, now)
			l.end(account, outcomeSuccess, now)
		}
		if len(l.m) != 0 {
			t.Fatalf("%d states after successes only, want 0", len(l.m))
		}
		for i := range 50 {
			account := fmt.Sprint("account", i)
			l.begin(account, now)
			l.end(account, outcomeFailure, now)
		}
		// A failure is remembered for a day, then forgotten.
		l.begin("late", now.Add(lockoutMemory+2*time.Minute))
		if len(l.m) != 1 {
			t.Fatalf("%d states a day later, want 1", len(l.m))
		}
	})
}
