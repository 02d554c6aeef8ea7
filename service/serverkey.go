package service

import (
	"context"

	"github.com/latchkey/latchkey"
)

var _ latchkey.ServerKeyService = (*ServerKeys)(nil)

// ServerKeys manages apps' server API keys for an admin.
type ServerKeys struct{ *core }

// CreateServerAPIKey creates a server API key and the server user it logs in as. Expiry,
// the app's maximum key lifetime and scopes apply as to user keys.
func (s *ServerKeys) CreateServerAPIKey(ctx context.Context, appID string, in latchkey.APIKeyInput) (*latchkey.APIKey, error) {
	app, err := s.adminApp(ctx, appID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	u := &latchkey.User{ID: latchkey.NewID(now), AppID: app.ID, Type: latchkey.UserTypeServer, Confirmed: true, CreatedAt: now}
	u.Identities = []*latchkey.Identity{s.newIdentity(app, u.ID, latchkey.ProviderAPIKey, now)}
	k := &latchkey.APIKey{ID: latchkey.NewID(now), AppID: app.ID, UserID: u.ID, Name: in.Name, CreatedAt: now}
	if err := k.Validate(); err != nil {
		return nil, err
	}
	if k.ExpiresAt, err = keyExpiry(app, in, now); err != nil {
		return nil, err
	}
	if k.Scopes, err = keyScopes(app, in.Scopes); err != nil {
		return nil, err
	}
	setKeyValue(app, k)
	err = s.store.CreateServerAPIKey(ctx, u, k, latchkey.MaxServerAPIKeysPerApp)
	s.audit(ctx, app, latchkey.EventServerKeyCreated, err, "api_key", k.ID, map[string]string{"name": in.Name})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// FindServerAPIKeys returns an app's server keys.
func (s *ServerKeys) FindServerAPIKeys(ctx context.Context, appID string) ([]*latchkey.APIKey, error) {
	app, err := s.adminApp(ctx, appID)
	if err != nil {
		return nil, err
	}
	return s.store.FindServerAPIKeys(ctx, app.ID)
}

// FindServerAPIKey returns one of an app's server keys.
func (s *ServerKeys) FindServerAPIKey(ctx context.Context, appID, id string) (*latchkey.APIKey, error) {
	_, k, err := s.serverKey(ctx, appID, id)
	return k, err
}

// serverKey finds an app, as an admin sees it, and one of its server keys, as adminUser does
// for users.
func (s *ServerKeys) serverKey(ctx context.Context, appID, id string) (*latchkey.App, *latchkey.APIKey, error) {
	app, err := s.adminApp(ctx, appID)
	if err != nil {
		return nil, nil, err
	}
	if !latchkey.IsID(id) {
		return nil, nil, errKeyNotFound()
	}
	k, err := s.store.FindServerAPIKey(ctx, app.ID, id)
	return app, k, keyNotFound(err)
}

// SetServerAPIKeyDisabled enables or disables a server key; disabling ends its sessions.
func (s *ServerKeys) SetServerAPIKeyDisabled(ctx context.Context, appID, id string, disabled bool) error {
	app, k, err := s.serverKey(ctx, appID, id)
	if err != nil {
		return err
	}
	err = keyNotFound(s.store.SetAPIKeyDisabled(ctx, k.UserID, k.ID, disabled))
	s.audit(ctx, app, pick(disabled, latchkey.EventServerKeyDisabled, latchkey.EventServerKeyEnabled), err, "api_key", k.ID, nil)
	return err
}

// DeleteServerAPIKey deletes a server key with its server user and sessions.
func (s *ServerKeys) DeleteServerAPIKey(ctx context.Context, appID, id string) error {
	app, k, err := s.serverKey(ctx, appID, id)
	if err != nil {
		return err
	}
	err = keyNotFound(s.store.DeleteUser(ctx, app.ID, k.UserID))
	s.audit(ctx, app, latchkey.EventServerKeyDeleted, err, "api_key", k.ID, nil)
	return err
}
