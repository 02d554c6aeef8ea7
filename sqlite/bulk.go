package sqlite

import (
	"context"
	"database/sql"

	"github.com/latchkey/latchkey"
)

// BulkInsert inserts users (with their identities) and API keys in one transaction with
// prepared statements. It exists for `latchkey bench seed` and the store benchmarks, which
// fill a store with millions of rows: through the Store interface every user and key would be
// a transaction (and an fsync) of its own. It is not part of latchkey.Store on purpose: it
// skips the per-user key cap and the cross-column hash check of CreateAPIKey, which no request
// path may do. The UNIQUE indexes and foreign keys still hold.
func (s *Store) BulkInsert(ctx context.Context, users []*latchkey.User, keys []*latchkey.APIKey) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap("bulk insert", err)
	}
	defer tx.Rollback()

	if err := bulkInsert(ctx, tx, users, keys); err != nil {
		return wrap("bulk insert", err)
	}
	return wrap("bulk insert", tx.Commit())
}

func bulkInsert(ctx context.Context, tx *sql.Tx, users []*latchkey.User, keys []*latchkey.APIKey) error {
	userStmt, err := tx.PrepareContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer userStmt.Close()
	identStmt, err := tx.PrepareContext(ctx, `INSERT INTO identities
		(id, user_id, provider_type, provider_id, created_at) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer identStmt.Close()
	keyStmt, err := tx.PrepareContext(ctx, `INSERT INTO api_keys (`+apiKeyColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer keyStmt.Close()

	for _, u := range users {
		if _, err := userStmt.ExecContext(ctx, u.ID, u.AppID, u.Type, nullString(u.Email), u.PasswordHash,
			u.Confirmed, u.Disabled, millis(u.CreatedAt)); err != nil {
			return err
		}
		for _, ident := range u.Identities {
			if _, err := identStmt.ExecContext(ctx, ident.ID, ident.UserID, ident.ProviderType,
				ident.ProviderID, millis(ident.CreatedAt)); err != nil {
				return err
			}
		}
	}
	for _, k := range keys {
		scopesJSON, err := encodeList(k.Scopes)
		if err != nil {
			return err
		}
		if _, err := keyStmt.ExecContext(ctx, k.ID, k.AppID, k.UserID, k.Name, k.Hash, k.Disabled,
			millis(k.CreatedAt), nullMillis(k.LastUsedAt), k.Start, scopesJSON, nullMillis(k.ExpiresAt),
			nullBytes(k.PreviousHash), nullMillis(k.PreviousExpiresAt)); err != nil {
			return err
		}
	}
	return nil
}
