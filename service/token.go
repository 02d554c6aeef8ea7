package service

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/latchkey/latchkey"
)

// Access tokens are verified by the app's own backends with the JWKS, so they are signed
// with an asymmetric key; ES256 is widely supported and fast to sign.
const signingAlgorithm = "ES256"

// Refresh tokens are verified only by Latchkey, so they are signed with HMAC-SHA256 and a key
// that every node reads from the store: a fraction of an ES256 signature's cost, and nothing
// for anyone else to verify. Refresh tokens signed with ES256 by earlier versions still verify.
const refreshAlgorithm = "HS256"

// hmacKeyLen is the length of a new HS256 key: the hash's output size, as RFC 7518 asks.
const hmacKeyLen = 32

// verifiedCacheLen bounds how many verified tokens are remembered.
const verifiedCacheLen = 16384

// claims are the claims of both token types. iat and exp are integers, as realm-core needs.
type claims struct {
	Subject   string          `json:"sub"`
	Audience  string          `json:"aud"`
	Issuer    string          `json:"iss,omitempty"`
	IssuedAt  int64           `json:"iat"`
	ExpiresAt int64           `json:"exp"`
	Type      string          `json:"typ"`
	SessionID string          `json:"sid"`
	DeviceID  string          `json:"baas_device_id,omitempty"`
	UserData  json.RawMessage `json:"user_data,omitempty"`
	// Scope lists the scopes of the API key that opened the session, space-separated as in
	// OAuth; absent for sessions with the user's full rights.
	Scope string `json:"scope,omitempty"`
}

func (c *claims) GetExpirationTime() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.ExpiresAt, 0)), nil
}
func (c *claims) GetIssuedAt() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.IssuedAt, 0)), nil
}
func (c *claims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }
func (c *claims) GetIssuer() (string, error)              { return c.Issuer, nil }
func (c *claims) GetSubject() (string, error)             { return c.Subject, nil }
func (c *claims) GetAudience() (jwt.ClaimStrings, error)  { return jwt.ClaimStrings{c.Audience}, nil }

// isRefresh tells the token types that only Latchkey verifies.
func isRefresh(typ string) bool {
	return typ == string(latchkey.RefreshToken) || typ == string(latchkey.AdminRefreshToken)
}

// tokenSigner signs and verifies tokens with the signing keys kept in the store, so every
// node shares them and tokens survive restarts.
type tokenSigner struct {
	store latchkey.Store
	now   func() time.Time

	mu         sync.RWMutex
	current    *ecdsa.PrivateKey
	currentKID string
	public     map[string]*ecdsa.PublicKey
	hmacKey    []byte
	hmacKID    string
	hmacKeys   map[string][]byte
	lastReload time.Time

	verified verifiedCache
}

func newTokenSigner(ctx context.Context, store latchkey.Store, now func() time.Time) (*tokenSigner, error) {
	t := &tokenSigner{store: store, now: now, verified: verifiedCache{entries: make(map[[sha256.Size]byte]verifiedToken)}}
	keys, err := store.FindSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	created := false
	if !hasAlgorithm(keys, signingAlgorithm) {
		if err := t.createKey(ctx); err != nil {
			return nil, err
		}
		created = true
	}
	if !hasAlgorithm(keys, refreshAlgorithm) {
		if err := t.createHMACKey(ctx); err != nil {
			return nil, err
		}
		created = true
	}
	if created {
		// Reload rather than use the new keys: when several nodes start at once, all of them
		// then sign with the oldest key of each algorithm.
		if keys, err = store.FindSigningKeys(ctx); err != nil {
			return nil, fmt.Errorf("load signing keys: %w", err)
		}
	}
	if err := t.setKeys(keys); err != nil {
		return nil, err
	}
	return t, nil
}

func hasAlgorithm(keys []*latchkey.SigningKey, alg string) bool {
	return slices.ContainsFunc(keys, func(k *latchkey.SigningKey) bool { return k.Algorithm == alg })
}

func (t *tokenSigner) createKey(ctx context.Context) error {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return fmt.Errorf("encode signing key: %w", err)
	}
	return t.storeKey(ctx, signingAlgorithm, der)
}

func (t *tokenSigner) createHMACKey(ctx context.Context) error {
	key := make([]byte, hmacKeyLen)
	rand.Read(key)
	return t.storeKey(ctx, refreshAlgorithm, key)
}

func (t *tokenSigner) storeKey(ctx context.Context, alg string, secret []byte) error {
	now := t.now()
	k := &latchkey.SigningKey{ID: latchkey.NewID(now), Algorithm: alg, PrivateKey: secret, CreatedAt: now}
	if err := t.store.CreateSigningKey(ctx, k); err != nil {
		return fmt.Errorf("store signing key: %w", err)
	}
	return nil
}

func (t *tokenSigner) setKeys(keys []*latchkey.SigningKey) error {
	public := make(map[string]*ecdsa.PublicKey, len(keys))
	hmacKeys := make(map[string][]byte, len(keys))
	var current *ecdsa.PrivateKey
	var currentKID, hmacKID string
	for _, k := range keys {
		switch k.Algorithm {
		case signingAlgorithm:
			parsed, err := x509.ParsePKCS8PrivateKey(k.PrivateKey)
			if err != nil {
				return fmt.Errorf("parse signing key %s: %w", k.ID, err)
			}
			priv, ok := parsed.(*ecdsa.PrivateKey)
			if !ok {
				return fmt.Errorf("signing key %s is not an ECDSA key", k.ID)
			}
			public[k.ID] = &priv.PublicKey
			if current == nil {
				current, currentKID = priv, k.ID
			}
		case refreshAlgorithm:
			if len(k.PrivateKey) < hmacKeyLen {
				return fmt.Errorf("signing key %s: an HS256 key of %d bytes, want at least %d", k.ID, len(k.PrivateKey), hmacKeyLen)
			}
			hmacKeys[k.ID] = k.PrivateKey
			if hmacKID == "" {
				hmacKID = k.ID
			}
		}
	}
	if current == nil || hmacKID == "" {
		return errors.New("no usable signing key")
	}
	t.mu.Lock()
	t.current, t.currentKID, t.public = current, currentKID, public
	t.hmacKey, t.hmacKID, t.hmacKeys = hmacKeys[hmacKID], hmacKID, hmacKeys
	t.mu.Unlock()
	return nil
}

// Sign returns the signed token for c: ES256 for access tokens, HS256 for refresh tokens.
func (t *tokenSigner) Sign(c *claims) (string, error) {
	var (
		tok *jwt.Token
		key any
	)
	t.mu.RLock()
	if isRefresh(c.Type) {
		tok, key = jwt.NewWithClaims(jwt.SigningMethodHS256, c), t.hmacKey
		tok.Header["kid"] = t.hmacKID
	} else {
		tok, key = jwt.NewWithClaims(jwt.SigningMethodES256, c), t.current
		tok.Header["kid"] = t.currentKID
	}
	t.mu.RUnlock()
	s, err := tok.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// Verify checks the token's signature, expiry and type, and returns its claims.
// Any failure is EUnauthenticated. A token whose signature has verified once is remembered
// (by its SHA-256) until it expires, so that a client using its access token for many
// requests pays for one signature check; expiry, type and the signing key's presence are
// checked again on every call.
func (t *tokenSigner) Verify(ctx context.Context, token string, typ latchkey.TokenType) (*claims, error) {
	sum := sha256.Sum256([]byte(token))
	now := t.now()
	c, kid, ok := t.verified.get(sum)
	switch {
	case ok && !t.hasKey(kid):
		t.verified.remove(sum)
	case ok && !now.Before(time.Unix(c.ExpiresAt, 0)):
		t.verified.remove(sum)
		return nil, latchkey.Errorf(latchkey.EUnauthenticated, "invalid session: token expired")
	case ok && now.Before(time.Unix(c.IssuedAt, 0)):
		return nil, latchkey.Errorf(latchkey.EUnauthenticated, "invalid session: token is invalid")
	case ok:
		return checkClaims(&c, typ)
	}

	parsed := &claims{}
	_, err := jwt.ParseWithClaims(token, parsed, func(tok *jwt.Token) (any, error) {
		kid, _ = tok.Header["kid"].(string)
		if tok.Method.Alg() == refreshAlgorithm {
			// Only Latchkey signs with HMAC, and only refresh tokens.
			if !isRefresh(parsed.Type) {
				return nil, errors.New("an HMAC-signed token that is not a refresh token")
			}
			return t.hmacSecret(ctx, kid)
		}
		return t.publicKey(ctx, kid)
	},
		jwt.WithValidMethods([]string{signingAlgorithm, refreshAlgorithm}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	if err != nil {
		return nil, latchkey.Errorf(latchkey.EUnauthenticated, "invalid session: %s", tokenProblem(err))
	}
	if !latchkey.IsID(parsed.Subject) || !latchkey.IsID(parsed.SessionID) {
		return nil, latchkey.Errorf(latchkey.EUnauthenticated, "invalid session: malformed claims")
	}
	t.verified.put(sum, *parsed, kid, now)
	return checkClaims(parsed, typ)
}

// checkClaims checks the type of verified claims. Both callers pass claims of their own (the
// cache stores and returns copies), so the caller may keep them.
func checkClaims(c *claims, typ latchkey.TokenType) (*claims, error) {
	if c.Type != string(typ) {
		return nil, latchkey.Errorf(latchkey.EUnauthenticated, "invalid session: incorrect token type")
	}
	return c, nil
}

// hasKey tells whether kid still names a signing key of either algorithm.
func (t *tokenSigner) hasKey(kid string) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	_, ok := t.public[kid]
	if !ok {
		_, ok = t.hmacKeys[kid]
	}
	return ok
}

// publicKey finds the ES256 key for kid; see findKey.
func (t *tokenSigner) publicKey(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	return findKey(ctx, t, func() (*ecdsa.PublicKey, bool) { k, ok := t.public[kid]; return k, ok })
}

// hmacSecret finds the HS256 key for kid; see findKey.
func (t *tokenSigner) hmacSecret(ctx context.Context, kid string) ([]byte, error) {
	return findKey(ctx, t, func() ([]byte, bool) { k, ok := t.hmacKeys[kid]; return k, ok })
}

// findKey looks a key up with lookup, reloading the keys from the store at most once a
// second when it is missing, so that keys created by another node are found and forged kids
// cannot hammer the database.
func findKey[K any](ctx context.Context, t *tokenSigner, lookup func() (K, bool)) (K, error) {
	var zero K
	t.mu.RLock()
	key, ok := lookup()
	stale := t.now().Sub(t.lastReload) > time.Second
	t.mu.RUnlock()
	if ok {
		return key, nil
	}
	if !stale {
		return zero, errors.New("unknown key id")
	}
	t.mu.Lock()
	t.lastReload = t.now()
	t.mu.Unlock()
	keys, err := t.store.FindSigningKeys(ctx)
	if err != nil {
		return zero, err
	}
	if err := t.setKeys(keys); err != nil {
		return zero, err
	}
	t.mu.RLock()
	key, ok = lookup()
	t.mu.RUnlock()
	if !ok {
		return zero, errors.New("unknown key id")
	}
	return key, nil
}

// verifiedCache remembers the claims of tokens whose signatures have verified, by the SHA-256
// of the token (never the token itself), with the kid that signed them.
type verifiedCache struct {
	mu      sync.RWMutex
	entries map[[sha256.Size]byte]verifiedToken
}

type verifiedToken struct {
	claims claims
	kid    string
}

func (v *verifiedCache) get(sum [sha256.Size]byte) (claims, string, bool) {
	v.mu.RLock()
	e, ok := v.entries[sum]
	v.mu.RUnlock()
	return e.claims, e.kid, ok
}

func (v *verifiedCache) remove(sum [sha256.Size]byte) {
	v.mu.Lock()
	delete(v.entries, sum)
	v.mu.Unlock()
}

// put remembers c. When the cache is full it first drops the expired entries and then, if
// still more than three quarters full, arbitrary ones (Go's map order is random).
func (v *verifiedCache) put(sum [sha256.Size]byte, c claims, kid string, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.entries) >= verifiedCacheLen {
		for k, e := range v.entries {
			if !now.Before(time.Unix(e.claims.ExpiresAt, 0)) {
				delete(v.entries, k)
			}
		}
		for k := range v.entries {
			if len(v.entries) <= verifiedCacheLen*3/4 {
				break
			}
			delete(v.entries, k)
		}
	}
	v.entries[sum] = verifiedToken{claims: c, kid: kid}
}

func tokenProblem(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed token"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return "signature is invalid"
	}
	return "token is invalid"
}

// JWKS returns the public signing keys as a JSON Web Key Set.
func (t *tokenSigner) JWKS() ([]byte, error) {
	type jwk struct {
		Kty string `json:"kty"`
		Crv string `json:"crv"`
		X   string `json:"x"`
		Y   string `json:"y"`
		Kid string `json:"kid"`
		Use string `json:"use"`
		Alg string `json:"alg"`
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: []jwk{}}
	for _, kid := range slices.Sorted(maps.Keys(t.public)) {
		ek, err := t.public[kid].ECDH()
		if err != nil {
			return nil, fmt.Errorf("jwks: %w", err)
		}
		point := ek.Bytes() // 0x04 || X || Y
		set.Keys = append(set.Keys, jwk{
			Kty: "EC", Crv: "P-256", Kid: kid, Use: "sig", Alg: signingAlgorithm,
			X: base64.RawURLEncoding.EncodeToString(point[1:33]),
			Y: base64.RawURLEncoding.EncodeToString(point[33:65]),
		})
	}
	return json.Marshal(set)
}
