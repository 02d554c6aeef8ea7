package service

import (
	"fmt"
	"testing"
	"time"
)

// TestLimiterMemory checks that each node's tables stay bounded: entries that have nothing
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
	t.Run("RefusalsBounded", func(t *testing.T) {
		r := &refusals{max: 100, m: map[string]time.Time{}}
		for i := range 10_000 {
			r.add(fmt.Sprint("account", i), now.Add(time.Minute), now)
			if len(r.m) > 100 {
				t.Fatalf("%d refusals after %d accounts, want at most 100", len(r.m), i+1)
			}
		}
	})
	t.Run("EndedRefusalsDropped", func(t *testing.T) {
		r := &refusals{max: 1000, m: map[string]time.Time{}}
		for i := range 50 {
			r.add(fmt.Sprint("account", i), now.Add(time.Minute), now)
		}
		r.add("long", now.Add(time.Hour), now)
		// Two minutes on, the 50 have ended; "long" has not.
		r.add("new", now.Add(3*time.Minute), now.Add(2*time.Minute))
		if len(r.m) != 2 {
			t.Fatalf("%d refusals, want 2 (long and new)", len(r.m))
		}
		if _, ok := r.wait("account1", now.Add(2*time.Minute)); ok {
			t.Error("an ended refusal still refuses")
		}
		if got, ok := r.wait("long", now.Add(2*time.Minute)); !ok || got != 58*time.Minute {
			t.Errorf("wait = %v, %v; want 58m", got, ok)
		}
	})
}
