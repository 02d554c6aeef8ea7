package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// The refill intervals of a key's remaining uses (KeyRefill.Interval); each sets them back
// at 00:00 UTC.
const (
	RefillDaily   = "daily"
	RefillMonthly = "monthly"
)

// KeyRateLimit allows at most Limit uses of a key in each window of Duration (1 second to
// a day). Windows are fixed: they start at multiples of Duration since the Unix epoch. On
// the wire it is {"limit": 100, "duration_ms": 60000}.
type KeyRateLimit struct {
	Limit    int64
	Duration time.Duration // counted in whole milliseconds
}

type wireRateLimit struct {
	Limit      int64 `json:"limit"`
	DurationMS int64 `json:"duration_ms"`
}

// MarshalJSON writes {"limit", "duration_ms"}.
func (l KeyRateLimit) MarshalJSON() ([]byte, error) {
	return json.Marshal(wireRateLimit{l.Limit, l.Duration.Milliseconds()})
}

// UnmarshalJSON reads {"limit", "duration_ms"}.
func (l *KeyRateLimit) UnmarshalJSON(b []byte) error {
	var w wireRateLimit
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	l.Limit, l.Duration = w.Limit, time.Duration(w.DurationMS)*time.Millisecond
	return nil
}

// KeyRefill sets a key's remaining uses back to Amount at the start of every Interval
// (RefillDaily or RefillMonthly), at 00:00 UTC.
type KeyRefill struct {
	Amount   int64  `json:"amount"`
	Interval string `json:"interval"`
}

// KeyLimits changes the limits of a user's key (AppUsers.SetAPIKeyLimits). A field left nil
// (and its Remove flag false) stays as it is; a Remove flag removes the limit. Setting a
// field together with its Remove flag is refused before anything is sent.
//
//   - RateLimit: at most Limit uses per Duration.
//   - Remaining: uses left; each valid verify takes its cost, and at 0 the key answers
//     USAGE_EXCEEDED. RemoveRemaining removes the refill too.
//   - Refill: sets Remaining back to Amount daily or monthly; it needs Remaining, set now
//     or before.
//   - Meta: a JSON object of at most 4 KiB that verify answers carry (json.RawMessage
//     `{"plan":"pro"}`); the key's owner sees it read-only.
//
// On the wire, a field left alone is absent and a removed one is null.
type KeyLimits struct {
	RateLimit       *KeyRateLimit
	RemoveRateLimit bool
	Remaining       *int64
	RemoveRemaining bool
	Refill          *KeyRefill
	RemoveRefill    bool
	Meta            json.RawMessage
	RemoveMeta      bool
}

// MarshalJSON writes the PATCH body: set fields with their values, removed ones as null,
// the others left out.
func (l KeyLimits) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	if err := patchField(m, "ratelimit", l.RateLimit, l.RemoveRateLimit); err != nil {
		return nil, err
	}
	if err := patchField(m, "remaining", l.Remaining, l.RemoveRemaining); err != nil {
		return nil, err
	}
	if err := patchField(m, "refill", l.Refill, l.RemoveRefill); err != nil {
		return nil, err
	}
	var meta *json.RawMessage
	if l.Meta != nil {
		meta = &l.Meta
	}
	if err := patchField(m, "meta", meta, l.RemoveMeta); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// patchField puts one field of a PATCH body in m: v if set, null if removed, nothing if
// neither; both is an error.
func patchField[T any](m map[string]any, name string, v *T, remove bool) error {
	switch {
	case v != nil && remove:
		return errors.New("client: " + name + " is both set and removed")
	case v != nil:
		m[name] = *v
	case remove:
		m[name] = nil
	}
	return nil
}

// KeyUsage is what the verify calls of a key made of it in one hour, by outcome.
type KeyUsage struct {
	Time          time.Time `json:"time"` // the start of the hour, UTC
	Valid         int64     `json:"valid"`
	RateLimited   int64     `json:"rate_limited"`
	UsageExceeded int64     `json:"usage_exceeded"`
	Other         int64     `json:"other"` // DISABLED, EXPIRED, USER_DISABLED and INSUFFICIENT_SCOPES
}

// usageQuery is the query of a usage call: from and to, when given.
func usageQuery(from, to time.Time) query {
	q := query{}
	if !from.IsZero() {
		q.set("from", from.UTC().Format(time.RFC3339))
	}
	if !to.IsZero() {
		q.set("to", to.UTC().Format(time.RFC3339))
	}
	return q
}

// SetAPIKeyLimits changes the limits of a user's key as limits says (see KeyLimits) and
// returns the key as it is after. Errors: ErrUserNotFound, ErrAPIKeyNotFound,
// ErrInvalidParameter or ErrBadRequest (a limit out of bounds, a refill without remaining
// uses, meta that is not an object or is too large).
func (u *AppUsers) SetAPIKeyLimits(ctx context.Context, userID, keyID string, limits KeyLimits) (APIKey, error) {
	var key APIKey
	if _, err := limits.MarshalJSON(); err != nil {
		return key, err
	}
	err := u.admin.appCall(ctx, http.MethodPatch, limits, &key, u.appID, "users", userID, "api_keys", keyID)
	return key, err
}

// APIKeyUsage returns the hourly verify counts of a user's key from from to to, oldest
// first, hours without use left out; the server keeps 30 days. A zero from or to is left
// to the server: the last 30 days, to now. Errors: ErrUserNotFound, ErrAPIKeyNotFound,
// ErrBadRequest or ErrInvalidParameter (bad times).
func (u *AppUsers) APIKeyUsage(ctx context.Context, userID, keyID string, from, to time.Time) ([]KeyUsage, error) {
	path, err := u.admin.appPath(ctx, u.appID, "users", userID, "api_keys", keyID, "usage")
	if err != nil {
		return nil, err
	}
	usage := []KeyUsage{}
	if err := u.admin.request(ctx, http.MethodGet, usageQuery(from, to).on(path), nil, &usage); err != nil {
		return nil, err
	}
	return usage, nil
}

// Usage returns the hourly verify counts of one of the user's keys, as AppUsers.APIKeyUsage
// does for an admin. Errors: ErrAPIKeyNotFound.
func (k *APIKeys) Usage(ctx context.Context, id string, from, to time.Time) ([]KeyUsage, error) {
	path, err := keyPath(id, "/usage")
	if err != nil {
		return nil, err
	}
	usage := []KeyUsage{}
	if err := k.user.request(ctx, http.MethodGet, usageQuery(from, to).on(path), refreshToken, nil, &usage); err != nil {
		return nil, err
	}
	return usage, nil
}

// UsageAsync is Usage in the background.
func (k *APIKeys) UsageAsync(ctx context.Context, id string, from, to time.Time) <-chan Result[[]KeyUsage] {
	return async(ctx, func(ctx context.Context) ([]KeyUsage, error) { return k.Usage(ctx, id, from, to) })
}
