package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/dbval"
	"github.com/latchkey/latchkey/internal/storeerr"
)

// apiKeyColumns are the columns scanAPIKey reads, in its order.
const apiKeyColumns = `id, app_id, user_id, name, hash, disabled, created_at, last_used_at, start,
	scopes, expires_at, previous_hash, previous_expires_at, ` + dbval.KeyLimitColumns + `, refilled_at`

// CreateAPIKey inserts a key unless its user already has max keys (ELimitReached) or a key of
// that name (EAPIKeyExists); the cap is checked first. The write pool's single connection and
// IMMEDIATE transaction make the check and the insert one step under concurrent calls.
// Errors also: EConflict when the id or hash is taken; ENotFound when the user does not exist.
func (s *Store) CreateAPIKey(ctx context.Context, k *latchkey.APIKey, max int) error {
	return s.inTx(ctx, "create api key", func(tx *sql.Tx) error {
		if n, err := countAPIKeys(ctx, tx, k.UserID); err != nil {
			return err
		} else if n >= max {
			return latchkey.Errorf(latchkey.ELimitReached, "user already has the maximum of %d API keys", max)
		}
		return insertAPIKey(ctx, tx, k)
	})
}

// countAPIKeys returns how many keys the user has.
func countAPIKeys(ctx context.Context, tx *sql.Tx, userID string) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM api_keys WHERE user_id = ?`, userID).Scan(&n)
	return n, err
}

// insertAPIKey inserts a key row. The table has two UNIQUE constraints, (user_id, name) and
// hash, which one result code cannot tell apart; the name is looked up after a violation, in
// the same transaction, rather than read from the error message. A hash that is another key's
// previous hash is taken too, so that a hash finds at most one key.
func insertAPIKey(ctx context.Context, tx *sql.Tx, k *latchkey.APIKey) error {
	if taken, err := hashTaken(ctx, tx, k.Hash, ""); err != nil {
		return err
	} else if taken {
		return storeerr.Taken("API key")
	}
	limits := dbval.EncodeKeyLimits(k)
	args := append([]any{k.ID, k.AppID, k.UserID, k.Name, k.Hash, k.Disabled, millis(k.CreatedAt),
		nullMillis(k.LastUsedAt), k.Start, encodeList(k.Scopes), nullMillis(k.ExpiresAt),
		nullBytes(k.PreviousHash), nullMillis(k.PreviousExpiresAt)}, limits.Args()...)
	_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (`+apiKeyColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		append(args, nullMillis(k.RefilledAt))...)
	switch {
	case isUniqueViolation(err):
		var nameTaken bool
		if err := tx.QueryRowContext(ctx,
			`SELECT EXISTS (SELECT 1 FROM api_keys WHERE user_id = ? AND name = ?)`, k.UserID, k.Name,
		).Scan(&nameTaken); err != nil {
			return err
		}
		if nameTaken {
			return storeerr.APIKeyNameTaken()
		}
		return storeerr.Taken("API key")
	case isPrimaryKeyViolation(err):
		return storeerr.Taken("API key")
	case isForeignKeyViolation(err):
		return storeerr.UserNotFound()
	}
	return err
}

// hashTaken reports whether hash is any key's current or previous hash: the UNIQUE indexes
// guard each column alone, not one against the other.
// A rotation passes its key's id as except: the key may keep its own hash.
func hashTaken(ctx context.Context, tx *sql.Tx, hash []byte, except string) (bool, error) {
	var taken bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM api_keys WHERE hash = ? AND id <> ?)
		OR EXISTS (SELECT 1 FROM api_keys WHERE previous_hash = ? AND id <> ?)`, hash, except, hash, except).Scan(&taken)
	return taken, err
}

// The hot queries on api_keys, prepared when the store opens (stmt.go).
const (
	findAPIKeysQuery = `SELECT ` + apiKeyColumns + ` FROM api_keys
		WHERE user_id = ? ORDER BY created_at, rowid`
	findAPIKeyByHashQuery = `
		SELECT ` + apiKeyColumns + ` FROM api_keys WHERE app_id = ? AND hash = ?
		UNION ALL
		SELECT ` + apiKeyColumns + ` FROM api_keys WHERE app_id = ? AND previous_hash = ?
		LIMIT 1`
	// findAPIKeyAndUserQuery is findAPIKeyByHashQuery, whose branches keep their indexes as a
	// CTE, with the key's user and identities joined in; k.* is apiKeyColumns. The user comes
	// as in findUserByIDQuery, or as NULL columns when it is not a user of the key's app.
	findAPIKeyAndUserQuery = `WITH k AS (` + findAPIKeyByHashQuery + `)
		SELECT k.*, ` + userIdentityColumns + `
		FROM k LEFT JOIN users u ON u.id = k.user_id AND u.app_id = k.app_id
		LEFT JOIN identities i ON i.user_id = u.id`
	touchAPIKeyQuery = `UPDATE api_keys SET last_used_at = ? WHERE id = ?`
)

// FindAPIKeys returns a user's keys in creation order; keys created in the same millisecond
// come in insertion order.
func (s *Store) FindAPIKeys(ctx context.Context, userID string) ([]*latchkey.APIKey, error) {
	rows, err := s.readStmts.QueryContext(ctx, findAPIKeysQuery, userID)
	keys, err := scanAll(rows, err, scanAPIKey)
	return keys, wrap("find api keys", err)
}

// FindAPIKey returns one of the user's keys; another user's key is not found.
func (s *Store) FindAPIKey(ctx context.Context, userID, id string) (*latchkey.APIKey, error) {
	k, err := scanAPIKey(s.read.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys
		WHERE user_id = ? AND id = ?`, userID, id))
	return k, wrap("find api key", err)
}

// FindAPIKeyByHash returns the app's key whose current or previous hash is hash; whether a
// previous hash still works is the service's rule.
func (s *Store) FindAPIKeyByHash(ctx context.Context, appID string, hash []byte) (*latchkey.APIKey, error) {
	k, err := scanAPIKey(s.readStmts.QueryRowContext(ctx, findAPIKeyByHashQuery, appID, hash, appID, hash))
	return k, wrap("find api key by hash", err)
}

// FindAPIKeyAndUser returns the app's key whose current or previous hash is hash, with its
// user and the user's identities, in one statement: one snapshot and one step into SQLite
// where FindAPIKeyByHash and FindUserByID take two. Errors: ENotFound with a nil key when no
// key of the app has the hash, with the key when its user is not a user of the app.
func (s *Store) FindAPIKeyAndUser(ctx context.Context, appID string, hash []byte) (*latchkey.APIKey, *latchkey.User, error) {
	rows, err := s.readStmts.QueryContext(ctx, findAPIKeyAndUserQuery, appID, hash, appID, hash)
	if err != nil {
		return nil, nil, wrap("find api key and user", err)
	}
	defer rows.Close()

	var (
		k     *latchkey.APIKey
		users []*latchkey.User
	)
	for rows.Next() {
		var r userRow
		// Every row repeats the key; the first one's is kept.
		rk, err := scanAPIKey(rowThen{rows, r.dest()})
		if err != nil {
			return nil, nil, wrap("find api key and user", err)
		}
		if k == nil {
			k = rk
		}
		if users, err = r.appendTo(users); err != nil {
			return nil, nil, wrap("find api key and user", err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, wrap("find api key and user", err)
	}
	switch {
	case k == nil:
		return nil, nil, storeerr.APIKeyNotFound()
	case len(users) == 0:
		return k, nil, storeerr.UserNotFound()
	}
	return k, users[0], nil
}

// RotateAPIKey gives the user's key k.ID the value of k.Hash and k.Start and ends the key's
// sessions no later than sessionsEnd, in one transaction. The previous hash, when
// k.PreviousExpiresAt asks for one, is the hash read inside the IMMEDIATE write transaction,
// so that concurrent rotations of the key, also from other processes, run one at a time and
// each keeps the value the one before it wrote.
// Errors: ENotFound when the user has no such key; EConflict when k.Hash is a key's current or
// previous hash.
func (s *Store) RotateAPIKey(ctx context.Context, k *latchkey.APIKey, sessionsEnd time.Time) error {
	previous, err := inTxValue(ctx, s, "rotate api key", func(tx *sql.Tx) ([]byte, error) {
		var current, previous []byte
		if err := tx.QueryRowContext(ctx, `SELECT hash FROM api_keys WHERE user_id = ? AND id = ?`,
			k.UserID, k.ID).Scan(&current); err != nil {
			return nil, noRow(err, storeerr.APIKeyNotFound)
		}
		if k.PreviousExpiresAt != nil {
			previous = current
		}
		if taken, err := hashTaken(ctx, tx, k.Hash, k.ID); err != nil {
			return nil, err
		} else if taken {
			return nil, storeerr.Taken("API key")
		}
		_, err := tx.ExecContext(ctx, `UPDATE api_keys SET hash = ?, start = ?, previous_hash = ?,
			previous_expires_at = ? WHERE user_id = ? AND id = ?`,
			k.Hash, k.Start, nullBytes(previous), nullMillis(k.PreviousExpiresAt), k.UserID, k.ID)
		if isUniqueViolation(err) {
			return nil, storeerr.Taken("API key")
		} else if err != nil {
			return nil, err
		}
		return previous, endAPIKeySessions(ctx, tx, k.ID, sessionsEnd)
	})
	if err != nil {
		return err
	}
	k.PreviousHash = nullBytes(previous)
	return nil
}

// EndAPIKeyGrace ends the key's grace period if previous is still its previous hash, and
// ends its sessions by sessionsEnd. The key's row is updated in one statement, which tells
// whether it exists and leaves a newer rotation's values alone. Errors: ENotFound.
func (s *Store) EndAPIKeyGrace(ctx context.Context, userID, id string, previous []byte, sessionsEnd time.Time) error {
	return s.inTx(ctx, "end api key grace", func(tx *sql.Tx) error {
		if err := execRow(ctx, tx, storeerr.APIKeyNotFound, `UPDATE api_keys SET
			previous_expires_at = CASE WHEN previous_hash = ?1 THEN NULL ELSE previous_expires_at END,
			previous_hash = CASE WHEN previous_hash = ?1 THEN NULL ELSE previous_hash END
			WHERE user_id = ?2 AND id = ?3`, previous, userID, id); err != nil {
			return err
		}
		return endAPIKeySessions(ctx, tx, id, sessionsEnd)
	})
}

// endAPIKeySessions ends the sessions opened with a key no later than end.
func endAPIKeySessions(ctx context.Context, tx *sql.Tx, keyID string, end time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE sessions SET expires_at = ? WHERE api_key_id = ? AND expires_at > ?`,
		millis(end), keyID, millis(end))
	return err
}

// SetAPIKeyDisabled enables or disables one of the user's keys. Disabling also deletes every
// session opened with the key, in the same transaction, so no refresh token of a disabled key
// outlives the call.
func (s *Store) SetAPIKeyDisabled(ctx context.Context, userID, id string, disabled bool) error {
	return s.inTx(ctx, "set api key disabled", func(tx *sql.Tx) error {
		if err := execRow(ctx, tx, storeerr.APIKeyNotFound, `UPDATE api_keys SET disabled = ? WHERE user_id = ? AND id = ?`,
			disabled, userID, id); err != nil || !disabled {
			return err
		}
		return deleteAPIKeySessions(ctx, tx, id)
	})
}

// DeleteAPIKey deletes one of the user's keys and every session opened with it.
func (s *Store) DeleteAPIKey(ctx context.Context, userID, id string) error {
	return s.inTx(ctx, "delete api key", func(tx *sql.Tx) error {
		if err := execRow(ctx, tx, storeerr.APIKeyNotFound, `DELETE FROM api_keys WHERE user_id = ? AND id = ?`,
			userID, id); err != nil {
			return err
		}
		// The foreign key cascades already; the explicit delete keeps the rule visible here and
		// independent of the foreign_keys pragma.
		return deleteAPIKeySessions(ctx, tx, id)
	})
}

// deleteAPIKeySessions deletes the sessions opened with a key.
func deleteAPIKeySessions(ctx context.Context, tx *sql.Tx, keyID string) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE api_key_id = ?`, keyID)
	return err
}

// TouchAPIKey records that the key was used at t. Errors: ENotFound when the key is gone.
func (s *Store) TouchAPIKey(ctx context.Context, id string, t time.Time) error {
	// A key's first login in a while writes its last use too: it shares the sessions' commit.
	n, err := s.group.exec(ctx, touchAPIKeyQuery, millis(t), id)
	if err != nil {
		return wrap("touch api key", err)
	} else if n == 0 {
		return storeerr.APIKeyNotFound()
	}
	return nil
}

// scanAPIKey reads one row of apiKeyColumns; no row is ENotFound.
func scanAPIKey(row rowScanner) (*latchkey.APIKey, error) {
	var (
		k                                        latchkey.APIKey
		createdAt                                int64
		lastUsedAt, expiresAt, previousExpiresAt sql.NullInt64
		refilledAt                               sql.NullInt64
		scopesJSON                               string
		limits                                   dbval.KeyLimits
	)
	dest := append([]any{&k.ID, &k.AppID, &k.UserID, &k.Name, &k.Hash, &k.Disabled, &createdAt,
		&lastUsedAt, &k.Start, &scopesJSON, &expiresAt, &k.PreviousHash, &previousExpiresAt}, limits.Dest()...)
	if err := row.Scan(append(dest, &refilledAt)...); err != nil {
		return nil, noRow(err, storeerr.APIKeyNotFound)
	}
	limits.DecodeTo(&k)
	k.RefilledAt = fromNullMillis(refilledAt)
	var err error
	if k.Scopes, err = decodeList(scopesJSON); err != nil {
		return nil, err
	}
	k.CreatedAt = fromMillis(createdAt)
	k.LastUsedAt = fromNullMillis(lastUsedAt)
	k.ExpiresAt = fromNullMillis(expiresAt)
	k.PreviousHash = nullBytes(k.PreviousHash)
	k.PreviousExpiresAt = fromNullMillis(previousExpiresAt)
	return &k, nil
}

// serverKeysOf restricts a query on api_keys to the server keys of the app given by the next
// two arguments (the app id twice). Going through the app's server users uses the indexes
// users (app_id, type, id) and api_keys (user_id, ...): an app has few server users and
// maybe millions of keys.
const serverKeysOf = `app_id = ? AND user_id IN (SELECT id FROM users WHERE app_id = ? AND type = '` +
	latchkey.UserTypeServer + `')`

// CreateServerAPIKey inserts a server user (u, with its identities) and its key k, unless the
// app already has max server keys (ELimitReached) or a server key of k's name
// (EAPIKeyExists); the cap is checked first. The write pool's single connection and IMMEDIATE
// transaction make the checks and the inserts one step under concurrent calls.
// Errors also: ENotFound when the app does not exist; EConflict when an id or the hash is
// taken.
func (s *Store) CreateServerAPIKey(ctx context.Context, u *latchkey.User, k *latchkey.APIKey, max int) error {
	if k.UserID != u.ID || k.AppID != u.AppID {
		return fmt.Errorf("sqlite: create server api key: key %s is not of user %s in app %s", k.ID, u.ID, u.AppID)
	}
	return s.inTx(ctx, "create server api key", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM api_keys WHERE `+serverKeysOf,
			k.AppID, k.AppID).Scan(&n); err != nil {
			return err
		} else if n >= max {
			return latchkey.Errorf(latchkey.ELimitReached, "app already has the maximum of %d server API keys", max)
		}
		var nameTaken bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM api_keys WHERE `+serverKeysOf+` AND name = ?)`,
			k.AppID, k.AppID, k.Name).Scan(&nameTaken); err != nil {
			return err
		} else if nameTaken {
			return storeerr.APIKeyNameTaken()
		}
		if err := insertUser(ctx, tx, u); err != nil {
			return err
		}
		return insertAPIKey(ctx, tx, k)
	})
}

// FindServerAPIKeys returns the app's server keys in creation order; keys created in the same
// millisecond come in insertion order.
func (s *Store) FindServerAPIKeys(ctx context.Context, appID string) ([]*latchkey.APIKey, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys
		WHERE `+serverKeysOf+` ORDER BY created_at, rowid`, appID, appID)
	keys, err := scanAll(rows, err, scanAPIKey)
	return keys, wrap("find server api keys", err)
}

// FindServerAPIKey returns one of the app's server keys; a user's key, or another app's, is
// not found.
func (s *Store) FindServerAPIKey(ctx context.Context, appID, id string) (*latchkey.APIKey, error) {
	k, err := scanAPIKey(s.read.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys
		WHERE `+serverKeysOf+` AND id = ?`, appID, appID, id))
	return k, wrap("find server api key", err)
}
