package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/storeerr"
)

// FindSigningKeys returns the token signing keys, oldest first; keys created in the same
// millisecond come in insertion order.
func (s *Store) FindSigningKeys(ctx context.Context) ([]*latchkey.SigningKey, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, algorithm, private_key, created_at, retired_at
		FROM signing_keys ORDER BY created_at, rowid`)
	keys, err := scanAll(rows, err, scanSigningKey)
	return keys, wrap("find signing keys", err)
}

// scanSigningKey reads one row of id, algorithm, private_key, created_at, retired_at.
func scanSigningKey(row rowScanner) (*latchkey.SigningKey, error) {
	var (
		k         latchkey.SigningKey
		createdAt int64
		retiredAt sql.NullInt64
	)
	if err := row.Scan(&k.ID, &k.Algorithm, &k.PrivateKey, &createdAt, &retiredAt); err != nil {
		return nil, err
	}
	k.CreatedAt = fromMillis(createdAt)
	k.RetiredAt = fromNullMillis(retiredAt)
	return &k, nil
}

// CreateSigningKey inserts a signing key. Errors: EConflict when the id is taken.
func (s *Store) CreateSigningKey(ctx context.Context, k *latchkey.SigningKey) error {
	return wrap("create signing key", insertSigningKey(ctx, s.write, k))
}

// insertSigningKey inserts a signing key row. Errors: EConflict when the id is taken.
func insertSigningKey(ctx context.Context, db execer, k *latchkey.SigningKey) error {
	_, err := db.ExecContext(ctx, `INSERT INTO signing_keys (id, algorithm, private_key, created_at, retired_at)
		VALUES (?, ?, ?, ?, ?)`, k.ID, k.Algorithm, k.PrivateKey, millis(k.CreatedAt), nullMillis(k.RetiredAt))
	return insertErr(err, "signing key", nil)
}

// CreateSigningKeysIfNone inserts each key unless a key of its algorithm exists. The write
// pool's transactions begin IMMEDIATE, which takes SQLite's write lock at once: the check
// and the insert of one process cannot interleave with another's.
func (s *Store) CreateSigningKeysIfNone(ctx context.Context, keys []*latchkey.SigningKey) error {
	return s.inTx(ctx, "create signing keys", func(tx *sql.Tx) error {
		for _, k := range keys {
			var exists bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM signing_keys WHERE algorithm = ?)`,
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
// retired ones and inserts the new keys, in one IMMEDIATE transaction.
func (s *Store) RotateSigningKeys(ctx context.Context, keys []*latchkey.SigningKey, deleteRetiredBefore map[string]time.Time) error {
	return s.inTx(ctx, "rotate signing keys", func(tx *sql.Tx) error {
		for alg, t := range deleteRetiredBefore {
			if _, err := tx.ExecContext(ctx, `DELETE FROM signing_keys WHERE algorithm = ? AND retired_at < ?`,
				alg, millis(t)); err != nil {
				return err
			}
		}
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `UPDATE signing_keys SET retired_at = ? WHERE algorithm = ? AND retired_at IS NULL`,
				millis(k.CreatedAt), k.Algorithm); err != nil {
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
	return inTxValue(ctx, s, "replace signing key", func(tx *sql.Tx) (bool, error) {
		var current []byte
		if err := tx.QueryRowContext(ctx, `SELECT private_key FROM signing_keys WHERE id = ?`, id).Scan(&current); err != nil {
			return false, noRow(err, storeerr.SigningKeyNotFound)
		}
		if !bytes.Equal(current, old) {
			return false, nil
		}
		_, err := tx.ExecContext(ctx, `UPDATE signing_keys SET private_key = ? WHERE id = ?`, new, id)
		return err == nil, err
	})
}
