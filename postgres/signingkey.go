package postgres

import (
	"context"

	"github.com/latchkey/latchkey"
)

// FindSigningKeys returns the token signing keys, oldest first.
func (s *Store) FindSigningKeys(ctx context.Context) ([]*latchkey.SigningKey, error) {
	rows, err := s.query(ctx, `SELECT id, algorithm, private_key, created_at
		FROM signing_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, wrap("find signing keys", err)
	}
	defer rows.Close()
	keys := []*latchkey.SigningKey{}
	for rows.Next() {
		var k latchkey.SigningKey
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.PrivateKey, &k.CreatedAt); err != nil {
			return nil, wrap("find signing keys", err)
		}
		k.CreatedAt = k.CreatedAt.UTC()
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
		_, err := s.exec(ctx, `INSERT INTO signing_keys (id, algorithm, private_key, created_at)
			VALUES ($1, $2, $3, $4)`, k.ID, k.Algorithm, k.PrivateKey, dbTime(k.CreatedAt))
		if _, ok := violation(err, codeUniqueViolation); ok {
			return latchkey.Errorf(latchkey.EConflict, "signing key already exists")
		}
		return err
	})
}
