package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/dbval"
	"github.com/latchkey/latchkey/internal/storeerr"
)

// userColumns are the columns of a user row, in the order of its insert.
const userColumns = `id, app_id, type, email, password_hash, confirmed, disabled, created_at`

// CreateUser inserts a user with its identities, in one transaction. The identities are
// stored as the user's, whatever their UserID says.
// Errors: EConflict when the app already has a user with that email, or the id is taken;
// ENotFound when the app does not exist.
func (s *Store) CreateUser(ctx context.Context, u *latchkey.User) error {
	return s.inTx(ctx, "create user", func(tx pgx.Tx) error {
		return insertUser(ctx, tx, u)
	})
}

// insertUser inserts a user with its identities.
func insertUser(ctx context.Context, tx pgx.Tx, u *latchkey.User) error {
	_, err := tx.Exec(ctx, `INSERT INTO users (`+userColumns+`, custom_data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)`,
		u.ID, u.AppID, u.Type, nullString(u.Email), u.PasswordHash, u.Confirmed, u.Disabled, dbTime(u.CreatedAt),
		nullCustomData(u.CustomData))
	if constraint, ok := violation(err, codeUniqueViolation); ok && constraint == "users_app_id_email_key" {
		return storeerr.UserEmailTaken()
	} else if err != nil {
		return insertErr(err, "user", storeerr.AppNotFound)
	}
	for _, ident := range u.Identities {
		if err := insertIdentity(ctx, tx, u.ID, ident); err != nil {
			return err
		}
	}
	return nil
}

// insertIdentity inserts an identity of the user userID.
// Errors: EConflict when another identity has its provider id and external id, or the user
// one of its provider type.
func insertIdentity(ctx context.Context, tx pgx.Tx, userID string, ident *latchkey.Identity) error {
	data, err := identityData(ident.Data)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO identities (`+identityColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)`,
		ident.ID, userID, ident.ProviderType, ident.ProviderID, nullString(ident.ExternalID), data,
		dbTime(ident.CreatedAt))
	if constraint, ok := violation(err, codeUniqueViolation); ok && constraint == externalIdentityKey {
		return storeerr.ExternalIdentityTaken()
	}
	return insertErr(err, "identity", nil)
}

// identityColumns are the columns of an identity row, in the order of its insert.
const identityColumns = `id, user_id, provider_type, provider_id, external_id, data, created_at`

// externalIdentityKey is the unique index over an identity's provider id and external id.
const externalIdentityKey = "identities_provider_id_external_id_key"

// identityData returns an identity's data as its JSONB column takes it, as text: nil (NULL)
// for none.
func identityData(data map[string]any) (*string, error) {
	v, err := dbval.EncodeIdentityData(data)
	if err != nil || !v.Valid {
		return nil, err
	}
	return &v.String, nil
}

// userIdentityColumns are the columns userRow reads, in its order, of users u LEFT JOIN
// identities i.
const userIdentityColumns = `u.id, u.app_id, u.type, COALESCE(u.email, ''), u.password_hash,
	u.confirmed, u.disabled, u.created_at, i.id, i.provider_type, i.provider_id, i.external_id,
	i.data::text, i.created_at, u.custom_data::text`

// userSelect loads a user with its identities in one query, so that both come from one
// snapshot; rows without an identity have NULL identity columns.
const userSelect = `SELECT ` + userIdentityColumns + `
	FROM users u LEFT JOIN identities i ON i.user_id = u.id `

// FindUserByID returns a user of the app with its identities, oldest first.
func (s *Store) FindUserByID(ctx context.Context, appID, id string) (*latchkey.User, error) {
	u, err := s.findUser(ctx, userSelect+`WHERE u.app_id = $1 AND u.id = $2`, appID, id)
	return u, wrap("find user by id", err)
}

// FindUserByEmail returns a user of the app by email, with its identities, oldest first. An
// empty email matches no user.
func (s *Store) FindUserByEmail(ctx context.Context, appID, email string) (*latchkey.User, error) {
	u, err := s.findUser(ctx, userSelect+`WHERE u.app_id = $1 AND u.email = $2`, appID, email)
	return u, wrap("find user by email", err)
}

// FindUserByIdentity returns the user of the app that has the identity of the provider type
// with the external id, with all its identities. The identity is found by the unique index
// over (provider_id, external_id), whose provider id is the app's provider's.
func (s *Store) FindUserByIdentity(ctx context.Context, appID, providerType, externalID string) (*latchkey.User, error) {
	u, err := s.findUser(ctx, userSelect+`WHERE u.app_id = $1 AND u.id = (SELECT user_id FROM identities
		WHERE provider_id = $2 AND external_id = $3 AND provider_type = $4)`,
		appID, latchkey.ProviderID(appID, providerType), externalID, providerType)
	return u, wrap("find user by identity", err)
}

func (s *Store) findUser(ctx context.Context, query string, args ...any) (*latchkey.User, error) {
	users, err := scanUsers(s.query(ctx, query, args...))
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
func scanUsers(rows pgx.Rows, err error) ([]*latchkey.User, error) {
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
	return users, rows.Err()
}

// userRow holds one row of userIdentityColumns. The user's columns are nullable too, for a
// LEFT JOIN to users that finds none (FindAPIKeyAndUser).
type userRow struct {
	id, appID, typ, email, passwordHash pgtype.Text
	confirmed, disabled                 pgtype.Bool
	createdAt                           pgtype.Timestamptz
	identID, provider, provID           pgtype.Text
	externalID, identData               pgtype.Text
	identCreatedAt                      pgtype.Timestamptz
	customData                          pgtype.Text
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
			CreatedAt:    r.createdAt.Time.UTC(),
		})
	}
	if r.identID.Valid {
		data, err := dbval.DecodeIdentityData(sql.NullString{String: r.identData.String, Valid: r.identData.Valid})
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
			CreatedAt:    r.identCreatedAt.Time.UTC(),
		})
	}
	return users, nil
}

// AddIdentity adds an identity unless the user already has one of that provider type, in
// which case it does nothing. Errors: ENotFound when the user does not exist; EConflict when
// another identity has its provider id and external id.
func (s *Store) AddIdentity(ctx context.Context, ident *latchkey.Identity) error {
	return s.retry(ctx, "add identity", func() error {
		_, err := addIdentity(ctx, timedExec{s}, ident)
		if constraint, ok := violation(err, codeUniqueViolation); ok && constraint == externalIdentityKey {
			return storeerr.ExternalIdentityTaken()
		}
		return insertErr(err, "identity", storeerr.UserNotFound)
	})
}

// addIdentity inserts an identity unless its user already has one of that provider type, and
// reports whether it did. Its error is the driver's.
func addIdentity(ctx context.Context, db execer, ident *latchkey.Identity) (bool, error) {
	data, err := identityData(ident.Data)
	if err != nil {
		return false, err
	}
	tag, err := db.Exec(ctx, `INSERT INTO identities (`+identityColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)
		ON CONFLICT (user_id, provider_type) DO NOTHING`,
		ident.ID, ident.UserID, ident.ProviderType, ident.ProviderID, nullString(ident.ExternalID), data,
		dbTime(ident.CreatedAt))
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// LinkIdentity adds the identity ident to its user, an enabled user of the app, in one
// transaction. The user's row is share-locked first, so that a concurrent disabling waits
// for the link or the link for it, and never links a disabled user.
// Errors: ENotFound when the app has no such enabled user; EConflict when the user has an
// identity of the provider type; EAccountNameInUse when another identity has its provider id
// and external id.
func (s *Store) LinkIdentity(ctx context.Context, appID string, ident *latchkey.Identity) error {
	return s.inTx(ctx, "link identity", func(tx pgx.Tx) error {
		var disabled bool
		err := tx.QueryRow(ctx, `SELECT disabled FROM users WHERE app_id = $1 AND id = $2 FOR SHARE`,
			appID, ident.UserID).Scan(&disabled)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && disabled {
			return storeerr.UserNotFound()
		} else if err != nil {
			return err
		}
		added, err := addIdentity(ctx, tx, ident)
		if constraint, ok := violation(err, codeUniqueViolation); ok && constraint == externalIdentityKey {
			return storeerr.ExternalIdentityInUse()
		} else if err != nil {
			return insertErr(err, "identity", storeerr.UserNotFound)
		} else if !added {
			return storeerr.IdentityTypeTaken()
		}
		return nil
	})
}

// SetIdentityData replaces the data of an identity of a user of the app, or clears it when
// data is empty. Errors: ENotFound when the app has no such identity.
func (s *Store) SetIdentityData(ctx context.Context, appID, identityID string, data map[string]any) error {
	v, err := identityData(data)
	if err != nil {
		return wrap("set identity data", err)
	}
	return s.execOne(ctx, "set identity data", storeerr.IdentityNotFound,
		`UPDATE identities SET data = $1::jsonb
		WHERE id = $2 AND user_id IN (SELECT id FROM users WHERE app_id = $3)`, v, identityID, appID)
}

// DeleteUser deletes a user of the app; the foreign keys cascade to its identities, tokens,
// keys and sessions.
func (s *Store) DeleteUser(ctx context.Context, appID, id string) error {
	return s.execOne(ctx, "delete user", storeerr.UserNotFound, `DELETE FROM users WHERE app_id = $1 AND id = $2`, appID, id)
}

// CreateUserToken inserts a confirmation or reset token.
// Errors: ENotFound when the user does not exist; EConflict when the id is taken.
func (s *Store) CreateUserToken(ctx context.Context, t *latchkey.UserToken) error {
	return s.execInsert(ctx, "create user token", "user token", storeerr.UserNotFound,
		`INSERT INTO user_tokens (id, user_id, kind, hash, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		t.ID, t.UserID, t.Kind, t.Hash, dbTime(t.ExpiresAt), dbTime(t.CreatedAt))
}

// FindUserToken returns a token by id, whether or not it has expired.
func (s *Store) FindUserToken(ctx context.Context, id string) (*latchkey.UserToken, error) {
	var t latchkey.UserToken
	err := s.queryRow(ctx, `SELECT id, user_id, kind, hash, expires_at, created_at
		FROM user_tokens WHERE id = $1`, id).
		Scan(&t.ID, &t.UserID, &t.Kind, &t.Hash, &t.ExpiresAt, &t.CreatedAt)
	if err != nil {
		return nil, wrap("find user token", noRow(err, storeerr.UserTokenNotFound))
	}
	t.ExpiresAt = t.ExpiresAt.UTC()
	t.CreatedAt = t.CreatedAt.UTC()
	return &t, nil
}

// ConfirmUserWithToken deletes the token and marks its user confirmed in one statement. Of
// concurrent calls with one token, the first deletes it and the others find nothing.
func (s *Store) ConfirmUserWithToken(ctx context.Context, tokenID string) error {
	return s.retry(ctx, "confirm user with token", func() error {
		tag, err := s.exec(ctx, `WITH t AS (DELETE FROM user_tokens WHERE id = $1 RETURNING user_id)
			UPDATE users SET confirmed = TRUE FROM t WHERE users.id = t.user_id`, tokenID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return storeerr.UserTokenNotFound()
		}
		return nil
	})
}

// ResetPasswordWithToken deletes the token and the user's other reset tokens, sets its
// user's password hash and deletes the user's sessions, in one transaction.
func (s *Store) ResetPasswordWithToken(ctx context.Context, tokenID, passwordHash string) error {
	return s.inTx(ctx, "reset password with token", func(tx pgx.Tx) error {
		userID, err := takeUserToken(ctx, tx, tokenID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, passwordHash, userID); err != nil {
			return err
		}
		// A reset link mailed before this one must not set the password again later.
		if _, err := tx.Exec(ctx, `DELETE FROM user_tokens WHERE user_id = $1 AND kind = $2`, userID, latchkey.UserTokenReset); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID)
		return err
	})
}

// takeUserToken deletes a token and returns its user id, so that a token works once.
func takeUserToken(ctx context.Context, tx pgx.Tx, tokenID string) (string, error) {
	var userID string
	err := tx.QueryRow(ctx, `DELETE FROM user_tokens WHERE id = $1 RETURNING user_id`, tokenID).Scan(&userID)
	return userID, noRow(err, storeerr.UserTokenNotFound)
}

// FindUsers returns users of filter.AppID with their identities, ordered by id, after the
// cursor filter.After, at most filter.Limit (all if zero). The users and their identities are
// read in one statement, so that both come from one snapshot.
func (s *Store) FindUsers(ctx context.Context, filter latchkey.UserFilter) ([]*latchkey.User, error) {
	query, args := findUsersQuery(filter)
	users, err := scanUsers(s.query(ctx, query, args...))
	if err != nil {
		return nil, wrap("find users", err)
	}
	if users == nil {
		users = []*latchkey.User{}
	}
	return users, nil
}

// findUsersQuery returns FindUsers' statement and its arguments.
func findUsersQuery(filter latchkey.UserFilter) (string, []any) {
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where := []string{"app_id = " + arg(filter.AppID)}
	if filter.Email != nil {
		where = append(where, "email = "+arg(*filter.Email))
	}
	if filter.Provider != nil {
		where = append(where, "EXISTS (SELECT 1 FROM identities WHERE user_id = users.id AND provider_type = "+
			arg(*filter.Provider)+")")
	}
	if filter.Disabled != nil {
		where = append(where, "disabled = "+arg(*filter.Disabled))
	}
	if filter.Type != nil {
		where = append(where, "type = "+arg(*filter.Type))
	}
	if filter.After != "" {
		where = append(where, "id > "+arg(filter.After))
	}
	page := `SELECT ` + userColumns + `, NULL::jsonb AS custom_data FROM users WHERE ` + strings.Join(where, " AND ") + ` ORDER BY id`
	if filter.Limit > 0 {
		page += ` LIMIT ` + arg(filter.Limit)
	}
	return `WITH u AS (` + page + `)
		SELECT ` + userIdentityColumns + ` FROM u LEFT JOIN identities i ON i.user_id = u.id
		ORDER BY u.id, i.created_at, i.id`, args
}

// FindUserStats counts a user's keys and the sessions that are live at t (expire after it).
func (s *Store) FindUserStats(ctx context.Context, userID string, t time.Time) (latchkey.UserStats, error) {
	var stats latchkey.UserStats
	err := s.queryRow(ctx, `SELECT
		(SELECT count(*) FROM api_keys WHERE user_id = $1),
		(SELECT count(*) FROM sessions WHERE user_id = $1 AND expires_at > $2)`,
		userID, dbTime(t)).Scan(&stats.APIKeys, &stats.Sessions)
	return stats, wrap("find user stats", err)
}

// SetUserDisabled enables or disables a user of the app. Disabling also deletes the user's
// sessions in the same transaction.
func (s *Store) SetUserDisabled(ctx context.Context, appID, id string, disabled bool) error {
	return s.inTx(ctx, "set user disabled", func(tx pgx.Tx) error {
		if err := execRow(ctx, tx, storeerr.UserNotFound, `UPDATE users SET disabled = $1 WHERE app_id = $2 AND id = $3`,
			disabled, appID, id); err != nil || !disabled {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, id)
		return err
	})
}

// DeleteUserSessions deletes every session of a user and returns how many; none is not an
// error.
func (s *Store) DeleteUserSessions(ctx context.Context, userID string) (int64, error) {
	return s.execCount(ctx, "delete user sessions", `DELETE FROM sessions WHERE user_id = $1`, userID)
}

// SetUserCustomData replaces the custom data of a user of the app, or clears it when data is
// nil. Errors: ENotFound when the app has no such user.
func (s *Store) SetUserCustomData(ctx context.Context, appID, id string, data []byte) error {
	return s.execOne(ctx, "set user custom data", storeerr.UserNotFound,
		`UPDATE users SET custom_data = $1::jsonb WHERE app_id = $2 AND id = $3`, nullCustomData(data), appID, id)
}

// nullCustomData is custom data as the column takes it: nil (NULL) for none.
func nullCustomData(data []byte) *string {
	if data == nil {
		return nil
	}
	str := string(data)
	return &str
}

// customData is a user's custom data as read, nil for NULL. PostgreSQL prints JSONB with
// spaces; it is left so: encoding/json compacts a RawMessage wherever it is written, in a
// token or a reply, so only the users that are written pay for it.
func customData(v pgtype.Text) json.RawMessage {
	if !v.Valid {
		return nil
	}
	return json.RawMessage(v.String)
}

// LinkUserpassIdentity moves the unused registered user from onto the user toID, in one
// transaction; see latchkey.UserStore. Both user rows are locked first, in id order, so that
// concurrent links wait for each other, and a login of from (whose session insert takes a
// key share lock on from's row) either commits first, and is seen, or waits and then finds
// from gone.
func (s *Store) LinkUserpassIdentity(ctx context.Context, from *latchkey.User, toID string, ident *latchkey.Identity) error {
	return s.inTx(ctx, "link userpass identity", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT id FROM users WHERE id = ANY($1) ORDER BY id FOR UPDATE`,
			[]string{from.ID, toID}); err != nil {
			return err
		}
		var disabled, taken bool
		err := tx.QueryRow(ctx, `SELECT disabled, email IS NOT NULL OR EXISTS (
				SELECT 1 FROM identities WHERE user_id = users.id AND provider_type = $1)
			FROM users WHERE app_id = $2 AND id = $3`,
			latchkey.ProviderUserpass, from.AppID, toID).Scan(&disabled, &taken)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && disabled {
			return storeerr.UserNotFound()
		} else if err != nil {
			return err
		}
		if taken {
			return storeerr.LinkTargetTaken()
		}
		var confirmed bool
		err = tx.QueryRow(ctx, `SELECT confirmed FROM users
			WHERE app_id = $1 AND id = $2 AND email = $3 AND password_hash = $4 AND id <> $5
			AND NOT EXISTS (SELECT 1 FROM identities WHERE user_id = users.id AND provider_type <> $6)
			AND NOT EXISTS (SELECT 1 FROM sessions WHERE user_id = users.id)
			AND NOT EXISTS (SELECT 1 FROM api_keys WHERE user_id = users.id)`,
			from.AppID, from.ID, from.Email, from.PasswordHash, toID, latchkey.ProviderUserpass).Scan(&confirmed)
		if err != nil {
			return noRow(err, storeerr.LinkSourceUsed)
		}
		if _, err := tx.Exec(ctx, `UPDATE user_tokens SET user_id = $1 WHERE user_id = $2`, toID, from.ID); err != nil {
			return err
		}
		// The email is unique per app: it leaves with from before toID takes it.
		if _, err := tx.Exec(ctx, `DELETE FROM users WHERE id = $1`, from.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET email = $1, password_hash = $2, confirmed = $3 WHERE id = $4`,
			from.Email, from.PasswordHash, confirmed, toID); err != nil {
			return err
		}
		ident.UserID = toID
		return insertIdentity(ctx, tx, toID, ident)
	})
}
