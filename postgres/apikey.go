package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/dbval"
	"github.com/latchkey/latchkey/internal/storeerr"
)

// apiKeyColumns are the columns scanAPIKey reads, in its order.
const apiKeyColumns = `id, app_id, user_id, name, hash, disabled, created_at, last_used_at, start,
	scopes, expires_at, previous_hash, previous_expires_at, ` + dbval.KeyLimitColumns + `, refilled_at`

// CreateAPIKey inserts a key unless its user already has max keys (ELimitReached) or a key of
// that name (EAPIKeyExists); the cap is checked first. Concurrent calls for one user, from any
// number of pools or nodes, run one at a time: each locks the owner's row before counting,
// so the count holds until the insert commits.
// Errors also: EConflict when the id or hash is taken; ENotFound when the user does not exist.
func (s *Store) CreateAPIKey(ctx context.Context, k *latchkey.APIKey, max int) error {
	return s.inTx(ctx, "create api key", func(tx pgx.Tx) error {
		// FOR NO KEY UPDATE rather than FOR UPDATE: it conflicts with itself, which is all the
		// serialization needs, but not with the KEY SHARE locks that foreign key checks take,
		// so logins and identity inserts for the user do not queue behind key creation.
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, k.UserID).Scan(&one); err != nil {
			return noRow(err, storeerr.UserNotFound)
		}
		if n, err := countAPIKeys(ctx, tx, k.UserID); err != nil {
			return err
		} else if n >= max {
			return latchkey.Errorf(latchkey.ELimitReached, "user already has the maximum of %d API keys", max)
		}
		return insertAPIKey(ctx, tx, k)
	})
}

// countAPIKeys returns how many keys the user has.
func countAPIKeys(ctx context.Context, tx pgx.Tx, userID string) (int, error) {
	var n int
	err := tx.QueryRow(ctx, `SELECT count(*) FROM api_keys WHERE user_id = $1`, userID).Scan(&n)
	return n, err
}

// insertAPIKey inserts a key row, telling its unique constraints apart by name. A hash that
// is another key's previous hash is taken too, so that a hash finds at most one key.
func insertAPIKey(ctx context.Context, tx pgx.Tx, k *latchkey.APIKey) error {
	if taken, err := hashTaken(ctx, tx, k.Hash, ""); err != nil {
		return err
	} else if taken {
		return storeerr.Taken("API key")
	}
	limits := dbval.EncodeKeyLimits(k)
	args := append([]any{k.ID, k.AppID, k.UserID, k.Name, k.Hash, k.Disabled, dbTime(k.CreatedAt),
		dbTimePtr(k.LastUsedAt), k.Start, jsonList(k.Scopes), dbTimePtr(k.ExpiresAt),
		nullBytes(k.PreviousHash), dbTimePtr(k.PreviousExpiresAt)}, limits.Args()...)
	_, err := tx.Exec(ctx, `INSERT INTO api_keys (`+apiKeyColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13,
			$14, $15, $16, $17, $18, $19::jsonb, $20)`,
		append(args, dbTimePtr(k.RefilledAt))...)
	if constraint, ok := violation(err, codeUniqueViolation); ok && constraint == "api_keys_user_id_name_key" {
		return storeerr.APIKeyNameTaken()
	}
	return insertErr(err, "API key", nil)
}

// hashTaken reports whether hash is any key's current or previous hash. The unique indexes
// guard each column alone, also against concurrent writers; this check guards one column
// against the other, which only two equal random hashes written at once could slip past.
// A rotation passes its key's id as except: the key may keep its own hash.
func hashTaken(ctx context.Context, tx pgx.Tx, hash []byte, except string) (bool, error) {
	var taken bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM api_keys WHERE hash = $1 AND id <> $2)
		OR EXISTS (SELECT 1 FROM api_keys WHERE previous_hash = $1 AND id <> $2)`, hash, except).Scan(&taken)
	return taken, err
}

// The queries of every key login.
const (
	// findAPIKeyByHashQuery finds the key of app $1 whose current or previous hash is $2.
	// The two lookups are two branches so that each uses its column's index; a hash is in at
	// most one key (insertAPIKey, RotateAPIKey).
	findAPIKeyByHashQuery = `
		SELECT ` + apiKeyColumns + ` FROM api_keys WHERE hash = $2 AND app_id = $1
		UNION ALL
		SELECT ` + apiKeyColumns + ` FROM api_keys WHERE previous_hash = $2 AND app_id = $1
		LIMIT 1`
	// findAPIKeyAndUserQuery is findAPIKeyByHashQuery as a CTE with the key's user and
	// identities joined in; k.* is apiKeyColumns. The user comes as in FindUserByID, or as
	// NULL columns when it is not a user of the key's app.
	findAPIKeyAndUserQuery = `WITH k AS (` + findAPIKeyByHashQuery + `)
		SELECT k.*, ` + userIdentityColumns + `
		FROM k LEFT JOIN users u ON u.id = k.user_id AND u.app_id = k.app_id
		LEFT JOIN identities i ON i.user_id = u.id`
)

// FindAPIKeys returns a user's keys in creation order.
func (s *Store) FindAPIKeys(ctx context.Context, userID string) ([]*latchkey.APIKey, error) {
	rows, err := s.query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys
		WHERE user_id = $1 ORDER BY created_at, id`, userID)
	keys, err := scanAll(rows, err, scanAPIKey)
	return keys, wrap("find api keys", err)
}

// FindAPIKey returns one of the user's keys; another user's key is not found.
func (s *Store) FindAPIKey(ctx context.Context, userID, id string) (*latchkey.APIKey, error) {
	k, err := scanAPIKey(s.queryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys
		WHERE user_id = $1 AND id = $2`, userID, id))
	return k, wrap("find api key", err)
}

// FindAPIKeyByHash returns the app's key whose current or previous hash is hash; whether a
// previous hash still works is the service's rule.
func (s *Store) FindAPIKeyByHash(ctx context.Context, appID string, hash []byte) (*latchkey.APIKey, error) {
	k, err := scanAPIKey(s.queryRow(ctx, findAPIKeyByHashQuery, appID, hash))
	return k, wrap("find api key by hash", err)
}

// FindAPIKeyAndUser returns the app's key whose current or previous hash is hash, with its
// user and the user's identities, in one query: one snapshot and one round trip where
// FindAPIKeyByHash and FindUserByID take two. Errors: ENotFound with a nil key when no key of
// the app has the hash, with the key when its user is not a user of the app.
func (s *Store) FindAPIKeyAndUser(ctx context.Context, appID string, hash []byte) (*latchkey.APIKey, *latchkey.User, error) {
	rows, err := s.query(ctx, findAPIKeyAndUserQuery, appID, hash)
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
// k.PreviousExpiresAt asks for one, is the hash read under the row's FOR UPDATE lock, so
// that concurrent rotations of the key, from any node, run one at a time and each keeps the
// value the one before it wrote. A login with the key (CreateSession's share lock) commits
// either before, and its session is cut short, or after, and is checked against the new row.
// Errors: ENotFound when the user has no such key; EConflict when k.Hash is a key's current or
// previous hash.
func (s *Store) RotateAPIKey(ctx context.Context, k *latchkey.APIKey, sessionsEnd time.Time) error {
	previous, err := inTxValue(ctx, s, "rotate api key", func(tx pgx.Tx) ([]byte, error) {
		var current, previous []byte
		if err := tx.QueryRow(ctx, `SELECT hash FROM api_keys WHERE user_id = $1 AND id = $2 FOR UPDATE`,
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
		_, err := tx.Exec(ctx, `UPDATE api_keys SET hash = $1, start = $2, previous_hash = $3,
			previous_expires_at = $4 WHERE user_id = $5 AND id = $6`,
			k.Hash, k.Start, nullBytes(previous), dbTimePtr(k.PreviousExpiresAt), k.UserID, k.ID)
		if _, ok := violation(err, codeUniqueViolation); ok {
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
	return s.inTx(ctx, "end api key grace", func(tx pgx.Tx) error {
		if err := execRow(ctx, tx, storeerr.APIKeyNotFound, `UPDATE api_keys SET
			previous_expires_at = CASE WHEN previous_hash = $1 THEN NULL ELSE previous_expires_at END,
			previous_hash = CASE WHEN previous_hash = $1 THEN NULL ELSE previous_hash END
			WHERE user_id = $2 AND id = $3`, previous, userID, id); err != nil {
			return err
		}
		return endAPIKeySessions(ctx, tx, id, sessionsEnd)
	})
}

// endAPIKeySessions ends the sessions opened with a key no later than end.
func endAPIKeySessions(ctx context.Context, tx pgx.Tx, keyID string, end time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE sessions SET expires_at = $1 WHERE api_key_id = $2 AND expires_at > $1`,
		dbTime(end), keyID)
	return err
}

// SetAPIKeyDisabled enables or disables one of the user's keys. Disabling deletes the key's
// sessions in the same transaction; CreateSession's share lock on the key keeps a login that
// runs meanwhile from leaving a session behind.
func (s *Store) SetAPIKeyDisabled(ctx context.Context, userID, id string, disabled bool) error {
	return s.inTx(ctx, "set api key disabled", func(tx pgx.Tx) error {
		if err := execRow(ctx, tx, storeerr.APIKeyNotFound, `UPDATE api_keys SET disabled = $1 WHERE user_id = $2 AND id = $3`,
			disabled, userID, id); err != nil || !disabled {
			return err
		}
		return deleteAPIKeySessions(ctx, tx, id)
	})
}

// DeleteAPIKey deletes one of the user's keys. The sessions opened with it go in the same
// statement, by the foreign key's ON DELETE CASCADE.
func (s *Store) DeleteAPIKey(ctx context.Context, userID, id string) error {
	return s.execOne(ctx, "delete api key", storeerr.APIKeyNotFound, `DELETE FROM api_keys WHERE user_id = $1 AND id = $2`,
		userID, id)
}

// deleteAPIKeySessions deletes the sessions opened with a key.
func deleteAPIKeySessions(ctx context.Context, tx pgx.Tx, keyID string) error {
	_, err := tx.Exec(ctx, `DELETE FROM sessions WHERE api_key_id = $1`, keyID)
	return err
}

// TouchAPIKey records that the key was used at t. Errors: ENotFound when the key is gone.
func (s *Store) TouchAPIKey(ctx context.Context, id string, t time.Time) error {
	return s.execOne(ctx, "touch api key", storeerr.APIKeyNotFound, `UPDATE api_keys SET last_used_at = $1 WHERE id = $2`,
		dbTime(t), id)
}

// scanAPIKey reads one row of apiKeyColumns; no row is ENotFound.
func scanAPIKey(row rowScanner) (*latchkey.APIKey, error) {
	var (
		k      latchkey.APIKey
		limits dbval.KeyLimits
	)
	dest := append([]any{&k.ID, &k.AppID, &k.UserID, &k.Name, &k.Hash, &k.Disabled, &k.CreatedAt,
		&k.LastUsedAt, &k.Start, listColumn{&k.Scopes}, &k.ExpiresAt, &k.PreviousHash, &k.PreviousExpiresAt}, limits.Dest()...)
	if err := row.Scan(append(dest, &k.RefilledAt)...); err != nil {
		return nil, noRow(err, storeerr.APIKeyNotFound)
	}
	limits.DecodeTo(&k)
	k.RefilledAt = utcPtr(k.RefilledAt)
	k.CreatedAt = k.CreatedAt.UTC()
	k.LastUsedAt = utcPtr(k.LastUsedAt)
	k.ExpiresAt = utcPtr(k.ExpiresAt)
	k.PreviousHash = nullBytes(k.PreviousHash)
	k.PreviousExpiresAt = utcPtr(k.PreviousExpiresAt)
	return &k, nil
}

// serverKeysOf restricts a query on api_keys to the server keys of the app $1. Going through
// the app's server users uses the indexes users (app_id, type, id) and api_keys (user_id,
// ...): an app has few server users and maybe millions of keys.
const serverKeysOf = `app_id = $1 AND user_id IN (SELECT id FROM users WHERE app_id = $1 AND type = '` +
	latchkey.UserTypeServer + `')`

// CreateServerAPIKey inserts a server user (u, with its identities) and its key k, unless the
// app already has max server keys (ELimitReached) or a server key of k's name
// (EAPIKeyExists); the cap is checked first. Errors also: ENotFound when the app does not
// exist; EConflict when an id or the hash is taken.
//
// Concurrent calls for one app, from any number of pools or nodes, run one at a time: each
// locks the app's row before counting, so the count holds until the inserts commit.
func (s *Store) CreateServerAPIKey(ctx context.Context, u *latchkey.User, k *latchkey.APIKey, max int) error {
	if k.UserID != u.ID || k.AppID != u.AppID {
		return fmt.Errorf("postgres: create server api key: key %s is not of user %s in app %s", k.ID, u.ID, u.AppID)
	}
	return s.inTx(ctx, "create server api key", func(tx pgx.Tx) error {
		// FOR NO KEY UPDATE, as in CreateAPIKey: it conflicts with itself but not with the
		// KEY SHARE locks of the foreign key checks of users being inserted into the app.
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM apps WHERE id = $1 FOR NO KEY UPDATE`, k.AppID).Scan(&one); err != nil {
			return noRow(err, storeerr.AppNotFound)
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM api_keys WHERE `+serverKeysOf,
			k.AppID).Scan(&n); err != nil {
			return err
		} else if n >= max {
			return latchkey.Errorf(latchkey.ELimitReached, "app already has the maximum of %d server API keys", max)
		}
		var nameTaken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM api_keys WHERE `+serverKeysOf+` AND name = $2)`,
			k.AppID, k.Name).Scan(&nameTaken); err != nil {
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

// FindServerAPIKeys returns the app's server keys in creation order.
func (s *Store) FindServerAPIKeys(ctx context.Context, appID string) ([]*latchkey.APIKey, error) {
	rows, err := s.query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys
		WHERE `+serverKeysOf+` ORDER BY created_at, id`, appID)
	keys, err := scanAll(rows, err, scanAPIKey)
	return keys, wrap("find server api keys", err)
}

// FindServerAPIKey returns one of the app's server keys; a user's key, or another app's, is
// not found.
func (s *Store) FindServerAPIKey(ctx context.Context, appID, id string) (*latchkey.APIKey, error) {
	k, err := scanAPIKey(s.queryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys
		WHERE `+serverKeysOf+` AND id = $2`, appID, id))
	return k, wrap("find server api key", err)
}
