package client

import (
	"context"
	"net/http"
)

// ServerAPIKeys manages the server API keys of one app: keys that belong to the app rather
// than to a user. Logging in with one through the api-key provider (APIKeyCredentials) gives
// a user of type "server", which cannot manage user API keys. At most 100 per app.
type ServerAPIKeys struct {
	admin *Admin
	appID string
}

// ServerAPIKeys returns the calls that manage the server API keys of the app with the id or
// client app id appID.
func (a *Admin) ServerAPIKeys(appID string) *ServerAPIKeys {
	return &ServerAPIKeys{admin: a, appID: appID}
}

// Create creates a server key named name and returns it with its value, the only time the
// value is available. The options are those of user keys (KeyExpiresIn, KeyExpiresAt,
// KeyScopes), and the app's maximum key lifetime applies. Errors: ErrAPIKeyExists,
// ErrInvalidParameter (bad name, the cap, no such app, expiry or scopes out of bounds); an
// empty name is refused with status 400 and no code.
func (k *ServerAPIKeys) Create(ctx context.Context, name string, opts ...KeyOption) (APIKey, error) {
	req := newCreateKeyRequest(name, opts)
	var key APIKey
	err := k.admin.appCall(ctx, http.MethodPost, req, &key, k.appID, "api_keys")
	return key, err
}

// FetchAll returns the app's server keys in creation order, without their values.
func (k *ServerAPIKeys) FetchAll(ctx context.Context) ([]APIKey, error) {
	keys := []APIKey{}
	if err := k.admin.appCall(ctx, http.MethodGet, nil, &keys, k.appID, "api_keys"); err != nil {
		return nil, err
	}
	return keys, nil
}

// Fetch returns one server key, without its value. Errors: ErrAPIKeyNotFound.
func (k *ServerAPIKeys) Fetch(ctx context.Context, id string) (APIKey, error) {
	var key APIKey
	err := k.admin.appCall(ctx, http.MethodGet, nil, &key, k.appID, "api_keys", id)
	return key, err
}

// Enable enables a server key. Errors: ErrAPIKeyNotFound.
func (k *ServerAPIKeys) Enable(ctx context.Context, id string) error {
	return k.admin.appCall(ctx, http.MethodPut, nil, nil, k.appID, "api_keys", id, "enable")
}

// Disable disables a server key: it stops logging in, and its sessions end.
// Errors: ErrAPIKeyNotFound.
func (k *ServerAPIKeys) Disable(ctx context.Context, id string) error {
	return k.admin.appCall(ctx, http.MethodPut, nil, nil, k.appID, "api_keys", id, "disable")
}

// Delete deletes a server key and ends its sessions. Errors: ErrAPIKeyNotFound.
func (k *ServerAPIKeys) Delete(ctx context.Context, id string) error {
	return k.admin.appCall(ctx, http.MethodDelete, nil, nil, k.appID, "api_keys", id)
}
