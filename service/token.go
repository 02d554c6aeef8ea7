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

// keyRefreshInterval is how often a node re-reads the signing keys when it signs or serves
// the JWKS, so that a rotation on another node reaches it within seconds.
const keyRefreshInterval = 5 * time.Second

// retiredKeyGrace is how long past the lifetime of the tokens it signed a retired key keeps
// verifying: other nodes may sign with it for up to keyRefreshInterval after the rotation,
// and clocks differ a little.
const retiredKeyGrace = time.Minute

// verifyLifetime is how long after its retirement a key of the algorithm may still have
// signed live tokens: access tokens live 30 minutes, refresh tokens (user or admin) at most
// latchkey.MaxRefreshTokenLifetime.
func verifyLifetime(alg string) time.Duration {
	if alg == refreshAlgorithm {
		return latchkey.MaxRefreshTokenLifetime + retiredKeyGrace
	}
	return latchkey.AccessTokenLifetime + retiredKeyGrace
}

// verifiesUntil is when a retired key stops verifying; zero for the key that signs.
func verifiesUntil(k *latchkey.SigningKey) time.Time {
	if k.RetiredAt == nil {
		return time.Time{}
	}
	return k.RetiredAt.Add(verifyLifetime(k.Algorithm))
}

// tokenSigner signs and verifies tokens with the signing keys kept in the store, so every
// node shares them and tokens survive restarts. The store holds the keys sealed (keyseal.go).
type tokenSigner struct {
	store  latchkey.Store
	now    func() time.Time
	sealer *keySealer

	mu         sync.RWMutex
	current    *ecdsa.PrivateKey
	currentKID string
	public     map[string]*ecdsa.PublicKey
	hmacKey    []byte
	hmacKID    string
	hmacKeys   map[string][]byte
	// until holds when each retired key stops verifying.
	until map[string]time.Time
	// opened caches each key's parsed material by id: material never changes but from
	// plaintext to its sealed form, which opens to the same key.
	opened      map[string]any
	lastReload  time.Time // the last reload for an unknown kid
	lastRefresh time.Time // the last reload of any kind
	refreshing  sync.Mutex

	verified verifiedCache
}

func newTokenSigner(ctx context.Context, store latchkey.Store, secret []byte, now func() time.Time) (*tokenSigner, error) {
	sealer, err := newKeySealer(secret)
	if err != nil {
		return nil, err
	}
	t := &tokenSigner{store: store, now: now, sealer: sealer, opened: map[string]any{},
		verified: verifiedCache{entries: make(map[[sha256.Size]byte]verifiedToken)}}
	keys, err := store.FindSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	// Every key must open before any is created: a wrong secret key fails the start rather
	// than adding keys that only it opens.
	for _, k := range keys {
		if _, err := t.open(k); err != nil {
			return nil, err
		}
	}
	var missing []*latchkey.SigningKey
	for _, alg := range []string{signingAlgorithm, refreshAlgorithm} {
		if !hasAlgorithm(keys, alg) {
			k, err := t.newKey(alg)
			if err != nil {
				return nil, err
			}
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		// Created only where no key of the algorithm exists, serialized across nodes, and then
		// re-read: nodes starting together all use the one key set that won.
		if err := store.CreateSigningKeysIfNone(ctx, missing); err != nil {
			return nil, fmt.Errorf("store signing keys: %w", err)
		}
		if keys, err = store.FindSigningKeys(ctx); err != nil {
			return nil, fmt.Errorf("load signing keys: %w", err)
		}
	}
	if err := t.sealPlaintext(ctx, keys); err != nil {
		return nil, err
	}
	// Sealing changes no key: its material opens to the same key as the plaintext did.
	if err := t.setKeys(keys); err != nil {
		return nil, err
	}
	return t, nil
}

func hasAlgorithm(keys []*latchkey.SigningKey, alg string) bool {
	return slices.ContainsFunc(keys, func(k *latchkey.SigningKey) bool { return k.Algorithm == alg })
}

// newKey makes a key of the algorithm, sealed, created now.
func (t *tokenSigner) newKey(alg string) (*latchkey.SigningKey, error) {
	var secret []byte
	switch alg {
	case signingAlgorithm:
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate signing key: %w", err)
		}
		if secret, err = x509.MarshalPKCS8PrivateKey(priv); err != nil {
			return nil, fmt.Errorf("encode signing key: %w", err)
		}
	case refreshAlgorithm:
		secret = make([]byte, hmacKeyLen)
		rand.Read(secret)
	}
	now := t.now()
	k := &latchkey.SigningKey{ID: latchkey.NewID(now), Algorithm: alg, CreatedAt: now}
	k.PrivateKey = t.sealer.seal(k, secret)
	return k, nil
}

// sealPlaintext encrypts the keys that an older Latchkey stored in the clear. Nodes upgrading
// at once each replace the plaintext only if it is still there.
func (t *tokenSigner) sealPlaintext(ctx context.Context, keys []*latchkey.SigningKey) error {
	for _, k := range keys {
		if isSealed(k.PrivateKey) {
			continue
		}
		if _, err := t.store.ReplaceSigningKeyMaterial(ctx, k.ID, k.PrivateKey, t.sealer.seal(k, k.PrivateKey)); err != nil {
			return fmt.Errorf("encrypt signing key %s: %w", k.ID, err)
		}
	}
	return nil
}

// open returns k's parsed material: an *ecdsa.PrivateKey for ES256, the key bytes for HS256.
func (t *tokenSigner) open(k *latchkey.SigningKey) (any, error) {
	t.mu.RLock()
	parsed, ok := t.opened[k.ID]
	t.mu.RUnlock()
	if ok {
		return parsed, nil
	}
	plain, err := t.sealer.open(k)
	if err != nil {
		return nil, err
	}
	switch k.Algorithm {
	case signingAlgorithm:
		p, err := x509.ParsePKCS8PrivateKey(plain)
		if err != nil {
			return nil, fmt.Errorf("parse signing key %s: %w", k.ID, err)
		}
		priv, ok := p.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("signing key %s is not an ECDSA key", k.ID)
		}
		parsed = priv
	case refreshAlgorithm:
		if len(plain) < hmacKeyLen {
			return nil, fmt.Errorf("signing key %s: an HS256 key of %d bytes, want at least %d", k.ID, len(plain), hmacKeyLen)
		}
		parsed = plain
	default:
		return nil, nil // an algorithm of a later version: not this node's to use
	}
	t.mu.Lock()
	t.opened[k.ID] = parsed
	t.mu.Unlock()
	return parsed, nil
}

// reload reads the keys from the store and makes them the signer's.
func (t *tokenSigner) reload(ctx context.Context) error {
	keys, err := t.store.FindSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("load signing keys: %w", err)
	}
	return t.setKeys(keys)
}

// setKeys takes the keys, oldest first. The newest unretired key of each algorithm signs (one
// per algorithm, but for databases from versions that raced at first start); keys retired
// long enough that their tokens have expired are left out.
func (t *tokenSigner) setKeys(keys []*latchkey.SigningKey) error {
	now := t.now()
	public := make(map[string]*ecdsa.PublicKey, len(keys))
	hmacKeys := make(map[string][]byte, len(keys))
	until := make(map[string]time.Time)
	var current *ecdsa.PrivateKey
	var currentKID, hmacKID string
	for _, k := range keys {
		end := verifiesUntil(k)
		if !end.IsZero() && !now.Before(end) {
			continue
		}
		parsed, err := t.open(k)
		if err != nil {
			return err
		}
		if !end.IsZero() {
			until[k.ID] = end
		}
		switch key := parsed.(type) {
		case *ecdsa.PrivateKey:
			public[k.ID] = &key.PublicKey
			if k.RetiredAt == nil || current == nil {
				current, currentKID = key, k.ID
			}
		case []byte:
			hmacKeys[k.ID] = key
			if k.RetiredAt == nil || hmacKID == "" {
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
	t.until = until
	t.lastRefresh = now
	t.mu.Unlock()
	return nil
}

// refresh re-reads the keys when they are older than keyRefreshInterval. One caller reloads
// while the others go on with the keys they have; a failed reload keeps them too.
func (t *tokenSigner) refresh() {
	t.mu.RLock()
	stale := t.now().Sub(t.lastRefresh) >= keyRefreshInterval
	t.mu.RUnlock()
	if !stale || !t.refreshing.TryLock() {
		return
	}
	defer t.refreshing.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := t.reload(ctx); err != nil {
		t.mu.Lock()
		t.lastRefresh = t.now()
		t.mu.Unlock()
	}
}

// live tells whether the key kid may still verify; call with mu held.
func (t *tokenSigner) live(kid string) bool {
	end, retired := t.until[kid]
	return !retired || t.now().Before(end)
}

// Sign returns the signed token for c: ES256 for access tokens, HS256 for refresh tokens.
func (t *tokenSigner) Sign(c *claims) (string, error) {
	var (
		tok *jwt.Token
		key any
	)
	t.refresh()
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
	return ok && t.live(kid)
}

// publicKey finds the ES256 key for kid; see findKey.
func (t *tokenSigner) publicKey(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	return findKey(ctx, t, func() (*ecdsa.PublicKey, bool) { k, ok := t.public[kid]; return k, ok && t.live(kid) })
}

// hmacSecret finds the HS256 key for kid; see findKey.
func (t *tokenSigner) hmacSecret(ctx context.Context, kid string) ([]byte, error) {
	return findKey(ctx, t, func() ([]byte, bool) { k, ok := t.hmacKeys[kid]; return k, ok && t.live(kid) })
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
	if err := t.reload(ctx); err != nil {
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

// JWKS returns the public signing keys as a JSON Web Key Set: the one that signs and the
// retired ones whose tokens may still be live.
func (t *tokenSigner) JWKS() ([]byte, error) {
	t.refresh()
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
		if !t.live(kid) {
			continue
		}
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
