package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// AppInfo is an app as the admin API describes it. App methods take either its ID or its
// ClientAppID.
type AppInfo struct {
	ID              string    `json:"_id"`           // internal id, the users' domain_id
	ClientAppID     string    `json:"client_app_id"` // the id SDKs are configured with
	Name            string    `json:"name"`
	GroupID         string    `json:"group_id"`
	DomainID        string    `json:"domain_id"`
	Location        string    `json:"location"`
	DeploymentModel string    `json:"deployment_model"`
	CreatedAt       time.Time `json:"created_at"`
}

// AppSettings are an app's settings as the server reports them.
type AppSettings struct {
	Name                        string   `json:"name"`
	AutoConfirm                 bool     `json:"auto_confirm"` // email/password users are confirmed at registration
	AnonUserEnabled             bool     `json:"anon_user_enabled"`
	LocalUserpassEnabled        bool     `json:"local_userpass_enabled"`
	APIKeyEnabled               bool     `json:"api_key_enabled"`
	PasswordMinLength           int      `json:"password_min_length"`
	RefreshTokenLifetimeSeconds int64    `json:"refresh_token_lifetime_seconds"`
	AllowedOrigins              []string `json:"allowed_origins"` // CORS origins; empty: any
	// HideAccountExistence: reset/send and confirm/send answer an unknown email, and
	// confirm/send a confirmed user, as a message sent, instead of App Services' 404
	// UserNotFound and 400 UserAlreadyConfirmed.
	HideAccountExistence bool `json:"hide_account_existence"`

	// The fields below are Latchkey's key controls.

	// KeyPrefix starts the values of new keys ("lk" by default): lk_3xQa….
	KeyPrefix string `json:"key_prefix"`
	// MaxKeyLifetimeSeconds is the longest, and the default, lifetime of new user keys; 0:
	// they may live forever.
	MaxKeyLifetimeSeconds int64 `json:"max_key_lifetime_seconds"`
	// Scopes are the scopes the app's keys may carry; none: keys have no scopes.
	Scopes []string `json:"scopes"`
	// LeakSecretSet reports whether the app has a leak-report secret (see RotateLeakSecret).
	// It cannot be set.
	LeakSecretSet bool `json:"leak_secret_set"`
	// KeyRateLimit is the rate limit every new user key of the app gets; nil: none.
	KeyRateLimit *KeyRateLimit `json:"key_ratelimit"`
}

// RefreshTokenLifetime returns the lifetime of the app users' refresh tokens.
func (s AppSettings) RefreshTokenLifetime() time.Duration {
	return time.Duration(s.RefreshTokenLifetimeSeconds) * time.Second
}

// MaxKeyLifetime returns the longest lifetime of new keys, 0 for no maximum.
func (s AppSettings) MaxKeyLifetime() time.Duration {
	return time.Duration(s.MaxKeyLifetimeSeconds) * time.Second
}

// AppSettingsUpdate changes the settings it sets; nil fields stay as they are. Go 1.26's
// new(expr) makes the pointers: AppSettingsUpdate{AutoConfirm: new(false)}.
type AppSettingsUpdate struct {
	Name                        *string   `json:"name,omitempty"`
	AutoConfirm                 *bool     `json:"auto_confirm,omitempty"`
	AnonUserEnabled             *bool     `json:"anon_user_enabled,omitempty"`
	LocalUserpassEnabled        *bool     `json:"local_userpass_enabled,omitempty"`
	APIKeyEnabled               *bool     `json:"api_key_enabled,omitempty"`
	PasswordMinLength           *int      `json:"password_min_length,omitempty"`            // 6 .. 128
	RefreshTokenLifetimeSeconds *int64    `json:"refresh_token_lifetime_seconds,omitempty"` // 30 minutes .. 180 days
	AllowedOrigins              *[]string `json:"allowed_origins,omitempty"`                // an empty list allows any origin
	// HideAccountExistence answers unknown (and confirmed) emails on reset/send and
	// confirm/send as known ones.
	HideAccountExistence *bool `json:"hide_account_existence,omitempty"`
	// KeyPrefix applies to keys created or rotated afterwards: 2 to 10 lowercase letters.
	KeyPrefix *string `json:"key_prefix,omitempty"`
	// MaxKeyLifetimeSeconds applies to keys created afterwards; 0 removes the maximum.
	MaxKeyLifetimeSeconds *int64 `json:"max_key_lifetime_seconds,omitempty"`
	// Scopes replaces the app's scope vocabulary (at most 32; letters, digits, _ - : .); an
	// empty list removes it. Existing keys keep their scopes.
	Scopes *[]string `json:"scopes,omitempty"`
	// KeyRateLimit gives every user key created afterwards this rate limit;
	// RemoveKeyRateLimit removes the default (keys made before keep theirs). Not both.
	KeyRateLimit       *KeyRateLimit `json:"-"`
	RemoveKeyRateLimit bool          `json:"-"`
}

// MarshalJSON writes the fields that upd sets; key_ratelimit is null when removed.
func (upd AppSettingsUpdate) MarshalJSON() ([]byte, error) {
	type plain AppSettingsUpdate // without this method
	b, err := json.Marshal(plain(upd))
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if err := patchField(m, "key_ratelimit", upd.KeyRateLimit, upd.RemoveKeyRateLimit); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// Apps lists every app, oldest first.
func (a *Admin) Apps(ctx context.Context) ([]AppInfo, error) {
	path, err := a.appsPath(ctx)
	if err != nil {
		return nil, err
	}
	apps := []AppInfo{}
	if err := a.request(ctx, http.MethodGet, path, nil, &apps); err != nil {
		return nil, err
	}
	return apps, nil
}

// App fetches one app by its id or client app id. Errors: ErrInvalidParameter (404: no
// such app).
func (a *Admin) App(ctx context.Context, appID string) (AppInfo, error) {
	var app AppInfo
	err := a.appCall(ctx, http.MethodGet, nil, &app, appID)
	return app, err
}

// CreateApp creates an app with the client app id clientAppID (a generated one if "") and
// the quickstart settings (every provider on, auto-confirm), changed by settings.
// Errors: ErrInvalidParameter (a bad id or setting); status 409 without a code when the
// client app id is taken.
func (a *Admin) CreateApp(ctx context.Context, clientAppID string, settings AppSettingsUpdate) (AppInfo, error) {
	var app AppInfo
	path, err := a.appsPath(ctx)
	if err != nil {
		return app, err
	}
	b, err := settings.MarshalJSON()
	if err != nil {
		return app, err
	}
	body := map[string]json.RawMessage{}
	if err := json.Unmarshal(b, &body); err != nil {
		return app, err
	}
	if clientAppID != "" {
		body["client_app_id"], _ = json.Marshal(clientAppID)
	}
	err = a.request(ctx, http.MethodPost, path, body, &app)
	return app, err
}

// DeleteApp deletes an app with its users, keys, sessions and audit events.
// Errors: ErrInvalidParameter (404: no such app).
func (a *Admin) DeleteApp(ctx context.Context, appID string) error {
	return a.appCall(ctx, http.MethodDelete, nil, nil, appID)
}

// AppSettings fetches an app's settings.
func (a *Admin) AppSettings(ctx context.Context, appID string) (AppSettings, error) {
	var s AppSettings
	err := a.appCall(ctx, http.MethodGet, nil, &s, appID, "settings")
	return s, err
}

// UpdateAppSettings changes the settings that upd sets, all or none, and returns the new
// settings. Errors: ErrInvalidParameter (a value out of bounds), ErrBadRequest.
func (a *Admin) UpdateAppSettings(ctx context.Context, appID string, upd AppSettingsUpdate) (AppSettings, error) {
	var s AppSettings
	err := a.appCall(ctx, http.MethodPatch, upd, &s, appID, "settings")
	return s, err
}

// RefreshTokenExpiration fetches the lifetime of an app's refresh tokens
// (security/refresh_token_expiration).
func (a *Admin) RefreshTokenExpiration(ctx context.Context, appID string) (time.Duration, error) {
	var resp struct {
		Seconds int64 `json:"expiration_time_seconds"`
	}
	err := a.appCall(ctx, http.MethodGet, nil, &resp, appID, "security", "refresh_token_expiration")
	return time.Duration(resp.Seconds) * time.Second, err
}

// SetRefreshTokenExpiration sets the lifetime of an app's new refresh tokens, in whole
// seconds from 30 minutes to 180 days. Errors: ErrInvalidParameter.
func (a *Admin) SetRefreshTokenExpiration(ctx context.Context, appID string, d time.Duration) error {
	body := map[string]int64{"expiration_time_seconds": int64(d / time.Second)}
	return a.appCall(ctx, http.MethodPut, body, nil, appID, "security", "refresh_token_expiration")
}

// AllowedRequestOrigins fetches the browser origins allowed to call an app; none means any.
func (a *Admin) AllowedRequestOrigins(ctx context.Context, appID string) ([]string, error) {
	origins := []string{}
	if err := a.appCall(ctx, http.MethodGet, nil, &origins, appID, "security", "allowed_request_origins"); err != nil {
		return nil, err
	}
	return origins, nil
}

// SetAllowedRequestOrigins replaces the origins allowed to call an app, each a scheme and a
// host (https://app.example.com) or "*"; an empty list allows any. Errors:
// ErrInvalidParameter.
func (a *Admin) SetAllowedRequestOrigins(ctx context.Context, appID string, origins []string) error {
	if origins == nil {
		origins = []string{}
	}
	return a.appCall(ctx, http.MethodPost, origins, nil, appID, "security", "allowed_request_origins")
}

// RotateLeakSecret makes a new leak-report secret for an app, replacing any earlier one, and
// returns it: the only time it is available, as the server keeps only its hash. A secret
// scanner (or a relay in front of one) passes it to ReportLeakedKeys.
// Errors: ErrInvalidParameter (404: no such app).
func (a *Admin) RotateLeakSecret(ctx context.Context, appID string) (string, error) {
	var resp struct {
		Secret string `json:"secret"`
	}
	if err := a.appCall(ctx, http.MethodPost, nil, &resp, appID, "leak_secret"); err != nil {
		return "", err
	}
	if resp.Secret == "" {
		return "", errors.New("client: rotate leak secret: the server's answer lacks the secret")
	}
	return resp.Secret, nil
}
