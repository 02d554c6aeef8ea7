package service

import (
	"context"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
)

// rateWindows keeps this node's share of each rate-limited key's current window. The count
// of a window lives in the store, shared by every node; a node leases uses from it in chunks
// (a twentieth of the limit) and spends them from memory, so that a verify writes to the
// database once per chunk, not once per call. No node ever spends a use the store did not
// grant, so the nodes together never pass the limit; what a node leased and did not spend
// when the window ends is lost, so that with several nodes a key may be refused up to a
// chunk per other node early. On one node the count is exact.
type rateWindows struct {
	store latchkey.VerifyStore

	mu sync.Mutex
	m  map[string]*rateWindow
	// swept is when entries of ended windows were last dropped.
	swept time.Time
}

type rateWindow struct {
	mu         sync.Mutex
	limit      latchkey.KeyRateLimit
	start, end time.Time
	// local are the uses leased and not yet spent; used is the window's count in the store
	// after this node's last lease.
	local, used int64
}

func newRateWindows(store latchkey.VerifyStore) *rateWindows {
	return &rateWindows{store: store, m: map[string]*rateWindow{}}
}

// rateChunk is how many uses a node leases at once for a limit.
func rateChunk(limit int64) int64 { return max(1, limit/20) }

// take spends cost uses of the key's current window. It returns whether it could, where the
// key stands after, and a function that gives the uses back (for a call refused later).
func (r *rateWindows) take(ctx context.Context, keyID string, rl latchkey.KeyRateLimit, cost int64, now time.Time) (bool, latchkey.RateLimitState, func(), error) {
	w := r.window(keyID, now)
	w.mu.Lock()
	defer w.mu.Unlock()
	start, end := rl.Window(now)
	if w.limit != rl || !w.start.Equal(start) {
		w.limit, w.start, w.end, w.local, w.used = rl, start, end, 0, 0
	}
	if w.local < cost || (cost == 0 && w.used == 0) {
		want := max(rateChunk(rl.Limit), cost-w.local)
		if cost == 0 {
			want = 0
		}
		granted, used, err := r.store.LeaseRateWindow(ctx, keyID, start, rl.Limit, want)
		if err != nil {
			return false, latchkey.RateLimitState{}, nil, err
		}
		w.local += granted
		w.used = used
	}
	state := func() latchkey.RateLimitState {
		return latchkey.RateLimitState{Limit: rl.Limit, Remaining: max(0, rl.Limit-(w.used-w.local)), Reset: end}
	}
	if w.local < cost || (cost == 0 && w.local == 0 && w.used >= rl.Limit) {
		st := state()
		st.Remaining = 0
		return false, st, nil, nil
	}
	w.local -= cost
	refund := func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.start.Equal(start) {
			w.local += cost
		}
	}
	return true, state(), refund, nil
}

// window returns the key's entry, dropping the entries of ended windows now and then.
func (r *rateWindows) window(keyID string, now time.Time) *rateWindow {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Sub(r.swept) > time.Minute {
		for id, w := range r.m {
			if w.mu.TryLock() {
				if !now.Before(w.end) {
					delete(r.m, id)
				}
				w.mu.Unlock()
			}
		}
		r.swept = now
	}
	w := r.m[keyID]
	if w == nil {
		w = &rateWindow{}
		r.m[keyID] = w
	}
	return w
}
