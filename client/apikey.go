package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/latchkey/latchkey"
)

// APIKey is a user API key as the server describes it.
type APIKey struct {
	ID       string
	Name     string
	Disabled bool
	// Value is the secret key, set only on the key that Create and Rotate return: the server
	// shows it once and keeps only its hash.
	Value string

	// The fields below are Latchkey's additions to the App Services key object; an App
	// Services server leaves them zero and nil.

	// Start is the safe beginning of the value (the prefix and a few characters, "lk_3xQa"),
	// to tell keys apart in a list.
	Start string
	// Scopes are the scopes that sessions opened with the key carry in their access tokens
	// (the "scope" claim); none means the user's full rights.
	Scopes []string
	// CreatedAt is when the key was created. LastUsedAt is the latest login with the key, nil
	// for a key never used; the server records it at most once a minute.
	CreatedAt  time.Time
	LastUsedAt *time.Time
	// ExpiresAt is when the key stops logging in and its sessions end; nil: never.
	ExpiresAt *time.Time

	// The limits an admin set on the key (AppUsers.SetAPIKeyLimits), nil when unset; the
	// key's owner sees them read-only. RateLimit bounds the verify uses per window,
	// Remaining counts the uses left (as last read), Refill sets Remaining back daily or
	// monthly, and Meta is the JSON object that verify answers carry.
	RateLimit *KeyRateLimit
	Remaining *int64
	Refill    *KeyRefill
	Meta      json.RawMessage

	// Extra holds the fields of the key object that the SDK does not know, so that a newer
	// server's additions are not lost.
	Extra map[string]json.RawMessage
}

// Enabled reports whether the key can log in.
func (k APIKey) Enabled() bool { return !k.Disabled }

// UnmarshalJSON reads the server's key object: {"_id", "name", "disabled", "key", "start",
// "scopes", "created_at", "last_used_at", "expires_at", "ratelimit", "remaining", "refill",
// "meta", ...}. A field of an unexpected type goes to Extra rather than failing the call.
func (k *APIKey) UnmarshalJSON(b []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return err
	}
	*k = APIKey{}
	extra := map[string]json.RawMessage{}
	for name, raw := range fields {
		var ok bool
		switch name {
		case "_id":
			ok = decodeField(raw, &k.ID)
		case "name":
			ok = decodeField(raw, &k.Name)
		case "disabled":
			ok = decodeField(raw, &k.Disabled)
		case "key":
			ok = decodeField(raw, &k.Value)
		case "start":
			ok = decodeField(raw, &k.Start)
		case "scopes":
			ok = decodeField(raw, &k.Scopes)
		case "created_at":
			ok = decodeField(raw, &k.CreatedAt)
		case "last_used_at":
			ok = decodeField(raw, &k.LastUsedAt)
		case "expires_at":
			ok = decodeField(raw, &k.ExpiresAt)
		case "ratelimit":
			ok = decodeField(raw, &k.RateLimit)
		case "remaining":
			ok = decodeField(raw, &k.Remaining)
		case "refill":
			ok = decodeField(raw, &k.Refill)
		case "meta":
			ok = decodeField(raw, &k.Meta)
			if string(k.Meta) == "null" {
				k.Meta = nil
			}
		}
		if !ok {
			extra[name] = raw
		}
	}
	if len(extra) > 0 {
		k.Extra = extra
	}
	return nil
}

// decodeField decodes raw into *dst, leaving *dst as it was if raw does not fit.
func decodeField[T any](raw json.RawMessage, dst *T) bool {
	var v T
	if json.Unmarshal(raw, &v) != nil {
		return false
	}
	*dst = v
	return true
}

// MarshalJSON writes the key in the server's shape, so that a program can pass on what it
// got: "key" only if the value is known, the other additions only if set, and the extra
// fields.
func (k APIKey) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, 13+len(k.Extra))
	for name, raw := range k.Extra {
		m[name] = raw
	}
	m["_id"], m["name"], m["disabled"] = k.ID, k.Name, k.Disabled
	if k.Value != "" {
		m["key"] = k.Value
	}
	if k.Start != "" {
		m["start"] = k.Start
	}
	if len(k.Scopes) > 0 {
		m["scopes"] = k.Scopes
	}
	if !k.CreatedAt.IsZero() {
		m["created_at"] = k.CreatedAt.UTC().Format(time.RFC3339)
	}
	if k.LastUsedAt != nil {
		m["last_used_at"] = k.LastUsedAt.UTC().Format(time.RFC3339)
	}
	if k.ExpiresAt != nil {
		m["expires_at"] = k.ExpiresAt.UTC().Format(time.RFC3339)
	}
	if k.RateLimit != nil {
		m["ratelimit"] = k.RateLimit
	}
	if k.Remaining != nil {
		m["remaining"] = *k.Remaining
	}
	if k.Refill != nil {
		m["refill"] = k.Refill
	}
	if k.Meta != nil {
		m["meta"] = k.Meta
	}
	return json.Marshal(m)
}

// APIKeys manages one user's API keys. The server allows it to users that logged in with
// email and password, not to anonymous users nor to sessions opened with an API key (those
// calls fail with ErrAuth).
//
// Every call uses the user's refresh token, as the Realm SDKs do; a refused refresh token
// (ErrInvalidSession: the session ended) logs the user out. Each call has a blocking form and
// an ...Async form that returns at once (see Result).
type APIKeys struct {
	user *User
}

// Create creates a key named name (ASCII letters, digits, '_' and '-', at most 64
// characters) and returns it with its value, the only time the value is available. Options
// set an expiry (KeyExpiresIn, KeyExpiresAt) and scopes (KeyScopes); without them the key
// has no scopes and lives as long as the app allows.
// Errors: ErrAPIKeyExists, ErrInvalidParameter (bad name, the user already has 20 keys, an
// expiry in the past or beyond the app's maximum, both expiry options, a scope the app does
// not declare); an empty name is refused with status 400 and no code.
func (k *APIKeys) Create(ctx context.Context, name string, opts ...KeyOption) (APIKey, error) {
	req := newCreateKeyRequest(name, opts)
	var key APIKey
	err := k.user.request(ctx, http.MethodPost, "/auth/api_keys", refreshToken, req, &key)
	return key, err
}

// createKeyRequest is the body of a create call; the Latchkey fields are left out unless an
// option sets them, so that an App Services server gets what it expects.
type createKeyRequest struct {
	Name      string   `json:"name"`
	ExpiresIn *int64   `json:"expires_in,omitempty"`
	ExpiresAt *string  `json:"expires_at,omitempty"`
	Scopes    []string `json:"scopes,omitempty"`
}

func newCreateKeyRequest(name string, opts []KeyOption) createKeyRequest {
	req := createKeyRequest{Name: name}
	for _, opt := range opts {
		opt.apply(&req)
	}
	return req
}

// KeyOption sets an optional property of a key that Create and CreateAsync make: see
// KeyExpiresIn, KeyExpiresAt and KeyScopes.
type KeyOption struct{ apply func(*createKeyRequest) }

// KeyExpiresIn makes the key expire d from now, counted in whole seconds (a fraction is
// dropped). The server refuses a key that would not live at least a second, and one that
// would outlive the app's maximum key lifetime. Not with KeyExpiresAt.
func KeyExpiresIn(d time.Duration) KeyOption {
	secs := int64(d / time.Second)
	return KeyOption{func(r *createKeyRequest) { r.ExpiresIn = &secs }}
}

// KeyExpiresAt makes the key expire at t, to the second. Not with KeyExpiresIn.
func KeyExpiresAt(t time.Time) KeyOption {
	s := t.UTC().Format(time.RFC3339)
	return KeyOption{func(r *createKeyRequest) { r.ExpiresAt = &s }}
}

// KeyScopes gives the key scopes from the app's vocabulary: the access tokens of sessions
// opened with the key carry them in their "scope" claim, for the app's own services to
// enforce.
func KeyScopes(scopes ...string) KeyOption {
	scopes = slices.Clone(scopes)
	return KeyOption{func(r *createKeyRequest) { r.Scopes = scopes }}
}

// Rotate gives a key a new value and returns the key with it, the only time the new value is
// available. The key keeps its id, name and scopes. The old value, and the sessions opened
// with it, keep working for grace (whole seconds, 0 to 7 days), so that the new value can
// be rolled out first; with 0 they stop at once.
// Errors: ErrAPIKeyNotFound, ErrInvalidParameter (grace out of range).
func (k *APIKeys) Rotate(ctx context.Context, id string, grace time.Duration) (APIKey, error) {
	var key APIKey
	path, err := keyPath(id, "/rotate")
	if err != nil {
		return key, err
	}
	body := struct {
		GracePeriod int64 `json:"grace_period"`
	}{int64(grace / time.Second)}
	err = k.user.request(ctx, http.MethodPost, path, refreshToken, body, &key)
	return key, err
}

// FetchAll returns the user's keys in creation order, without their values.
func (k *APIKeys) FetchAll(ctx context.Context) ([]APIKey, error) {
	var keys []APIKey
	if err := k.user.request(ctx, http.MethodGet, "/auth/api_keys", refreshToken, nil, &keys); err != nil {
		return nil, err
	}
	if keys == nil {
		keys = []APIKey{}
	}
	return keys, nil
}

// Fetch returns one of the user's keys, without its value. Errors: ErrAPIKeyNotFound.
func (k *APIKeys) Fetch(ctx context.Context, id string) (APIKey, error) {
	var key APIKey
	path, err := keyPath(id, "")
	if err != nil {
		return key, err
	}
	err = k.user.request(ctx, http.MethodGet, path, refreshToken, nil, &key)
	return key, err
}

// Enable enables a key; enabling an enabled key succeeds. Errors: ErrAPIKeyNotFound.
func (k *APIKeys) Enable(ctx context.Context, id string) error {
	return k.call(ctx, http.MethodPut, id, "/enable")
}

// Disable disables a key: it can no longer log in, and every session opened with it ends.
// Disabling a disabled key succeeds. Errors: ErrAPIKeyNotFound.
func (k *APIKeys) Disable(ctx context.Context, id string) error {
	return k.call(ctx, http.MethodPut, id, "/disable")
}

// Delete deletes a key and ends every session opened with it. Errors: ErrAPIKeyNotFound.
func (k *APIKeys) Delete(ctx context.Context, id string) error {
	return k.call(ctx, http.MethodDelete, id, "")
}

// CreateAsync is Create in the background.
func (k *APIKeys) CreateAsync(ctx context.Context, name string, opts ...KeyOption) <-chan Result[APIKey] {
	return async(ctx, func(ctx context.Context) (APIKey, error) { return k.Create(ctx, name, opts...) })
}

// RotateAsync is Rotate in the background.
func (k *APIKeys) RotateAsync(ctx context.Context, id string, grace time.Duration) <-chan Result[APIKey] {
	return async(ctx, func(ctx context.Context) (APIKey, error) { return k.Rotate(ctx, id, grace) })
}

// FetchAllAsync is FetchAll in the background.
func (k *APIKeys) FetchAllAsync(ctx context.Context) <-chan Result[[]APIKey] {
	return async(ctx, k.FetchAll)
}

// FetchAsync is Fetch in the background.
func (k *APIKeys) FetchAsync(ctx context.Context, id string) <-chan Result[APIKey] {
	return async(ctx, func(ctx context.Context) (APIKey, error) { return k.Fetch(ctx, id) })
}

// EnableAsync is Enable in the background: the channel delivers its error (nil on success).
func (k *APIKeys) EnableAsync(ctx context.Context, id string) <-chan error {
	return asyncErr(ctx, func(ctx context.Context) error { return k.Enable(ctx, id) })
}

// DisableAsync is Disable in the background: the channel delivers its error (nil on success).
func (k *APIKeys) DisableAsync(ctx context.Context, id string) <-chan error {
	return asyncErr(ctx, func(ctx context.Context) error { return k.Disable(ctx, id) })
}

// DeleteAsync is Delete in the background: the channel delivers its error (nil on success).
func (k *APIKeys) DeleteAsync(ctx context.Context, id string) <-chan error {
	return asyncErr(ctx, func(ctx context.Context) error { return k.Delete(ctx, id) })
}

func (k *APIKeys) call(ctx context.Context, method, id, suffix string) error {
	path, err := keyPath(id, suffix)
	if err != nil {
		return err
	}
	return k.user.request(ctx, method, path, refreshToken, nil, nil)
}

// keyPath is the path of one key. An empty id would name the collection instead, so it is
// refused here.
func keyPath(id, suffix string) (string, error) {
	if id == "" {
		return "", errors.New("client: empty API key id")
	}
	return fmt.Sprintf("/auth/api_keys/%s%s", url.PathEscape(id), suffix), nil
}

// ValidKeyValue reports whether s looks like a Latchkey key value: the format
// <prefix>_<32 base62><6 base62 checksum> with a correct checksum, or the 64 base62
// characters of a key made before the format. It reads nothing but s, so a program can turn
// away a mistyped key before calling the server; the server checks the same way.
func ValidKeyValue(s string) bool { return latchkey.CheckKeyValue(s) }
