package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/storeerr"
)

const appColumns = `id, client_app_id, name, auto_confirm, anonymous_enabled, userpass_enabled,
	apikey_enabled, password_min_length, refresh_token_lifetime_s, allowed_origins, key_prefix,
	max_key_lifetime_s, scopes, leak_secret_hash, hide_account_existence, created_at`

// CreateApp inserts an app.
func (s *Store) CreateApp(ctx context.Context, app *latchkey.App) error {
	return s.retry(ctx, "create app", func() error {
		return insertApp(ctx, timedExec{s}, app)
	})
}

// firstAppLockKey is the advisory lock that makes CreateFirstApp's read and insert one step
// across nodes: "lk1stapp" in ASCII.
const firstAppLockKey int64 = 0x6c6b317374617070

// CreateFirstApp inserts app when there is no app yet and returns it, created true; otherwise
// it returns the oldest app. Nodes starting at once on an empty database take a
// transaction-level advisory lock, so that one inserts and the others then read its app: a
// plain check-then-insert would let each insert its own.
// Errors: EConflict when the client app id or the id is taken.
func (s *Store) CreateFirstApp(ctx context.Context, app *latchkey.App) (*latchkey.App, bool, error) {
	var (
		first   *latchkey.App
		created bool
	)
	err := s.inTx(ctx, "create first app", func(tx pgx.Tx) error {
		first, created = nil, false
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, firstAppLockKey); err != nil {
			return err
		}
		a, err := scanApp(tx.QueryRow(ctx, `SELECT `+appColumns+` FROM apps ORDER BY created_at, id LIMIT 1`))
		if err == nil {
			first = a
			return nil
		} else if latchkey.ErrorCode(err) != latchkey.ENotFound {
			return err
		}
		if err := insertApp(ctx, tx, app); err != nil {
			return err
		}
		first, created = app, true
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return first, created, nil
}

// insertApp inserts an app row. Errors: EConflict when the client app id or the id is taken.
func insertApp(ctx context.Context, db execer, app *latchkey.App) error {
	_, err := db.Exec(ctx, `INSERT INTO apps (`+appColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $14, $15, $16)`,
		app.ID, app.ClientAppID, app.Name, app.AutoConfirm, app.AnonymousEnabled,
		app.UserpassEnabled, app.APIKeyEnabled, app.PasswordMinLength,
		int64(app.RefreshTokenLifetime/time.Second), list(app.AllowedOrigins), app.KeyPrefix,
		int64(app.MaxKeyLifetime/time.Second), jsonList(app.Scopes), nullBytes(app.LeakSecretHash),
		app.HideAccountExistence, dbTime(app.CreatedAt))
	if constraint, ok := violation(err, codeUniqueViolation); ok {
		if constraint == "apps_client_app_id_key" {
			return latchkey.Errorf(latchkey.EConflict, "an app with client app id %q already exists", app.ClientAppID)
		}
		return storeerr.Taken("app")
	}
	return err
}

// FindAppByClientID returns an app by its client app id.
func (s *Store) FindAppByClientID(ctx context.Context, clientAppID string) (*latchkey.App, error) {
	app, err := scanApp(s.queryRow(ctx, `SELECT `+appColumns+` FROM apps WHERE client_app_id = $1`, clientAppID))
	return app, wrap("find app by client id", err)
}

// FindAppByID returns an app by its internal id.
func (s *Store) FindAppByID(ctx context.Context, id string) (*latchkey.App, error) {
	app, err := scanApp(s.queryRow(ctx, `SELECT `+appColumns+` FROM apps WHERE id = $1`, id))
	return app, wrap("find app by id", err)
}

// FindApps returns every app, oldest first.
func (s *Store) FindApps(ctx context.Context) ([]*latchkey.App, error) {
	rows, err := s.query(ctx, `SELECT `+appColumns+` FROM apps ORDER BY created_at, id`)
	if err != nil {
		return nil, wrap("find apps", err)
	}
	defer rows.Close()
	apps := []*latchkey.App{}
	for rows.Next() {
		app, err := scanApp(rows)
		if err != nil {
			return nil, wrap("find apps", err)
		}
		apps = append(apps, app)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("find apps", err)
	}
	return apps, nil
}

// UpdateApp writes every setting of the app: all fields but ID, ClientAppID and CreatedAt.
func (s *Store) UpdateApp(ctx context.Context, app *latchkey.App) error {
	return s.retry(ctx, "update app", func() error {
		tag, err := s.exec(ctx, `UPDATE apps SET name = $2, auto_confirm = $3,
			anonymous_enabled = $4, userpass_enabled = $5, apikey_enabled = $6,
			password_min_length = $7, refresh_token_lifetime_s = $8, allowed_origins = $9,
			key_prefix = $10, max_key_lifetime_s = $11, scopes = $12::jsonb, leak_secret_hash = $13,
			hide_account_existence = $14
			WHERE id = $1`,
			app.ID, app.Name, app.AutoConfirm, app.AnonymousEnabled, app.UserpassEnabled,
			app.APIKeyEnabled, app.PasswordMinLength, int64(app.RefreshTokenLifetime/time.Second),
			list(app.AllowedOrigins), app.KeyPrefix, int64(app.MaxKeyLifetime/time.Second),
			jsonList(app.Scopes), nullBytes(app.LeakSecretHash), app.HideAccountExistence)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return storeerr.AppNotFound()
		}
		return nil
	})
}

// DeleteApp deletes an app with everything of it, in one transaction. Its users, and through
// them their identities, tokens, keys and sessions, go by the foreign keys' cascade; the
// audit events, keys and sessions, whose app_id has no foreign key, are deleted explicitly.
//
// The app's row is locked first: users inserted meanwhile wait for the lock (their foreign
// key check) and then fail, and CreateServerAPIKey, which locks the row too, runs before or
// after, never half across.
func (s *Store) DeleteApp(ctx context.Context, id string) error {
	return s.inTx(ctx, "delete app", func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM apps WHERE id = $1 FOR UPDATE`, id).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return storeerr.AppNotFound()
		} else if err != nil {
			return err
		}
		for _, table := range []string{"audit_events", "sessions", "api_keys"} {
			if _, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE app_id = $1`, id); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `DELETE FROM apps WHERE id = $1`, id)
		return err
	})
}

func scanApp(row scanner) (*latchkey.App, error) {
	var app latchkey.App
	var lifetime, maxKeyLifetime int64
	if err := row.Scan(&app.ID, &app.ClientAppID, &app.Name, &app.AutoConfirm, &app.AnonymousEnabled,
		&app.UserpassEnabled, &app.APIKeyEnabled, &app.PasswordMinLength, &lifetime, &app.AllowedOrigins,
		&app.KeyPrefix, &maxKeyLifetime, &app.Scopes, &app.LeakSecretHash, &app.HideAccountExistence,
		&app.CreatedAt); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, storeerr.AppNotFound()
		}
		return nil, err
	}
	app.RefreshTokenLifetime = time.Duration(lifetime) * time.Second
	app.MaxKeyLifetime = time.Duration(maxKeyLifetime) * time.Second
	app.AllowedOrigins = nilIfEmpty(app.AllowedOrigins)
	app.Scopes = nilIfEmpty(app.Scopes)
	app.LeakSecretHash = nullBytes(app.LeakSecretHash)
	app.CreatedAt = app.CreatedAt.UTC()
	return &app, nil
}
