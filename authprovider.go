package latchkey

import (
	"cmp"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The providers that sign users in with an identity another party vouches for. Like the
// built-in ones, each is named after its type, as App Services named them.
const (
	ProviderCustomToken    = "custom-token"
	ProviderCustomFunction = "custom-function"
	ProviderGoogle         = "oauth2-google"
	ProviderApple          = "oauth2-apple"
)

// BuiltinProviders are the providers every app has, enabled or not by its settings, in the
// order listings show them.
var BuiltinProviders = []string{ProviderAnonymous, ProviderUserpass, ProviderAPIKey}

// ExternalProviders are the providers an admin configures with an AuthProvider.
var ExternalProviders = []string{ProviderCustomToken, ProviderCustomFunction, ProviderGoogle, ProviderApple}

// BuiltinProvider reports whether the provider type is one of BuiltinProviders.
func BuiltinProvider(typ string) bool { return slices.Contains(BuiltinProviders, typ) }

// ExternalProvider reports whether the provider type is one of ExternalProviders.
func ExternalProvider(typ string) bool { return slices.Contains(ExternalProviders, typ) }

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

// Validate reports whether the provider's settings are acceptable, its secrets included
// (a replacement that keeps the stored secrets validates with them opened). It clears the
// settings that do not apply to the type and fills the defaults.
func (p *AuthProvider) Validate() error {
	c := &p.Config
	switch p.Type {
	case ProviderCustomToken:
		*c = AuthProviderConfig{Audience: c.Audience, SigningAlgorithm: c.SigningAlgorithm, UseJWKURI: c.UseJWKURI, JWKURI: c.JWKURI}
		if c.SigningAlgorithm != AlgHS256 && c.SigningAlgorithm != AlgRS256 {
			return Errorf(EInvalid, "signingAlgorithm must be HS256 or RS256")
		}
		if err := validStrings("audience", c.Audience, 10); err != nil {
			return err
		}
		if c.UseJWKURI {
			if c.SigningAlgorithm != AlgRS256 {
				return Errorf(EInvalid, "a JWK set URL (useJWKURI) serves RS256 keys only")
			}
			if err := ValidProviderURL("jwkURI", c.JWKURI); err != nil {
				return err
			}
			p.Secrets = nil
		} else {
			c.JWKURI = ""
			if err := p.validSigningKeys(); err != nil {
				return err
			}
		}
		return p.validMetadataFields()
	case ProviderCustomFunction:
		*c = AuthProviderConfig{URL: c.URL, TimeoutMS: c.TimeoutMS}
		p.MetadataFields = nil
		if err := ValidProviderURL("url", c.URL); err != nil {
			return err
		}
		if c.TimeoutMS != 0 && (c.TimeoutMS < 100 || time.Duration(c.TimeoutMS)*time.Millisecond > MaxFunctionTimeout) {
			return Errorf(EInvalid, "timeout_ms must be between 100 and %d", MaxFunctionTimeout.Milliseconds())
		}
		if p.Secrets == nil || p.Secrets.Secret == "" {
			return Errorf(EInvalid, "secret_config.secret is required: the webhook's signing secret")
		}
		p.Secrets.SigningKeys = nil
		return ValidWebhookSecret(p.Secrets.Secret)
	case ProviderGoogle, ProviderApple:
		issuer, jwks := GoogleIssuer, GoogleJWKURI
		if p.Type == ProviderApple {
			issuer, jwks = AppleIssuer, AppleJWKURI
		}
		*c = AuthProviderConfig{ClientID: c.ClientID, ClientIDs: c.ClientIDs, Issuer: cmp.Or(c.Issuer, issuer), JWKURI: cmp.Or(c.JWKURI, jwks), OpenID: c.OpenID}
		p.MetadataFields, p.Secrets = nil, nil
		ids := c.AllClientIDs()
		if len(ids) == 0 {
			return Errorf(EInvalid, "clientId is required: the client id that ID tokens are issued for")
		}
		if err := validStrings("clientIds", ids, 10); err != nil {
			return err
		}
		if err := ValidProviderURL("issuer", c.Issuer); err != nil {
			return err
		}
		return ValidProviderURL("jwkURI", c.JWKURI)
	}
	return Errorf(EInvalid, "type must be one of custom-token, custom-function, oauth2-google, oauth2-apple")
}

func (p *AuthProvider) validSigningKeys() error {
	if p.Secrets == nil || len(p.Secrets.SigningKeys) == 0 {
		return Errorf(EInvalid, "secret_config.signingKeys is required unless useJWKURI is set")
	}
	p.Secrets.Secret = ""
	if len(p.Secrets.SigningKeys) > MaxProviderSecrets {
		return Errorf(EInvalid, "at most %d signing keys", MaxProviderSecrets)
	}
	for _, k := range p.Secrets.SigningKeys {
		if p.Config.SigningAlgorithm == AlgHS256 {
			if len(k) < 32 || len(k) > 512 {
				return Errorf(EInvalid, "an HS256 signing key must be 32 to 512 characters")
			}
		} else if _, err := ParseRSAPublicKeyPEM(k); err != nil {
			return Errorf(EInvalid, "an RS256 signing key must be an RSA public key (or certificate) in PEM")
		}
	}
	return nil
}

func (p *AuthProvider) validMetadataFields() error {
	if len(p.MetadataFields) > MaxMetadataFields {
		return Errorf(EInvalid, "at most %d metadata fields", MaxMetadataFields)
	}
	seen := map[string]bool{}
	for i := range p.MetadataFields {
		f := &p.MetadataFields[i]
		if f.FieldName == "" {
			f.FieldName = f.Name
		}
		if f.Name == "" || len(f.Name) > 128 || len(f.FieldName) > 128 || !utf8.ValidString(f.Name+f.FieldName) {
			return Errorf(EInvalid, "a metadata field needs a name of 1 to 128 characters, and a field_name of at most 128")
		}
		if seen[f.FieldName] {
			return Errorf(EInvalid, "metadata field_name %q is used twice", f.FieldName)
		}
		seen[f.FieldName] = true
	}
	return nil
}

func validStrings(what string, ss []string, max int) error {
	if len(ss) > max {
		return Errorf(EInvalid, "%s takes at most %d values", what, max)
	}
	for _, s := range ss {
		if s == "" || len(s) > 256 || !utf8.ValidString(s) {
			return Errorf(EInvalid, "each of %s must be 1 to 256 characters", what)
		}
	}
	return nil
}

// WebhookSecretPrefix marks a webhook secret in the Standard Webhooks form: the standard
// base64 of the key follows it.
const WebhookSecretPrefix = "whsec_"

// ValidWebhookSecret reports whether s may be a custom function's webhook secret: a Standard
// Webhooks secret (WebhookSecretPrefix and the base64 of 24 to 64 bytes) or any other text of
// 24 to 512 bytes, as the webhook package signs with them. The error is EInvalid and never
// shows s.
func ValidWebhookSecret(s string) error {
	key := []byte(s)
	if rest, ok := strings.CutPrefix(s, WebhookSecretPrefix); ok {
		var err error
		if key, err = base64.StdEncoding.DecodeString(rest); err != nil {
			return Errorf(EInvalid, "a secret that starts with whsec_ must go on in base64")
		}
	}
	switch {
	case strings.HasPrefix(s, WebhookSecretPrefix) && (len(key) < 24 || len(key) > 64):
		return Errorf(EInvalid, "a whsec_ secret must encode 24 to 64 bytes")
	case len(key) < 24 || len(s) > 512 || strings.ContainsRune(s, 0):
		return Errorf(EInvalid, "the secret must be 24 to 512 bytes, without NUL")
	}
	return nil
}

// ParseRSAPublicKeyPEM parses an RSA public key in PEM: PKIX ("PUBLIC KEY"), PKCS #1 ("RSA
// PUBLIC KEY") or a certificate's. Validate accepts a custom token's RS256 signing key when it
// parses; the token check verifies with what it returns.
func ParseRSAPublicKeyPEM(s string) (*rsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("not PEM")
	}
	var (
		pub any
		err error
	)
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			pub = cert.PublicKey
		}
	default:
		return nil, errors.New("PEM block " + block.Type + " is not a public key")
	}
	if err != nil {
		return nil, err
	}
	rsaPub, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("not an RSA key")
	}
	return rsaPub, nil
}

// ValidProviderURL reports whether u may be called by Latchkey for a provider: an absolute
// https URL, or http to a loopback address (tests and local development).
func ValidProviderURL(what, u string) error {
	parsed, err := url.Parse(u)
	if err != nil || parsed.Host == "" || parsed.User != nil || len(u) > 2048 {
		return Errorf(EInvalid, "%s must be an absolute https URL", what)
	}
	switch parsed.Scheme {
	case "https":
		return nil
	case "http":
		host := parsed.Hostname()
		if ip, err := netip.ParseAddr(host); (err == nil && ip.IsLoopback()) || host == "localhost" {
			return nil
		}
	}
	return Errorf(EInvalid, "%s must be an https URL (http only to a loopback address)", what)
}
