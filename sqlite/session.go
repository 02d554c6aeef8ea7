package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/storeerr"
)

// sessionColumns are the columns of a session row, in the order of its inserts and scans.
const sessionColumns = `id, app_id, user_id, device_id, provider, api_key_id, created_at, expires_at,
	scopes`

// The queries of every login and refresh, prepared when the store opens (stmt.go).
const (
	// insertSessionQuery inserts a session (?1 to ?9, sessionColumns) while its user is an
	// enabled user of the app.
	insertSessionQuery = `INSERT INTO sessions (` + sessionColumns + `)
		SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9
		WHERE EXISTS (SELECT 1 FROM users WHERE id = ?3 AND app_id = ?2 AND disabled = 0)`
	// insertKeySessionQuery also requires the key ?6 of the user to be enabled with the hash
	// ?10 as its current value, or as its previous value still in its grace period (at the
	// session's creation ?7) for a session that ends with it (?8).
	insertKeySessionQuery = insertSessionQuery + `
		AND EXISTS (SELECT 1 FROM api_keys WHERE id = ?6 AND user_id = ?3 AND disabled = 0
			AND (hash = ?10 OR (previous_hash = ?10 AND previous_expires_at > ?7 AND previous_expires_at >= ?8)))`
	findSessionQuery = `SELECT ` + sessionColumns + ` FROM sessions WHERE id = ?`
	// The session's columns but its id and user id (the argument and the user's id), then its
	// user's with the identities as findUserByIDQuery reads them: one row per identity, or
	// one with NULL identity columns. Every token's request runs it: each column left out is
	// work saved.
	findSessionAndUserQuery = `SELECT s.app_id, s.device_id, s.provider, s.api_key_id,
		s.created_at, s.expires_at, s.scopes, ` + userIdentityColumns + `
		FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN identities i ON i.user_id = u.id
		WHERE s.id = ?`
)

// CreateSession inserts a session while its user is enabled and, for a session with an
// APIKeyID, while sess.KeyHash is a working value of that enabled key of the user (see
// insertKeySessionQuery); otherwise ENotFound. The check is in the INSERT itself, and SQLite
// runs one write at a time: a disable or rotation commits either before the check, which
// then fails, or after the insert, and then ends the new session with the others.
// Errors also: EConflict when the id is taken.
func (s *Store) CreateSession(ctx context.Context, sess *latchkey.Session) error {
	args := []any{
		sess.ID, sess.AppID, sess.UserID, sess.DeviceID, sess.Provider, nullString(sess.APIKeyID),
		millis(sess.CreatedAt), millis(sess.ExpiresAt), encodeList(sess.Scopes),
	}
	query := insertSessionQuery
	if sess.APIKeyID != "" {
		query = insertKeySessionQuery
		args = append(args, nullBytes(sess.KeyHash))
	}

	// Concurrent logins share one commit (groupcommit.go); this returns after it.
	n, err := s.group.exec(ctx, query, args...)
	if err != nil {
		return wrap("create session", insertErr(err, "session", storeerr.UserOrAPIKeyNotFound))
	}
	if n == 0 {
		return storeerr.KeyNoLongerValid()
	}
	return nil
}

// FindSession returns a session by id, whether or not it has expired: expiry is the
// service's rule.
func (s *Store) FindSession(ctx context.Context, id string) (*latchkey.Session, error) {
	var r sessionRow
	if err := s.readStmts.QueryRowContext(ctx, findSessionQuery, id).Scan(r.dest()...); err != nil {
		return nil, wrap("find session", noRow(err, storeerr.SessionNotFound))
	}
	sess, err := r.session()
	return sess, wrap("find session", err)
}

// FindSessionAndUser returns a session by id, whether or not it has expired, with its user
// and the user's identities. It is one statement, so one step into SQLite that reads one
// snapshot, where FindSession and FindUserByID are two. The foreign key keeps a session's
// user in place, so a session is found with its user or not at all.
func (s *Store) FindSessionAndUser(ctx context.Context, id string) (*latchkey.Session, *latchkey.User, error) {
	rows, err := s.readStmts.QueryContext(ctx, findSessionAndUserQuery, id)
	if err != nil {
		return nil, nil, wrap("find session and user", err)
	}
	defer rows.Close()

	var (
		r     sessionUserRow
		users []*latchkey.User
	)
	// Every row repeats the session: it is decoded once, after the loop. The driver has
	// already made every column's value, so scanning them again only copies them.
	dest := r.dest()
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, wrap("find session and user", err)
		}
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
	sess, err := r.sr.session()
	if err != nil {
		return nil, nil, wrap("find session and user", err)
	}
	return sess, users[0], nil
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
	s := &r.sr
	d := append(r.buffer[:0], &s.sess.AppID, &s.sess.DeviceID, &s.sess.Provider, &s.apiKeyID,
		&s.createdAt, &s.expiresAt, &s.scopesJSON)
	return r.ur.appendDest(d)
}

// sessionRow receives a row's sessionColumns.
type sessionRow struct {
	sess                 latchkey.Session
	apiKeyID             sql.NullString
	createdAt, expiresAt int64
	scopesJSON           string
}

// dest returns the scan destinations of sessionColumns, in their order.
func (r *sessionRow) dest() []any {
	return []any{&r.sess.ID, &r.sess.AppID, &r.sess.UserID, &r.sess.DeviceID, &r.sess.Provider,
		&r.apiKeyID, &r.createdAt, &r.expiresAt, &r.scopesJSON}
}

// session completes the scanned session and returns it.
func (r *sessionRow) session() (*latchkey.Session, error) {
	var err error
	if r.sess.Scopes, err = decodeList(r.scopesJSON); err != nil {
		return nil, err
	}
	r.sess.APIKeyID = r.apiKeyID.String
	r.sess.CreatedAt = fromMillis(r.createdAt)
	r.sess.ExpiresAt = fromMillis(r.expiresAt)
	return &r.sess, nil
}

// DeleteSession deletes a session. Errors: ENotFound when it is already gone.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return s.execOne(ctx, "delete session", storeerr.SessionNotFound, `DELETE FROM sessions WHERE id = ?`, id)
}

// DeleteExpiredSessions deletes the sessions that expired before t and returns how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context, t time.Time) (int64, error) {
	return s.execCount(ctx, "delete expired sessions", `DELETE FROM sessions WHERE expires_at < ?`, millis(t))
}
