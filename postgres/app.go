package postgres

import (
	"context"
	"database/sql"
	"time"

	"github.com/jackc/pgx/v5"
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
	first, err := inTxValue(ctx, s, "create first app", func(tx pgx.Tx) (*latchkey.App, error) {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, firstAppLockKey); err != nil {
			return nil, err
		}
		first, err := scanApp(tx.QueryRow(ctx, `SELECT `+appColumns+` FROM apps ORDER BY created_at, id LIMIT 1`))
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
	_, err := db.Exec(ctx, `INSERT INTO apps (`+appColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $14, $15, $16, $17, $18)`,
		app.ID, app.ClientAppID, app.Name, app.AutoConfirm, app.AnonymousEnabled,
		app.UserpassEnabled, app.APIKeyEnabled, app.PasswordMinLength,
		int64(app.RefreshTokenLifetime/time.Second), list(app.AllowedOrigins), app.KeyPrefix,
		int64(app.MaxKeyLifetime/time.Second), jsonList(app.Scopes), nullBytes(app.LeakSecretHash),
		app.HideAccountExistence, dbTime(app.CreatedAt), rateLimit, rateLimitMS)
	if constraint, ok := violation(err, codeUniqueViolation); ok && constraint == "apps_client_app_id_key" {
		return latchkey.Errorf(latchkey.EConflict, "an app with client app id %q already exists", app.ClientAppID)
	}
	return insertErr(err, "app", nil)
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
	apps, err := scanAll(rows, err, scanApp)
	return apps, wrap("find apps", err)
}

// UpdateApp writes every setting of the app: all fields but ID, ClientAppID and CreatedAt.
func (s *Store) UpdateApp(ctx context.Context, app *latchkey.App) error {
	rateLimit, rateLimitMS := dbval.EncodeRateLimit(app.KeyRateLimit)
	return s.execOne(ctx, "update app", storeerr.AppNotFound, `UPDATE apps SET name = $1, auto_confirm = $2,
		anonymous_enabled = $3, userpass_enabled = $4, apikey_enabled = $5,
		password_min_length = $6, refresh_token_lifetime_s = $7, allowed_origins = $8,
		key_prefix = $9, max_key_lifetime_s = $10, scopes = $11::jsonb, leak_secret_hash = $12,
		hide_account_existence = $13, key_ratelimit_limit = $15, key_ratelimit_duration_ms = $16
		WHERE id = $14`,
		app.Name, app.AutoConfirm, app.AnonymousEnabled, app.UserpassEnabled,
		app.APIKeyEnabled, app.PasswordMinLength, int64(app.RefreshTokenLifetime/time.Second),
		list(app.AllowedOrigins), app.KeyPrefix, int64(app.MaxKeyLifetime/time.Second),
		jsonList(app.Scopes), nullBytes(app.LeakSecretHash), app.HideAccountExistence, app.ID,
		rateLimit, rateLimitMS)
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
		if err := tx.QueryRow(ctx, `SELECT 1 FROM apps WHERE id = $1 FOR UPDATE`, id).Scan(&one); err != nil {
			return noRow(err, storeerr.AppNotFound)
		}
		for _, table := range []string{"audit_events", "sessions", "api_keys"} {
			if _, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE app_id = $1`, id); err != nil {
				return err
			}
		}
		return execRow(ctx, tx, storeerr.AppNotFound, `DELETE FROM apps WHERE id = $1`, id)
	})
}

// scanApp reads one row of appColumns; no row is ENotFound.
func scanApp(row rowScanner) (*latchkey.App, error) {
	var (
		app                    latchkey.App
		rateLimit, rateLimitMS sql.NullInt64
		lifetime, maxKeyLife   int64
	)
	if err := row.Scan(&app.ID, &app.ClientAppID, &app.Name, &app.AutoConfirm, &app.AnonymousEnabled,
		&app.UserpassEnabled, &app.APIKeyEnabled, &app.PasswordMinLength, &lifetime, &app.AllowedOrigins,
		&app.KeyPrefix, &maxKeyLife, listColumn{&app.Scopes}, &app.LeakSecretHash, &app.HideAccountExistence,
		&app.CreatedAt, &rateLimit, &rateLimitMS); err != nil {
		return nil, noRow(err, storeerr.AppNotFound)
	}
	app.KeyRateLimit = dbval.DecodeRateLimit(rateLimit, rateLimitMS)
	app.AllowedOrigins = nilIfEmpty(app.AllowedOrigins)
	app.RefreshTokenLifetime = time.Duration(lifetime) * time.Second
	app.MaxKeyLifetime = time.Duration(maxKeyLife) * time.Second
	app.LeakSecretHash = nullBytes(app.LeakSecretHash)
	app.CreatedAt = app.CreatedAt.UTC()
	return &app, nil
}
