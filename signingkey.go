package latchkey

import (
	"context"
	"time"
)

// SigningKey is a token signing key, kept in the store so that every node shares it and
// sessions survive restarts. The store holds PrivateKey as the service gives it: sealed
// with the server's secret (see the service package), never in the clear.
type SigningKey struct {
	ID         string // the JWT "kid"
	Algorithm  string // "ES256" (access tokens) or "HS256" (refresh tokens)
	PrivateKey []byte // sealed; once opened, PKCS #8 DER for ES256, the HMAC key for HS256
	CreatedAt  time.Time
	// RetiredAt is when a newer key of the algorithm replaced this one; nil for the key
	// that signs. A retired key still verifies the tokens it signed until they expire.
	RetiredAt *time.Time
}

// SigningKeyInfo describes a signing key without its key material, for the admin API.
type SigningKeyInfo struct {
	ID        string
	Algorithm string
	CreatedAt time.Time
	// State is SigningKeyCurrent or SigningKeyRetired.
	State     string
	RetiredAt *time.Time
	// VerifiesUntil is when a retired key stops verifying: the tokens it signed have all
	// expired by then, and it leaves the JWKS.
	VerifiesUntil *time.Time
}

// The states of a signing key.
const (
	SigningKeyCurrent = "current" // signs new tokens and verifies
	SigningKeyRetired = "retired" // only verifies, until its tokens have expired
)

// SigningKeyService shows and rotates the token signing keys. Every method needs an admin
// access caller in the context (AdminFromContext) and returns EUnauthenticated without one.
type SigningKeyService interface {
	// FindSigningKeys lists the token signing keys that sign or still verify, newest first,
	// without their key material.
	FindSigningKeys(ctx context.Context) ([]*SigningKeyInfo, error)
	// RotateSigningKeys makes new access- and refresh-token signing keys, which sign at once;
	// the old ones keep verifying until the tokens they signed have expired. It returns the
	// keys as FindSigningKeys does.
	RotateSigningKeys(ctx context.Context) ([]*SigningKeyInfo, error)
}
