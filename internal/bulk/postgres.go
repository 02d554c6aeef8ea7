package bulk

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib" // and the "pgx" driver
	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/dbval"
)

// insertPostgres inserts with COPY on one of db's connections, encoding as the postgres store
// does: times in UTC at millisecond precision, empty as NULL.
func insertPostgres(ctx context.Context, db *sql.DB, users []*latchkey.User, keys []*latchkey.APIKey) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("%T is not a pgx connection", driverConn)
		}
		return pgx.BeginFunc(ctx, c.Conn(), func(tx pgx.Tx) error { return copyRows(ctx, tx, users, keys) })
	})
}

func copyRows(ctx context.Context, tx pgx.Tx, users []*latchkey.User, keys []*latchkey.APIKey) error {
	var idents [][]any
	userRows := make([][]any, 0, len(users))
	for _, u := range users {
		var email *string
		if u.Email != "" {
			email = &u.Email
		}
		userRows = append(userRows, []any{u.ID, u.AppID, u.Type, email, u.PasswordHash,
			u.Confirmed, u.Disabled, dbval.Time(u.CreatedAt)})
		for _, ident := range u.Identities {
			var externalID, data *string
			if ident.ExternalID != "" {
				externalID = &ident.ExternalID
			}
			if v, err := dbval.EncodeIdentityData(ident.Data); err != nil {
				return err
			} else if v.Valid {
				data = &v.String
			}
			idents = append(idents, []any{ident.ID, ident.UserID, ident.ProviderType, ident.ProviderID,
				externalID, data, dbval.Time(ident.CreatedAt)})
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"users"},
		[]string{"id", "app_id", "type", "email", "password_hash", "confirmed", "disabled", "created_at"},
		pgx.CopyFromRows(userRows)); err != nil {
		return err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"identities"},
		[]string{"id", "user_id", "provider_type", "provider_id", "external_id", "data", "created_at"},
		pgx.CopyFromRows(idents)); err != nil {
		return err
	}
	keyRows := make([][]any, 0, len(keys))
	for _, k := range keys {
		limits := dbval.EncodeKeyLimits(k)
		row := append([]any{k.ID, k.AppID, k.UserID, k.Name, k.Hash, k.Disabled,
			dbval.Time(k.CreatedAt), dbval.TimePtr(k.LastUsedAt), k.Start, dbval.JSONList(k.Scopes), dbval.TimePtr(k.ExpiresAt),
			dbval.NullBytes(k.PreviousHash), dbval.TimePtr(k.PreviousExpiresAt)}, limits.Args()...)
		keyRows = append(keyRows, append(row, dbval.TimePtr(k.RefilledAt)))
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"api_keys"},
		[]string{"id", "app_id", "user_id", "name", "hash", "disabled", "created_at", "last_used_at",
			"start", "scopes", "expires_at", "previous_hash", "previous_expires_at",
			"ratelimit_limit", "ratelimit_duration_ms", "remaining", "refill_amount", "refill_interval", "meta",
			"refilled_at"},
		pgx.CopyFromRows(keyRows))
	return err
}
