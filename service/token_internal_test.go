package service

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/teststore"
)

// movableClock is a clock that tests move forward.
type movableClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *movableClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *movableClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// testSecretKey seals the signing keys of the internal tests.
var testSecretKey = []byte("the internal tests' secret key, 32+ bytes")

func newTestSigner(t *testing.T, store latchkey.Store, clock *movableClock) *tokenSigner {
	t.Helper()
	s, err := newTokenSigner(context.Background(), store, testSecretKey, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testClaims(now time.Time, typ latchkey.TokenType) *claims {
	return &claims{
		Subject: latchkey.NewID(now), Audience: "test-app", IssuedAt: now.Unix(),
		ExpiresAt: now.Add(30 * time.Minute).Unix(), Type: string(typ), SessionID: latchkey.NewID(now),
		UserData: json.RawMessage("{}"),
	}
}

func mustSign(t *testing.T, s *tokenSigner, c *claims) string {
	t.Helper()
	tok, err := s.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// header decodes a token's JOSE header.
func header(t *testing.T, tok string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func wantUnauthenticated(t *testing.T, err error, msg string) {
	t.Helper()
	if latchkey.ErrorCode(err) != latchkey.EUnauthenticated || latchkey.ErrorMessage(err) != msg {
		t.Fatalf("err = %v, want %s %q", err, latchkey.EUnauthenticated, msg)
	}
}

// TestTokenAlgorithms checks that access tokens are ES256 with a kid of the JWKS, refresh
// tokens HS256 with a kid that is not in it, and that two signers over one store (two nodes,
// or a restart) verify each other's tokens of both kinds.
func TestTokenAlgorithms(t *testing.T) {
	store := teststore.Open(t)
	clock := &movableClock{now: time.Now()}
	a, b := newTestSigner(t, store, clock), newTestSigner(t, store, clock)
	jwks, err := a.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		typ      latchkey.TokenType
		alg      string
		inJWKS   bool
		verifier *tokenSigner
	}{
		{latchkey.AccessToken, "ES256", true, b},
		{latchkey.AdminAccessToken, "ES256", true, b},
		{latchkey.RefreshToken, "HS256", false, b},
		{latchkey.AdminRefreshToken, "HS256", false, b},
	} {
		tok := mustSign(t, a, testClaims(clock.Now(), tt.typ))
		h := header(t, tok)
		kid, _ := h["kid"].(string)
		if h["alg"] != tt.alg || kid == "" || strings.Contains(string(jwks), kid) != tt.inJWKS {
			t.Errorf("%s token header %v; JWKS %s", tt.typ, h, jwks)
		}
		if _, err := tt.verifier.Verify(context.Background(), tok, tt.typ); err != nil {
			t.Errorf("%s token signed by one node, verified by another: %v", tt.typ, err)
		}
	}
	if strings.Contains(string(jwks), "HS256") || strings.Contains(string(jwks), `"oct"`) {
		t.Errorf("the JWKS publishes the HMAC key: %s", jwks)
	}
}

// TestTokenLegacyES256Refresh checks that a refresh token signed with ES256, as earlier
// versions signed them, still verifies, and that an HS256 token claiming to be an access
// token does not.
func TestTokenLegacyES256Refresh(t *testing.T) {
	clock := &movableClock{now: time.Now()}
	s := newTestSigner(t, teststore.Open(t), clock)

	legacy := jwt.NewWithClaims(jwt.SigningMethodES256, testClaims(clock.Now(), latchkey.RefreshToken))
	legacy.Header["kid"] = s.currentKID
	tok, err := legacy.SignedString(s.current)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(context.Background(), tok, latchkey.RefreshToken); err != nil {
		t.Fatalf("an ES256 refresh token: %v", err)
	}

	forged := jwt.NewWithClaims(jwt.SigningMethodHS256, testClaims(clock.Now(), latchkey.AccessToken))
	forged.Header["kid"] = s.hmacKID
	tok, err = forged.SignedString(s.hmacKey)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Verify(context.Background(), tok, latchkey.AccessToken)
	wantUnauthenticated(t, err, "invalid session: signature is invalid")
}

// TestTokenVerifiedCache checks that remembering verified tokens changes no answer: the type,
// the expiry and a changed signature are all still refused after a token has verified once.
func TestTokenVerifiedCache(t *testing.T) {
	ctx := context.Background()
	clock := &movableClock{now: time.Now()}
	s := newTestSigner(t, teststore.Open(t), clock)
	for _, typ := range []latchkey.TokenType{latchkey.AccessToken, latchkey.RefreshToken} {
		t.Run(string(typ), func(t *testing.T) {
			want := testClaims(clock.Now(), typ)
			tok := mustSign(t, s, want)
			for i := range 2 {
				got, err := s.Verify(ctx, tok, typ)
				if err != nil || got.Subject != want.Subject || got.SessionID != want.SessionID || got.ExpiresAt != want.ExpiresAt {
					t.Fatalf("verification %d: %+v, %v; want %+v", i, got, err, want)
				}
				got.Subject = "changed by the caller"
			}
			if _, ok := s.verified.entries[sha256Sum(tok)]; !ok {
				t.Fatal("a verified token is not remembered")
			}

			other := latchkey.AccessToken
			if typ == latchkey.AccessToken {
				other = latchkey.RefreshToken
			}
			_, err := s.Verify(ctx, tok, other)
			wantUnauthenticated(t, err, "invalid session: incorrect token type")

			// Another base64url character as the signature's first: other signature bytes.
			i := strings.LastIndex(tok, ".") + 1
			swap := byte('A')
			if tok[i] == 'A' {
				swap = 'B'
			}
			flipped := tok[:i] + string(swap) + tok[i+1:]
			_, err = s.Verify(ctx, flipped, typ)
			wantUnauthenticated(t, err, "invalid session: signature is invalid")

			clock.Add(30 * time.Minute)
			defer clock.Add(-30 * time.Minute)
			_, err = s.Verify(ctx, tok, typ)
			wantUnauthenticated(t, err, "invalid session: token expired")
			if _, ok := s.verified.entries[sha256Sum(tok)]; ok {
				t.Error("an expired token is still remembered")
			}
			_, err = s.Verify(ctx, tok, typ)
			wantUnauthenticated(t, err, "invalid session: token expired")
		})
	}
}

// TestTokenVerifiedCacheForgetsRemovedKeys checks that a remembered token stops verifying
// once the key that signed it is no longer among the signing keys.
func TestTokenVerifiedCacheForgetsRemovedKeys(t *testing.T) {
	ctx := context.Background()
	clock := &movableClock{now: time.Now()}
	s := newTestSigner(t, teststore.Open(t), clock)
	tok := mustSign(t, s, testClaims(clock.Now(), latchkey.AccessToken))
	if _, err := s.Verify(ctx, tok, latchkey.AccessToken); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.public = map[string]*ecdsa.PublicKey{}
	s.lastReload = clock.Now()
	s.mu.Unlock()
	_, err := s.Verify(ctx, tok, latchkey.AccessToken)
	wantUnauthenticated(t, err, "invalid session: signature is invalid")
}

// TestTokenVerifiedCacheBound checks that the cache never holds more than its bound.
func TestTokenVerifiedCacheBound(t *testing.T) {
	v := verifiedCache{entries: map[[sha256.Size]byte]verifiedToken{}}
	now := time.Now()
	c := *testClaims(now, latchkey.AccessToken)
	for i := range verifiedCacheLen + 1000 {
		v.put(sha256Sum(strings.Repeat("x", i)), c, "kid", now)
		if len(v.entries) > verifiedCacheLen {
			t.Fatalf("%d entries after %d puts, bound %d", len(v.entries), i+1, verifiedCacheLen)
		}
	}
}

func sha256Sum(s string) [sha256.Size]byte { return sha256.Sum256([]byte(s)) }
