package latchkey

import "context"

// MaxServerAPIKeysPerApp bounds an app's server API keys.
const MaxServerAPIKeysPerApp = 100

// ServerKeyService manages an app's server API keys: keys that an admin makes, each logging in
// as a server user of its own. Every method needs an admin access caller in the context
// (AdminFromContext) and returns EUnauthenticated without one; appID is the app's internal id
// or its client app id, and an unknown app is EAppNotFound.
type ServerKeyService interface {
	// CreateServerAPIKey creates a server key and its server user, and returns the key with
	// its value, the only time the value is available. Expiry, the app's maximum key
	// lifetime and scopes apply as to user keys.
	// Errors: ERequired, EInvalid, EAPIKeyExists, ELimitReached.
	CreateServerAPIKey(ctx context.Context, appID string, in APIKeyInput) (*APIKey, error)
	// FindServerAPIKeys returns the app's server keys, without values.
	FindServerAPIKeys(ctx context.Context, appID string) ([]*APIKey, error)
	// FindServerAPIKey returns one of the app's server keys. Errors: EAPIKeyNotFound.
	FindServerAPIKey(ctx context.Context, appID, id string) (*APIKey, error)
	// SetServerAPIKeyDisabled disables a server key, ending its sessions, or enables it
	// again. Errors: EAPIKeyNotFound.
	SetServerAPIKeyDisabled(ctx context.Context, appID, id string, disabled bool) error
	// DeleteServerAPIKey deletes a server key with its server user and sessions.
	// Errors: EAPIKeyNotFound.
	DeleteServerAPIKey(ctx context.Context, appID, id string) error
}
