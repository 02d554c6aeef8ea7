// Package dbval holds the value encodings that the stores share with each other and with the
// bulk loader (internal/bulk), so that a row written in bulk reads back like one a store wrote.
package dbval

import (
	"database/sql"
	"encoding/json"
	"slices"
	"sort"
	"time"

	"github.com/latchkey/latchkey"
)

// Time returns t as the stores keep it: UTC, truncated to milliseconds. TIMESTAMPTZ holds
// microseconds, but every Latchkey store keeps milliseconds (SQLite's precision), so that
// both behave the same (internal/storetest checks it).
func Time(t time.Time) time.Time {
	return t.UTC().Truncate(time.Millisecond)
}

// TimePtr is Time for optional times.
func TimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := Time(*t)
	return &u
}

// NullBytes maps an empty byte slice to NULL, so that "none" has one form: a UNIQUE index
// lets many NULLs through but not two empty values.
func NullBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// JSONList returns l as the JSON text of an array of strings, "[]" for nil, as both stores'
// scopes columns hold it.
func JSONList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l) // cannot fail for strings
	return string(b)
}

// NullMillis encodes an optional time as SQLite keeps it: Unix milliseconds, NULL for nil.
func NullMillis(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// Nanos encodes a time of the limits' tables (rate_buckets, lockouts) as both stores keep
// it: Unix nanoseconds, 0 for the zero time.
func Nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// FromNanos decodes what Nanos encoded, in UTC.
func FromNanos(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// KeyLimits are a key's limit and meta columns as both stores hold them, NULL for none:
// ratelimit_limit, ratelimit_duration_ms, remaining, refill_amount, refill_interval, meta
// (KeyLimitColumns), in the order of Args and Dest.
type KeyLimits struct {
	RateLimit, RateLimitMS, Remaining, RefillAmount sql.NullInt64
	RefillInterval, Meta                            sql.NullString
}

// KeyLimitColumns are the columns of KeyLimits, in its order.
const KeyLimitColumns = `ratelimit_limit, ratelimit_duration_ms, remaining, refill_amount, refill_interval, meta`

// EncodeKeyLimits returns the key's limits and meta as stored. A meta of JSON null is none.
func EncodeKeyLimits(k *latchkey.APIKey) KeyLimits {
	var l KeyLimits
	l.RateLimit, l.RateLimitMS = EncodeRateLimit(k.RateLimit)
	if k.Remaining != nil {
		l.Remaining = sql.NullInt64{Int64: *k.Remaining, Valid: true}
	}
	if k.Refill != nil {
		l.RefillAmount = sql.NullInt64{Int64: k.Refill.Amount, Valid: true}
		l.RefillInterval = sql.NullString{String: k.Refill.Interval, Valid: true}
	}
	l.Meta = EncodeMeta(k.Meta)
	return l
}

// Args returns the columns' values, for an INSERT.
func (l *KeyLimits) Args() []any {
	return []any{l.RateLimit, l.RateLimitMS, l.Remaining, l.RefillAmount, l.RefillInterval, l.Meta}
}

// Dest returns the scan destinations of the columns.
func (l *KeyLimits) Dest() []any {
	return []any{&l.RateLimit, &l.RateLimitMS, &l.Remaining, &l.RefillAmount, &l.RefillInterval, &l.Meta}
}

// DecodeTo sets k's RateLimit, Remaining, Refill and Meta from the columns.
func (l *KeyLimits) DecodeTo(k *latchkey.APIKey) {
	k.RateLimit = DecodeRateLimit(l.RateLimit, l.RateLimitMS)
	k.Remaining, k.Refill, k.Meta = nil, nil, nil
	if l.Remaining.Valid {
		v := l.Remaining.Int64
		k.Remaining = &v
	}
	if l.RefillAmount.Valid && l.RefillInterval.Valid {
		k.Refill = &latchkey.KeyRefill{Amount: l.RefillAmount.Int64, Interval: l.RefillInterval.String}
	}
	if l.Meta.Valid {
		k.Meta = json.RawMessage(l.Meta.String)
	}
}

// EncodeRateLimit returns a rate limit as its two columns, limit and duration in
// milliseconds; NULL for none.
func EncodeRateLimit(l *latchkey.KeyRateLimit) (limit, durationMS sql.NullInt64) {
	if l == nil {
		return sql.NullInt64{}, sql.NullInt64{}
	}
	return sql.NullInt64{Int64: l.Limit, Valid: true}, sql.NullInt64{Int64: l.Duration.Milliseconds(), Valid: true}
}

// DecodeRateLimit is EncodeRateLimit's inverse.
func DecodeRateLimit(limit, durationMS sql.NullInt64) *latchkey.KeyRateLimit {
	if !limit.Valid || !durationMS.Valid {
		return nil
	}
	return &latchkey.KeyRateLimit{Limit: limit.Int64, Duration: time.Duration(durationMS.Int64) * time.Millisecond}
}

// EncodeMeta returns a key's meta as stored: its JSON text, NULL for none or JSON null.
func EncodeMeta(meta json.RawMessage) sql.NullString {
	if len(meta) == 0 || string(meta) == "null" {
		return sql.NullString{}
	}
	return sql.NullString{String: string(meta), Valid: true}
}

// KeyLimitsUpdate returns the columns of a key that limits sets and their values, in one
// order, for an UPDATE: a field left nil sets nothing. Setting Remaining sets refilled_at to
// refilledAt (the store's encoding of the time); removing it removes Refill and refilled_at
// too, whatever limits.Refill says.
func KeyLimitsUpdate(limits latchkey.APIKeyLimits, refilledAt any) (columns []string, values []any) {
	set := func(column string, value any) {
		columns, values = append(columns, column), append(values, value)
	}
	if limits.RateLimit != nil {
		limit, ms := EncodeRateLimit(*limits.RateLimit)
		set("ratelimit_limit", limit)
		set("ratelimit_duration_ms", ms)
	}
	removed := false
	if limits.Remaining != nil {
		if r := *limits.Remaining; r != nil {
			set("remaining", sql.NullInt64{Int64: *r, Valid: true})
			set("refilled_at", refilledAt)
		} else {
			removed = true
			set("remaining", sql.NullInt64{})
			set("refilled_at", nil)
			set("refill_amount", sql.NullInt64{})
			set("refill_interval", sql.NullString{})
		}
	}
	if limits.Refill != nil && !removed {
		var amount sql.NullInt64
		var interval sql.NullString
		if r := *limits.Refill; r != nil {
			amount, interval = sql.NullInt64{Int64: r.Amount, Valid: true}, sql.NullString{String: r.Interval, Valid: true}
		}
		set("refill_amount", amount)
		set("refill_interval", interval)
	}
	if limits.Meta != nil {
		set("meta", EncodeMeta(*limits.Meta))
	}
	return columns, values
}

// MergeKeyUsage returns usage with each Hour truncated to its hour in UTC and the counts of
// one key and hour summed into one, ordered by key and hour: the rows one upsert each, in
// the order that keeps concurrent batches from deadlocking.
func MergeKeyUsage(usage []latchkey.KeyUsage) []latchkey.KeyUsage {
	type slot struct {
		key  string
		hour int64
	}
	sums := make(map[slot]*latchkey.KeyUsage, len(usage))
	var merged []latchkey.KeyUsage
	for _, u := range usage {
		u.Hour = u.Hour.UTC().Truncate(time.Hour)
		k := slot{u.KeyID, u.Hour.Unix()}
		if sum, ok := sums[k]; ok {
			sum.Valid += u.Valid
			sum.RateLimited += u.RateLimited
			sum.UsageExceeded += u.UsageExceeded
			sum.Other += u.Other
			continue
		}
		sums[k] = &u
	}
	for _, u := range sums {
		merged = append(merged, *u)
	}
	sort.Slice(merged, func(i, j int) bool {
		if merged[i].KeyID != merged[j].KeyID {
			return merged[i].KeyID < merged[j].KeyID
		}
		return merged[i].Hour.Before(merged[j].Hour)
	})
	return merged
}

// SortedKeys returns the keys of m in order.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// EncodeIdentityData returns an identity's data as stored: the JSON text of the object,
// NULL for none (nil or empty).
func EncodeIdentityData(data map[string]any) (sql.NullString, error) {
	if len(data) == 0 {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(data)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

// DecodeIdentityData decodes an identity's data as read: nil for NULL.
func DecodeIdentityData(v sql.NullString) (map[string]any, error) {
	if !v.Valid {
		return nil, nil
	}
	var data map[string]any
	if err := json.Unmarshal([]byte(v.String), &data); err != nil {
		return nil, err
	}
	return data, nil
}

// AddIdentity adds ident to a user's identities in the order the stores give them, oldest
// first (by creation time, then id), wherever it comes among the rows: the stores read a user
// with its identities in one statement without an ORDER BY, which on PostgreSQL would add a
// sort to every token check and key login, for the few identities a user has.
func AddIdentity(list []*latchkey.Identity, ident *latchkey.Identity) []*latchkey.Identity {
	i := len(list)
	for i > 0 && identityBefore(ident, list[i-1]) {
		i--
	}
	return slices.Insert(list, i, ident)
}

// identityBefore reports whether a comes before b among a user's identities.
func identityBefore(a, b *latchkey.Identity) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.Before(b.CreatedAt)
	}
	return a.ID < b.ID
}

// EncodeAuthProvider returns an auth provider's config and metadata fields as stored: JSON
// text, "[]" for no fields.
func EncodeAuthProvider(p *latchkey.AuthProvider) (config, fields string, err error) {
	c, err := json.Marshal(p.Config)
	if err != nil {
		return "", "", err
	}
	if len(p.MetadataFields) == 0 {
		return string(c), "[]", nil
	}
	f, err := json.Marshal(p.MetadataFields)
	if err != nil {
		return "", "", err
	}
	return string(c), string(f), nil
}

// DecodeAuthProvider decodes an auth provider's stored config and metadata fields into p;
// no fields come back nil.
func DecodeAuthProvider(p *latchkey.AuthProvider, config, fields string) error {
	if err := json.Unmarshal([]byte(config), &p.Config); err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(fields), &p.MetadataFields); err != nil {
		return err
	}
	if len(p.MetadataFields) == 0 {
		p.MetadataFields = nil
	}
	return nil
}
