package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/dbval"
)

// takeRateTokenQuery takes a token from the bucket $1 at $2, with $3 the interval and $4
// the burst times the interval, all in nanoseconds: a token is there when the bucket, after
// taking it, would be full again no later than a whole burst from now. ON CONFLICT DO UPDATE
// locks the row and checks the condition on its newest version, so concurrent nodes never
// both take the last token. A refusal changes no row.
const takeRateTokenQuery = `INSERT INTO rate_buckets AS b (key, full_at) VALUES ($1, $2::bigint + $3::bigint)
	ON CONFLICT (key) DO UPDATE SET full_at = GREATEST(b.full_at, $2::bigint) + $3::bigint
	WHERE GREATEST(b.full_at, $2::bigint) + $3::bigint <= $2::bigint + $4::bigint`

// TakeRateToken takes a token from the bucket key, in one statement.
func (s *Store) TakeRateToken(ctx context.Context, key []byte, now time.Time, interval time.Duration, burst int) (time.Duration, error) {
	t, iv := now.UnixNano(), int64(interval)
	var wait time.Duration
	err := s.retry(ctx, "take rate token", func() error {
		tag, err := s.exec(ctx, takeRateTokenQuery, key, t, iv, int64(burst)*iv)
		if err != nil || tag.RowsAffected() == 1 {
			wait = 0
			return err
		}
		var fullAt int64
		err = s.queryRow(ctx, `SELECT full_at FROM rate_buckets WHERE key = $1`, key).Scan(&fullAt)
		if errors.Is(err, pgx.ErrNoRows) {
			wait = interval // swept since: an approximate wait will do
			return nil
		}
		wait = latchkey.RateTokenWait(time.Unix(0, fullAt), now, interval, burst)
		return err
	})
	return wait, err
}

// lockoutColumns are the columns of a lockout row after its account, in the order of its
// scans and writes.
const lockoutColumns = `failures, pending, pending_until, locks, locked_until, last_failure`

// maxLockoutInserts bounds how often UpdateLockout starts again after another node
// inserted the account's first row at the same moment.
const maxLockoutInserts = 5

// UpdateLockout reads the account's row FOR UPDATE, so that other nodes' calls for the
// account wait for this transaction, and writes what fn leaves. When there is no row yet,
// two nodes may both see none: the second INSERT then violates the primary key, and the
// whole transaction runs again, this time on the row the first one wrote.
func (s *Store) UpdateLockout(ctx context.Context, account []byte, fn func(*latchkey.Lockout) bool) error {
	for attempt := 1; ; attempt++ {
		err := s.inTx(ctx, "update lockout", func(tx pgx.Tx) error {
			return updateLockout(ctx, tx, account, fn)
		})
		if _, ok := violation(err, codeUniqueViolation); !ok || attempt == maxLockoutInserts {
			return err
		}
	}
}

// updateLockout reads the account's lockout, lets fn change it and writes what fn leaves.
func updateLockout(ctx context.Context, tx pgx.Tx, account []byte, fn func(*latchkey.Lockout) bool) error {
	var (
		l                                      latchkey.Lockout
		pendingUntil, lockedUntil, lastFailure int64
	)
	err := tx.QueryRow(ctx, `SELECT `+lockoutColumns+` FROM lockouts WHERE account = $1 FOR UPDATE`, account).
		Scan(&l.Failures, &l.Pending, &pendingUntil, &l.Locks, &lockedUntil, &lastFailure)
	found := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	l.PendingUntil, l.LockedUntil, l.LastFailure = dbval.FromNanos(pendingUntil), dbval.FromNanos(lockedUntil), dbval.FromNanos(lastFailure)
	if !fn(&l) {
		return nil
	}
	args := []any{account, l.Failures, l.Pending, dbval.Nanos(l.PendingUntil), l.Locks, dbval.Nanos(l.LockedUntil), dbval.Nanos(l.LastFailure)}
	switch {
	case l.IsZero() && !found:
		return nil
	case l.IsZero():
		_, err = tx.Exec(ctx, `DELETE FROM lockouts WHERE account = $1`, account)
	case found:
		_, err = tx.Exec(ctx, `UPDATE lockouts SET failures = $2, pending = $3, pending_until = $4,
			locks = $5, locked_until = $6, last_failure = $7 WHERE account = $1`, args...)
	default:
		// A plain INSERT, not an upsert: an upsert would overwrite the row another node
		// inserted meanwhile with a state computed without it.
		_, err = tx.Exec(ctx, `INSERT INTO lockouts (account, `+lockoutColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, args...)
	}
	return err
}

// DeleteIdleLimits deletes the buckets full again and the lockouts with nothing left to
// remember, in one transaction.
func (s *Store) DeleteIdleLimits(ctx context.Context, now, forgetBefore time.Time) (int64, error) {
	return inTxValue(ctx, s, "delete idle limits", func(tx pgx.Tx) (int64, error) {
		t := now.UnixNano()
		buckets, err := tx.Exec(ctx, `DELETE FROM rate_buckets WHERE full_at <= $1`, t)
		if err != nil {
			return 0, err
		}
		lockouts, err := tx.Exec(ctx, `DELETE FROM lockouts
			WHERE locked_until <= $1 AND (pending = 0 OR pending_until <= $1) AND last_failure < $2`,
			t, dbval.Nanos(forgetBefore))
		if err != nil {
			return 0, err
		}
		return buckets.RowsAffected() + lockouts.RowsAffected(), nil
	})
}
