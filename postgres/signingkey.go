package postgres

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/storeerr"
)

// signingKeysLock is the transaction-level advisory lock that serializes the writers of
// signing keys across nodes: first-start creation and rotation. Its value is arbitrary but
// fixed ("lk" "sk" in ASCII).
const signingKeysLock = 0x6c6b_736b

// FindSigningKeys returns the token signing keys, oldest first.
func (s *Store) FindSigningKeys(ctx context.Context) ([]*latchkey.SigningKey, error) {
	rows, err := s.query(ctx, `SELECT id, algorithm, private_key, created_at, retired_at
		FROM signing_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, wrap("find signing keys", err)
	}
	defer rows.Close()
	keys := []*latchkey.SigningKey{}
	for rows.Next() {
		var k latchkey.SigningKey
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.PrivateKey, &k.CreatedAt, &k.RetiredAt); err != nil {
			return nil, wrap("find signing keys", err)
		}
		k.CreatedAt = k.CreatedAt.UTC()
		if k.RetiredAt != nil {
			t := k.RetiredAt.UTC()
			k.RetiredAt = &t
		}
		keys = append(keys, &k)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("find signing keys", err)
	}
	return keys, nil
}

// CreateSigningKey inserts a signing key.
func (s *Store) CreateSigningKey(ctx context.Context, k *latchkey.SigningKey) error {
	return s.retry(ctx, "create signing key", func() error {
		_, err := s.exec(ctx, insertSigningKeySQL, signingKeyArgs(k)...)
		return signingKeyConflict(err)
	})
}

const insertSigningKeySQL = `INSERT INTO signing_keys (id, algorithm, private_key, created_at, retired_at)
	VALUES ($1, $2, $3, $4, $5)`

func signingKeyArgs(k *latchkey.SigningKey) []any {
	return []any{k.ID, k.Algorithm, k.PrivateKey, dbTime(k.CreatedAt), dbTimePtr(k.RetiredAt)}
}

func signingKeyConflict(err error) error {
	if _, ok := violation(err, codeUniqueViolation); ok {
		return storeerr.Taken("signing key")
	}
	return err
}

// lockSigningKeys takes the advisory lock until the transaction ends.
func lockSigningKeys(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(signingKeysLock))
	return err
}

// CreateSigningKeysIfNone inserts each key unless a key of its algorithm exists, under the
// advisory lock, so that nodes starting together create one key per algorithm.
func (s *Store) CreateSigningKeysIfNone(ctx context.Context, keys []*latchkey.SigningKey) error {
	return s.inTx(ctx, "create signing keys", func(tx pgx.Tx) error {
		if err := lockSigningKeys(ctx, tx); err != nil {
			return err
		}
		for _, k := range keys {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM signing_keys WHERE algorithm = $1)`,
				k.Algorithm).Scan(&exists); err != nil {
				return err
			}
			if exists {
				continue
			}
			if _, err := tx.Exec(ctx, insertSigningKeySQL, signingKeyArgs(k)...); err != nil {
				return signingKeyConflict(err)
			}
		}
		return nil
	})
}

// RotateSigningKeys retires the signing keys of each new key's algorithm, deletes the long
// retired ones and inserts the new keys, under the advisory lock so that two rotations at
// once leave one unretired key per algorithm.
func (s *Store) RotateSigningKeys(ctx context.Context, keys []*latchkey.SigningKey, deleteRetiredBefore map[string]time.Time) error {
	return s.inTx(ctx, "rotate signing keys", func(tx pgx.Tx) error {
		if err := lockSigningKeys(ctx, tx); err != nil {
			return err
		}
		for alg, t := range deleteRetiredBefore {
			if _, err := tx.Exec(ctx, `DELETE FROM signing_keys WHERE algorithm = $1 AND retired_at < $2`,
				alg, dbTime(t)); err != nil {
				return err
			}
		}
		for _, k := range keys {
			if _, err := tx.Exec(ctx, `UPDATE signing_keys SET retired_at = $1 WHERE algorithm = $2 AND retired_at IS NULL`,
				dbTime(k.CreatedAt), k.Algorithm); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, insertSigningKeySQL, signingKeyArgs(k)...); err != nil {
				return signingKeyConflict(err)
			}
		}
		return nil
	})
}

// ReplaceSigningKeyMaterial sets the key's material to new if it still is old.
func (s *Store) ReplaceSigningKeyMaterial(ctx context.Context, id string, old, new []byte) (bool, error) {
	var replaced bool
	err := s.inTx(ctx, "replace signing key", func(tx pgx.Tx) error {
		replaced = false
		var current []byte
		err := tx.QueryRow(ctx, `SELECT private_key FROM signing_keys WHERE id = $1 FOR UPDATE`, id).Scan(&current)
		if errors.Is(err, pgx.ErrNoRows) {
			return storeerr.SigningKeyNotFound()
		} else if err != nil {
			return err
		}
		if !bytes.Equal(current, old) {
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE signing_keys SET private_key = $1 WHERE id = $2`, new, id)
		replaced = err == nil
		return err
	})
	return replaced, err
}
