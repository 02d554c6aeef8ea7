package postgres

import (
	"bytes"
	"context"
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
	keys, err := scanAll(rows, err, scanSigningKey)
	return keys, wrap("find signing keys", err)
}

// scanSigningKey reads one row of id, algorithm, private_key, created_at, retired_at.
func scanSigningKey(row rowScanner) (*latchkey.SigningKey, error) {
	var k latchkey.SigningKey
	if err := row.Scan(&k.ID, &k.Algorithm, &k.PrivateKey, &k.CreatedAt, &k.RetiredAt); err != nil {
		return nil, err
	}
	k.CreatedAt = k.CreatedAt.UTC()
	k.RetiredAt = utcPtr(k.RetiredAt)
	return &k, nil
}

// CreateSigningKey inserts a signing key. Errors: EConflict when the id is taken.
func (s *Store) CreateSigningKey(ctx context.Context, k *latchkey.SigningKey) error {
	return s.retry(ctx, "create signing key", func() error {
		return insertSigningKey(ctx, timedExec{s}, k)
	})
}

// insertSigningKey inserts a signing key row. Errors: EConflict when the id is taken.
func insertSigningKey(ctx context.Context, db execer, k *latchkey.SigningKey) error {
	_, err := db.Exec(ctx, `INSERT INTO signing_keys (id, algorithm, private_key, created_at, retired_at)
		VALUES ($1, $2, $3, $4, $5)`, k.ID, k.Algorithm, k.PrivateKey, dbTime(k.CreatedAt), dbTimePtr(k.RetiredAt))
	return insertErr(err, "signing key", nil)
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
			if err := insertSigningKey(ctx, tx, k); err != nil {
				return err
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
			if err := insertSigningKey(ctx, tx, k); err != nil {
				return err
			}
		}
		return nil
	})
}

// ReplaceSigningKeyMaterial sets the key's material to new if it still is old.
func (s *Store) ReplaceSigningKeyMaterial(ctx context.Context, id string, old, new []byte) (bool, error) {
	return inTxValue(ctx, s, "replace signing key", func(tx pgx.Tx) (bool, error) {
		var current []byte
		if err := tx.QueryRow(ctx, `SELECT private_key FROM signing_keys WHERE id = $1 FOR UPDATE`, id).Scan(&current); err != nil {
			return false, noRow(err, storeerr.SigningKeyNotFound)
		}
		if !bytes.Equal(current, old) {
			return false, nil
		}
		_, err := tx.Exec(ctx, `UPDATE signing_keys SET private_key = $1 WHERE id = $2`, new, id)
		return err == nil, err
	})
}
