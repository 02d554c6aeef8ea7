package bulk

import (
	"context"
	"database/sql"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/dbval"
	_ "modernc.org/sqlite" // the "sqlite" driver
)

// insertSQLite inserts with prepared statements, encoding as the sqlite store does: times as
// Unix milliseconds, lists as JSON arrays, empty as NULL.
func insertSQLite(ctx context.Context, db *sql.DB, users []*latchkey.User, keys []*latchkey.APIKey) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	userStmt, err := tx.PrepareContext(ctx, `INSERT INTO users
		(id, app_id, type, email, password_hash, confirmed, disabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer userStmt.Close()
	identStmt, err := tx.PrepareContext(ctx, `INSERT INTO identities
		(id, user_id, provider_type, provider_id, external_id, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer identStmt.Close()
	keyStmt, err := tx.PrepareContext(ctx, `INSERT INTO api_keys (id, app_id, user_id, name, hash, disabled,
		created_at, last_used_at, start, scopes, expires_at, previous_hash, previous_expires_at,
		`+dbval.KeyLimitColumns+`, refilled_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer keyStmt.Close()

	for _, u := range users {
		if _, err := userStmt.ExecContext(ctx, u.ID, u.AppID, u.Type, sql.NullString{String: u.Email, Valid: u.Email != ""},
			u.PasswordHash, u.Confirmed, u.Disabled, u.CreatedAt.UnixMilli()); err != nil {
			return err
		}
		for _, ident := range u.Identities {
			data, err := dbval.EncodeIdentityData(ident.Data)
			if err != nil {
				return err
			}
			if _, err := identStmt.ExecContext(ctx, ident.ID, ident.UserID, ident.ProviderType,
				ident.ProviderID, sql.NullString{String: ident.ExternalID, Valid: ident.ExternalID != ""}, data,
				ident.CreatedAt.UnixMilli()); err != nil {
				return err
			}
		}
	}
	for _, k := range keys {
		limits := dbval.EncodeKeyLimits(k)
		args := append([]any{k.ID, k.AppID, k.UserID, k.Name, k.Hash, k.Disabled,
			k.CreatedAt.UnixMilli(), dbval.NullMillis(k.LastUsedAt), k.Start, dbval.JSONList(k.Scopes), dbval.NullMillis(k.ExpiresAt),
			dbval.NullBytes(k.PreviousHash), dbval.NullMillis(k.PreviousExpiresAt)}, limits.Args()...)
		if _, err := keyStmt.ExecContext(ctx, append(args, dbval.NullMillis(k.RefilledAt))...); err != nil {
			return err
		}
	}
	return tx.Commit()
}
