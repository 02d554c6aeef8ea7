package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/storeerr"
)

// webSessionColumns are the columns of a web session row, in the order of its insert and
// scan.
const webSessionColumns = `id_hash, app_id, admin_session_id, session_id, email, flash,
	created_at, last_seen_at, expires_at`

// CreateWebSession inserts a web session while the session it rides on exists; the foreign
// key checks that in the INSERT itself.
func (s *Store) CreateWebSession(ctx context.Context, ws *latchkey.WebSession) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO web_sessions (`+webSessionColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ws.IDHash, nullString(ws.AppID), nullString(ws.AdminSessionID), nullString(ws.SessionID), ws.Email,
		nullBytes(ws.Flash), millis(ws.CreatedAt), millis(ws.LastSeenAt), millis(ws.ExpiresAt))
	switch {
	case isPrimaryKeyViolation(err):
		return storeerr.WebSessionTaken()
	case isForeignKeyViolation(err):
		return storeerr.SessionNotFound()
	}
	return wrap("create web session", err)
}

// FindWebSession returns a web session by the hash of its token, whether or not it has
// expired: expiry is the service's rule.
func (s *Store) FindWebSession(ctx context.Context, idHash []byte) (*latchkey.WebSession, error) {
	var (
		ws                               latchkey.WebSession
		appID, adminSessionID, sessionID sql.NullString
		createdAt, lastSeenAt, expiresAt int64
	)
	err := s.read.QueryRowContext(ctx, `SELECT `+webSessionColumns+` FROM web_sessions WHERE id_hash = ?`, idHash).
		Scan(&ws.IDHash, &appID, &adminSessionID, &sessionID, &ws.Email, &ws.Flash, &createdAt, &lastSeenAt, &expiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, storeerr.WebSessionNotFound()
	} else if err != nil {
		return nil, wrap("find web session", err)
	}
	ws.AppID, ws.AdminSessionID, ws.SessionID = appID.String, adminSessionID.String, sessionID.String
	ws.CreatedAt, ws.LastSeenAt, ws.ExpiresAt = fromMillis(createdAt), fromMillis(lastSeenAt), fromMillis(expiresAt)
	return &ws, nil
}

// TouchWebSession sets a web session's LastSeenAt and ExpiresAt.
func (s *Store) TouchWebSession(ctx context.Context, idHash []byte, seen, expires time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE web_sessions SET last_seen_at = ?, expires_at = ? WHERE id_hash = ?`,
		millis(seen), millis(expires), idHash)
	if err != nil {
		return wrap("touch web session", err)
	}
	return wrap("touch web session", requireRows(res, "web session not found"))
}

// SetWebSessionFlash sets a web session's Flash.
func (s *Store) SetWebSessionFlash(ctx context.Context, idHash []byte, flash []byte) error {
	res, err := s.write.ExecContext(ctx, `UPDATE web_sessions SET flash = ? WHERE id_hash = ?`, nullBytes(flash), idHash)
	if err != nil {
		return wrap("set web session flash", err)
	}
	return wrap("set web session flash", requireRows(res, "web session not found"))
}

// TakeWebSessionFlash returns a web session's Flash and clears it. The read and the update
// are one write transaction, and SQLite runs one at a time.
func (s *Store) TakeWebSessionFlash(ctx context.Context, idHash []byte) ([]byte, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, wrap("take web session flash", err)
	}
	defer tx.Rollback()

	var flash []byte
	err = tx.QueryRowContext(ctx, `SELECT flash FROM web_sessions WHERE id_hash = ?`, idHash).Scan(&flash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, storeerr.WebSessionNotFound()
	} else if err != nil {
		return nil, wrap("take web session flash", err)
	}
	if flash == nil {
		return nil, nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE web_sessions SET flash = NULL WHERE id_hash = ?`, idHash); err != nil {
		return nil, wrap("take web session flash", err)
	}
	return flash, wrap("take web session flash", tx.Commit())
}

// DeleteWebSession deletes a web session. Errors: ENotFound when it is already gone.
func (s *Store) DeleteWebSession(ctx context.Context, idHash []byte) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM web_sessions WHERE id_hash = ?`, idHash)
	if err != nil {
		return wrap("delete web session", err)
	}
	return wrap("delete web session", requireRows(res, "web session not found"))
}

// DeleteExpiredWebSessions deletes the web sessions that expired before t with the sessions
// they ride on, in one transaction.
func (s *Store) DeleteExpiredWebSessions(ctx context.Context, t time.Time) (int64, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, wrap("delete expired web sessions", err)
	}
	defer tx.Rollback()

	n, err := deleteExpiredWebSessions(ctx, tx, millis(t))
	if err != nil {
		return 0, wrap("delete expired web sessions", err)
	}
	return n, wrap("delete expired web sessions", tx.Commit())
}

func deleteExpiredWebSessions(ctx context.Context, tx *sql.Tx, t int64) (int64, error) {
	// Count first: deleting the sessions deletes most of the web sessions by cascade.
	var n int64
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM web_sessions WHERE expires_at < ?`, t).Scan(&n); err != nil {
		return 0, err
	}
	for _, q := range []string{
		`DELETE FROM admin_sessions WHERE id IN (SELECT admin_session_id FROM web_sessions WHERE expires_at < ?)`,
		`DELETE FROM sessions WHERE id IN (SELECT session_id FROM web_sessions WHERE expires_at < ?)`,
		`DELETE FROM web_sessions WHERE expires_at < ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, t); err != nil {
			return 0, err
		}
	}
	return n, nil
}
