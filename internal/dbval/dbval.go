// Package dbval holds the value encodings that the stores share with each other and with the
// bulk loader (internal/bulk), so that a row written in bulk reads back like one a store wrote.
package dbval

import (
	"database/sql"
	"encoding/json"
	"time"
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
