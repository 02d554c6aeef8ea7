package sqlite

import (
	"context"

	"github.com/latchkey/latchkey"
)

// FindSigningKeys returns the token signing keys, oldest first; keys created in the same
// millisecond come in insertion order.
func (s *Store) FindSigningKeys(ctx context.Context) ([]*latchkey.SigningKey, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, algorithm, private_key, created_at
		FROM signing_keys ORDER BY created_at, rowid`)
	if err != nil {
		return nil, wrap("find signing keys", err)
	}
	defer rows.Close()

	var keys []*latchkey.SigningKey
	for rows.Next() {
		var (
			k         latchkey.SigningKey
			createdAt int64
		)
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.PrivateKey, &createdAt); err != nil {
			return nil, wrap("find signing keys", err)
		}
		k.CreatedAt = fromMillis(createdAt)
		keys = append(keys, &k)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("find signing keys", err)
	}
	return keys, nil
}

// CreateSigningKey inserts a signing key. Errors: EConflict when the id is taken.
func (s *Store) CreateSigningKey(ctx context.Context, k *latchkey.SigningKey) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO signing_keys (id, algorithm, private_key, created_at)
		VALUES (?, ?, ?, ?)`, k.ID, k.Algorithm, k.PrivateKey, millis(k.CreatedAt))
	if isPrimaryKeyViolation(err) {
		return latchkey.Errorf(latchkey.EConflict, "a signing key with id %q already exists", k.ID)
	}
	return wrap("create signing key", err)
}
