package service

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
)

// appCacheTTL is how long an app read from the store serves logins and token checks before
// it is read again. Every login and every token check needs its app, and apps change
// rarely: a change made on this node takes effect at once (it empties the cache); one made
// by another node over the same database takes effect here within appCacheTTL.
const appCacheTTL = time.Second

// appCacheLen bounds the number of apps remembered.
const appCacheLen = 1024

// appCache remembers apps by client app id. Nothing else is cached: users, keys and
// sessions are read from the store on every request, so disabling or deleting them takes
// effect at once on every node.
type appCache struct {
	mu      sync.RWMutex
	entries map[string]cachedApp
	// generation counts the times the cache was emptied, so that a read from the store that
	// began before an app changed is not remembered after it.
	generation uint64
}

type cachedApp struct {
	app    latchkey.App
	loaded time.Time
}

func newAppCache() *appCache { return &appCache{entries: make(map[string]cachedApp)} }

// get returns a copy of the remembered app if it was loaded less than appCacheTTL before
// now, and else the generation to pass to put with the app read from the store.
func (c *appCache) get(clientAppID string, now time.Time) (*latchkey.App, uint64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.entries[clientAppID]
	if !ok || now.Sub(e.loaded) >= appCacheTTL || now.Before(e.loaded) {
		return nil, c.generation, false
	}
	return copyApp(&e.app), 0, true
}

// put remembers app, loaded at now, unless the cache was emptied since get gave generation.
func (c *appCache) put(app *latchkey.App, generation uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if generation != c.generation {
		return
	}
	if len(c.entries) >= appCacheLen {
		clear(c.entries)
	}
	c.entries[app.ClientAppID] = cachedApp{app: *copyApp(app), loaded: now}
}

// forget empties the cache; every write of an app calls it after the write.
func (c *appCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
	c.generation++
}

// copyApp copies an app with its slices, so that no caller shares memory with the cache.
func copyApp(a *latchkey.App) *latchkey.App {
	out := *a
	out.AllowedOrigins = slices.Clone(a.AllowedOrigins)
	out.Scopes = slices.Clone(a.Scopes)
	out.LeakSecretHash = slices.Clone(a.LeakSecretHash)
	return &out
}

// appByClientID returns the app with the client app id, from the cache when it is fresh.
func (s *core) appByClientID(ctx context.Context, clientAppID string) (*latchkey.App, error) {
	now := s.now()
	app, generation, ok := s.apps.get(clientAppID, now)
	if ok {
		return app, nil
	}
	app, err := s.store.FindAppByClientID(ctx, clientAppID)
	if err != nil {
		return nil, err
	}
	s.apps.put(app, generation, now)
	return app, nil
}
