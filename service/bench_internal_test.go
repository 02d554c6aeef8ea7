package service

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/teststore"
)

func BenchmarkHashKey(b *testing.B) {
	v := latchkey.NewKeyValue(latchkey.DefaultKeyPrefix)
	b.ReportAllocs()
	for b.Loop() {
		hashKey(v)
	}
}

// benchClaims are an access token's claims as a key login signs them.
func benchClaims() *claims {
	now := time.Now()
	return &claims{
		Subject: latchkey.NewID(now), Audience: "bench-app", Issuer: "http://127.0.0.1:9090",
		IssuedAt: now.Unix(), ExpiresAt: now.Add(latchkey.AccessTokenLifetime).Unix(),
		Type: string(latchkey.AccessToken), SessionID: latchkey.NewID(now), DeviceID: latchkey.NewID(now),
		UserData: []byte("{}"),
	}
}

func newBenchSigner(b *testing.B) *tokenSigner {
	b.Helper()
	t, err := newTokenSigner(context.Background(), teststore.Open(b), testSecretKey, time.Now)
	if err != nil {
		b.Fatal(err)
	}
	return t
}

// BenchmarkTokenSign signs an access token (ES256).
func BenchmarkTokenSign(b *testing.B) {
	t := newBenchSigner(b)
	c := benchClaims()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := t.Sign(c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTokenSignRefresh signs a refresh token (HS256).
func BenchmarkTokenSignRefresh(b *testing.B) {
	t := newBenchSigner(b)
	c := benchClaims()
	c.Type = string(latchkey.RefreshToken)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := t.Sign(c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTokenVerify is the first verification of an access token: the ES256 signature.
func BenchmarkTokenVerify(b *testing.B) {
	t := newBenchSigner(b)
	tok, err := t.Sign(benchClaims())
	if err != nil {
		b.Fatal(err)
	}
	sum := sha256.Sum256([]byte(tok))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		t.verified.remove(sum)
		if _, err := t.Verify(ctx, tok, latchkey.AccessToken); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTokenVerifyRemembered verifies an access token that has verified before.
func BenchmarkTokenVerifyRemembered(b *testing.B) {
	t := newBenchSigner(b)
	tok, err := t.Sign(benchClaims())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := t.Verify(ctx, tok, latchkey.AccessToken); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPasswordVerify is one argon2id verification at the parameters logins use.
func BenchmarkPasswordVerify(b *testing.B) {
	h := newPasswordHasher(1, 0)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "s3cretpass")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := h.Verify(ctx, "s3cretpass", enc); err != nil || !ok {
			b.Fatalf("Verify = %v, %v", ok, err)
		}
	}
}

// BenchmarkLogInAPIKey is a whole key login below HTTP: the key check, the lookups, the
// session insert and both tokens. Its CPU profile is the key-login path's:
//
//	go test -run '^$' -bench LogInAPIKey -cpuprofile cpu.out ./service
func BenchmarkLogInAPIKey(b *testing.B) {
	ctx := context.Background()
	s, app := newBenchService(b)
	keys := benchKeys(b, s, app, nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			creds := latchkey.Credentials{Provider: latchkey.ProviderAPIKey, Key: keys[i%len(keys)].Value}
			if _, err := s.Auth.LogIn(ctx, app, creds); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkVerifyAPIKey is a whole verify below HTTP, over 200 keys: the server key's check
// and the key's, from the key cache once each key has been read, and the usage count. With
// a rate limit, each call also spends from the node's leased window. Its CPU profile is the
// verify path's:
//
//	go test -run '^$' -bench VerifyAPIKey -cpuprofile cpu.out ./service
func BenchmarkVerifyAPIKey(b *testing.B) {
	for _, tt := range []struct {
		name  string
		limit *latchkey.KeyRateLimit
	}{
		{"Plain", nil},
		{"RateLimited", &latchkey.KeyRateLimit{Limit: 1 << 40, Duration: time.Hour}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			ctx := context.Background()
			s, app := newBenchService(b)
			now := time.Now().UTC()
			server := &latchkey.User{ID: latchkey.NewID(now), AppID: app.ID, Type: latchkey.UserTypeServer, Confirmed: true, CreatedAt: now}
			serverKey := &latchkey.APIKey{ID: latchkey.NewID(now), AppID: app.ID, UserID: server.ID, Name: "backend", CreatedAt: now}
			setKeyValue(app, serverKey)
			if err := s.store.CreateServerAPIKey(ctx, server, serverKey, latchkey.MaxServerAPIKeysPerApp); err != nil {
				b.Fatal(err)
			}
			keys := benchKeys(b, s, app, tt.limit)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					auth, err := s.Verify.AuthenticateServerKey(ctx, app, serverKey.Value)
					if err != nil {
						b.Error(err)
						return
					}
					res, err := s.Verify.VerifyAPIKey(latchkey.NewContextWithAuth(ctx, auth), latchkey.VerifyRequest{Key: keys[i%len(keys)].Value, Cost: 1})
					if err != nil || !res.Valid {
						b.Errorf("verify: %+v, %v", res, err)
						return
					}
					i++
				}
			})
		})
	}
}

// newBenchService returns a service over a fresh store, with its app.
func newBenchService(b *testing.B) (*Service, *latchkey.App) {
	b.Helper()
	ctx := context.Background()
	s, err := New(ctx, Config{Store: teststore.Open(b), Issuer: "http://127.0.0.1:9090", SecretKey: []byte("the benchmark's secret key, 32 bytes or more")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	app, _, err := s.EnsureApp(ctx, "bench-app")
	if err != nil {
		b.Fatal(err)
	}
	return s, app
}

// benchKeys makes 100 users of the app with 2 keys each, with the rate limit, and returns the
// keys with their values.
func benchKeys(b *testing.B, s *Service, app *latchkey.App, limit *latchkey.KeyRateLimit) []*latchkey.APIKey {
	b.Helper()
	ctx := context.Background()
	var keys []*latchkey.APIKey
	for range 100 {
		now := time.Now().UTC()
		u := &latchkey.User{ID: latchkey.NewID(now), AppID: app.ID, Type: latchkey.UserTypeNormal, Confirmed: true, CreatedAt: now}
		u.Identities = []*latchkey.Identity{s.newIdentity(app, u.ID, latchkey.ProviderAPIKey, now)}
		if err := s.store.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
		for _, name := range []string{"a", "b"} {
			k := &latchkey.APIKey{ID: latchkey.NewID(now), AppID: app.ID, UserID: u.ID, Name: name, CreatedAt: now, RateLimit: limit}
			setKeyValue(app, k)
			if err := s.store.CreateAPIKey(ctx, k, latchkey.MaxAPIKeysPerUser); err != nil {
				b.Fatal(err)
			}
			keys = append(keys, k)
		}
	}
	return keys
}
