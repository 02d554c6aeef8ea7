package bulk_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/bulk"
	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/internal/storetest"
	"github.com/latchkey/latchkey/postgres"
	"github.com/latchkey/latchkey/sqlite"
)

// TestInsert checks, on both stores, that rows inserted in bulk read back through the store
// like rows inserted one by one, and that the unique hash still holds.
func TestInsert(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "data", "latchkey.db")
		s, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		testInsert(t, s, bulk.MustOpen(t, path))
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		url := pgtest.NewDatabase(t)
		s, err := postgres.Open(t.Context(), postgres.Config{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		testInsert(t, s, bulk.MustOpen(t, url))
	})
}

func testInsert(t *testing.T, s latchkey.Store, db *bulk.DB) {
	ctx := context.Background()
	app := &latchkey.App{ID: latchkey.NewID(time.Now()), ClientAppID: "bulk", Name: "Bulk", APIKeyEnabled: true,
		RefreshTokenLifetime: latchkey.DefaultRefreshTokenLifetime, KeyPrefix: latchkey.DefaultKeyPrefix,
		CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	if err := s.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	users, keys := storetest.BulkRows(t, app, 3, 2)
	if err := db.Insert(ctx, users, keys); err != nil {
		t.Fatalf("Insert: %v", err)
	}
	for _, u := range users {
		got, err := s.FindUserByID(ctx, app.ID, u.ID)
		if err != nil {
			t.Fatalf("FindUserByID: %v", err)
		}
		if len(got.Identities) != 1 || got.Identities[0].ProviderType != latchkey.ProviderAPIKey {
			t.Fatalf("identities = %+v, want one api-key identity", got.Identities)
		}
		if got, err := s.FindAPIKeys(ctx, u.ID); err != nil || len(got) != 2 {
			t.Fatalf("FindAPIKeys: %d keys, %v; want 2", len(got), err)
		}
	}
	k, err := s.FindAPIKeyByHash(ctx, app.ID, keys[3].Hash)
	if err != nil || k.ID != keys[3].ID || k.UserID != keys[3].UserID {
		t.Fatalf("FindAPIKeyByHash = %+v, %v; want key %s", k, err, keys[3].ID)
	}
	// Keys seeded with limits and meta read back with them.
	limited, limitedKeys := storetest.BulkRows(t, app, 1, 2)
	remaining := int64(500)
	refilledAt := time.Date(2031, 3, 14, 0, 0, 0, 0, time.UTC)
	limitedKeys[0].RateLimit = &latchkey.KeyRateLimit{Limit: 10_000_000, Duration: time.Minute}
	limitedKeys[1].Remaining, limitedKeys[1].RefilledAt = &remaining, &refilledAt
	limitedKeys[1].Refill = &latchkey.KeyRefill{Amount: 1000, Interval: latchkey.RefillDaily}
	limitedKeys[1].Meta = json.RawMessage(`{"plan":"bench"}`)
	if err := db.Insert(ctx, limited, limitedKeys); err != nil {
		t.Fatalf("Insert of keys with limits: %v", err)
	}
	got, err := s.FindAPIKeys(ctx, limited[0].ID)
	if err != nil || len(got) != 2 {
		t.Fatalf("FindAPIKeys: %d keys, %v; want 2", len(got), err)
	}
	if rl := got[0].RateLimit; rl == nil || *rl != *limitedKeys[0].RateLimit || got[0].Remaining != nil {
		t.Fatalf("rate-limited key: RateLimit %+v, Remaining %v; want %+v and none", rl, got[0].Remaining, limitedKeys[0].RateLimit)
	}
	if g := got[1]; g.RateLimit != nil || g.Remaining == nil || *g.Remaining != remaining || g.Refill == nil ||
		*g.Refill != *limitedKeys[1].Refill || g.RefilledAt == nil || !g.RefilledAt.Equal(refilledAt) {
		t.Fatalf("key with remaining uses: %+v, want remaining %d, refill %+v at %v", g, remaining, limitedKeys[1].Refill, refilledAt)
	}
	var meta map[string]string
	if err := json.Unmarshal(got[1].Meta, &meta); err != nil || meta["plan"] != "bench" {
		t.Fatalf("Meta = %s, %v; want the plan bench", got[1].Meta, err)
	}

	// External identities read back with their external ids and data.
	external, _ := storetest.BulkRows(t, app, 1, 0)
	external[0].Identities[0] = &latchkey.Identity{ID: latchkey.NewID(time.Now()), UserID: external[0].ID,
		ProviderType: latchkey.ProviderCustomToken, ProviderID: latchkey.ProviderID(app.ID, latchkey.ProviderCustomToken),
		ExternalID: "sub-1", Data: map[string]any{"name": "Ada", "age": float64(36)}, CreatedAt: external[0].CreatedAt}
	if err := db.Insert(ctx, external, nil); err != nil {
		t.Fatalf("Insert of an external identity: %v", err)
	}
	if got, err := s.FindUserByID(ctx, app.ID, external[0].ID); err != nil {
		t.Fatalf("FindUserByID: %v", err)
	} else if diff := cmp.Diff(external[0].Identities, got.Identities); diff != "" {
		t.Fatalf("external identity mismatch (-want +got):\n%s", diff)
	}

	// The same hash again: the UNIQUE index refuses the whole batch.
	more, moreKeys := storetest.BulkRows(t, app, 1, 1)
	moreKeys[0].Hash = keys[0].Hash
	if err := db.Insert(ctx, more, moreKeys); err == nil {
		t.Fatal("Insert of a taken hash succeeded")
	}
	if _, err := s.FindUserByID(ctx, app.ID, more[0].ID); latchkey.ErrorCode(err) != latchkey.ENotFound {
		t.Fatalf("user of a refused batch: err = %v, want ENotFound", err)
	}
}
