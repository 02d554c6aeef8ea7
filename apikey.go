package latchkey

import (
	"context"
	"encoding/json"
	"time"
)

// Limits of user API keys.
const (
	MaxAPIKeysPerUser = 20
	MaxAPIKeyNameLen  = 64
)

// Key lifetime limits.
const (
	MaxRotationGracePeriod = 7 * 24 * time.Hour
	MaxScopes              = 32
)

// APIKey is a user API key. Its value is never stored: only its SHA-256 hash.
type APIKey struct {
	ID         string
	AppID      string
	UserID     string
	Name       string
	Disabled   bool
	Hash       []byte
	Start      string // the prefix and first characters of the value, safe to show
	Scopes     []string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	ExpiresAt  *time.Time // nil: never expires

	// PreviousHash is the hash of the value before the last rotation, which keeps working
	// until PreviousExpiresAt.
	PreviousHash      []byte
	PreviousExpiresAt *time.Time

	// The limits an admin set for verify calls (verify.go); nil: none.
	RateLimit  *KeyRateLimit
	Remaining  *int64     // uses left; set with or without Refill
	Refill     *KeyRefill // only with Remaining
	RefilledAt *time.Time // when Remaining was last set, by an admin or a refill
	Meta       json.RawMessage

	// Value is the secret, set only on the key that CreateAPIKey returns.
	Value string
}

// Validate checks the key's name against the App Services rules.
func (k *APIKey) Validate() error {
	if k.Name == "" {
		return Errorf(ERequired, "'name' is a required string")
	}
	for i := 0; i < len(k.Name); i++ {
		c := k.Name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return Errorf(EInvalid, "can only contain ASCII letters, numbers, underscores, and hyphens")
		}
	}
	if len(k.Name) > MaxAPIKeyNameLen {
		return Errorf(EInvalid, "name must be at most %d characters", MaxAPIKeyNameLen)
	}
	return nil
}

// APIKeyInput is what a caller asks for when creating a key. At most one of ExpiresAt and
// ExpiresIn may be set.
type APIKeyInput struct {
	Name      string
	ExpiresAt *time.Time
	ExpiresIn *time.Duration
	Scopes    []string
}

// Expired reports whether the key has expired at t.
func (k *APIKey) Expired(t time.Time) bool { return k.ExpiresAt != nil && !t.Before(*k.ExpiresAt) }

// APIKeyService manages the authenticated user's own API keys. The caller comes from the
// context (AuthFromContext); every method returns EUnauthenticated without one, and
// EForbidden for anonymous users, server-key users and sessions opened with an API key.
type APIKeyService interface {
	// CreateAPIKey creates a key and returns it with its value, the only time the value is
	// available. Errors: ERequired, EInvalid, EAPIKeyExists, ELimitReached.
	CreateAPIKey(ctx context.Context, in APIKeyInput) (*APIKey, error)

	// RotateAPIKey gives a key a new value, returned with the key; the old value keeps
	// working for the grace period (0 to 7 days), and the sessions opened before the rotation
	// end with it. Errors: EAPIKeyNotFound, EInvalid.
	RotateAPIKey(ctx context.Context, id string, grace time.Duration) (*APIKey, error)

	// FindAPIKeys returns the caller's keys in creation order.
	FindAPIKeys(ctx context.Context) ([]*APIKey, error)

	// FindAPIKey returns one of the caller's keys. Errors: EAPIKeyNotFound.
	FindAPIKey(ctx context.Context, id string) (*APIKey, error)

	// EnableAPIKey enables a key; enabling an enabled key succeeds. Errors: EAPIKeyNotFound.
	EnableAPIKey(ctx context.Context, id string) error

	// DisableAPIKey disables a key and ends every session opened with it; disabling a disabled
	// key succeeds. Errors: EAPIKeyNotFound.
	DisableAPIKey(ctx context.Context, id string) error

	// DeleteAPIKey deletes a key and ends every session opened with it.
	// Errors: EAPIKeyNotFound.
	DeleteAPIKey(ctx context.Context, id string) error
}
