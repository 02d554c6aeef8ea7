package service

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
)

// usageFlush is how often a node writes the usage it counted: a node killed outright loses at
// most this much of its counts.
const usageFlush = time.Second

// usageMaxPending bounds the counts kept while the database is away; past it the oldest are
// dropped (and said so) rather than memory growing without end.
const usageMaxPending = 500_000

type usageKey struct {
	keyID string
	hour  int64 // Unix seconds of the hour's start
}

// usageCounter gathers the verify calls' outcomes per key and hour in memory and writes them,
// with the keys' last use, in one transaction a second, so that counting adds no database
// write to a call.
type usageCounter struct {
	store  latchkey.VerifyStore
	logger *slog.Logger

	// loop writes the counts, from the first count until close.
	loop *lazyLoop

	mu       sync.Mutex
	counts   map[usageKey]*latchkey.KeyUsage
	lastUsed map[string]time.Time
	// written remembers when each key's last use was last written, to write it at most
	// once per lastUseGranularity.
	written map[string]time.Time
}

func newUsageCounter(store latchkey.VerifyStore, logger *slog.Logger) *usageCounter {
	return &usageCounter{
		store: store, logger: logger, loop: newLazyLoop(),
		counts: map[usageKey]*latchkey.KeyUsage{}, lastUsed: map[string]time.Time{}, written: map[string]time.Time{},
	}
}

// add counts one call of the key with its outcome at t.
func (u *usageCounter) add(keyID, code string, t time.Time) {
	u.loop.start(u.run)
	hour := t.UTC().Truncate(time.Hour)
	k := usageKey{keyID, hour.Unix()}
	u.mu.Lock()
	defer u.mu.Unlock()
	c := u.counts[k]
	if c == nil {
		if len(u.counts) >= usageMaxPending {
			return
		}
		c = &latchkey.KeyUsage{KeyID: keyID, Hour: hour}
		u.counts[k] = c
	}
	switch code {
	case latchkey.VerifyValid:
		c.Valid++
		if t.Sub(u.written[keyID]) >= lastUseGranularity && t.After(u.lastUsed[keyID]) {
			u.lastUsed[keyID] = t
		}
	case latchkey.VerifyRateLimited:
		c.RateLimited++
	case latchkey.VerifyUsageExceeded:
		c.UsageExceeded++
	default:
		c.Other++
	}
}

// pending returns the counts of the key not yet written, by hour.
func (u *usageCounter) pending(keyID string) []latchkey.KeyUsage {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []latchkey.KeyUsage
	for k, c := range u.counts {
		if k.keyID == keyID {
			out = append(out, *c)
		}
	}
	return out
}

func (u *usageCounter) run(stop <-chan struct{}) {
	t := time.NewTicker(usageFlush)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := u.flush(ctx); err != nil {
				u.logger.Warn("write API key usage counts", "err", err)
			}
			cancel()
		}
	}
}

// flush writes what was counted. On failure the counts stay, to go with the next flush.
func (u *usageCounter) flush(ctx context.Context) error {
	u.mu.Lock()
	if len(u.counts) == 0 && len(u.lastUsed) == 0 {
		u.mu.Unlock()
		return nil
	}
	counts, lastUsed := u.counts, u.lastUsed
	u.counts, u.lastUsed = map[usageKey]*latchkey.KeyUsage{}, map[string]time.Time{}
	u.mu.Unlock()

	batch := make([]latchkey.KeyUsage, 0, len(counts))
	for _, c := range counts {
		batch = append(batch, *c)
	}
	err := u.store.AddKeyUsage(ctx, batch, lastUsed)
	u.mu.Lock()
	defer u.mu.Unlock()
	if err != nil {
		for k, c := range counts {
			if cur := u.counts[k]; cur != nil {
				cur.Valid += c.Valid
				cur.RateLimited += c.RateLimited
				cur.UsageExceeded += c.UsageExceeded
				cur.Other += c.Other
			} else if len(u.counts) < usageMaxPending {
				u.counts[k] = c
			}
		}
		for id, t := range lastUsed {
			if t.After(u.lastUsed[id]) {
				u.lastUsed[id] = t
			}
		}
		return err
	}
	for id, t := range lastUsed {
		u.written[id] = t
	}
	if len(u.written) > usageMaxPending {
		clear(u.written)
	}
	return nil
}

// close stops the flushing and writes what is left, waiting up to 5 s.
func (u *usageCounter) close() {
	if !u.loop.close() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := u.flush(ctx); err != nil {
		u.logger.Warn("write API key usage counts at close", "err", err)
	}
}
