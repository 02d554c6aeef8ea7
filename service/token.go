package service

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
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

// tokenSigner signs and verifies tokens with the signing keys kept in the store, so every
// node shares them and tokens survive restarts.
type tokenSigner struct {
	store latchkey.Store
	now   func() time.Time

	mu         sync.RWMutex
	current    *ecdsa.PrivateKey
	currentKID string
	public     map[string]*ecdsa.PublicKey
	lastReload time.Time
}

func newTokenSigner(ctx context.Context, store latchkey.Store, now func() time.Time) (*tokenSigner, error) {
	t := &tokenSigner{store: store, now: now}
	keys, err := store.FindSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	if len(keys) == 0 {
		if err := t.createKey(ctx); err != nil {
			return nil, err
		}
		// Reload rather than use the new key: when several nodes start at once, all of them
		// then sign with the oldest key.
		if keys, err = store.FindSigningKeys(ctx); err != nil {
			return nil, fmt.Errorf("load signing keys: %w", err)
		}
	}
	if err := t.setKeys(keys); err != nil {
		return nil, err
	}
	return t, nil
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
	now := t.now()
	k := &latchkey.SigningKey{ID: latchkey.NewID(now), Algorithm: signingAlgorithm, PrivateKey: der, CreatedAt: now}
	if err := t.store.CreateSigningKey(ctx, k); err != nil {
		return fmt.Errorf("store signing key: %w", err)
	}
	return nil
}

func (t *tokenSigner) setKeys(keys []*latchkey.SigningKey) error {
	public := make(map[string]*ecdsa.PublicKey, len(keys))
	var current *ecdsa.PrivateKey
	var currentKID string
	for _, k := range keys {
		if k.Algorithm != signingAlgorithm {
			continue
		}
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
	}
	if current == nil {
		return errors.New("no usable signing key")
	}
	t.mu.Lock()
	t.current, t.currentKID, t.public = current, currentKID, public
	t.mu.Unlock()
	return nil
}

// Sign returns the signed token for c.
func (t *tokenSigner) Sign(c *claims) (string, error) {
	t.mu.RLock()
	key, kid := t.current, t.currentKID
	t.mu.RUnlock()
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// Verify checks the token's signature, expiry and type, and returns its claims.
// Any failure is EUnauthenticated.
func (t *tokenSigner) Verify(ctx context.Context, token string, typ latchkey.TokenType) (*claims, error) {
	c := &claims{}
	_, err := jwt.ParseWithClaims(token, c, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		return t.publicKey(ctx, kid)
	},
		jwt.WithValidMethods([]string{signingAlgorithm}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil {
		return nil, latchkey.Errorf(latchkey.EUnauthenticated, "invalid session: %s", tokenProblem(err))
	}
	if c.Type != string(typ) {
		return nil, latchkey.Errorf(latchkey.EUnauthenticated, "invalid session: incorrect token type")
	}
	if !latchkey.IsID(c.Subject) || !latchkey.IsID(c.SessionID) {
		return nil, latchkey.Errorf(latchkey.EUnauthenticated, "invalid session: malformed claims")
	}
	return c, nil
}

// publicKey finds the key for kid, reloading from the store at most once a second so that
// keys created by another node are found and forged kids cannot hammer the database.
func (t *tokenSigner) publicKey(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	t.mu.RLock()
	key, ok := t.public[kid]
	stale := t.now().Sub(t.lastReload) > time.Second
	t.mu.RUnlock()
	if ok {
		return key, nil
	}
	if !stale {
		return nil, errors.New("unknown key id")
	}
	t.mu.Lock()
	t.lastReload = t.now()
	t.mu.Unlock()
	keys, err := t.store.FindSigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	if err := t.setKeys(keys); err != nil {
		return nil, err
	}
	t.mu.RLock()
	key, ok = t.public[kid]
	t.mu.RUnlock()
	if !ok {
		return nil, errors.New("unknown key id")
	}
	return key, nil
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
