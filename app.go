package latchkey

import (
	"context"
	"regexp"
	"time"
)

// Provider names, the same as the App Services provider types.
const (
	ProviderAnonymous = "anon-user"
	ProviderUserpass  = "local-userpass"
	ProviderAPIKey    = "api-key"
)

// Refresh token lifetime bounds, as App Services had them.
const (
	DefaultRefreshTokenLifetime = 60 * 24 * time.Hour
	MinRefreshTokenLifetime     = 30 * time.Minute
	MaxRefreshTokenLifetime     = 180 * 24 * time.Hour
)

// App is one application: its users, keys and sessions are separate from every other app's.
type App struct {
	ID          string // internal 24-hex id (the profile's domain_id)
	ClientAppID string // the id SDKs are configured with, e.g. "latchkey-abcde"
	Name        string

	AutoConfirm          bool // email/password users are confirmed at registration
	AnonymousEnabled     bool
	UserpassEnabled      bool
	APIKeyEnabled        bool
	PasswordMinLength    int // 6 .. 128
	RefreshTokenLifetime time.Duration
	AllowedOrigins       []string // CORS origins; empty means any origin
	// HideAccountExistence makes reset/send and confirm/send answer an unknown email, and
	// confirm/send an already confirmed user, as they answer a message sent (204), instead
	// of App Services' 404 UserNotFound and 400 UserAlreadyConfirmed.
	HideAccountExistence bool

	KeyPrefix      string        // prefix of new key values, 2 to 10 lowercase letters
	MaxKeyLifetime time.Duration // 0: keys may live forever; else the longest and default lifetime
	Scopes         []string      // the scopes keys may carry; empty: keys have no scopes
	// LeakSecretHash is the SHA-256 of the secret that authenticates leak reports.
	LeakSecretHash []byte
	// KeyRateLimit is the rate limit that every new user key of the app starts with;
	// nil: none.
	KeyRateLimit *KeyRateLimit

	CreatedAt time.Time
}

// Password length bounds: an app may raise the minimum, never lower it below 6.
const (
	MinPasswordLength = 6
	MaxPasswordLength = 128
)

var originPattern = regexp.MustCompile(`^https?://[a-zA-Z0-9.-]+(:[0-9]{1,5})?$`)

var scopePattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)

// ValidScope reports whether s has the form of a scope: 1 to 64 letters, digits or _ . : -.
func ValidScope(s string) bool { return scopePattern.MatchString(s) }

// HasScope reports whether the app declares the scope.
func (a *App) HasScope(scope string) bool {
	for _, sc := range a.Scopes {
		if sc == scope {
			return true
		}
	}
	return false
}

var clientAppIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{1,63}$`)

// Validate reports whether the app's fields are acceptable.
func (a *App) Validate() error {
	if !clientAppIDPattern.MatchString(a.ClientAppID) {
		return Errorf(EInvalid, "client app id must be 2 to 64 lowercase letters, digits, '-' or '_', starting with a letter or digit")
	}
	if a.PasswordMinLength < MinPasswordLength || a.PasswordMinLength > MaxPasswordLength {
		return Errorf(EInvalid, "password minimum length must be between %d and %d", MinPasswordLength, MaxPasswordLength)
	}
	if a.Name == "" || len(a.Name) > 128 {
		return Errorf(EInvalid, "app name must be 1 to 128 characters")
	}
	for _, o := range a.AllowedOrigins {
		if o != "*" && !originPattern.MatchString(o) {
			return Errorf(EInvalid, "allowed origin %q must be a scheme and host, like https://app.example.com", o)
		}
	}
	if !ValidKeyPrefix(a.KeyPrefix) {
		return Errorf(EInvalid, "key prefix must be 2 to 10 lowercase letters")
	}
	if a.MaxKeyLifetime < 0 {
		return Errorf(EInvalid, "maximum key lifetime must not be negative")
	}
	if len(a.Scopes) > MaxScopes {
		return Errorf(EInvalid, "an app may declare at most %d scopes", MaxScopes)
	}
	seen := map[string]bool{}
	for _, sc := range a.Scopes {
		if !scopePattern.MatchString(sc) {
			return Errorf(EInvalid, "scope %q must be 1 to 64 characters of letters, digits, '_', '-', ':' or '.'", sc)
		}
		if seen[sc] {
			return Errorf(EInvalid, "scope %q is declared twice", sc)
		}
		seen[sc] = true
	}
	if a.RefreshTokenLifetime < MinRefreshTokenLifetime || a.RefreshTokenLifetime > MaxRefreshTokenLifetime {
		return Errorf(EInvalid, "refresh token lifetime must be between 30 minutes and 180 days")
	}
	if a.KeyRateLimit != nil {
		if err := a.KeyRateLimit.Validate(); err != nil {
			return Errorf(EInvalid, "key_%s", err.(*Error).Message)
		}
	}
	return nil
}

// OriginAllowed reports whether a browser origin may call the app's API.
func (a *App) OriginAllowed(origin string) bool {
	if len(a.AllowedOrigins) == 0 {
		return true
	}
	for _, o := range a.AllowedOrigins {
		if o == "*" || o == origin {
			return true
		}
	}
	return false
}

// ProviderEnabled reports whether the named provider is enabled for the app.
func (a *App) ProviderEnabled(provider string) bool {
	switch provider {
	case ProviderAnonymous:
		return a.AnonymousEnabled
	case ProviderUserpass:
		return a.UserpassEnabled
	case ProviderAPIKey:
		return a.APIKeyEnabled
	}
	return false
}

// AppSettings is a partial update of an app's settings; nil fields stay as they are.
type AppSettings struct {
	Name                 *string
	AutoConfirm          *bool
	AnonymousEnabled     *bool
	UserpassEnabled      *bool
	APIKeyEnabled        *bool
	PasswordMinLength    *int
	RefreshTokenLifetime *time.Duration
	AllowedOrigins       *[]string
	HideAccountExistence *bool
	KeyPrefix            *string
	MaxKeyLifetime       *time.Duration
	Scopes               *[]string
	// KeyRateLimit sets the new keys' default rate limit; pointing at nil, it removes it.
	KeyRateLimit **KeyRateLimit
}

// Apply sets the fields that u names; Validate then says whether the result is acceptable.
func (a *App) Apply(u AppSettings) {
	setIf(&a.Name, u.Name)
	setIf(&a.AutoConfirm, u.AutoConfirm)
	setIf(&a.AnonymousEnabled, u.AnonymousEnabled)
	setIf(&a.UserpassEnabled, u.UserpassEnabled)
	setIf(&a.APIKeyEnabled, u.APIKeyEnabled)
	setIf(&a.PasswordMinLength, u.PasswordMinLength)
	setIf(&a.RefreshTokenLifetime, u.RefreshTokenLifetime)
	setIf(&a.AllowedOrigins, u.AllowedOrigins)
	setIf(&a.HideAccountExistence, u.HideAccountExistence)
	setIf(&a.KeyPrefix, u.KeyPrefix)
	setIf(&a.MaxKeyLifetime, u.MaxKeyLifetime)
	setIf(&a.Scopes, u.Scopes)
	setIf(&a.KeyRateLimit, u.KeyRateLimit)
}

func setIf[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// AppService finds an app for the client API and manages apps for an admin. Every method but
// FindAppByClientID needs an admin access caller in the context (AdminFromContext) and
// returns EUnauthenticated without one. An app's id is its internal id or its client app id.
type AppService interface {
	// FindAppByClientID returns the app with the given client app id; it needs no caller.
	// Errors: EAppNotFound.
	FindAppByClientID(ctx context.Context, clientAppID string) (*App, error)

	// FindApps returns every app, oldest first.
	FindApps(ctx context.Context) ([]*App, error)
	// FindApp returns one app. Errors: EAppNotFound.
	FindApp(ctx context.Context, id string) (*App, error)
	// CreateApp creates an app with defaults for the unset settings; an empty ClientAppID is
	// replaced by a generated one. Errors: EInvalid, EConflict.
	CreateApp(ctx context.Context, app *App) error
	// UpdateApp changes the app's settings that upd sets and returns the app.
	// Errors: EAppNotFound, EInvalid.
	UpdateApp(ctx context.Context, id string, upd AppSettings) (*App, error)
	// DeleteApp deletes an app with its users, keys, sessions and events.
	// Errors: EAppNotFound.
	DeleteApp(ctx context.Context, id string) error
}
