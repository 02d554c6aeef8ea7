package latchkey

import (
	"context"
	"encoding/json"
	"time"
)

// The providers that sign users in with an identity another party vouches for. Like the
// built-in ones, each is named after its type, as App Services named them.
const (
	ProviderCustomToken    = "custom-token"
	ProviderCustomFunction = "custom-function"
	ProviderGoogle         = "oauth2-google"
	ProviderApple          = "oauth2-apple"
)

// ExternalProvider reports whether the provider type is one that an admin configures with an
// AuthProvider.
func ExternalProvider(typ string) bool {
	switch typ {
	case ProviderCustomToken, ProviderCustomFunction, ProviderGoogle, ProviderApple:
		return true
	}
	return false
}

// Signing algorithms of custom tokens.
const (
	AlgHS256 = "HS256"
	AlgRS256 = "RS256"
)

// The real issuers and key sets of Google's and Apple's ID tokens: a provider's defaults.
const (
	GoogleIssuer = "https://accounts.google.com"
	GoogleJWKURI = "https://www.googleapis.com/oauth2/v3/certs"
	AppleIssuer  = "https://appleid.apple.com"
	AppleJWKURI  = "https://appleid.apple.com/auth/keys"
)

// Bounds of an external provider's settings.
const (
	DefaultFunctionTimeout = 3 * time.Second
	MaxFunctionTimeout     = 10 * time.Second
	MaxProviderSecrets     = 10
	MaxMetadataFields      = 32
)

// AuthProvider is an app's configured external provider: a custom JWT issuer, a custom
// function served as a webhook, or Google or Apple sign-in with an ID token. Its secrets are
// kept sealed (SealedSecrets) and never shown again once set.
type AuthProvider struct {
	AppID    string
	Type     string // one of the external provider types; also its name
	Disabled bool
	Config   AuthProviderConfig
	// MetadataFields map a custom token's claims into the profile's data.
	MetadataFields []MetadataField
	// Secrets are the provider's secrets in the clear, set by the service when it opens
	// them; stores ignore it.
	Secrets *AuthProviderSecrets
	// SealedSecrets are the secrets as the store keeps them: encrypted with the server's
	// secret key; nil when the provider has none.
	SealedSecrets []byte
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// AuthProviderConfig is an external provider's settings that are not secret, in App
// Services' names. Which apply depends on the type.
type AuthProviderConfig struct {
	// custom-token
	Audience         []string `json:"audience,omitempty"`
	SigningAlgorithm string   `json:"signingAlgorithm,omitempty"`
	UseJWKURI        bool     `json:"useJWKURI,omitempty"`
	// custom-token (with UseJWKURI), oauth2-google and oauth2-apple
	JWKURI string `json:"jwkURI,omitempty"`
	// oauth2-google and oauth2-apple: the token's audience must be one of the client ids.
	ClientID  string   `json:"clientId,omitempty"`
	ClientIDs []string `json:"clientIds,omitempty"`
	Issuer    string   `json:"issuer,omitempty"`
	OpenID    bool     `json:"openId,omitempty"`
	// custom-function
	URL       string `json:"url,omitempty"`
	TimeoutMS int    `json:"timeout_ms,omitempty"`
}

// AllClientIDs returns the client ids an ID token's audience may name.
func (c *AuthProviderConfig) AllClientIDs() []string {
	var ids []string
	if c.ClientID != "" {
		ids = append(ids, c.ClientID)
	}
	for _, id := range c.ClientIDs {
		if id != c.ClientID {
			ids = append(ids, id)
		}
	}
	return ids
}

// FunctionTimeout is how long a custom function's webhook may take.
func (c *AuthProviderConfig) FunctionTimeout() time.Duration {
	if c.TimeoutMS <= 0 {
		return DefaultFunctionTimeout
	}
	return time.Duration(c.TimeoutMS) * time.Millisecond
}

// AuthProviderSecrets are an external provider's secrets: a custom token's signing keys
// (HS256 secrets, or RS256 public keys in PEM), and a custom function's webhook secret.
type AuthProviderSecrets struct {
	SigningKeys []string `json:"signingKeys,omitempty"`
	Secret      string   `json:"secret,omitempty"`
}

// MetadataField maps a claim of a custom token (Name, a dotted path) into the profile's
// data (FieldName, Name when empty). A required field missing from a token refuses it.
type MetadataField struct {
	Required  bool   `json:"required"`
	Name      string `json:"name"`
	FieldName string `json:"field_name,omitempty"`
}

// AuthProviderStore keeps the apps' external providers.
type AuthProviderStore interface {
	// CreateAuthProvider inserts a provider. Errors: EConflict when the app has one of the
	// type; ENotFound when there is no such app.
	CreateAuthProvider(ctx context.Context, p *AuthProvider) error
	// UpdateAuthProvider writes every field of the app's provider of p.Type but CreatedAt.
	UpdateAuthProvider(ctx context.Context, p *AuthProvider) error
	// FindAuthProvider returns the app's provider of the type.
	FindAuthProvider(ctx context.Context, appID, typ string) (*AuthProvider, error)
	// FindAuthProviders returns the app's providers, by type.
	FindAuthProviders(ctx context.Context, appID string) ([]*AuthProvider, error)
	// DeleteAuthProvider deletes the app's provider of the type; its users stay.
	DeleteAuthProvider(ctx context.Context, appID, typ string) error
}

// AuthProviderService manages an app's external providers for an admin. Every method needs
// an admin access caller in the context and returns EUnauthenticated without one; appID is
// the app's internal id or client app id, and an unknown app is EAppNotFound. Providers come
// back with their secrets left out.
type AuthProviderService interface {
	// FindAuthProviders returns the app's external providers.
	FindAuthProviders(ctx context.Context, appID string) ([]*AuthProvider, error)
	// FindAuthProvider returns one. Errors: ENotFound.
	FindAuthProvider(ctx context.Context, appID, typ string) (*AuthProvider, error)
	// CreateAuthProvider configures an external provider, enabled unless p.Disabled.
	// Errors: EInvalid, EConflict (the app has it already).
	CreateAuthProvider(ctx context.Context, appID string, p *AuthProvider) (*AuthProvider, error)
	// ReplaceAuthProvider replaces a provider's settings; secrets left nil stay as they were.
	// Errors: ENotFound, EInvalid.
	ReplaceAuthProvider(ctx context.Context, appID string, p *AuthProvider) (*AuthProvider, error)
	// SetAuthProviderDisabled disables or enables a configured provider. Errors: ENotFound.
	SetAuthProviderDisabled(ctx context.Context, appID, typ string, disabled bool) error
	// DeleteAuthProvider removes a provider; its users stay, and may log in again once it is
	// configured again. Errors: ENotFound.
	DeleteAuthProvider(ctx context.Context, appID, typ string) error
}

// TokenCheck is what an external JWT must satisfy: signed with one of Keys (HS256 secrets or
// RS256 PEM public keys) or with a key of the set at JWKURI, by Algorithm; issued by Issuer
// when set; for one of Audiences when any; unexpired; and carrying Nonce when set.
type TokenCheck struct {
	Algorithm string
	Keys      []string
	JWKURI    string
	Issuer    string
	Audiences []string
	Nonce     string
}

// TokenVerifier checks JWTs that other parties sign: custom tokens and Google's and Apple's
// ID tokens. It fetches and caches JWK sets itself.
type TokenVerifier interface {
	// VerifyToken checks token and returns its claims. Errors: EUnauthorized, with a message
	// that says what was wrong (never the token), for a token that fails any check or whose
	// keys cannot be fetched in time.
	VerifyToken(ctx context.Context, token string, check TokenCheck) (map[string]any, error)
}

// FunctionCall is one call of a custom function's webhook: the login payload as the SDK sent
// it, signed with Secret.
type FunctionCall struct {
	URL     string
	Secret  string
	Timeout time.Duration
	Payload json.RawMessage
}

// FunctionResult is a custom function's answer: the user's external id, and optionally the
// name and email for the profile and the custom data to set.
type FunctionResult struct {
	ID         string
	Name       string
	Email      string
	CustomData json.RawMessage
}

// FunctionCaller calls custom functions' webhooks.
type FunctionCaller interface {
	// CallFunction posts the payload and reads the answer. Errors: EUnauthorized, with a
	// message that says what went wrong, for a webhook that is down, slow, refuses, or
	// answers anything but a JSON object with a non-empty string id.
	CallFunction(ctx context.Context, call FunctionCall) (*FunctionResult, error)
}
