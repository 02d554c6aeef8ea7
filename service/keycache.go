package service

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
)

// The key cache's timing: how often a node reads the store's change feed, and how long after
// the start of its last successful read it still answers from memory. A change committed on
// any node is seen by the first read that starts after it, so no answer is staler than
// keyCacheTrust: within the second that verify promises.
const (
	keyCachePoll  = 250 * time.Millisecond
	keyCacheTrust = 750 * time.Millisecond
	// keyCacheMax bounds the entries kept; a full cache starts again empty.
	keyCacheMax = 200_000
)

// keyEntry is what a verify call needs of a key, as the store last said: the key and its
// user's type and state.
type keyEntry struct {
	key          *latchkey.APIKey
	userType     string
	userDisabled bool
}

// keyCache keeps the keys that verify calls looked up, by the hash of the value presented,
// so that a verify asks the database nothing. It forgets a key when the store's change feed
// (written by triggers on every change a verify answer depends on, on any node) names it,
// its user or its app, and it answers from memory only while its last read of the feed is
// recent; otherwise every lookup goes to the store.
type keyCache struct {
	store  latchkey.Store
	logger *slog.Logger

	// loop reads the feed, from the first lookup until close.
	loop *lazyLoop
	// pollMu makes feed reads one at a time.
	pollMu sync.Mutex

	mu     sync.RWMutex
	byHash map[[sha256.Size]byte]*keyEntry
	byKey  map[string][][sha256.Size]byte
	byUser map[string][]string // user id -> key ids
	// epoch counts the feed reads that brought changes: a lookup that raced with one does
	// not keep what it read, which may predate the change.
	epoch uint64
	// fresh is the start of the last successful feed read; zero before the first and after
	// a failed one.
	fresh  time.Time
	cursor int64
	// lost says a feed read failed: the next one that succeeds starts the cache again empty,
	// since changes may have been swept from the feed meanwhile.
	lost bool
}

func newKeyCache(store latchkey.Store, logger *slog.Logger) *keyCache {
	c := &keyCache{store: store, logger: logger, loop: newLazyLoop()}
	c.reset()
	return c
}

func (c *keyCache) reset() {
	c.byHash = map[[sha256.Size]byte]*keyEntry{}
	c.byKey = map[string][][sha256.Size]byte{}
	c.byUser = map[string][]string{}
}

// start runs the feed reader, on the first lookup: a server that never verifies a key never
// reads the feed.
func (c *keyCache) start() { c.loop.start(c.run) }

// close stops the feed reader, if it runs; after it, every lookup reads the store.
func (c *keyCache) close() {
	c.loop.close()
	c.mu.Lock()
	c.fresh = time.Time{}
	c.mu.Unlock()
}

func (c *keyCache) run(stop <-chan struct{}) {
	t := time.NewTicker(keyCachePoll)
	defer t.Stop()
	failures := 0
	for {
		if err := c.poll(); err != nil {
			// Say so once, and again when it is back, not four times a second.
			if failures == 0 {
				c.logger.Warn("read the key change feed: verify reads every key from the database until it is back", "err", err)
			}
			failures++
		} else if failures > 0 {
			c.logger.Info("key change feed read again", "failures", failures)
			failures = 0
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// poll reads the change feed once and forgets what it names.
func (c *keyCache) poll() error {
	c.pollMu.Lock()
	defer c.pollMu.Unlock()
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), keyCacheTrust)
	defer cancel()
	c.mu.RLock()
	cursor := c.cursor
	c.mu.RUnlock()
	changes, next, err := c.store.FindAPIKeyChanges(ctx, cursor)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.fresh, c.lost = time.Time{}, true
		return err
	}
	if c.lost || cursor == 0 {
		// Before the first read nothing was kept from memory; after a failed one anything
		// may have changed.
		c.reset()
		c.epoch++
		c.lost = false
	}
	if len(changes) > 0 {
		c.epoch++
	}
	for _, ch := range changes {
		switch {
		case ch.AppID != "":
			c.reset()
		case ch.KeyID != "":
			c.forgetKey(ch.KeyID)
		case ch.UserID != "":
			for _, id := range c.byUser[ch.UserID] {
				c.forgetKey(id)
			}
			delete(c.byUser, ch.UserID)
		}
	}
	c.cursor, c.fresh = next, began
	return nil
}

func (c *keyCache) forgetKey(id string) {
	for _, h := range c.byKey[id] {
		delete(c.byHash, h)
	}
	delete(c.byKey, id)
}

// lookup returns the app's key whose current or previous value hashes to hash, with its
// user, or nil when there is none: from memory when the feed was read recently, else from
// the store.
func (c *keyCache) lookup(ctx context.Context, appID string, hash []byte) (*keyEntry, error) {
	c.start()
	h := [sha256.Size]byte(hash)
	c.mu.RLock()
	trusted := !c.fresh.IsZero() && time.Since(c.fresh) < keyCacheTrust
	e := c.byHash[h]
	epoch := c.epoch
	c.mu.RUnlock()
	if trusted && e != nil {
		if e.key.AppID != appID {
			return nil, nil
		}
		return e, nil
	}
	k, u, err := c.store.FindAPIKeyAndUser(ctx, appID, hash)
	if k == nil || u == nil {
		if err != nil && latchkey.ErrorCode(err) != latchkey.ENotFound {
			return nil, err
		}
		return nil, nil
	}
	e = &keyEntry{key: k, userType: u.Type, userDisabled: u.Disabled}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch != epoch || c.fresh.IsZero() {
		return e, nil
	}
	if len(c.byHash) >= keyCacheMax {
		c.reset()
	}
	if _, ok := c.byHash[h]; !ok {
		c.byKey[k.ID] = append(c.byKey[k.ID], h)
		c.byUser[k.UserID] = append(c.byUser[k.UserID], k.ID)
	}
	// A fresher read replaces what an untrusted moment left.
	c.byHash[h] = e
	return e, nil
}

// refresh reads the change feed at once, if the cache runs: a node forgets what its own
// writes changed before it answers them, so that its next verify sees them.
func (c *keyCache) refresh() {
	if !c.loop.started() {
		return
	}
	if err := c.poll(); err != nil {
		c.logger.Warn("read the key change feed after a write", "err", err)
	}
}

// cachedStore is the store as the services use it: the writes that change a verify answer
// make the key cache read the change feed before they return.
type cachedStore struct {
	latchkey.Store
	keys *keyCache
}

func (s cachedStore) SetAPIKeyDisabled(ctx context.Context, userID, id string, disabled bool) error {
	defer s.keys.refresh()
	return s.Store.SetAPIKeyDisabled(ctx, userID, id, disabled)
}

func (s cachedStore) DeleteAPIKey(ctx context.Context, userID, id string) error {
	defer s.keys.refresh()
	return s.Store.DeleteAPIKey(ctx, userID, id)
}

func (s cachedStore) RotateAPIKey(ctx context.Context, k *latchkey.APIKey, sessionsEnd time.Time) error {
	defer s.keys.refresh()
	return s.Store.RotateAPIKey(ctx, k, sessionsEnd)
}

func (s cachedStore) EndAPIKeyGrace(ctx context.Context, userID, id string, previous []byte, sessionsEnd time.Time) error {
	defer s.keys.refresh()
	return s.Store.EndAPIKeyGrace(ctx, userID, id, previous, sessionsEnd)
}

func (s cachedStore) SetAPIKeyLimits(ctx context.Context, userID, id string, limits latchkey.APIKeyLimits, now time.Time) (*latchkey.APIKey, error) {
	defer s.keys.refresh()
	return s.Store.SetAPIKeyLimits(ctx, userID, id, limits, now)
}

func (s cachedStore) SetUserDisabled(ctx context.Context, appID, id string, disabled bool) error {
	defer s.keys.refresh()
	return s.Store.SetUserDisabled(ctx, appID, id, disabled)
}

func (s cachedStore) DeleteUser(ctx context.Context, appID, id string) error {
	defer s.keys.refresh()
	return s.Store.DeleteUser(ctx, appID, id)
}

func (s cachedStore) DeleteApp(ctx context.Context, id string) error {
	defer s.keys.refresh()
	return s.Store.DeleteApp(ctx, id)
}
