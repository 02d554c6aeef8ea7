package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/latchkey/latchkey"
)

// sessionColumns are the columns of a session row, in the order of its inserts and scans.
const sessionColumns = `id, app_id, user_id, device_id, provider, api_key_id, created_at, expires_at,
	scopes`

// The queries of every login and refresh, prepared when the store opens (stmt.go).
const (
	insertSessionQuery    = `INSERT INTO sessions (` + sessionColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	insertKeySessionQuery = `INSERT INTO sessions (` + sessionColumns + `)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?
		WHERE EXISTS (SELECT 1 FROM api_keys WHERE id = ? AND user_id = ? AND disabled = 0)`
	findSessionQuery = `SELECT ` + sessionColumns + ` FROM sessions WHERE id = ?`
)

// CreateSession inserts a session. A session with an APIKeyID is inserted only while that key
// exists, belongs to the session's user and is enabled, checked in the INSERT itself so that a
// key disabled during a login cannot leave a live session behind; otherwise ENotFound.
// Errors also: EConflict when the id is taken; ENotFound when the user does not exist.
func (s *Store) CreateSession(ctx context.Context, sess *latchkey.Session) error {
	scopesJSON, err := encodeList(sess.Scopes)
	if err != nil {
		return wrap("create session", err)
	}
	args := []any{
		sess.ID, sess.AppID, sess.UserID, sess.DeviceID, sess.Provider, nullString(sess.APIKeyID),
		millis(sess.CreatedAt), millis(sess.ExpiresAt), scopesJSON,
	}
	query := insertSessionQuery
	if sess.APIKeyID != "" {
		query = insertKeySessionQuery
		args = append(args, sess.APIKeyID, sess.UserID)
	}

	// Concurrent logins share one commit (groupcommit.go); this returns after it.
	n, err := s.group.exec(ctx, query, args...)
	switch {
	case isPrimaryKeyViolation(err):
		return latchkey.Errorf(latchkey.EConflict, "a session with id %q already exists", sess.ID)
	case isForeignKeyViolation(err):
		return latchkey.Errorf(latchkey.ENotFound, "user not found")
	case err != nil:
		return wrap("create session", err)
	}
	if n == 0 {
		return latchkey.Errorf(latchkey.ENotFound, "API key not found or disabled")
	}
	return nil
}

// FindSession returns a session by id, whether or not it has expired: expiry is the
// service's rule.
func (s *Store) FindSession(ctx context.Context, id string) (*latchkey.Session, error) {
	var (
		sess                 latchkey.Session
		apiKeyID             sql.NullString
		createdAt, expiresAt int64
		scopesJSON           string
	)
	err := s.readStmts.QueryRowContext(ctx, findSessionQuery, id).Scan(
		&sess.ID, &sess.AppID, &sess.UserID, &sess.DeviceID, &sess.Provider, &apiKeyID,
		&createdAt, &expiresAt, &scopesJSON,
	)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, latchkey.Errorf(latchkey.ENotFound, "session not found")
	} else if err != nil {
		return nil, wrap("find session", err)
	}
	if sess.Scopes, err = decodeList(scopesJSON); err != nil {
		return nil, wrap("find session", err)
	}
	sess.APIKeyID = apiKeyID.String
	sess.CreatedAt = fromMillis(createdAt)
	sess.ExpiresAt = fromMillis(expiresAt)
	return &sess, nil
}

// DeleteSession deletes a session. Errors: ENotFound when it is already gone.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id)
	if err != nil {
		return wrap("delete session", err)
	}
	return wrap("delete session", requireRows(res, "session not found"))
}

// DeleteExpiredSessions deletes the sessions that expired before t and returns how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ?`, millis(t))
	if err != nil {
		return 0, wrap("delete expired sessions", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("delete expired sessions", err)
}
