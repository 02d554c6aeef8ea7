package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/dbval"
	"github.com/latchkey/latchkey/internal/storeerr"
)

// userColumns are the columns scanUser reads, in its order.
const userColumns = `id, app_id, type, email, password_hash, confirmed, disabled, created_at`

// CreateUser inserts a user with its identities, in one transaction.
// Errors: EConflict when the app already has a user with that email, or the id is taken;
// ENotFound when the app does not exist.
func (s *Store) CreateUser(ctx context.Context, u *latchkey.User) error {
	return s.inTx(ctx, "create user", func(tx *sql.Tx) error {
		return insertUser(ctx, tx, u)
	})
}

// insertUser inserts a user with its identities.
func insertUser(ctx context.Context, tx *sql.Tx, u *latchkey.User) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO users (`+userColumns+`, custom_data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.AppID, u.Type, nullString(u.Email), u.PasswordHash, u.Confirmed, u.Disabled, millis(u.CreatedAt),
		nullCustomData(u.CustomData))
	if isUniqueViolation(err) {
		return storeerr.UserEmailTaken()
	} else if err != nil {
		return insertErr(err, "user", storeerr.AppNotFound)
	}
	for _, ident := range u.Identities {
		if err := insertIdentity(ctx, tx, ident); err != nil {
			return err
		}
	}
	return nil
}

// insertIdentity inserts an identity unless its user already has one of that provider type.
// Errors: EConflict when another identity has its provider id and external id.
func insertIdentity(ctx context.Context, tx *sql.Tx, ident *latchkey.Identity) error {
	_, err := addIdentity(ctx, tx, ident)
	if isUniqueViolation(err) {
		return storeerr.ExternalIdentityTaken()
	}
	return insertErr(err, "identity", storeerr.UserNotFound)
}

// addIdentity inserts an identity unless its user already has one of that provider type, and
// reports whether it did. Its error is the driver's: a unique violation is another identity
// with its provider id and external id.
func addIdentity(ctx context.Context, tx *sql.Tx, ident *latchkey.Identity) (bool, error) {
	data, err := dbval.EncodeIdentityData(ident.Data)
	if err != nil {
		return false, err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO identities (`+identityColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (user_id, provider_type) DO NOTHING`,
		ident.ID, ident.UserID, ident.ProviderType, ident.ProviderID, nullString(ident.ExternalID), data,
		millis(ident.CreatedAt))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// identityColumns are the columns of an identity row, in the order of its insert.
const identityColumns = `id, user_id, provider_type, provider_id, external_id, data, created_at`

// FindUserByID returns a user of the app with its identities.
func (s *Store) FindUserByID(ctx context.Context, appID, id string) (*latchkey.User, error) {
	u, err := s.findUser(ctx, findUserByIDQuery, appID, id)
	return u, wrap("find user by id", err)
}

// FindUserByEmail returns a user of the app by email, with its identities. The email is
// compared as given: the service lowercases it.
func (s *Store) FindUserByEmail(ctx context.Context, appID, email string) (*latchkey.User, error) {
	u, err := s.findUser(ctx, findUserByEmailQuery, appID, email)
	return u, wrap("find user by email", err)
}

// The queries of findUser, prepared when the store opens (stmt.go). A user with its
// identities is one statement, which reads one snapshot, so no transaction is needed: a lookup
// is one step into SQLite instead of a BEGIN, two queries and a COMMIT. The user comes as one
// row per identity, or one row with NULL identity columns when it has none.
const (
	findUserByIDQuery = `SELECT ` + userIdentityColumns + `
		FROM users u LEFT JOIN identities i ON i.user_id = u.id
		WHERE u.app_id = ? AND u.id = ?`
	findUserByEmailQuery = `SELECT ` + userIdentityColumns + `
		FROM users u LEFT JOIN identities i ON i.user_id = u.id
		WHERE u.app_id = ? AND u.email = ?`
	findUserByIdentityQuery = `SELECT ` + userIdentityColumns + `
		FROM users u LEFT JOIN identities i ON i.user_id = u.id
		WHERE u.app_id = ? AND u.id = (SELECT user_id FROM identities
			WHERE provider_id = ? AND external_id = ? AND provider_type = ?)`
)

// FindUserByIdentity returns the user of the app that has the identity of the provider type
// with the external id, with all its identities. The identity is found by the unique index
// over (provider_id, external_id), whose provider id is the app's provider's.
func (s *Store) FindUserByIdentity(ctx context.Context, appID, providerType, externalID string) (*latchkey.User, error) {
	u, err := s.findUser(ctx, findUserByIdentityQuery, appID,
		latchkey.ProviderID(appID, providerType), externalID, providerType)
	return u, wrap("find user by identity", err)
}

// userIdentityColumns are the columns scanUsers reads, in its order, of users u LEFT JOIN
// identities i.
const userIdentityColumns = `u.id, u.app_id, u.type, u.email, u.password_hash, u.confirmed,
	u.disabled, u.created_at, i.id, i.provider_type, i.provider_id, i.external_id, i.data,
	i.created_at, u.custom_data`

// findUser reads the user that query finds, with its identities.
func (s *Store) findUser(ctx context.Context, query string, args ...any) (*latchkey.User, error) {
	users, err := scanUsers(s.readStmts.QueryContext(ctx, query, args...))
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, storeerr.UserNotFound()
	}
	return users[0], nil
}

// scanUsers reads rows of userIdentityColumns in which the rows of a user come together (a
// query of one user, or one ordered by user).
func scanUsers(rows *sql.Rows, err error) ([]*latchkey.User, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()

	var users []*latchkey.User
	for rows.Next() {
		var r userRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, err
		}
		if users, err = r.appendTo(users); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return users, nil
}

// userRow holds one row of userIdentityColumns. The user's columns are nullable too, for a
// LEFT JOIN to users that finds none (FindAPIKeyAndUser).
type userRow struct {
	id, appID, typ, email, passwordHash sql.NullString
	confirmed, disabled                 sql.NullBool
	createdAt                           sql.NullInt64
	identID, provider, provID           sql.NullString
	externalID, identData               sql.NullString
	identCreatedAt                      sql.NullInt64
	customData                          sql.NullString
}

// userIdentityColumnCount is how many columns userIdentityColumns has.
const userIdentityColumnCount = 15

// dest returns the scan destinations of userIdentityColumns.
func (r *userRow) dest() []any {
	return r.appendDest(make([]any, 0, userIdentityColumnCount))
}

// appendDest appends the scan destinations of userIdentityColumns to d.
func (r *userRow) appendDest(d []any) []any {
	return append(d, &r.id, &r.appID, &r.typ, &r.email, &r.passwordHash, &r.confirmed, &r.disabled,
		&r.createdAt, &r.identID, &r.provider, &r.provID, &r.externalID, &r.identData,
		&r.identCreatedAt, &r.customData)
}

// appendTo adds the row to users: its user unless it is the last one already, then its
// identity, if any, to that user, among its others oldest first. A row without a user adds
// nothing.
func (r *userRow) appendTo(users []*latchkey.User) ([]*latchkey.User, error) {
	if !r.id.Valid {
		return users, nil
	}
	if len(users) == 0 || users[len(users)-1].ID != r.id.String {
		users = append(users, &latchkey.User{
			ID:           r.id.String,
			AppID:        r.appID.String,
			Type:         r.typ.String,
			Email:        r.email.String,
			PasswordHash: r.passwordHash.String,
			Confirmed:    r.confirmed.Bool,
			Disabled:     r.disabled.Bool,
			CustomData:   customData(r.customData),
			CreatedAt:    fromMillis(r.createdAt.Int64),
		})
	}
	if r.identID.Valid {
		data, err := dbval.DecodeIdentityData(r.identData)
		if err != nil {
			return nil, err
		}
		last := users[len(users)-1]
		last.Identities = dbval.AddIdentity(last.Identities, &latchkey.Identity{
			ID:           r.identID.String,
			UserID:       last.ID,
			ProviderType: r.provider.String,
			ProviderID:   r.provID.String,
			ExternalID:   r.externalID.String,
			Data:         data,
			CreatedAt:    fromMillis(r.identCreatedAt.Int64),
		})
	}
	return users, nil
}

// AddIdentity adds an identity unless the user already has one of that provider type, in
// which case it does nothing. Errors: ENotFound when the user does not exist.
func (s *Store) AddIdentity(ctx context.Context, ident *latchkey.Identity) error {
	return s.inTx(ctx, "add identity", func(tx *sql.Tx) error {
		return insertIdentity(ctx, tx, ident)
	})
}

// LinkIdentity adds the identity ident to its user, an enabled user of the app, in one
// transaction. Errors: ENotFound when the app has no such enabled user; EConflict when the
// user has an identity of the provider type; EAccountNameInUse when another identity has its
// provider id and external id.
func (s *Store) LinkIdentity(ctx context.Context, appID string, ident *latchkey.Identity) error {
	return s.inTx(ctx, "link identity", func(tx *sql.Tx) error {
		var disabled bool
		err := tx.QueryRowContext(ctx, `SELECT disabled FROM users WHERE app_id = ? AND id = ?`,
			appID, ident.UserID).Scan(&disabled)
		if errors.Is(err, sql.ErrNoRows) || err == nil && disabled {
			return storeerr.UserNotFound()
		} else if err != nil {
			return err
		}
		added, err := addIdentity(ctx, tx, ident)
		switch {
		case isUniqueViolation(err):
			return storeerr.ExternalIdentityInUse()
		case err != nil:
			return insertErr(err, "identity", storeerr.UserNotFound)
		case !added:
			return storeerr.IdentityTypeTaken()
		}
		return nil
	})
}

// SetIdentityData replaces the data of an identity of a user of the app, or clears it when
// data is empty. Errors: ENotFound when the app has no such identity.
func (s *Store) SetIdentityData(ctx context.Context, appID, identityID string, data map[string]any) error {
	v, err := dbval.EncodeIdentityData(data)
	if err != nil {
		return wrap("set identity data", err)
	}
	return s.execOne(ctx, "set identity data", storeerr.IdentityNotFound,
		`UPDATE identities SET data = ?
		WHERE id = ? AND user_id IN (SELECT id FROM users WHERE app_id = ?)`, v, identityID, appID)
}

// DeleteUser deletes a user of the app; the foreign keys cascade to its identities, tokens,
// keys and sessions.
func (s *Store) DeleteUser(ctx context.Context, appID, id string) error {
	return s.execOne(ctx, "delete user", storeerr.UserNotFound, `DELETE FROM users WHERE app_id = ? AND id = ?`, appID, id)
}

// CreateUserToken inserts a confirmation or reset token.
// Errors: ENotFound when the user does not exist; EConflict when the id is taken.
func (s *Store) CreateUserToken(ctx context.Context, t *latchkey.UserToken) error {
	return s.execInsert(ctx, "create user token", "user token", storeerr.UserNotFound,
		`INSERT INTO user_tokens (id, user_id, kind, hash, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		t.ID, t.UserID, t.Kind, t.Hash, millis(t.ExpiresAt), millis(t.CreatedAt))
}

// FindUserToken returns a token by id, whether or not it has expired.
func (s *Store) FindUserToken(ctx context.Context, id string) (*latchkey.UserToken, error) {
	var (
		t                    latchkey.UserToken
		expiresAt, createdAt int64
	)
	err := s.read.QueryRowContext(ctx, `SELECT id, user_id, kind, hash, expires_at, created_at
		FROM user_tokens WHERE id = ?`, id).
		Scan(&t.ID, &t.UserID, &t.Kind, &t.Hash, &expiresAt, &createdAt)
	if err != nil {
		return nil, wrap("find user token", noRow(err, storeerr.UserTokenNotFound))
	}
	t.ExpiresAt = fromMillis(expiresAt)
	t.CreatedAt = fromMillis(createdAt)
	return &t, nil
}

// ConfirmUserWithToken deletes the token and marks its user confirmed, atomically. A token
// already gone (used concurrently) returns ENotFound.
func (s *Store) ConfirmUserWithToken(ctx context.Context, tokenID string) error {
	return s.inTx(ctx, "confirm user", func(tx *sql.Tx) error {
		userID, err := takeUserToken(ctx, tx, tokenID)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET confirmed = 1 WHERE id = ?`, userID)
		return err
	})
}

// ResetPasswordWithToken deletes the token and the user's other reset tokens, sets its
// user's password hash and deletes the user's sessions, atomically. A token already gone
// returns ENotFound.
func (s *Store) ResetPasswordWithToken(ctx context.Context, tokenID, passwordHash string) error {
	return s.inTx(ctx, "reset password", func(tx *sql.Tx) error {
		userID, err := takeUserToken(ctx, tx, tokenID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, passwordHash, userID); err != nil {
			return err
		}
		// A reset link mailed before this one must not set the password again later.
		if _, err := tx.ExecContext(ctx, `DELETE FROM user_tokens WHERE user_id = ? AND kind = ?`, userID, latchkey.UserTokenReset); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
		return err
	})
}

// takeUserToken deletes a token and returns its user id, so that a token works once.
func takeUserToken(ctx context.Context, tx *sql.Tx, tokenID string) (string, error) {
	var userID string
	err := tx.QueryRowContext(ctx, `DELETE FROM user_tokens WHERE id = ? RETURNING user_id`, tokenID).Scan(&userID)
	return userID, noRow(err, storeerr.UserTokenNotFound)
}

// FindUsers returns users of filter.AppID with their identities, ordered by id, after the
// cursor filter.After, at most filter.Limit (all if zero). The users and their identities are
// read in one statement, so that both come from the same snapshot.
func (s *Store) FindUsers(ctx context.Context, filter latchkey.UserFilter) ([]*latchkey.User, error) {
	query, args := findUsersQuery(filter)
	users, err := scanUsers(s.read.QueryContext(ctx, query, args...))
	return users, wrap("find users", err)
}

// findUsersQuery returns FindUsers' statement and its arguments.
func findUsersQuery(filter latchkey.UserFilter) (string, []any) {
	where, args := []string{"app_id = ?"}, []any{filter.AppID}
	if filter.Email != nil {
		where, args = append(where, "email = ?"), append(args, *filter.Email)
	}
	if filter.Provider != nil {
		where = append(where, "EXISTS (SELECT 1 FROM identities WHERE user_id = users.id AND provider_type = ?)")
		args = append(args, *filter.Provider)
	}
	if filter.Disabled != nil {
		where, args = append(where, "disabled = ?"), append(args, *filter.Disabled)
	}
	if filter.Type != nil {
		where, args = append(where, "type = ?"), append(args, *filter.Type)
	}
	if filter.After != "" {
		where, args = append(where, "id > ?"), append(args, filter.After)
	}
	page := `SELECT ` + userColumns + `, NULL AS custom_data FROM users WHERE ` + strings.Join(where, " AND ") + ` ORDER BY id`
	if filter.Limit > 0 {
		page, args = page+` LIMIT ?`, append(args, filter.Limit)
	}
	return `WITH u AS (` + page + `)
		SELECT ` + userIdentityColumns + ` FROM u LEFT JOIN identities i ON i.user_id = u.id
		ORDER BY u.id, i.created_at, i.id`, args
}

// FindUserStats counts a user's keys and the sessions that are live at t (expire after it).
func (s *Store) FindUserStats(ctx context.Context, userID string, t time.Time) (latchkey.UserStats, error) {
	var stats latchkey.UserStats
	err := s.read.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM api_keys WHERE user_id = ?),
		(SELECT count(*) FROM sessions WHERE user_id = ? AND expires_at > ?)`,
		userID, userID, millis(t),
	).Scan(&stats.APIKeys, &stats.Sessions)
	return stats, wrap("find user stats", err)
}

// SetUserDisabled enables or disables a user of the app. Disabling also deletes the user's
// sessions in the same transaction, so that no refresh token of a disabled user outlives the
// call. Errors: ENotFound when the app has no such user.
func (s *Store) SetUserDisabled(ctx context.Context, appID, id string, disabled bool) error {
	return s.inTx(ctx, "set user disabled", func(tx *sql.Tx) error {
		if err := execRow(ctx, tx, storeerr.UserNotFound, `UPDATE users SET disabled = ? WHERE app_id = ? AND id = ?`,
			disabled, appID, id); err != nil || !disabled {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id)
		return err
	})
}

// DeleteUserSessions deletes every session of a user and returns how many; none is not an
// error.
func (s *Store) DeleteUserSessions(ctx context.Context, userID string) (int64, error) {
	return s.execCount(ctx, "delete user sessions", `DELETE FROM sessions WHERE user_id = ?`, userID)
}

// SetUserCustomData replaces the custom data of a user of the app, or clears it when data is
// nil. Errors: ENotFound when the app has no such user.
func (s *Store) SetUserCustomData(ctx context.Context, appID, id string, data []byte) error {
	return s.execOne(ctx, "set user custom data", storeerr.UserNotFound,
		`UPDATE users SET custom_data = ? WHERE app_id = ? AND id = ?`, nullCustomData(data), appID, id)
}

// nullCustomData is custom data as the column holds it: NULL for none.
func nullCustomData(data []byte) sql.NullString {
	return sql.NullString{String: string(data), Valid: data != nil}
}

// customData is a user's custom data as read, nil for NULL.
func customData(v sql.NullString) json.RawMessage {
	if !v.Valid {
		return nil
	}
	return json.RawMessage(v.String)
}

// LinkUserpassIdentity moves the unused registered user from onto the user toID, in one
// transaction; see latchkey.UserStore. SQLite's one writer makes the checks and the writes
// one step.
func (s *Store) LinkUserpassIdentity(ctx context.Context, from *latchkey.User, toID string, ident *latchkey.Identity) error {
	return s.inTx(ctx, "link userpass identity", func(tx *sql.Tx) error {
		var (
			disabled bool
			taken    bool
		)
		err := tx.QueryRowContext(ctx, `SELECT disabled, email IS NOT NULL OR EXISTS (
				SELECT 1 FROM identities WHERE user_id = users.id AND provider_type = ?)
			FROM users WHERE app_id = ? AND id = ?`,
			latchkey.ProviderUserpass, from.AppID, toID).Scan(&disabled, &taken)
		if errors.Is(err, sql.ErrNoRows) || err == nil && disabled {
			return storeerr.UserNotFound()
		} else if err != nil {
			return err
		}
		if taken {
			return storeerr.LinkTargetTaken()
		}
		var confirmed bool
		err = tx.QueryRowContext(ctx, `SELECT confirmed FROM users
			WHERE app_id = ? AND id = ? AND email = ? AND password_hash = ? AND id <> ?
			AND NOT EXISTS (SELECT 1 FROM identities WHERE user_id = users.id AND provider_type <> ?)
			AND NOT EXISTS (SELECT 1 FROM sessions WHERE user_id = users.id)
			AND NOT EXISTS (SELECT 1 FROM api_keys WHERE user_id = users.id)`,
			from.AppID, from.ID, from.Email, from.PasswordHash, toID, latchkey.ProviderUserpass).Scan(&confirmed)
		if err != nil {
			return noRow(err, storeerr.LinkSourceUsed)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE user_tokens SET user_id = ? WHERE user_id = ?`, toID, from.ID); err != nil {
			return err
		}
		// The email is unique per app: it leaves with from before toID takes it.
		if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, from.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET email = ?, password_hash = ?, confirmed = ? WHERE id = ?`,
			from.Email, from.PasswordHash, confirmed, toID); err != nil {
			return err
		}
		ident.UserID = toID
		return insertIdentity(ctx, tx, ident)
	})
}
