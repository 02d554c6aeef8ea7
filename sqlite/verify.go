package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/dbval"
	"github.com/latchkey/latchkey/internal/storeerr"
)

// FindAPIKeyChanges returns the changes with seq >= cursor and the next cursor, one past the
// last seq read: a cursor is the first seq not yet seen. The one writer commits in seq order,
// so a read that sees seq n has seen every seq below it. Cursor 0 returns the one past the
// last seq ever given (sqlite_sequence keeps it through the sweep), which is 1 before any.
func (s *Store) FindAPIKeyChanges(ctx context.Context, cursor int64) ([]latchkey.APIKeyChange, int64, error) {
	if cursor <= 0 {
		var last int64
		err := s.read.QueryRowContext(ctx, `SELECT coalesce(
			(SELECT seq FROM sqlite_sequence WHERE name = 'api_key_changes'), 0)`).Scan(&last)
		return nil, last + 1, wrap("find api key changes", err)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT seq, coalesce(key_id, ''), coalesce(user_id, ''),
		coalesce(app_id, '') FROM api_key_changes WHERE seq >= ? ORDER BY seq`, cursor)
	if err != nil {
		return nil, 0, wrap("find api key changes", err)
	}
	defer rows.Close()
	var changes []latchkey.APIKeyChange
	next := cursor
	for rows.Next() {
		var (
			seq int64
			c   latchkey.APIKeyChange
		)
		if err := rows.Scan(&seq, &c.KeyID, &c.UserID, &c.AppID); err != nil {
			return nil, 0, wrap("find api key changes", err)
		}
		changes = append(changes, c)
		next = seq + 1
	}
	if err := rows.Err(); err != nil {
		return nil, 0, wrap("find api key changes", err)
	}
	return changes, next, nil
}

// DeleteAPIKeyChangesBefore deletes the changes recorded before t.
func (s *Store) DeleteAPIKeyChangesBefore(ctx context.Context, t time.Time) (int64, error) {
	return s.execCount(ctx, "delete api key changes", `DELETE FROM api_key_changes WHERE changed_at < ?`, millis(t))
}

// SetAPIKeyLimits writes the fields of limits that are set, then reads the key back, in one
// IMMEDIATE transaction. A refill set on a key left without remaining uses (removed since the
// service checked) is removed again.
func (s *Store) SetAPIKeyLimits(ctx context.Context, userID, id string, limits latchkey.APIKeyLimits, now time.Time) (*latchkey.APIKey, error) {
	columns, values := dbval.KeyLimitsUpdate(limits, millis(now))
	return inTxValue(ctx, s, "set api key limits", func(tx *sql.Tx) (*latchkey.APIKey, error) {
		if len(columns) > 0 {
			set := make([]string, len(columns))
			for i, c := range columns {
				set[i] = c + " = ?"
			}
			if err := execRow(ctx, tx, storeerr.APIKeyNotFound, `UPDATE api_keys SET `+strings.Join(set, ", ")+`
				WHERE user_id = ? AND id = ?`, append(values, userID, id)...); err != nil {
				return nil, err
			}
			if limits.Refill != nil {
				if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET refill_amount = NULL, refill_interval = NULL
					WHERE id = ? AND remaining IS NULL AND refill_amount IS NOT NULL`, id); err != nil {
					return nil, err
				}
			}
		}
		return scanAPIKey(tx.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys
			WHERE user_id = ? AND id = ?`, userID, id))
	})
}

// refillDue is true for a key whose refill period (?2 its start for a monthly refill, ?3 for
// a daily one) started after its last refill; refilled is its remaining uses after the
// refill that is due.
const (
	refillDue = `(refill_amount IS NOT NULL AND (refilled_at IS NULL OR
		refilled_at < CASE refill_interval WHEN 'monthly' THEN ?2 ELSE ?3 END))`
	refilled = `(CASE WHEN ` + refillDue + ` THEN refill_amount ELSE remaining END)`
)

// takeAPIKeyUsesQuery takes ?4 from key ?1's remaining uses at ?5, after the refill that is
// due, when that leaves at least none; otherwise it changes no row.
const takeAPIKeyUsesQuery = `UPDATE api_keys SET remaining = ` + refilled + ` - ?4,
	refilled_at = CASE WHEN ` + refillDue + ` THEN ?5 ELSE refilled_at END
	WHERE id = ?1 AND remaining IS NOT NULL AND ` + refilled + ` >= ?4 AND ` + refilled + ` > 0
	RETURNING remaining`

// TakeAPIKeyUses takes cost from the key's remaining uses in one statement, which the one
// writer makes atomic. A refusal, and a cost of 0, write nothing: the uses left are read and
// the refill that is due counted in.
func (s *Store) TakeAPIKeyUses(ctx context.Context, id string, cost int64, now time.Time) (int64, bool, error) {
	if cost < 0 {
		return 0, false, latchkey.Errorf(latchkey.EInvalid, "cost must not be negative")
	}
	monthly, daily := millis(latchkey.RefillPeriodStart(latchkey.RefillMonthly, now)), millis(latchkey.RefillPeriodStart(latchkey.RefillDaily, now))
	if cost > 0 {
		var remaining int64
		err := s.group.queryRow(ctx, []any{&remaining}, takeAPIKeyUsesQuery, id, monthly, daily, cost, millis(now))
		if err == nil {
			return remaining, true, nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return 0, false, wrap("take api key uses", err)
		}
	}
	var remaining sql.NullInt64
	err := s.read.QueryRowContext(ctx, `SELECT `+refilled+` FROM api_keys WHERE id = ?1`, id, monthly, daily).Scan(&remaining)
	if err != nil {
		return 0, false, wrap("take api key uses", noRow(err, storeerr.APIKeyNotFound))
	} else if !remaining.Valid {
		return 0, false, storeerr.APIKeyNotFound()
	}
	return remaining.Int64, cost == 0 && remaining.Int64 > 0, nil
}

// leaseRateWindowQuery takes up to ?3 uses, at most ?4 in all, from key ?1's window that
// starts at ?2, a new window counting from zero. Windows only move forward: a lease of an
// older window (a node whose clock lags) gets nothing rather than resetting the newer one. granted keeps what this lease took, since
// RETURNING sees only the row after.
const leaseRateWindowQuery = `INSERT INTO key_rate_windows (key_id, window_start, used, granted)
	VALUES (?1, ?2, min(?3, ?4), min(?3, ?4))
	ON CONFLICT (key_id) DO UPDATE SET
		granted = CASE WHEN window_start = excluded.window_start THEN max(0, min(?4 - used, ?3))
			WHEN window_start < excluded.window_start THEN excluded.granted ELSE 0 END,
		used = CASE WHEN window_start = excluded.window_start THEN used + max(0, min(?4 - used, ?3))
			WHEN window_start < excluded.window_start THEN excluded.used ELSE used END,
		window_start = max(window_start, excluded.window_start)
	RETURNING granted, used`

// LeaseRateWindow takes up to want uses from the key's window in one statement.
// Errors: ENotFound when the key is gone.
func (s *Store) LeaseRateWindow(ctx context.Context, keyID string, window time.Time, limit, want int64) (granted, used int64, err error) {
	want = max(want, 0)
	err = s.group.queryRow(ctx, []any{&granted, &used}, leaseRateWindowQuery, keyID, millis(window), want, limit)
	if isForeignKeyViolation(err) {
		return 0, 0, storeerr.APIKeyNotFound()
	}
	return granted, used, wrap("lease rate window", err)
}

// DeleteRateWindowsBefore deletes the windows that started before t.
func (s *Store) DeleteRateWindowsBefore(ctx context.Context, t time.Time) (int64, error) {
	return s.execCount(ctx, "delete rate windows", `DELETE FROM key_rate_windows WHERE window_start < ?`, millis(t))
}

// addKeyUsageQuery adds a batch of counts, given as one JSON array of
// [key_id, hour, valid, rate_limited, usage_exceeded, other] rows, in one statement: one
// parse, however many keys a second's calls used. A key that is gone is left out.
const addKeyUsageQuery = `INSERT INTO key_usage (key_id, hour, valid, rate_limited, usage_exceeded, other)
	SELECT json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]'),
		json_extract(j.value, '$[3]'), json_extract(j.value, '$[4]'), json_extract(j.value, '$[5]')
	FROM json_each(?1) AS j
	WHERE EXISTS (SELECT 1 FROM api_keys WHERE id = json_extract(j.value, '$[0]'))
	ON CONFLICT (key_id, hour) DO UPDATE SET valid = valid + excluded.valid,
		rate_limited = rate_limited + excluded.rate_limited,
		usage_exceeded = usage_exceeded + excluded.usage_exceeded,
		other = other + excluded.other`

// touchAPIKeysQuery moves the last uses of a batch of keys, a JSON array of [id, time] rows,
// forward.
const touchAPIKeysQuery = `UPDATE api_keys SET last_used_at = u.at
	FROM (SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS at FROM json_each(?1)) AS u
	WHERE api_keys.id = u.id AND (api_keys.last_used_at IS NULL OR api_keys.last_used_at < u.at)`

// AddKeyUsage adds the counts and moves the last uses on in one IMMEDIATE transaction of two
// statements. The counts of a key that is gone are left out by the insert's own condition,
// which the one writer keeps true until the commit.
func (s *Store) AddKeyUsage(ctx context.Context, usage []latchkey.KeyUsage, lastUsed map[string]time.Time) error {
	usage = dbval.MergeKeyUsage(usage)
	rows := make([][6]any, len(usage))
	for i, u := range usage {
		rows[i] = [6]any{u.KeyID, millis(u.Hour), u.Valid, u.RateLimited, u.UsageExceeded, u.Other}
	}
	counts, err := json.Marshal(rows)
	if err != nil {
		return wrap("add key usage", err)
	}
	used := make([][2]any, 0, len(lastUsed))
	for _, id := range dbval.SortedKeys(lastUsed) {
		used = append(used, [2]any{id, millis(lastUsed[id])})
	}
	touched, err := json.Marshal(used)
	if err != nil {
		return wrap("add key usage", err)
	}
	return s.inTx(ctx, "add key usage", func(tx *sql.Tx) error {
		if len(rows) > 0 {
			if _, err := tx.ExecContext(ctx, addKeyUsageQuery, string(counts)); err != nil {
				return err
			}
		}
		if len(used) > 0 {
			if _, err := tx.ExecContext(ctx, touchAPIKeysQuery, string(touched)); err != nil {
				return err
			}
		}
		return nil
	})
}

// FindKeyUsage returns the key's hourly counts with from <= hour < to, oldest first.
func (s *Store) FindKeyUsage(ctx context.Context, keyID string, from, to time.Time) ([]latchkey.KeyUsage, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT key_id, hour, valid, rate_limited, usage_exceeded, other
		FROM key_usage WHERE key_id = ? AND hour >= ? AND hour < ? ORDER BY hour`, keyID, millis(from), millis(to))
	usage, err := scanAll(rows, err, func(row rowScanner) (latchkey.KeyUsage, error) {
		var (
			u    latchkey.KeyUsage
			hour int64
		)
		err := row.Scan(&u.KeyID, &hour, &u.Valid, &u.RateLimited, &u.UsageExceeded, &u.Other)
		u.Hour = fromMillis(hour)
		return u, err
	})
	return usage, wrap("find key usage", err)
}

// DeleteKeyUsageBefore deletes the counts of the hours before t.
func (s *Store) DeleteKeyUsageBefore(ctx context.Context, t time.Time) (int64, error) {
	return s.execCount(ctx, "delete key usage", `DELETE FROM key_usage WHERE hour < ?`, millis(t))
}

// LeaseRateWindows runs the leases in one IMMEDIATE transaction: one commit for them all. A
// lease of a key that is gone fails alone (a statement's constraint failure undoes only it).
func (s *Store) LeaseRateWindows(ctx context.Context, leases []*latchkey.RateLease) error {
	return s.inTx(ctx, "lease rate windows", func(tx *sql.Tx) error {
		for _, l := range leases {
			err := tx.QueryRowContext(ctx, leaseRateWindowQuery, l.KeyID, millis(l.Window), max(l.Want, 0), l.Limit).Scan(&l.Granted, &l.Used)
			switch {
			case isForeignKeyViolation(err):
				l.Err = storeerr.APIKeyNotFound()
			case err != nil:
				return err
			}
		}
		return nil
	})
}
