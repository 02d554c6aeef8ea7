package postgres

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/storeerr"
)

const sessionColumns = `id, app_id, user_id, device_id, provider, api_key_id, created_at, expires_at,
	scopes`

// insertSessionQuery inserts a session ($1 to $9, sessionColumns) while its user is an
// enabled user of the app. The check locks the user's row FOR SHARE: a concurrent disable
// (an UPDATE, which conflicts) either commits first, and the check, run again on the row
// it wrote, fails; or waits for this insert to commit and then deletes the new session with
// the others. The foreign key's own KEY SHARE lock does not conflict with that UPDATE.
const insertSessionQuery = `INSERT INTO sessions (` + sessionColumns + `)
	SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::timestamptz,
		$8::timestamptz, $9::jsonb
	WHERE EXISTS (SELECT 1 FROM users WHERE id = $3 AND app_id = $2 AND NOT disabled FOR SHARE)`

// insertKeySessionQuery also requires the key $6 of the user to be enabled with the hash $10
// as its current value, or as its previous value still in its grace period (at the session's
// creation $7) for a session that ends with it ($8). The key's row is locked FOR SHARE, so
// that a disable or rotation of the key either commits first and the check, run again on
// the row it wrote, fails; or commits after this insert and ends the new session.
const insertKeySessionQuery = insertSessionQuery + `
	AND EXISTS (
		SELECT 1 FROM api_keys WHERE id = $6 AND user_id = $3 AND NOT disabled
			AND (hash = $10 OR (previous_hash = $10 AND previous_expires_at > $7 AND previous_expires_at >= $8))
		FOR SHARE
	)`

// CreateSession inserts a session while its user is enabled and, for a session with an
// APIKeyID, while sess.KeyHash is a working value of that enabled key of the user (see
// insertKeySessionQuery); otherwise ENotFound. Errors also: EConflict when the id is taken.
func (s *Store) CreateSession(ctx context.Context, sess *latchkey.Session) error {
	query := insertSessionQuery
	args := []any{sess.ID, sess.AppID, sess.UserID, sess.DeviceID, sess.Provider,
		nullString(sess.APIKeyID), dbTime(sess.CreatedAt), dbTime(sess.ExpiresAt), jsonList(sess.Scopes)}
	if sess.APIKeyID != "" {
		query = insertKeySessionQuery
		args = append(args, nullBytes(sess.KeyHash))
	}
	return s.retry(ctx, "create session", func() error {
		tag, err := s.exec(ctx, query, args...)
		if err != nil {
			return insertErr(err, "session", storeerr.UserOrAPIKeyNotFound)
		}
		if tag.RowsAffected() == 0 {
			return storeerr.KeyNoLongerValid()
		}
		return nil
	})
}

// FindSession returns a session by id, whether or not it has expired: expiry is the
// service's rule.
func (s *Store) FindSession(ctx context.Context, id string) (*latchkey.Session, error) {
	var r sessionRow
	if err := s.queryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = $1`, id).Scan(r.dest()...); err != nil {
		return nil, wrap("find session", noRow(err, storeerr.SessionNotFound))
	}
	return r.session(), nil
}

// findSessionAndUserQuery reads a session's columns but its id and user id (the argument and
// the user's id), then its user's with the identities as FindUserByID reads them: one row per
// identity, or one with NULL identity columns. Every token's request runs it: each column
// left out is work saved on both sides.
const findSessionAndUserQuery = `SELECT s.app_id, s.device_id, s.provider, s.api_key_id,
		s.created_at, s.expires_at, s.scopes, ` + userIdentityColumns + `
	FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN identities i ON i.user_id = u.id
	WHERE s.id = $1`

// FindSessionAndUser returns a session by id, whether or not it has expired, with its user
// and the user's identities. It is one query, so one round trip that reads one snapshot,
// where FindSession and FindUserByID are two. The foreign key keeps a session's user in
// place, so a session is found with its user or not at all.
func (s *Store) FindSessionAndUser(ctx context.Context, id string) (*latchkey.Session, *latchkey.User, error) {
	rows, err := s.query(ctx, findSessionAndUserQuery, id)
	if err != nil {
		return nil, nil, wrap("find session and user", err)
	}
	defer rows.Close()

	var (
		r     sessionUserRow
		users []*latchkey.User
	)
	dest := r.dest()
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, wrap("find session and user", err)
		}
		// Every row repeats the session: the later ones skip it (pgx skips nil destinations).
		clear(dest[:sessionJoinColumns])
		if users, err = r.ur.appendTo(users); err != nil {
			return nil, nil, wrap("find session and user", err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, wrap("find session and user", err)
	}
	if len(users) == 0 {
		return nil, nil, storeerr.SessionNotFound()
	}
	r.sr.sess.ID, r.sr.sess.UserID = id, users[0].ID
	return r.sr.session(), users[0], nil
}

// sessionJoinColumns is how many of findSessionAndUserQuery's columns are the session's.
const sessionJoinColumns = 7

// sessionUserRow receives a row of findSessionAndUserQuery, into destinations allocated once.
type sessionUserRow struct {
	sr     sessionRow
	ur     userRow
	buffer [sessionJoinColumns + userIdentityColumnCount]any
}

// dest returns the scan destinations of findSessionAndUserQuery, in their order.
func (r *sessionUserRow) dest() []any {
	s := &r.sr.sess
	d := append(r.buffer[:0], &s.AppID, &s.DeviceID, &s.Provider, &r.sr.apiKeyID, &s.CreatedAt,
		&s.ExpiresAt, listColumn{&s.Scopes})
	return r.ur.appendDest(d)
}

// sessionRow receives a row's sessionColumns.
type sessionRow struct {
	sess     latchkey.Session
	apiKeyID *string
}

// dest returns the scan destinations of sessionColumns, in their order.
func (r *sessionRow) dest() []any {
	return []any{&r.sess.ID, &r.sess.AppID, &r.sess.UserID, &r.sess.DeviceID, &r.sess.Provider,
		&r.apiKeyID, &r.sess.CreatedAt, &r.sess.ExpiresAt, listColumn{&r.sess.Scopes}}
}

// session completes the scanned session and returns it.
func (r *sessionRow) session() *latchkey.Session {
	if r.apiKeyID != nil {
		r.sess.APIKeyID = *r.apiKeyID
	}
	r.sess.CreatedAt = r.sess.CreatedAt.UTC()
	r.sess.ExpiresAt = r.sess.ExpiresAt.UTC()
	return &r.sess
}

// DeleteSession deletes a session. Errors: ENotFound when it is already gone.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return s.execOne(ctx, "delete session", storeerr.SessionNotFound, `DELETE FROM sessions WHERE id = $1`, id)
}

// DeleteExpiredSessions deletes the sessions that expired before t and returns how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context, t time.Time) (int64, error) {
	return s.execCount(ctx, "delete expired sessions", `DELETE FROM sessions WHERE expires_at < $1`, t)
}
