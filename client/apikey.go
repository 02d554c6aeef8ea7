package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// APIKey is a user API key as the server describes it.
type APIKey struct {
	ID       string
	Name     string
	Disabled bool
	// Value is the secret key, set only on the key that Create returns: the server shows it
	// once and keeps only its hash.
	Value string
	// CreatedAt and LastUsedAt are Latchkey's additions to the App Services key object; an App
	// Services server leaves them zero and nil. LastUsedAt is nil for a key never logged in
	// with, and is updated at most once a minute.
	CreatedAt  time.Time
	LastUsedAt *time.Time
	// Extra holds the fields of the key object that the SDK does not know, so that a newer
	// server's additions (expires_at, say) are not lost.
	Extra map[string]json.RawMessage
}

// Enabled reports whether the key can log in.
func (k APIKey) Enabled() bool { return !k.Disabled }

// UnmarshalJSON reads the server's key object: {"_id", "name", "disabled", "key",
// "created_at", "last_used_at", ...}. A field of an unexpected type goes to Extra rather than
// failing the call.
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
			ok = json.Unmarshal(raw, &k.ID) == nil
		case "name":
			ok = json.Unmarshal(raw, &k.Name) == nil
		case "disabled":
			ok = json.Unmarshal(raw, &k.Disabled) == nil
		case "key":
			ok = json.Unmarshal(raw, &k.Value) == nil
		case "created_at":
			ok = json.Unmarshal(raw, &k.CreatedAt) == nil
		case "last_used_at":
			ok = json.Unmarshal(raw, &k.LastUsedAt) == nil
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

// MarshalJSON writes the key in the server's shape, so that a program can pass on what it
// got: "key" only if the value is known, the time fields only if set, and the extra fields.
func (k APIKey) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, 6+len(k.Extra))
	for name, raw := range k.Extra {
		m[name] = raw
	}
	m["_id"], m["name"], m["disabled"] = k.ID, k.Name, k.Disabled
	if k.Value != "" {
		m["key"] = k.Value
	}
	if !k.CreatedAt.IsZero() {
		m["created_at"] = k.CreatedAt.UTC().Format(time.RFC3339)
	}
	if k.LastUsedAt != nil {
		m["last_used_at"] = k.LastUsedAt.UTC().Format(time.RFC3339)
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
// characters) and returns it with its value, the only time the value is available.
// Errors: ErrAPIKeyExists, ErrInvalidParameter (bad name, or the user already has 20 keys);
// an empty name is refused with status 400 and no code.
func (k *APIKeys) Create(ctx context.Context, name string) (APIKey, error) {
	var key APIKey
	err := k.user.request(ctx, http.MethodPost, "/auth/api_keys", refreshToken, map[string]string{"name": name}, &key)
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
func (k *APIKeys) CreateAsync(ctx context.Context, name string) <-chan Result[APIKey] {
	return async(ctx, func(ctx context.Context) (APIKey, error) { return k.Create(ctx, name) })
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
