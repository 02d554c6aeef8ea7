package client

import (
	"context"
	"net/http"
	"time"
)

// SigningKey describes one of the server's token signing keys; the key itself never leaves
// the server.
type SigningKey struct {
	ID            string     `json:"_id"`       // the JWT kid
	Algorithm     string     `json:"algorithm"` // ES256 (access tokens, in the JWKS) or HS256 (refresh tokens)
	State         string     `json:"state"`     // "current" signs; "retired" only verifies, until VerifiesUntil
	CreatedAt     time.Time  `json:"created_at"`
	RetiredAt     *time.Time `json:"retired_at,omitempty"`
	VerifiesUntil *time.Time `json:"verifies_until,omitempty"`
}

// SigningKeys lists the signing keys that sign or still verify, newest first.
func (a *Admin) SigningKeys(ctx context.Context) ([]SigningKey, error) {
	keys := []SigningKey{}
	if err := a.request(ctx, http.MethodGet, "/signing_keys", nil, &keys); err != nil {
		return nil, err
	}
	return keys, nil
}

// RotateSigningKeys makes new access- and refresh-token signing keys, which sign at once;
// the old ones verify until the tokens they signed have expired. It returns the keys after
// the rotation.
func (a *Admin) RotateSigningKeys(ctx context.Context) ([]SigningKey, error) {
	keys := []SigningKey{}
	if err := a.request(ctx, http.MethodPost, "/signing_keys/rotate", nil, &keys); err != nil {
		return nil, err
	}
	return keys, nil
}
