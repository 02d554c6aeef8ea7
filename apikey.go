package latchkey

import (
	"context"
	"time"
)

// Limits of user API keys.
const (
	MaxAPIKeysPerUser = 20
	MaxAPIKeyNameLen  = 64
)

// APIKey is a user API key. Its value is never stored: only its SHA-256 hash.
type APIKey struct {
	ID         string
	AppID      string
	UserID     string
	Name       string
	Disabled   bool
	Hash       []byte
	CreatedAt  time.Time
	LastUsedAt *time.Time

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

// APIKeyService manages the authenticated user's own API keys. The caller comes from the
// context (AuthFromContext); every method returns EUnauthenticated without one, and
// EForbidden for anonymous users, server-key users and sessions opened with an API key.
type APIKeyService interface {
	// CreateAPIKey creates a key and returns it with its value, the only time the value is
	// available. Errors: ERequired, EInvalid, EAPIKeyExists, ELimitReached.
	CreateAPIKey(ctx context.Context, name string) (*APIKey, error)

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
