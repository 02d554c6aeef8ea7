package storetest

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// Insert fills a store in bulk, past the Store interface (internal/bulk's DB.Insert), for
// the benchmarks and the plan workload: through the Store every user and key would be a
// transaction of its own.
type Insert func(ctx context.Context, users []*latchkey.User, keys []*latchkey.APIKey) error

// benchUsers and benchKeysPerUser size the store the benchmarks read from.
const (
	benchUsers       = 2000
	benchKeysPerUser = 5
)

// BulkRows returns n users of the app, each with an api-key identity and k keys with random
// hashes.
func BulkRows(tb testing.TB, app *latchkey.App, n, k int) ([]*latchkey.User, []*latchkey.APIKey) {
	tb.Helper()
	t := time.Now().UTC().Truncate(time.Millisecond)
	users := make([]*latchkey.User, 0, n)
	keys := make([]*latchkey.APIKey, 0, n*k)
	for range n {
		u := &latchkey.User{ID: latchkey.NewID(t), AppID: app.ID, Type: latchkey.UserTypeNormal, Confirmed: true, CreatedAt: t}
		u.Identities = []*latchkey.Identity{{
			ID: latchkey.NewID(t), UserID: u.ID, ProviderType: latchkey.ProviderAPIKey, ProviderID: "bench", CreatedAt: t,
		}}
		users = append(users, u)
		for j := range k {
			hash := make([]byte, 32)
			rand.Read(hash)
			keys = append(keys, &latchkey.APIKey{
				ID: latchkey.NewID(t), AppID: app.ID, UserID: u.ID, Name: fmt.Sprintf("key-%d", j),
				Hash: hash, Start: "lk_bnch", CreatedAt: t,
			})
		}
	}
	return users, keys
}

// Benchmark runs the store's hot lookups and writes against s, an empty migrated store that
// insert fills: the lookups of every key login (the app, the key with its user) and of
// every refresh (the session with its user), and the session insert of every login.
func Benchmark(b *testing.B, s latchkey.Store, insert Insert) {
	ctx := context.Background()
	app := newApp()
	if err := s.CreateApp(ctx, app); err != nil {
		b.Fatalf("CreateApp: %v", err)
	}
	users, keys := BulkRows(b, app, benchUsers, benchKeysPerUser)
	if err := insert(ctx, users, keys); err != nil {
		b.Fatalf("insert: %v", err)
	}
	sessions := make([]*latchkey.Session, 0, 100)
	for i := range cap(sessions) {
		sess := newSession(users[i], keys[i*benchKeysPerUser])
		if err := s.CreateSession(ctx, sess); err != nil {
			b.Fatalf("CreateSession: %v", err)
		}
		sessions = append(sessions, sess)
	}

	b.Run("FindAppByClientID", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.FindAppByClientID(ctx, app.ClientAppID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("FindAPIKeyByHash", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := s.FindAPIKeyByHash(ctx, app.ID, keys[i%len(keys)].Hash); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("FindAPIKeyByHash/parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := s.FindAPIKeyByHash(ctx, app.ID, keys[i%len(keys)].Hash); err != nil {
					b.Error(err)
					return
				}
				i += 7
			}
		})
	})
	// A key login's reads: the key by hash, then its user, as two lookups and as one.
	b.Run("FindAPIKeyByHash+FindUserByID", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			k, err := s.FindAPIKeyByHash(ctx, app.ID, keys[i%len(keys)].Hash)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.FindUserByID(ctx, app.ID, k.UserID); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("FindAPIKeyAndUser", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, _, err := s.FindAPIKeyAndUser(ctx, app.ID, keys[i%len(keys)].Hash); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("FindAPIKeyAndUser/parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, _, err := s.FindAPIKeyAndUser(ctx, app.ID, keys[i%len(keys)].Hash); err != nil {
					b.Error(err)
					return
				}
				i += 7
			}
		})
	})
	b.Run("FindUserByID", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := s.FindUserByID(ctx, app.ID, users[i%len(users)].ID); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("FindSession", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := s.FindSession(ctx, sessions[i%len(sessions)].ID); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	// Every refresh-token request reads its session and user: as two lookups, and as one.
	b.Run("FindSession+FindUserByID", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			sess, err := s.FindSession(ctx, sessions[i%len(sessions)].ID)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.FindUserByID(ctx, sess.AppID, sess.UserID); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("FindSessionAndUser", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, _, err := s.FindSessionAndUser(ctx, sessions[i%len(sessions)].ID); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("FindAPIKeys", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := s.FindAPIKeys(ctx, users[i%len(users)].ID); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	// A key login's session: the insert checks the key in the same statement.
	b.Run("CreateSession", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			u := users[i%len(users)]
			if err := s.CreateSession(ctx, newSession(u, keys[(i%len(users))*benchKeysPerUser])); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("CreateSession/parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				u := users[i%len(users)]
				if err := s.CreateSession(ctx, newSession(u, keys[(i%len(users))*benchKeysPerUser])); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
}
