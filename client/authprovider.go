package client

import (
	"context"
	"errors"
	"net/http"

	"github.com/latchkey/latchkey"
)

// AuthProvider is one of an app's auth providers and whether it is on. The built-in ones
// (ProviderAnonymous, ProviderEmailPassword, ProviderAPIKey) have their name alone; the
// external ones (latchkey.ProviderCustomToken, latchkey.ProviderCustomFunction,
// latchkey.ProviderGoogle, latchkey.ProviderApple) also their settings.
type AuthProvider struct {
	ID       string `json:"_id"`
	Name     string `json:"name"` // the provider's type
	Type     string `json:"type"`
	Disabled bool   `json:"disabled"`
	// Config is an external provider's settings that are not secret; which apply depends
	// on the type, and the server fills the defaults (Google's and Apple's issuer and JWK
	// set URL).
	Config latchkey.AuthProviderConfig `json:"config,omitzero"`
	// MetadataFields map a custom token's claims into the profile's data.
	MetadataFields []latchkey.MetadataField `json:"metadata_fields,omitempty"`
	// SecretsSet reports whether the provider has secrets: the server keeps them and never
	// shows them again.
	SecretsSet bool `json:"secrets_set,omitempty"`
	// Secrets are the secrets that CreateAuthProvider and ReplaceAuthProvider set: a custom
	// token's signing keys, a custom function's webhook secret. ReplaceAuthProvider keeps
	// the set ones when nil. The server never sends them back, so it is never filled in.
	Secrets *latchkey.AuthProviderSecrets `json:"-"`
}

// authProviderRequest is the body that creates or replaces an external provider.
type authProviderRequest struct {
	Name           string                        `json:"name"`
	Type           string                        `json:"type"`
	Disabled       bool                          `json:"disabled"`
	Config         latchkey.AuthProviderConfig   `json:"config"`
	SecretConfig   *latchkey.AuthProviderSecrets `json:"secret_config,omitempty"`
	MetadataFields []latchkey.MetadataField      `json:"metadata_fields"`
}

// request is p as the body of a create or a replace; its type is p.Type, or p.Name.
func (p AuthProvider) request() (authProviderRequest, error) {
	typ := p.Type
	if typ == "" {
		typ = p.Name
	}
	if typ == "" {
		return authProviderRequest{}, errors.New("client: an auth provider needs its type")
	}
	fields := p.MetadataFields
	if fields == nil {
		fields = []latchkey.MetadataField{}
	}
	return authProviderRequest{Name: typ, Type: typ, Disabled: p.Disabled, Config: p.Config,
		SecretConfig: p.Secrets, MetadataFields: fields}, nil
}

// AuthProviders lists an app's auth providers: the built-in ones, then the external ones
// configured, with their settings but never their secrets.
func (a *Admin) AuthProviders(ctx context.Context, appID string) ([]AuthProvider, error) {
	providers := []AuthProvider{}
	if err := a.appCall(ctx, http.MethodGet, nil, &providers, appID, "auth_providers"); err != nil {
		return nil, err
	}
	return providers, nil
}

// AuthProvider fetches one of an app's auth providers by its name (its type), without its
// secrets. Errors: status 404 without a code for a provider that the app lacks.
func (a *Admin) AuthProvider(ctx context.Context, appID, name string) (AuthProvider, error) {
	var p AuthProvider
	err := a.appCall(ctx, http.MethodGet, nil, &p, appID, "auth_providers", name)
	return p, err
}

// CreateAuthProvider configures an external provider of the type p.Type with its settings
// and secrets (p.Secrets), enabled unless p.Disabled, and returns it as the server keeps it,
// without the secrets. Errors: ErrInvalidParameter (bad settings or secrets), status 409
// without a code when the app has a provider of the type already.
func (a *Admin) CreateAuthProvider(ctx context.Context, appID string, p AuthProvider) (AuthProvider, error) {
	var created AuthProvider
	body, err := p.request()
	if err != nil {
		return created, err
	}
	err = a.appCall(ctx, http.MethodPost, body, &created, appID, "auth_providers")
	return created, err
}

// ReplaceAuthProvider replaces the settings of the app's external provider of the type
// p.Type with p's; its secrets stay as they were when p.Secrets is nil. Errors:
// ErrInvalidParameter, status 404 without a code for a provider that the app lacks.
func (a *Admin) ReplaceAuthProvider(ctx context.Context, appID string, p AuthProvider) (AuthProvider, error) {
	var replaced AuthProvider
	body, err := p.request()
	if err != nil {
		return replaced, err
	}
	err = a.appCall(ctx, http.MethodPut, body, &replaced, appID, "auth_providers", body.Type)
	return replaced, err
}

// DeleteAuthProvider removes an app's external provider; its users stay, and may log in
// again once it is configured again. Errors: status 404 without a code for a provider that
// the app lacks; ErrInvalidParameter for a built-in one, which can only be disabled.
func (a *Admin) DeleteAuthProvider(ctx context.Context, appID, name string) error {
	return a.appCall(ctx, http.MethodDelete, nil, nil, appID, "auth_providers", name)
}

// EnableAuthProvider turns an auth provider on: a built-in one, or an external one that is
// configured. Errors: status 404 without a code for an unknown provider.
func (a *Admin) EnableAuthProvider(ctx context.Context, appID, provider string) error {
	return a.appCall(ctx, http.MethodPut, nil, nil, appID, "auth_providers", provider, "enable")
}

// DisableAuthProvider turns an auth provider off: its logins are refused with
// ErrAuthProviderNotFound. Errors: status 404 without a code for an unknown provider.
func (a *Admin) DisableAuthProvider(ctx context.Context, appID, provider string) error {
	return a.appCall(ctx, http.MethodPut, nil, nil, appID, "auth_providers", provider, "disable")
}
