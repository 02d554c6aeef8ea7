package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/latchkey/latchkey"
)

// BulkInsert inserts users (with their identities) and API keys in one transaction with
// COPY. It exists for `latchkey bench seed` and the store benchmarks, which fill a store with
// millions of rows: through the Store interface every user and key would be a transaction of
// its own. It is not part of latchkey.Store on purpose: it skips the per-user key cap and the
// cross-column hash check of CreateAPIKey, which no request path may do. The UNIQUE indexes
// and foreign keys still hold.
func (s *Store) BulkInsert(ctx context.Context, users []*latchkey.User, keys []*latchkey.APIKey) error {
	return s.inTx(ctx, "bulk insert", func(tx pgx.Tx) error {
		var idents [][]any
		userRows := make([][]any, 0, len(users))
		for _, u := range users {
			userRows = append(userRows, []any{u.ID, u.AppID, u.Type, nullString(u.Email), u.PasswordHash,
				u.Confirmed, u.Disabled, dbTime(u.CreatedAt)})
			for _, ident := range u.Identities {
				idents = append(idents, []any{ident.ID, ident.UserID, ident.ProviderType, ident.ProviderID,
					dbTime(ident.CreatedAt)})
			}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"users"},
			[]string{"id", "app_id", "type", "email", "password_hash", "confirmed", "disabled", "created_at"},
			pgx.CopyFromRows(userRows)); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"identities"},
			[]string{"id", "user_id", "provider_type", "provider_id", "created_at"},
			pgx.CopyFromRows(idents)); err != nil {
			return err
		}
		keyRows := make([][]any, 0, len(keys))
		for _, k := range keys {
			keyRows = append(keyRows, []any{k.ID, k.AppID, k.UserID, k.Name, k.Hash, k.Disabled,
				dbTime(k.CreatedAt), dbTimePtr(k.LastUsedAt), k.Start, jsonList(k.Scopes), dbTimePtr(k.ExpiresAt),
				nullBytes(k.PreviousHash), dbTimePtr(k.PreviousExpiresAt)})
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"api_keys"},
			[]string{"id", "app_id", "user_id", "name", "hash", "disabled", "created_at", "last_used_at",
				"start", "scopes", "expires_at", "previous_hash", "previous_expires_at"},
			pgx.CopyFromRows(keyRows))
		return err
	})
}
