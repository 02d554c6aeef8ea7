package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/dbval"
	"github.com/latchkey/latchkey/internal/storeerr"
)

// appColumns are the columns scanApp reads, in its order.
const appColumns = `id, client_app_id, name, auto_confirm, anonymous_enabled, userpass_enabled,
	apikey_enabled, password_min_length, refresh_token_lifetime_s, allowed_origins, key_prefix,
	max_key_lifetime_s, scopes, leak_secret_hash, hide_account_existence, created_at,
	key_ratelimit_limit, key_ratelimit_duration_ms`

// CreateApp inserts an app. Errors: EConflict when the client app id or the id is taken.
func (s *Store) CreateApp(ctx context.Context, app *latchkey.App) error {
	return wrap("create app", insertApp(ctx, s.write, app))
}

// CreateFirstApp inserts app when there is no app yet and returns it, created true; otherwise
// it returns the oldest app. The read and the insert are one IMMEDIATE write transaction, so
// they are one step also for several processes over one database file.
// Errors: EConflict when the client app id or the id is taken.
func (s *Store) CreateFirstApp(ctx context.Context, app *latchkey.App) (*latchkey.App, bool, error) {
	first, err := inTxValue(ctx, s, "create first app", func(tx *sql.Tx) (*latchkey.App, error) {
		first, err := scanApp(tx.QueryRowContext(ctx, `SELECT `+appColumns+` FROM apps ORDER BY created_at, rowid LIMIT 1`))
		if latchkey.ErrorCode(err) != latchkey.ENotFound {
			return first, err
		}
		return app, insertApp(ctx, tx, app)
	})
	if err != nil {
		return nil, false, err
	}
	// The oldest app is app itself only when this call inserted it.
	return first, first == app, nil
}

// insertApp inserts an app row. Errors: EConflict when the client app id or the id is taken.
func insertApp(ctx context.Context, db execer, app *latchkey.App) error {
	rateLimit, rateLimitMS := dbval.EncodeRateLimit(app.KeyRateLimit)
	_, err := db.ExecContext(ctx, `INSERT INTO apps (`+appColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		app.ID, app.ClientAppID, app.Name, app.AutoConfirm, app.AnonymousEnabled,
		app.UserpassEnabled, app.APIKeyEnabled, app.PasswordMinLength,
		int64(app.RefreshTokenLifetime/time.Second), encodeList(app.AllowedOrigins), app.KeyPrefix,
		int64(app.MaxKeyLifetime/time.Second), encodeList(app.Scopes), nullBytes(app.LeakSecretHash),
		app.HideAccountExistence, millis(app.CreatedAt), rateLimit, rateLimitMS)
	if isUniqueViolation(err) {
		return latchkey.Errorf(latchkey.EConflict, "an app with client app id %q already exists", app.ClientAppID)
	}
	return insertErr(err, "app", nil)
}

// findAppByClientIDQuery is FindAppByClientID's, prepared when the store opens (stmt.go).
const findAppByClientIDQuery = `SELECT ` + appColumns + ` FROM apps WHERE client_app_id = ?`

// FindAppByClientID returns an app by its client app id.
func (s *Store) FindAppByClientID(ctx context.Context, clientAppID string) (*latchkey.App, error) {
	app, err := scanApp(s.readStmts.QueryRowContext(ctx, findAppByClientIDQuery, clientAppID))
	return app, wrap("find app by client id", err)
}

// FindAppByID returns an app by its internal id.
func (s *Store) FindAppByID(ctx context.Context, id string) (*latchkey.App, error) {
	app, err := scanApp(s.read.QueryRowContext(ctx, `SELECT `+appColumns+` FROM apps WHERE id = ?`, id))
	return app, wrap("find app by id", err)
}

// FindApps returns every app, oldest first; apps created in the same millisecond come in
// insertion order.
func (s *Store) FindApps(ctx context.Context) ([]*latchkey.App, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+appColumns+` FROM apps ORDER BY created_at, rowid`)
	apps, err := scanAll(rows, err, scanApp)
	return apps, wrap("find apps", err)
}

// UpdateApp writes every setting of the app: all fields but ID, ClientAppID and CreatedAt.
func (s *Store) UpdateApp(ctx context.Context, app *latchkey.App) error {
	rateLimit, rateLimitMS := dbval.EncodeRateLimit(app.KeyRateLimit)
	return s.execOne(ctx, "update app", storeerr.AppNotFound, `UPDATE apps SET name = ?, auto_confirm = ?,
		anonymous_enabled = ?, userpass_enabled = ?, apikey_enabled = ?,
		password_min_length = ?, refresh_token_lifetime_s = ?, allowed_origins = ?,
		key_prefix = ?, max_key_lifetime_s = ?, scopes = ?, leak_secret_hash = ?,
		hide_account_existence = ?, key_ratelimit_limit = ?, key_ratelimit_duration_ms = ?
		WHERE id = ?`,
		app.Name, app.AutoConfirm, app.AnonymousEnabled, app.UserpassEnabled,
		app.APIKeyEnabled, app.PasswordMinLength, int64(app.RefreshTokenLifetime/time.Second),
		encodeList(app.AllowedOrigins), app.KeyPrefix, int64(app.MaxKeyLifetime/time.Second),
		encodeList(app.Scopes), nullBytes(app.LeakSecretHash), app.HideAccountExistence,
		rateLimit, rateLimitMS, app.ID)
}

// DeleteApp deletes an app with everything of it, in one transaction. Its users, and through
// them their identities, tokens, keys and sessions, go by the foreign keys' cascade; the
// audit events have no foreign key, and the keys and sessions are deleted explicitly too, so
// that the rule is visible here.
func (s *Store) DeleteApp(ctx context.Context, id string) error {
	return s.inTx(ctx, "delete app", func(tx *sql.Tx) error {
		for _, table := range []string{"audit_events", "sessions", "api_keys"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE app_id = ?`, id); err != nil {
				return err
			}
		}
		return execRow(ctx, tx, storeerr.AppNotFound, `DELETE FROM apps WHERE id = ?`, id)
	})
}

// scanApp reads one row of appColumns; no row is ENotFound.
func scanApp(row rowScanner) (*latchkey.App, error) {
	var (
		app                     latchkey.App
		rateLimit, rateLimitMS  sql.NullInt64
		lifetime, maxKeyLife    int64
		originsJSON, scopesJSON string
		createdAt               int64
	)
	if err := row.Scan(&app.ID, &app.ClientAppID, &app.Name, &app.AutoConfirm, &app.AnonymousEnabled,
		&app.UserpassEnabled, &app.APIKeyEnabled, &app.PasswordMinLength, &lifetime, &originsJSON,
		&app.KeyPrefix, &maxKeyLife, &scopesJSON, &app.LeakSecretHash, &app.HideAccountExistence,
		&createdAt, &rateLimit, &rateLimitMS); err != nil {
		return nil, noRow(err, storeerr.AppNotFound)
	}
	app.KeyRateLimit = dbval.DecodeRateLimit(rateLimit, rateLimitMS)
	var err error
	if app.AllowedOrigins, err = decodeList(originsJSON); err != nil {
		return nil, err
	}
	if app.Scopes, err = decodeList(scopesJSON); err != nil {
		return nil, err
	}
	app.RefreshTokenLifetime = time.Duration(lifetime) * time.Second
	app.MaxKeyLifetime = time.Duration(maxKeyLife) * time.Second
	app.LeakSecretHash = nullBytes(app.LeakSecretHash)
	app.CreatedAt = fromMillis(createdAt)
	return &app, nil
}
