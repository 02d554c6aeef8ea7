package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/dbval"
	"github.com/latchkey/latchkey/internal/storeerr"
)

// findAPIKeyChangesQuery reads, in one statement and so one snapshot, the xmin of that
// snapshot (every transaction with a lower id had ended when it was taken) and the changes of
// the transactions with ids >= $1, none for $1 = 0. The first row carries the xmin, with the
// change columns NULL when there are none.
const findAPIKeyChangesQuery = `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint,
	c.key_id, c.user_id, c.app_id
	FROM (SELECT 1) one LEFT JOIN api_key_changes c ON $1::bigint > 0 AND c.xid >= $1::bigint`

// FindAPIKeyChanges returns the changes recorded by transactions whose ids are >= cursor and,
// as the next cursor, the xmin of the snapshot that read them. Transaction ids are handed out
// in one order and committed in another; but a transaction that the snapshot does not see was
// running when it was taken, or began after, so its id is >= the snapshot's xmin and the next
// call returns its changes, whenever it commits. Changes of transactions that the snapshot
// saw may come again.
func (s *Store) FindAPIKeyChanges(ctx context.Context, cursor int64) ([]latchkey.APIKeyChange, int64, error) {
	if cursor < 0 {
		cursor = 0
	}
	rows, err := s.query(ctx, findAPIKeyChangesQuery, cursor)
	if err != nil {
		return nil, 0, wrap("find api key changes", err)
	}
	defer rows.Close()
	var (
		changes []latchkey.APIKeyChange
		next    int64
	)
	for rows.Next() {
		var keyID, userID, appID *string
		if err := rows.Scan(&next, &keyID, &userID, &appID); err != nil {
			return nil, 0, wrap("find api key changes", err)
		}
		if keyID != nil || userID != nil || appID != nil {
			changes = append(changes, latchkey.APIKeyChange{KeyID: deref(keyID), UserID: deref(userID), AppID: deref(appID)})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, wrap("find api key changes", err)
	}
	return changes, next, nil
}

// DeleteAPIKeyChangesBefore deletes the changes recorded before t.
func (s *Store) DeleteAPIKeyChangesBefore(ctx context.Context, t time.Time) (int64, error) {
	return s.execCount(ctx, "delete api key changes", `DELETE FROM api_key_changes WHERE changed_at < $1`, dbTime(t))
}

// SetAPIKeyLimits writes the fields of limits that are set, then reads the key back, in one
// transaction; the update's row lock orders it with concurrent takes of the key's uses. A
// refill set on a key left without remaining uses (removed since the service checked) is
// removed again.
func (s *Store) SetAPIKeyLimits(ctx context.Context, userID, id string, limits latchkey.APIKeyLimits, now time.Time) (*latchkey.APIKey, error) {
	columns, values := dbval.KeyLimitsUpdate(limits, dbTime(now))
	return inTxValue(ctx, s, "set api key limits", func(tx pgx.Tx) (*latchkey.APIKey, error) {
		if len(columns) > 0 {
			set := make([]string, len(columns))
			for i, c := range columns {
				set[i] = fmt.Sprintf("%s = $%d", c, i+1)
				if c == "meta" {
					set[i] += "::jsonb"
				}
			}
			n := len(values)
			if err := execRow(ctx, tx, storeerr.APIKeyNotFound, fmt.Sprintf(`UPDATE api_keys SET %s
				WHERE user_id = $%d AND id = $%d`, strings.Join(set, ", "), n+1, n+2), append(values, userID, id)...); err != nil {
				return nil, err
			}
			if limits.Refill != nil {
				if _, err := tx.Exec(ctx, `UPDATE api_keys SET refill_amount = NULL, refill_interval = NULL
					WHERE id = $1 AND remaining IS NULL AND refill_amount IS NOT NULL`, id); err != nil {
					return nil, err
				}
			}
		}
		return scanAPIKey(tx.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys
			WHERE user_id = $1 AND id = $2`, userID, id))
	})
}

// refillDue is true for a key whose refill period ($2 its start for a monthly refill, $3 for
// a daily one) started after its last refill; refilled is its remaining uses after the
// refill that is due.
const (
	refillDue = `(refill_amount IS NOT NULL AND (refilled_at IS NULL OR
		refilled_at < CASE refill_interval WHEN 'monthly' THEN $2::timestamptz ELSE $3::timestamptz END))`
	refilled = `(CASE WHEN ` + refillDue + ` THEN refill_amount ELSE remaining END)`
)

// takeAPIKeyUsesQuery takes $4 from key $1's remaining uses at $5, after the refill that is
// due, when that leaves at least none; otherwise it changes no row. Under READ COMMITTED a
// concurrent take of the key makes it wait for the row and check its WHERE again on the row
// that take left, so two takes never both spend the last use.
const takeAPIKeyUsesQuery = `UPDATE api_keys SET remaining = ` + refilled + ` - $4::bigint,
	refilled_at = CASE WHEN ` + refillDue + ` THEN $5::timestamptz ELSE refilled_at END
	WHERE id = $1 AND remaining IS NOT NULL AND ` + refilled + ` >= $4::bigint AND ` + refilled + ` > 0
	RETURNING remaining`

// TakeAPIKeyUses takes cost from the key's remaining uses in one statement. A refusal, and a
// cost of 0, write nothing: the uses left are read and the refill that is due counted in.
func (s *Store) TakeAPIKeyUses(ctx context.Context, id string, cost int64, now time.Time) (int64, bool, error) {
	if cost < 0 {
		return 0, false, latchkey.Errorf(latchkey.EInvalid, "cost must not be negative")
	}
	monthly, daily := dbTime(latchkey.RefillPeriodStart(latchkey.RefillMonthly, now)), dbTime(latchkey.RefillPeriodStart(latchkey.RefillDaily, now))
	if cost > 0 {
		var remaining int64
		err := s.retry(ctx, "take api key uses", func() error {
			return s.queryRow(ctx, takeAPIKeyUsesQuery, id, monthly, daily, cost, dbTime(now)).Scan(&remaining)
		})
		if err == nil {
			return remaining, true, nil
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return 0, false, err
		}
	}
	var remaining *int64
	err := s.queryRow(ctx, `SELECT `+refilled+` FROM api_keys WHERE id = $1`, id, monthly, daily).Scan(&remaining)
	if err != nil {
		return 0, false, wrap("take api key uses", noRow(err, storeerr.APIKeyNotFound))
	} else if remaining == nil {
		return 0, false, storeerr.APIKeyNotFound()
	}
	return *remaining, cost == 0 && *remaining > 0, nil
}

// leaseRateWindowQuery takes up to $3 uses, at most $4 in all, from key $1's window that
// starts at $2, a new window counting from zero (windows only move forward: a lease of an
// older window, from a node whose clock lags, gets nothing), in one statement: concurrent leases of the
// key wait for its row and then read what the one before left. granted keeps what this lease
// took, since RETURNING sees only the row after.
const leaseRateWindowQuery = `INSERT INTO key_rate_windows AS w (key_id, window_start, used, granted)
	VALUES ($1, $2, LEAST($3::bigint, $4::bigint), LEAST($3::bigint, $4::bigint))
	ON CONFLICT (key_id) DO UPDATE SET
		granted = CASE WHEN w.window_start = excluded.window_start
			THEN GREATEST(0, LEAST($4::bigint - w.used, $3::bigint))
			WHEN w.window_start < excluded.window_start THEN excluded.granted ELSE 0 END,
		used = CASE WHEN w.window_start = excluded.window_start
			THEN w.used + GREATEST(0, LEAST($4::bigint - w.used, $3::bigint))
			WHEN w.window_start < excluded.window_start THEN excluded.used ELSE w.used END,
		window_start = GREATEST(w.window_start, excluded.window_start)
	RETURNING granted, used`

// LeaseRateWindow takes up to want uses from the key's window in one statement.
// Errors: ENotFound when the key is gone.
func (s *Store) LeaseRateWindow(ctx context.Context, keyID string, window time.Time, limit, want int64) (granted, used int64, err error) {
	want = max(want, 0)
	err = s.retry(ctx, "lease rate window", func() error {
		return s.queryRow(ctx, leaseRateWindowQuery, keyID, dbTime(window), want, limit).Scan(&granted, &used)
	})
	if _, ok := violation(err, codeForeignKeyViolation); ok {
		return 0, 0, storeerr.APIKeyNotFound()
	}
	return granted, used, err
}

// DeleteRateWindowsBefore deletes the windows that started before t.
func (s *Store) DeleteRateWindowsBefore(ctx context.Context, t time.Time) (int64, error) {
	return s.execCount(ctx, "delete rate windows", `DELETE FROM key_rate_windows WHERE window_start < $1`, dbTime(t))
}

// addKeyUsageQuery adds counts, given as arrays, to the hourly rows of the keys that exist.
const addKeyUsageQuery = `INSERT INTO key_usage (key_id, hour, valid, rate_limited, usage_exceeded, other)
	SELECT u.key_id, u.hour, u.valid, u.rate_limited, u.usage_exceeded, u.other
	FROM unnest($1::text[], $2::timestamptz[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])
		AS u (key_id, hour, valid, rate_limited, usage_exceeded, other)
	WHERE EXISTS (SELECT 1 FROM api_keys k WHERE k.id = u.key_id)
	ORDER BY u.key_id, u.hour
	ON CONFLICT (key_id, hour) DO UPDATE SET valid = key_usage.valid + excluded.valid,
		rate_limited = key_usage.rate_limited + excluded.rate_limited,
		usage_exceeded = key_usage.usage_exceeded + excluded.usage_exceeded,
		other = key_usage.other + excluded.other`

// AddKeyUsage adds the counts and moves the last uses on in one transaction of two
// statements. The counts of keys that are gone are left out by the insert's condition; a
// key deleted after that check and before the insert's foreign key check fails the
// statement, and with it the transaction, which then runs again without that key's counts.
func (s *Store) AddKeyUsage(ctx context.Context, usage []latchkey.KeyUsage, lastUsed map[string]time.Time) error {
	usage = dbval.MergeKeyUsage(usage)
	var (
		keyIDs                          = make([]string, len(usage))
		hours                           = make([]time.Time, len(usage))
		valid, rateLimited, exceeded, o = make([]int64, len(usage)), make([]int64, len(usage)), make([]int64, len(usage)), make([]int64, len(usage))
	)
	for i, u := range usage {
		keyIDs[i], hours[i] = u.KeyID, dbTime(u.Hour)
		valid[i], rateLimited[i], exceeded[i], o[i] = u.Valid, u.RateLimited, u.UsageExceeded, u.Other
	}
	usedIDs := dbval.SortedKeys(lastUsed)
	usedAt := make([]time.Time, len(usedIDs))
	for i, id := range usedIDs {
		usedAt[i] = dbTime(lastUsed[id])
	}
	var err error
	for range maxAttempts {
		err = s.inTx(ctx, "add key usage", func(tx pgx.Tx) error {
			if len(usage) > 0 {
				if _, err := tx.Exec(ctx, addKeyUsageQuery, keyIDs, hours, valid, rateLimited, exceeded, o); err != nil {
					return err
				}
			}
			if len(usedIDs) > 0 {
				if _, err := tx.Exec(ctx, `UPDATE api_keys k SET last_used_at = v.at
					FROM unnest($1::text[], $2::timestamptz[]) AS v (id, at)
					WHERE k.id = v.id AND (k.last_used_at IS NULL OR k.last_used_at < v.at)`, usedIDs, usedAt); err != nil {
					return err
				}
			}
			return nil
		})
		if _, ok := violation(err, codeForeignKeyViolation); !ok {
			return err
		}
	}
	return err
}

// FindKeyUsage returns the key's hourly counts with from <= hour < to, oldest first.
func (s *Store) FindKeyUsage(ctx context.Context, keyID string, from, to time.Time) ([]latchkey.KeyUsage, error) {
	rows, err := s.query(ctx, `SELECT key_id, hour, valid, rate_limited, usage_exceeded, other
		FROM key_usage WHERE key_id = $1 AND hour >= $2 AND hour < $3 ORDER BY hour`, keyID, dbTime(from), dbTime(to))
	usage, err := scanAll(rows, err, func(row rowScanner) (latchkey.KeyUsage, error) {
		var u latchkey.KeyUsage
		err := row.Scan(&u.KeyID, &u.Hour, &u.Valid, &u.RateLimited, &u.UsageExceeded, &u.Other)
		u.Hour = u.Hour.UTC()
		return u, err
	})
	return usage, wrap("find key usage", err)
}

// DeleteKeyUsageBefore deletes the counts of the hours before t.
func (s *Store) DeleteKeyUsageBefore(ctx context.Context, t time.Time) (int64, error) {
	return s.execCount(ctx, "delete key usage", `DELETE FROM key_usage WHERE hour < $1`, dbTime(t))
}

// LeaseRateWindows sends the leases in one batch, in one transaction: one round trip and one
// commit for them all. The batch takes the window rows' locks in key order, as every batch
// does, so that two nodes' batches do not deadlock. When a key is gone the transaction fails
// as a whole; the leases are then run one by one, each with its own answer.
func (s *Store) LeaseRateWindows(ctx context.Context, leases []*latchkey.RateLease) error {
	ordered := slices.Clone(leases)
	slices.SortStableFunc(ordered, func(a, b *latchkey.RateLease) int { return strings.Compare(a.KeyID, b.KeyID) })
	err := s.inTx(ctx, "lease rate windows", func(tx pgx.Tx) error {
		var batch pgx.Batch
		for _, l := range ordered {
			batch.Queue(leaseRateWindowQuery, l.KeyID, dbTime(l.Window), max(l.Want, 0), l.Limit)
		}
		results := tx.SendBatch(ctx, &batch)
		for _, l := range ordered {
			if err := results.QueryRow().Scan(&l.Granted, &l.Used); err != nil {
				results.Close()
				return err
			}
		}
		return results.Close()
	})
	if _, ok := violation(err, codeForeignKeyViolation); !ok {
		return err
	}
	for _, l := range ordered {
		l.Granted, l.Used, l.Err = s.LeaseRateWindow(ctx, l.KeyID, l.Window, l.Limit, l.Want)
	}
	return nil
}
