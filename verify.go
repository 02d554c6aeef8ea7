package latchkey

import (
	"context"
	"encoding/json"
	"time"
)

// Bounds of a key's limits and of a verify call.
const (
	MaxVerifyCost        = 1000
	MaxKeyMetaBytes      = 4096
	MinRateLimitDuration = time.Second
	MaxRateLimitDuration = 24 * time.Hour
	// MaxKeyRemaining bounds a key's remaining uses and its refill amount.
	MaxKeyRemaining = 1 << 53
	// KeyUsageRetention is how long the hourly usage counts are kept.
	KeyUsageRetention = 30 * 24 * time.Hour
)

// The refill intervals of a key's remaining uses; each sets them back at 00:00 UTC.
const (
	RefillDaily   = "daily"
	RefillMonthly = "monthly"
)

// KeyRateLimit allows at most Limit uses of a key in each window of Duration. Windows are
// fixed: they start at multiples of Duration since the Unix epoch.
type KeyRateLimit struct {
	Limit    int64
	Duration time.Duration
}

// Validate checks the limit's bounds.
func (l *KeyRateLimit) Validate() error {
	if l.Limit < 1 || l.Limit > MaxKeyRemaining {
		return Errorf(EInvalid, "ratelimit.limit must be a positive number")
	}
	if l.Duration < MinRateLimitDuration || l.Duration > MaxRateLimitDuration {
		return Errorf(EInvalid, "ratelimit.duration_ms must be between 1000 (a second) and 86400000 (a day)")
	}
	return nil
}

// Window returns the start and the end of the window that holds t.
func (l *KeyRateLimit) Window(t time.Time) (start, end time.Time) {
	d := l.Duration.Milliseconds()
	ms := t.UnixMilli()
	s := ms - ms%d
	if ms < 0 && ms%d != 0 {
		s -= d
	}
	return time.UnixMilli(s).UTC(), time.UnixMilli(s + d).UTC()
}

// KeyRefill sets a key's remaining uses back to Amount at the start of every Interval
// (RefillDaily or RefillMonthly), at 00:00 UTC.
type KeyRefill struct {
	Amount   int64
	Interval string
}

// Validate checks the refill's amount and interval.
func (r *KeyRefill) Validate() error {
	if r.Amount < 1 || r.Amount > MaxKeyRemaining {
		return Errorf(EInvalid, "refill.amount must be a positive number")
	}
	if r.Interval != RefillDaily && r.Interval != RefillMonthly {
		return Errorf(EInvalid, "refill.interval must be %q or %q", RefillDaily, RefillMonthly)
	}
	return nil
}

// RefillPeriodStart returns the start of the refill period of interval that holds t: 00:00
// UTC of t's day (RefillDaily) or of its month's first day (RefillMonthly).
func RefillPeriodStart(interval string, t time.Time) time.Time {
	t = t.UTC()
	if interval == RefillMonthly {
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// APIKeyLimits is a partial update of a key's limits, made by an admin: a nil field stays as
// it is; a field pointing at nil removes the limit. Setting Remaining to nil removes Refill
// too; Refill needs Remaining, set now or before.
type APIKeyLimits struct {
	RateLimit **KeyRateLimit
	Remaining **int64
	Refill    **KeyRefill
	// Meta is a JSON object of at most MaxKeyMetaBytes; a pointer to nil or to "null"
	// removes it.
	Meta *json.RawMessage
}

// The outcomes of a verify call, checked in this order.
const (
	VerifyValid              = "VALID"
	VerifyNotFound           = "NOT_FOUND"
	VerifyDisabled           = "DISABLED"
	VerifyExpired            = "EXPIRED"
	VerifyUserDisabled       = "USER_DISABLED"
	VerifyInsufficientScopes = "INSUFFICIENT_SCOPES"
	VerifyUsageExceeded      = "USAGE_EXCEEDED"
	VerifyRateLimited        = "RATE_LIMITED"
)

// VerifyRequest asks whether a user API key may be used.
type VerifyRequest struct {
	Key    string
	Scopes []string // every one must be on the key
	Cost   int64    // 0 to MaxVerifyCost; what the call takes from the key's limits
}

// RateLimitState is where a key stands in its rate limit's current window.
type RateLimitState struct {
	Limit     int64
	Remaining int64
	Reset     time.Time // the end of the window
}

// VerifyResult is the answer to a verify call. Valid is true only with Code VerifyValid.
// For NOT_FOUND nothing else is set; for the other codes the key's fields are.
type VerifyResult struct {
	Valid     bool
	Code      string
	KeyID     string
	UserID    string
	Name      string
	Scopes    []string
	ExpiresAt *time.Time
	Meta      json.RawMessage
	Remaining *int64          // nil: the key has no remaining uses
	RateLimit *RateLimitState // nil: the key has no rate limit
}

// KeyUsage is what verify calls of one key made of it in one hour, by outcome.
type KeyUsage struct {
	KeyID         string
	Hour          time.Time // the start of the hour, UTC
	Valid         int64
	RateLimited   int64
	UsageExceeded int64
	Other         int64 // DISABLED, EXPIRED, USER_DISABLED and INSUFFICIENT_SCOPES
}

// VerifyService checks user API keys for an app's own backend, and keeps their usage.
type VerifyService interface {
	// VerifyAPIKey checks a key of the app, on behalf of a caller in the context that is a
	// server key session of that app (AuthFromContext with a server user), and answers with
	// a code rather than an error for any key. Errors: EUnauthenticated (no such caller),
	// EInvalid (a bad cost or scope list).
	VerifyAPIKey(ctx context.Context, req VerifyRequest) (*VerifyResult, error)
	// AuthenticateServerKey returns the caller that a server API key value of the app stands
	// for, without opening a session. Errors: EUnauthenticated.
	AuthenticateServerKey(ctx context.Context, app *App, value string) (*Auth, error)

	// SetUserAPIKeyLimits changes a user's key's limits; it needs an admin access caller.
	// Errors: EUserNotFound, EAPIKeyNotFound, EInvalid.
	SetUserAPIKeyLimits(ctx context.Context, appID, userID, keyID string, limits APIKeyLimits) (*APIKey, error)
	// FindUserAPIKeyUsage returns the hourly usage of a user's key in [from, to), oldest
	// first, hours without use left out; it needs an admin access caller.
	// Errors: EUserNotFound, EAPIKeyNotFound.
	FindUserAPIKeyUsage(ctx context.Context, appID, userID, keyID string, from, to time.Time) ([]KeyUsage, error)
	// FindAPIKeyUsage returns the hourly usage of one of the caller's own keys (a caller as
	// for APIKeyService) in [from, to). Errors: EAPIKeyNotFound.
	FindAPIKeyUsage(ctx context.Context, id string, from, to time.Time) ([]KeyUsage, error)
}

// APIKeyChange says that a key, or every key of a user or of an app, changed in a way a
// verify answer depends on (disabled, deleted, rotated, expiry, scopes, limits, meta, or its
// user disabled or deleted). One of the ids is set.
type APIKeyChange struct {
	KeyID  string
	UserID string
	AppID  string
}

// RateLease is one question of LeaseRateWindows, and its answer.
type RateLease struct {
	KeyID       string
	Window      time.Time
	Limit, Want int64

	Granted, Used int64
	Err           error
}

// VerifyStore keeps what verify calls need beyond the keys themselves: the changes that end
// cached answers, the rate limit windows shared by the nodes, the remaining uses and the
// hourly usage counts.
type VerifyStore interface {
	// FindAPIKeyChanges returns the changes committed since the call that returned cursor
	// (some may come again), and the cursor for the next call. Cursor 0 asks for none of the
	// past: it returns no changes and the current cursor. The store records the changes
	// itself, by trigger, so that no write can miss them.
	FindAPIKeyChanges(ctx context.Context, cursor int64) (changes []APIKeyChange, next int64, err error)
	// DeleteAPIKeyChangesBefore deletes the changes recorded before t and returns how many.
	DeleteAPIKeyChangesBefore(ctx context.Context, t time.Time) (int64, error)

	// SetAPIKeyLimits applies limits (already checked) to the user's key and returns the key
	// as it is after, in one step; a field left nil is not written, so that concurrent uses
	// of Remaining are not undone. Setting Remaining sets the key's refill time to now.
	// Errors: ENotFound.
	SetAPIKeyLimits(ctx context.Context, userID, id string, limits APIKeyLimits, now time.Time) (*APIKey, error)
	// TakeAPIKeyUses takes cost from the key's remaining uses, in one atomic step also
	// between nodes, after setting them back to the refill amount when the key's refill
	// period (RefillPeriodStart of its interval at now) started after its last refill. It
	// returns the remaining uses after, and ok false (taking nothing) when fewer than cost,
	// or none, are left. A key without remaining uses returns (0, false, ENotFound), as does
	// an unknown key.
	TakeAPIKeyUses(ctx context.Context, id string, cost int64, now time.Time) (remaining int64, ok bool, err error)
	// LeaseRateWindow takes up to want uses from the key's rate limit window that starts at
	// window, shared by every node: the window's count starts at zero when window is later
	// than the one stored, a window earlier than the stored one grants nothing, and the
	// count never goes past limit. It returns how many it took and the
	// window's count after, in one atomic step.
	LeaseRateWindow(ctx context.Context, keyID string, window time.Time, limit, want int64) (granted, used int64, err error)
	// LeaseRateWindows runs LeaseRateWindow for each lease, in order (a key may come more
	// than once), in as few round trips and commits as the store can, and puts each answer
	// in its lease: Granted and Used, or Err (ENotFound for a key that is gone). It returns
	// an error only when no lease could be answered.
	LeaseRateWindows(ctx context.Context, leases []*RateLease) error
	// DeleteRateWindowsBefore deletes the windows that started before t.
	DeleteRateWindowsBefore(ctx context.Context, t time.Time) (int64, error)
	// AddKeyUsage adds the counts to the stored hourly counts (Hour truncated to the hour),
	// and sets each key of lastUsed's last use to the later of its own and the given time,
	// in one transaction. Counts of keys that are gone are dropped.
	AddKeyUsage(ctx context.Context, usage []KeyUsage, lastUsed map[string]time.Time) error
	// FindKeyUsage returns a key's hourly counts with from <= Hour < to, oldest first.
	FindKeyUsage(ctx context.Context, keyID string, from, to time.Time) ([]KeyUsage, error)
	// DeleteKeyUsageBefore deletes the counts of hours before t and returns how many rows.
	DeleteKeyUsageBefore(ctx context.Context, t time.Time) (int64, error)
}
