package service_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/teststore"
	"github.com/latchkey/latchkey/service"
)

// kid returns the kid in a token's header.
func kid(t *testing.T, token string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Kid string }
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

// jwksKids returns the kids that a service's JWKS publishes.
func jwksKids(t *testing.T, svc *service.Service) []string {
	t.Helper()
	raw, err := svc.Auth.JWKS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var set struct{ Keys []struct{ Kid, X, Y string } }
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

// keyOf returns the id of the key of the algorithm and state in infos.
func keyOf(t *testing.T, infos []*latchkey.SigningKeyInfo, alg, state string) *latchkey.SigningKeyInfo {
	t.Helper()
	for _, k := range infos {
		if k.Algorithm == alg && k.State == state {
			return k
		}
	}
	t.Fatalf("no %s %s key in %+v", state, alg, infos)
	return nil
}

func adminContext(t *testing.T, svc *service.Service) context.Context {
	t.Helper()
	a, err := svc.Admins.CreateAdmin(context.Background(), "root@example.com", "s3cretpass-for-root")
	if err != nil {
		t.Fatal(err)
	}
	return latchkey.NewContextWithAdmin(context.Background(), &latchkey.AdminAuth{Admin: a, TokenType: latchkey.AdminAccessToken})
}

// TestRotateSigningKeys rotates on one node of two over one store: the new key signs at once
// there and within seconds on the other, unknown kids are fetched at once, and the old keys
// verify until the tokens they signed have expired.
func TestRotateSigningKeys(t *testing.T) {
	f := newFixture(t, nil)
	// Node C only signs, so that nothing but the periodic re-read can bring it the new key.
	nodeA, nodeB, nodeC := f.svc, f.newService(t), f.newService(t)
	t.Cleanup(func() { nodeB.Close(); nodeC.Close() })
	admin := adminContext(t, nodeA)
	_, before := f.login(t, "ann@example.com")
	oldKid := kid(t, before.AccessToken)

	infos, err := nodeA.SigningKeys.RotateSigningKeys(admin)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 4 {
		t.Fatalf("%d keys after the rotation, want the 2 new and the 2 retired: %+v", len(infos), infos)
	}
	newKid := keyOf(t, infos, "ES256", latchkey.SigningKeyCurrent).ID
	retired := keyOf(t, infos, "ES256", latchkey.SigningKeyRetired)
	if retired.ID != oldKid {
		t.Fatalf("retired ES256 key %s, want the one that signed before, %s", retired.ID, oldKid)
	}
	if want := f.Now().Add(latchkey.AccessTokenLifetime + time.Minute); !retired.VerifiesUntil.Equal(want) {
		t.Errorf("old ES256 key verifies until %v, want %v", retired.VerifiesUntil, want)
	}
	hmacRetired := keyOf(t, infos, "HS256", latchkey.SigningKeyRetired)
	if want := f.Now().Add(latchkey.MaxRefreshTokenLifetime + time.Minute); !hmacRetired.VerifiesUntil.Equal(want) {
		t.Errorf("old HS256 key verifies until %v, want %v", hmacRetired.VerifiesUntil, want)
	}

	t.Run("NewKeySignsAtOnce", func(t *testing.T) {
		login, err := nodeA.Auth.LogIn(context.Background(), f.app, latchkey.Credentials{Provider: latchkey.ProviderUserpass, Username: "ann@example.com", Password: "s3cretpass"})
		if err != nil {
			t.Fatal(err)
		}
		if got := kid(t, login.AccessToken); got != newKid {
			t.Fatalf("node A signs with %s after the rotation, want %s", got, newKid)
		}
		// Node B has not re-read the keys yet: the new kid makes it look.
		if _, err := nodeB.Auth.Authenticate(context.Background(), login.AccessToken, latchkey.AccessToken); err != nil {
			t.Fatalf("node B refuses node A's new token: %v", err)
		}
	})

	t.Run("OldTokensStillVerify", func(t *testing.T) {
		for _, node := range []*service.Service{nodeA, nodeB} {
			if _, err := node.Auth.Authenticate(context.Background(), before.AccessToken, latchkey.AccessToken); err != nil {
				t.Fatalf("access token of the old key: %v", err)
			}
			if _, err := node.Auth.Authenticate(context.Background(), before.RefreshToken, latchkey.RefreshToken); err != nil {
				t.Fatalf("refresh token of the old key: %v", err)
			}
		}
	})

	t.Run("OtherNodeSignsWithinSeconds", func(t *testing.T) {
		f.advance(5 * time.Second)
		login, err := nodeC.Auth.LogIn(context.Background(), f.app, latchkey.Credentials{Provider: latchkey.ProviderUserpass, Username: "ann@example.com", Password: "s3cretpass"})
		if err != nil {
			t.Fatal(err)
		}
		if got := kid(t, login.AccessToken); got != newKid {
			t.Fatalf("node C signs with %s 5 s after the rotation, want %s", got, newKid)
		}
		for _, node := range []*service.Service{nodeA, nodeB, nodeC} {
			if got, want := jwksKids(t, node), []string{oldKid, newKid}; !equalSets(got, want) {
				t.Fatalf("JWKS kids = %v, want %v", got, want)
			}
		}
	})

	t.Run("OldKeyLeavesAfterItsTokensExpire", func(t *testing.T) {
		f.advance(latchkey.AccessTokenLifetime + time.Minute)
		for _, node := range []*service.Service{nodeA, nodeB, nodeC} {
			if got, want := jwksKids(t, node), []string{newKid}; !equalSets(got, want) {
				t.Fatalf("JWKS kids = %v, want %v", got, want)
			}
			// Refresh tokens live on: the old HS256 key verifies until they expire.
			if _, err := node.Auth.Authenticate(context.Background(), before.RefreshToken, latchkey.RefreshToken); err != nil {
				t.Fatalf("refresh token of the old key: %v", err)
			}
		}
		infos, err := nodeA.SigningKeys.FindSigningKeys(admin)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range infos {
			if k.ID == oldKid {
				t.Fatalf("the old ES256 key is still listed: %+v", k)
			}
		}
		// The next rotation deletes it.
		if _, err := nodeB.SigningKeys.RotateSigningKeys(admin); err != nil {
			t.Fatal(err)
		}
		keys, err := f.store.FindSigningKeys(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if k.ID == oldKid {
				t.Fatal("the expired ES256 key is still in the store after the next rotation")
			}
		}
		if len(keys) != 5 { // 2 ES256, 3 HS256
			t.Fatalf("%d keys in the store, want 5", len(keys))
		}
	})

	t.Run("Audited", func(t *testing.T) {
		if err := nodeA.FlushAudit(context.Background()); err != nil {
			t.Fatal(err)
		}
		events, err := nodeA.Audit.FindAuditEvents(admin, latchkey.AuditFilter{Event: latchkey.EventSigningKeysRotated})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 || events[0].Details["access_kid"] != newKid || events[0].ActorType != latchkey.ActorAdmin {
			t.Fatalf("rotation events = %+v, want one by the admin naming %s", events, newKid)
		}
	})

	t.Run("ErrUnauthenticated", func(t *testing.T) {
		_, err := nodeA.SigningKeys.RotateSigningKeys(context.Background())
		wantCode(t, err, latchkey.EUnauthenticated)
		_, err = nodeA.SigningKeys.FindSigningKeys(context.Background())
		wantCode(t, err, latchkey.EUnauthenticated)
	})
}

func equalSets(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]bool{}
	for _, s := range a {
		seen[s] = true
	}
	for _, s := range b {
		if !seen[s] {
			return false
		}
	}
	return true
}

// TestSigningKeysSealed checks that the store never holds a signing key in the clear.
func TestSigningKeysSealed(t *testing.T) {
	f := newFixture(t, nil)
	keys, err := f.store.FindSigningKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("%d keys, want 2", len(keys))
	}
	for _, k := range keys {
		plain, err := service.OpenSigningKey(secretKey, k)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(k.PrivateKey, []byte("lk-sealed-v1:")) || bytes.Contains(k.PrivateKey, plain) {
			t.Fatalf("%s key %s is stored as %x, not sealed", k.Algorithm, k.ID, k.PrivateKey)
		}
		// Sealed material moved to another row does not open.
		moved := *k
		moved.ID = latchkey.NewID(time.Now())
		if _, err := service.OpenSigningKey(secretKey, &moved); err == nil {
			t.Fatalf("%s key %s opens under another id", k.Algorithm, k.ID)
		}
	}
}

// TestSigningKeysUpgrade starts on a database whose keys an older version stored in the
// clear: they are sealed in place and keep their ids and material.
func TestSigningKeysUpgrade(t *testing.T) {
	store := teststore.Open(t)
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	hmacKey := make([]byte, 32)
	rand.Read(hmacKey)
	now := time.Now().UTC().Truncate(time.Millisecond)
	old := map[string][]byte{}
	for _, k := range []*latchkey.SigningKey{
		{ID: latchkey.NewID(now), Algorithm: "ES256", PrivateKey: der, CreatedAt: now},
		{ID: latchkey.NewID(now), Algorithm: "HS256", PrivateKey: hmacKey, CreatedAt: now},
	} {
		if err := store.CreateSigningKey(context.Background(), k); err != nil {
			t.Fatal(err)
		}
		old[k.ID] = k.PrivateKey
	}

	svc, err := service.New(context.Background(), service.Config{Store: store, SecretKey: secretKey})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	keys, err := store.FindSigningKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("%d keys after the upgrade, want the 2 there were", len(keys))
	}
	for _, k := range keys {
		if bytes.Contains(k.PrivateKey, old[k.ID]) {
			t.Fatalf("%s key %s is still in the clear", k.Algorithm, k.ID)
		}
		plain, err := service.OpenSigningKey(secretKey, k)
		if err != nil || !bytes.Equal(plain, old[k.ID]) {
			t.Fatalf("%s key %s opens to %x, %v; want the old key", k.Algorithm, k.ID, plain, err)
		}
	}
	for _, k := range keys {
		if k.Algorithm == "ES256" {
			if got := jwksKids(t, svc); len(got) != 1 || got[0] != k.ID {
				t.Fatalf("JWKS kids = %v, want the old key's %s", got, k.ID)
			}
		}
	}
}

// TestSigningKeysWrongSecret starts with a secret key other than the one that sealed the
// keys: the start fails, and no new key is made.
func TestSigningKeysWrongSecret(t *testing.T) {
	f := newFixture(t, nil)
	_, err := service.New(context.Background(), service.Config{Store: f.store, SecretKey: []byte("another secret key, also 32+ bytes long")})
	if err == nil || !strings.Contains(err.Error(), "does not decrypt with this secret key") {
		t.Fatalf("start with the wrong secret key: err = %v, want one saying so", err)
	}
	keys, err := f.store.FindSigningKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	} else if len(keys) != 2 {
		t.Fatalf("%d keys after the failed start, want the 2 there were", len(keys))
	}

	_, err = service.New(context.Background(), service.Config{Store: f.store, SecretKey: []byte("short")})
	if err == nil || !strings.Contains(err.Error(), "at least 32 bytes") {
		t.Fatalf("start with a short secret key: err = %v, want one saying so", err)
	}
}

// TestSigningKeysFirstStart starts two nodes at once on an empty database, many times: they
// must make one key per algorithm between them and serve the same JWKS.
func TestSigningKeysFirstStart(t *testing.T) {
	for range 20 {
		stores := teststore.OpenNodes(t, 2)
		svcs := make([]*service.Service, len(stores))
		errs := make([]error, len(stores))
		var wg sync.WaitGroup
		for i, s := range stores {
			wg.Go(func() {
				svcs[i], errs[i] = service.New(context.Background(), service.Config{Store: s, SecretKey: secretKey})
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("node %d: %v", i, err)
			}
			t.Cleanup(func() { svcs[i].Close() })
		}
		keys, err := stores[0].FindSigningKeys(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 2 || keys[0].Algorithm == keys[1].Algorithm {
			t.Fatalf("%d keys after two first starts, want one ES256 and one HS256", len(keys))
		}
		a, b := jwksKids(t, svcs[0]), jwksKids(t, svcs[1])
		if len(a) != 1 || !equalSets(a, b) {
			t.Fatalf("JWKS kids: node 0 %v, node 1 %v; want one and the same", a, b)
		}
	}
}
