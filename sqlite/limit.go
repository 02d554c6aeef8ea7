package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/dbval"
)

// takeRateTokenQuery takes a token from the bucket ?1 at ?2, with ?3 the interval and ?4
// the burst times the interval, all in nanoseconds: a token is there when the bucket, after
// taking it, would be full again no later than a whole burst from now. A refusal changes
// no row. It runs in the group commit with the logins' session inserts.
const takeRateTokenQuery = `INSERT INTO rate_buckets (key, full_at) VALUES (?1, ?2 + ?3)
	ON CONFLICT (key) DO UPDATE SET full_at = max(full_at, ?2) + ?3
	WHERE max(full_at, ?2) + ?3 <= ?2 + ?4`

// TakeRateToken takes a token from the bucket key, in one statement.
func (s *Store) TakeRateToken(ctx context.Context, key []byte, now time.Time, interval time.Duration, burst int) (time.Duration, error) {
	t, iv := now.UnixNano(), int64(interval)
	n, err := s.group.exec(ctx, takeRateTokenQuery, key, t, iv, int64(burst)*iv)
	if err != nil {
		return 0, wrap("take rate token", err)
	}
	if n == 1 {
		return 0, nil
	}
	var fullAt int64
	err = s.read.QueryRowContext(ctx, `SELECT full_at FROM rate_buckets WHERE key = ?`, key).Scan(&fullAt)
	if errors.Is(err, sql.ErrNoRows) {
		return interval, nil // swept since: an approximate wait will do
	} else if err != nil {
		return 0, wrap("take rate token", err)
	}
	return latchkey.RateTokenWait(time.Unix(0, fullAt), now, interval, burst), nil
}

// lockoutColumns are the columns of a lockout row after its account, in the order of its
// scans and writes.
const lockoutColumns = `failures, pending, pending_until, locks, locked_until, last_failure`

// UpdateLockout reads, changes and writes the account's lockout in one IMMEDIATE
// transaction: it holds the database's write lock from its start, so no other writer, in
// this process or another, comes between the read and the write.
func (s *Store) UpdateLockout(ctx context.Context, account []byte, fn func(*latchkey.Lockout) bool) error {
	return s.inTx(ctx, "update lockout", func(tx *sql.Tx) error {
		return updateLockout(ctx, tx, account, fn)
	})
}

// updateLockout reads the account's lockout, lets fn change it and writes what fn leaves.
func updateLockout(ctx context.Context, tx *sql.Tx, account []byte, fn func(*latchkey.Lockout) bool) error {
	var (
		l                                      latchkey.Lockout
		pendingUntil, lockedUntil, lastFailure int64
	)
	err := tx.QueryRowContext(ctx, `SELECT `+lockoutColumns+` FROM lockouts WHERE account = ?`, account).
		Scan(&l.Failures, &l.Pending, &pendingUntil, &l.Locks, &lockedUntil, &lastFailure)
	found := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
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
		_, err = tx.ExecContext(ctx, `DELETE FROM lockouts WHERE account = ?`, account)
	default:
		_, err = tx.ExecContext(ctx, `INSERT INTO lockouts (account, `+lockoutColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (account) DO UPDATE SET failures = excluded.failures,
				pending = excluded.pending, pending_until = excluded.pending_until,
				locks = excluded.locks, locked_until = excluded.locked_until,
				last_failure = excluded.last_failure`, args...)
	}
	return err
}

// DeleteIdleLimits deletes the buckets full again and the lockouts with nothing left to
// remember, in one transaction.
func (s *Store) DeleteIdleLimits(ctx context.Context, now, forgetBefore time.Time) (int64, error) {
	return inTxValue(ctx, s, "delete idle limits", func(tx *sql.Tx) (int64, error) {
		t := now.UnixNano()
		buckets, err := tx.ExecContext(ctx, `DELETE FROM rate_buckets WHERE full_at <= ?`, t)
		if err != nil {
			return 0, err
		}
		lockouts, err := tx.ExecContext(ctx, `DELETE FROM lockouts
			WHERE locked_until <= ?1 AND (pending = 0 OR pending_until <= ?1) AND last_failure < ?2`,
			t, dbval.Nanos(forgetBefore))
		if err != nil {
			return 0, err
		}
		nb, _ := buckets.RowsAffected()
		nl, _ := lockouts.RowsAffected()
		return nb + nl, nil
	})
}
