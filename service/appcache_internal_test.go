package service

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// TestAppCacheGeneration checks that an app read from the store before a change of apps is
// not remembered after it.
func TestAppCacheGeneration(t *testing.T) {
	c := newAppCache()
	now := time.Now()
	_, generation, ok := c.get("app", now)
	if ok {
		t.Fatal("an empty cache has the app")
	}
	c.forget() // an admin changes the app while the read is under way
	c.put(&latchkey.App{ClientAppID: "app"}, generation, now)
	if _, _, ok := c.get("app", now); ok {
		t.Fatal("an app read before a change is remembered after it")
	}
	_, generation, _ = c.get("app", now)
	c.put(&latchkey.App{ClientAppID: "app"}, generation, now)
	if _, _, ok := c.get("app", now.Add(appCacheTTL-time.Millisecond)); !ok {
		t.Fatal("a fresh app is not remembered")
	}
	if _, _, ok := c.get("app", now.Add(appCacheTTL)); ok {
		t.Fatal("an app is remembered past appCacheTTL")
	}
}
