package service

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// fuzzSigningKey is a fixed ES256 key (PKCS #8, DER) for the fuzz target, so that the
// committed seed tokens in testdata/fuzz/FuzzVerify verify. It signs nothing else.
const fuzzSigningKey = "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b020101042064eeef892d395bb0404a973ed2a41814a8169383e3a19e782171a3d5113371baa14403420004bb1a7aa45b25da9b6d2e75191d47a94f5aff20dc6e38136c2c660ae83478e80e17c31b9ae7b385572e36cce8cf99a50fa5b8e8c9a572015e4469c81c32db16ef"

// fuzzKeyID is the kid of fuzzSigningKey.
const fuzzKeyID = "6b0800000000000000000001"

// fuzzHMACKey and fuzzHMACKeyID are the fixed HS256 key that signs the fuzz target's refresh
// tokens.
const (
	fuzzHMACKey   = "5c1f0e8a2b7d4c6e9f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60"
	fuzzHMACKeyID = "6b0800000000000000000004"
)

// signingKeyStore is a Store that holds only signing keys; any other call panics.
type signingKeyStore struct {
	latchkey.Store
	keys []*latchkey.SigningKey
}

func (s *signingKeyStore) FindSigningKeys(ctx context.Context) ([]*latchkey.SigningKey, error) {
	return s.keys, nil
}

// ReplaceSigningKeyMaterial is the upgrade that seals the keys stored in the clear.
func (s *signingKeyStore) ReplaceSigningKeyMaterial(ctx context.Context, id string, old, new []byte) (bool, error) {
	for _, k := range s.keys {
		if k.ID == id && bytes.Equal(k.PrivateKey, old) {
			k.PrivateKey = new
			return true, nil
		}
	}
	return false, nil
}

func newFuzzSigner(t testing.TB) *tokenSigner {
	der, err := hex.DecodeString(fuzzSigningKey)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := hex.DecodeString(fuzzHMACKey)
	if err != nil {
		t.Fatal(err)
	}
	store := &signingKeyStore{keys: []*latchkey.SigningKey{
		{ID: fuzzKeyID, Algorithm: signingAlgorithm, PrivateKey: der},
		{ID: fuzzHMACKeyID, Algorithm: refreshAlgorithm, PrivateKey: secret},
	}}
	// The clock stands still, so that the committed seed tokens stay unexpired.
	now := func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }
	signer, err := newTokenSigner(context.Background(), store, testSecretKey, now)
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

// FuzzVerify checks that token parsing never panics, refuses anything it does not accept
// with EUnauthenticated, and accepts only unexpired tokens of the asked type with
// well-formed ids.
func FuzzVerify(f *testing.F) {
	signer := newFuzzSigner(f)
	now := signer.now()
	for _, typ := range []latchkey.TokenType{latchkey.AccessToken, latchkey.RefreshToken, latchkey.AdminAccessToken} {
		tok, err := signer.Sign(&claims{
			Subject: "6b0800000000000000000002", Audience: "fuzz-app", IssuedAt: now.Unix(),
			ExpiresAt: now.Add(time.Hour).Unix(), Type: string(typ), SessionID: "6b0800000000000000000003",
			UserData: json.RawMessage("{}"),
		})
		if err != nil {
			f.Fatal(err)
		}
		if _, err := signer.Verify(context.Background(), tok, typ); err != nil {
			f.Fatalf("a freshly signed %s token: %v", typ, err)
		}
		f.Add(tok, string(typ))
	}
	f.Add("", "access")
	f.Add("a.b.c", "refresh")
	f.Fuzz(func(t *testing.T, token, typ string) {
		c, err := signer.Verify(context.Background(), token, latchkey.TokenType(typ))
		if err != nil {
			if code := latchkey.ErrorCode(err); code != latchkey.EUnauthenticated {
				t.Fatalf("Verify(%q): code %s (%v), want %s", token, code, err, latchkey.EUnauthenticated)
			}
			return
		}
		if c.Type != typ || !latchkey.IsID(c.Subject) || !latchkey.IsID(c.SessionID) || c.ExpiresAt <= now.Unix() {
			t.Fatalf("Verify(%q, %q) accepted claims %+v", token, typ, c)
		}
	})
}
