package service

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/latchkey/latchkey"
)

var _ latchkey.AuthProviderService = (*AuthProviders)(nil)

// AuthProviders manages the apps' external providers for admins.
type AuthProviders struct{ *core }

// FindAuthProviders returns the app's external providers, without their secrets.
func (s *AuthProviders) FindAuthProviders(ctx context.Context, appID string) ([]*latchkey.AuthProvider, error) {
	app, err := s.adminApp(ctx, appID)
	if err != nil {
		return nil, err
	}
	// Stores never fill Secrets: what they hold is sealed.
	return s.store.FindAuthProviders(ctx, app.ID)
}

// FindAuthProvider returns one of the app's external providers, without its secrets.
func (s *AuthProviders) FindAuthProvider(ctx context.Context, appID, typ string) (*latchkey.AuthProvider, error) {
	app, err := s.adminApp(ctx, appID)
	if err != nil {
		return nil, err
	}
	return s.findAuthProvider(ctx, app, typ)
}

func (s *core) findAuthProvider(ctx context.Context, app *latchkey.App, typ string) (*latchkey.AuthProvider, error) {
	p, err := s.store.FindAuthProvider(ctx, app.ID, typ)
	if latchkey.ErrorCode(err) == latchkey.ENotFound {
		return nil, errAuthProviderNotFound(typ)
	}
	return p, err
}

// errAuthProviderNotFound is the answer for a provider the app has not configured.
func errAuthProviderNotFound(typ string) error {
	return latchkey.Errorf(latchkey.ENotFound, "auth provider '%s' not found", typ)
}

// CreateAuthProvider configures an external provider of the app.
func (s *AuthProviders) CreateAuthProvider(ctx context.Context, appID string, p *latchkey.AuthProvider) (*latchkey.AuthProvider, error) {
	app, err := s.adminApp(ctx, appID)
	if err != nil {
		return nil, err
	}
	np := *p
	np.AppID = app.ID
	if err := s.prepareAuthProvider(&np); err != nil {
		return nil, err
	}
	np.CreatedAt, np.UpdatedAt = s.now(), s.now()
	err = s.store.CreateAuthProvider(ctx, &np)
	if latchkey.ErrorCode(err) == latchkey.EConflict {
		err = latchkey.Errorf(latchkey.EConflict, "the app already has an auth provider '%s': replace it with PUT", np.Type)
	}
	s.auditProvider(ctx, app, latchkey.EventAuthProviderSet, np.Type, p.Secrets != nil, err)
	if err != nil {
		return nil, err
	}
	np.Secrets = nil
	return &np, nil
}

// ReplaceAuthProvider replaces the settings of a configured provider. Secrets left out keep
// their stored values, which the replacement is validated with.
func (s *AuthProviders) ReplaceAuthProvider(ctx context.Context, appID string, p *latchkey.AuthProvider) (*latchkey.AuthProvider, error) {
	app, err := s.adminApp(ctx, appID)
	if err != nil {
		return nil, err
	}
	old, err := s.findAuthProvider(ctx, app, p.Type)
	if err != nil {
		return nil, err
	}
	np := *p
	np.AppID, np.CreatedAt, np.UpdatedAt = app.ID, old.CreatedAt, s.now()
	if np.Secrets == nil && old.SealedSecrets != nil {
		if np.Secrets, err = s.openProviderSecrets(old); err != nil {
			return nil, err
		}
	}
	if err := s.prepareAuthProvider(&np); err != nil {
		return nil, err
	}
	err = s.store.UpdateAuthProvider(ctx, &np)
	s.auditProvider(ctx, app, latchkey.EventAuthProviderSet, np.Type, p.Secrets != nil, err)
	if err != nil {
		return nil, err
	}
	np.Secrets = nil
	return &np, nil
}

// SetAuthProviderDisabled disables or enables a configured provider.
func (s *AuthProviders) SetAuthProviderDisabled(ctx context.Context, appID, typ string, disabled bool) error {
	app, err := s.adminApp(ctx, appID)
	if err != nil {
		return err
	}
	p, err := s.findAuthProvider(ctx, app, typ)
	if err != nil {
		return err
	}
	p.Disabled, p.UpdatedAt = disabled, s.now()
	err = s.store.UpdateAuthProvider(ctx, p)
	s.audit(ctx, app, latchkey.EventAuthProviderSet, err, "auth_provider", typ, map[string]string{"disabled": fmt.Sprint(disabled)})
	return err
}

// DeleteAuthProvider removes a configured provider; its users stay.
func (s *AuthProviders) DeleteAuthProvider(ctx context.Context, appID, typ string) error {
	app, err := s.adminApp(ctx, appID)
	if err != nil {
		return err
	}
	if latchkey.BuiltinProvider(typ) {
		return latchkey.Errorf(latchkey.EInvalid, "the built-in provider '%s' cannot be deleted: disable it", typ)
	}
	err = s.store.DeleteAuthProvider(ctx, app.ID, typ)
	if latchkey.ErrorCode(err) == latchkey.ENotFound {
		return errAuthProviderNotFound(typ)
	}
	s.auditProvider(ctx, app, latchkey.EventAuthProviderDeleted, typ, false, err)
	return err
}

// prepareAuthProvider validates p and seals its secrets.
func (s *core) prepareAuthProvider(p *latchkey.AuthProvider) error {
	if p.Secrets != nil {
		secrets := *p.Secrets
		p.Secrets = &secrets
	}
	if err := p.Validate(); err != nil {
		return err
	}
	p.SealedSecrets = nil
	if p.Secrets != nil {
		plain, err := json.Marshal(p.Secrets)
		if err != nil {
			return err
		}
		p.SealedSecrets = s.tokens.sealer.sealData(providerSecretsAD(p), plain)
	}
	return nil
}

// openProviderSecrets returns the secrets of a provider as the store keeps it.
func (s *core) openProviderSecrets(p *latchkey.AuthProvider) (*latchkey.AuthProviderSecrets, error) {
	if p.SealedSecrets == nil {
		return &latchkey.AuthProviderSecrets{}, nil
	}
	plain, err := s.tokens.sealer.openData(providerSecretsAD(p), p.SealedSecrets)
	if err != nil {
		return nil, fmt.Errorf("the secrets of auth provider %s of app %s: %w", p.Type, p.AppID, err)
	}
	var secrets latchkey.AuthProviderSecrets
	if err := json.Unmarshal(plain, &secrets); err != nil {
		return nil, fmt.Errorf("the secrets of auth provider %s of app %s: %w", p.Type, p.AppID, err)
	}
	return &secrets, nil
}

// providerSecretsAD binds sealed secrets to their app and provider: moved to another row,
// they do not open.
func providerSecretsAD(p *latchkey.AuthProvider) []byte {
	return []byte("latchkey auth provider secrets\x00" + p.AppID + "\x00" + p.Type)
}

// auditProvider records a provider's change: its type, and whether secrets were set (never
// their values).
func (s *core) auditProvider(ctx context.Context, app *latchkey.App, event, typ string, secretsSet bool, err error) {
	var details map[string]string
	if secretsSet {
		details = map[string]string{"secrets_set": "true"}
	}
	s.audit(ctx, app, event, err, "auth_provider", typ, details)
}
