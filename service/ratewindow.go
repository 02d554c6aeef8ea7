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
	leases *leaseBatcher

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
	return &rateWindows{leases: newLeaseBatcher(store), m: map[string]*rateWindow{}}
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
		granted, used, err := r.leases.lease(ctx, keyID, start, rl.Limit, want)
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

// maxLeaseBatch bounds how many leases one store call carries.
const maxLeaseBatch = 128

// leaseBatcher sends the leases that calls ask for at the same moment to the store together
// (LeaseRateWindows: one round trip and one commit), as the SQLite store's group commit does
// for single writes: under load, a verify of a key that needs a lease waits for one batch
// instead of its own transaction.
type leaseBatcher struct {
	store latchkey.VerifyStore

	loop  *lazyLoop
	queue chan *leaseCall // unbuffered: a lease is queued only while its caller waits
}

type leaseCall struct {
	lease latchkey.RateLease
	ready chan struct{}
}

func newLeaseBatcher(store latchkey.VerifyStore) *leaseBatcher {
	return &leaseBatcher{store: store, queue: make(chan *leaseCall), loop: newLazyLoop()}
}

// lease is LeaseRateWindow, in the next batch.
func (b *leaseBatcher) lease(ctx context.Context, keyID string, window time.Time, limit, want int64) (granted, used int64, err error) {
	if !b.loop.start(b.run) {
		return b.store.LeaseRateWindow(ctx, keyID, window, limit, want)
	}
	c := &leaseCall{lease: latchkey.RateLease{KeyID: keyID, Window: window, Limit: limit, Want: want}, ready: make(chan struct{})}
	select {
	case b.queue <- c:
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	case <-b.loop.stopping():
		return b.store.LeaseRateWindow(ctx, keyID, window, limit, want)
	}
	<-c.ready
	return c.lease.Granted, c.lease.Used, c.lease.Err
}

func (b *leaseBatcher) run(stop <-chan struct{}) {
	calls := make([]*leaseCall, 0, maxLeaseBatch)
	leases := make([]*latchkey.RateLease, 0, maxLeaseBatch)
	for {
		select {
		case c := <-b.queue:
			calls = append(calls[:0], c)
		case <-stop:
			return
		}
	more:
		for len(calls) < maxLeaseBatch {
			select {
			case c := <-b.queue:
				calls = append(calls, c)
			default:
				break more
			}
		}
		leases = leases[:0]
		for _, c := range calls {
			leases = append(leases, &c.lease)
		}
		// The batch is every caller's: no one caller's context ends it.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := b.store.LeaseRateWindows(ctx, leases); err != nil {
			for _, l := range leases {
				l.Err = err
			}
		}
		cancel()
		for _, c := range calls {
			close(c.ready)
		}
	}
}

// close stops the batching; later leases go to the store one by one.
func (b *leaseBatcher) close() { b.loop.close() }
