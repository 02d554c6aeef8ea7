package sqlite

import (
	"context"
	"database/sql"
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
	if err != nil {
		return nil, wrap("find web session", noRow(err, storeerr.WebSessionNotFound))
	}
	ws.AppID, ws.AdminSessionID, ws.SessionID = appID.String, adminSessionID.String, sessionID.String
	ws.CreatedAt, ws.LastSeenAt, ws.ExpiresAt = fromMillis(createdAt), fromMillis(lastSeenAt), fromMillis(expiresAt)
	return &ws, nil
}

// TouchWebSession sets a web session's LastSeenAt and ExpiresAt.
func (s *Store) TouchWebSession(ctx context.Context, idHash []byte, seen, expires time.Time) error {
	return s.execOne(ctx, "touch web session", storeerr.WebSessionNotFound,
		`UPDATE web_sessions SET last_seen_at = ?, expires_at = ? WHERE id_hash = ?`, millis(seen), millis(expires), idHash)
}

// SetWebSessionFlash sets a web session's Flash.
func (s *Store) SetWebSessionFlash(ctx context.Context, idHash []byte, flash []byte) error {
	return s.execOne(ctx, "set web session flash", storeerr.WebSessionNotFound,
		`UPDATE web_sessions SET flash = ? WHERE id_hash = ?`, nullBytes(flash), idHash)
}

// TakeWebSessionFlash returns a web session's Flash and clears it. The read and the update
// are one write transaction, and SQLite runs one at a time.
func (s *Store) TakeWebSessionFlash(ctx context.Context, idHash []byte) ([]byte, error) {
	return inTxValue(ctx, s, "take web session flash", func(tx *sql.Tx) ([]byte, error) {
		var flash []byte
		err := tx.QueryRowContext(ctx, `SELECT flash FROM web_sessions WHERE id_hash = ?`, idHash).Scan(&flash)
		if err != nil || flash == nil {
			return nil, noRow(err, storeerr.WebSessionNotFound)
		}
		_, err = tx.ExecContext(ctx, `UPDATE web_sessions SET flash = NULL WHERE id_hash = ?`, idHash)
		return flash, err
	})
}

// DeleteWebSession deletes a web session. Errors: ENotFound when it is already gone.
func (s *Store) DeleteWebSession(ctx context.Context, idHash []byte) error {
	return s.execOne(ctx, "delete web session", storeerr.WebSessionNotFound,
		`DELETE FROM web_sessions WHERE id_hash = ?`, idHash)
}

// DeleteExpiredWebSessions deletes the web sessions that expired before t with the sessions
// they ride on, in one transaction.
func (s *Store) DeleteExpiredWebSessions(ctx context.Context, t time.Time) (int64, error) {
	return inTxValue(ctx, s, "delete expired web sessions", func(tx *sql.Tx) (int64, error) {
		return deleteExpiredWebSessions(ctx, tx, millis(t))
	})
}

// deleteExpiredWebSessions deletes the web sessions that expired before t and the sessions
// and admin sessions they ride on, and returns how many web sessions it deleted.
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
