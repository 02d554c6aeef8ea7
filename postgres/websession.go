package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/storeerr"
)

// webSessionColumns are the columns of a web session row, in the order of its insert and
// scan.
const webSessionColumns = `id_hash, app_id, admin_session_id, session_id, email, flash,
	created_at, last_seen_at, expires_at`

// CreateWebSession inserts a web session while the session it rides on exists; the foreign
// key checks that in the INSERT itself, against a delete committed at the same moment.
func (s *Store) CreateWebSession(ctx context.Context, ws *latchkey.WebSession) error {
	return s.retry(ctx, "create web session", func() error {
		_, err := s.exec(ctx, `INSERT INTO web_sessions (`+webSessionColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			ws.IDHash, nullString(ws.AppID), nullString(ws.AdminSessionID), nullString(ws.SessionID), ws.Email,
			nullBytes(ws.Flash), dbTime(ws.CreatedAt), dbTime(ws.LastSeenAt), dbTime(ws.ExpiresAt))
		if _, ok := violation(err, codeForeignKeyViolation); ok {
			return storeerr.SessionNotFound()
		} else if _, ok := violation(err, codeUniqueViolation); ok {
			return storeerr.WebSessionTaken()
		}
		return err
	})
}

// FindWebSession returns a web session by the hash of its token, whether or not it has
// expired: expiry is the service's rule.
func (s *Store) FindWebSession(ctx context.Context, idHash []byte) (*latchkey.WebSession, error) {
	var (
		ws                               latchkey.WebSession
		appID, adminSessionID, sessionID *string
	)
	err := s.queryRow(ctx, `SELECT `+webSessionColumns+` FROM web_sessions WHERE id_hash = $1`, idHash).
		Scan(&ws.IDHash, &appID, &adminSessionID, &sessionID, &ws.Email, &ws.Flash, &ws.CreatedAt, &ws.LastSeenAt, &ws.ExpiresAt)
	if err != nil {
		return nil, wrap("find web session", noRow(err, storeerr.WebSessionNotFound))
	}
	ws.AppID, ws.AdminSessionID, ws.SessionID = deref(appID), deref(adminSessionID), deref(sessionID)
	ws.CreatedAt, ws.LastSeenAt, ws.ExpiresAt = ws.CreatedAt.UTC(), ws.LastSeenAt.UTC(), ws.ExpiresAt.UTC()
	return &ws, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TouchWebSession sets a web session's LastSeenAt and ExpiresAt.
func (s *Store) TouchWebSession(ctx context.Context, idHash []byte, seen, expires time.Time) error {
	return s.execOne(ctx, "touch web session", storeerr.WebSessionNotFound,
		`UPDATE web_sessions SET last_seen_at = $1, expires_at = $2 WHERE id_hash = $3`, dbTime(seen), dbTime(expires), idHash)
}

// SetWebSessionFlash sets a web session's Flash.
func (s *Store) SetWebSessionFlash(ctx context.Context, idHash []byte, flash []byte) error {
	return s.execOne(ctx, "set web session flash", storeerr.WebSessionNotFound,
		`UPDATE web_sessions SET flash = $1 WHERE id_hash = $2`, nullBytes(flash), idHash)
}

// TakeWebSessionFlash returns a web session's Flash and clears it, in one statement: the
// row lock makes a concurrent take wait and then read the cleared flash.
func (s *Store) TakeWebSessionFlash(ctx context.Context, idHash []byte) ([]byte, error) {
	var flash []byte
	err := s.retry(ctx, "take web session flash", func() error {
		err := s.queryRow(ctx, `UPDATE web_sessions w SET flash = NULL
			FROM (SELECT id_hash, flash FROM web_sessions WHERE id_hash = $1 FOR UPDATE) old
			WHERE w.id_hash = old.id_hash RETURNING old.flash`, idHash).Scan(&flash)
		return noRow(err, storeerr.WebSessionNotFound)
	})
	if err != nil {
		return nil, err
	}
	return flash, nil
}

// DeleteWebSession deletes a web session. Errors: ENotFound when it is already gone.
func (s *Store) DeleteWebSession(ctx context.Context, idHash []byte) error {
	return s.execOne(ctx, "delete web session", storeerr.WebSessionNotFound,
		`DELETE FROM web_sessions WHERE id_hash = $1`, idHash)
}

// DeleteExpiredWebSessions deletes the web sessions that expired before t with the sessions
// they ride on, in one transaction.
func (s *Store) DeleteExpiredWebSessions(ctx context.Context, t time.Time) (int64, error) {
	return inTxValue(ctx, s, "delete expired web sessions", func(tx pgx.Tx) (int64, error) {
		return deleteExpiredWebSessions(ctx, tx, dbTime(t))
	})
}

// deleteExpiredWebSessions deletes the web sessions that expired before t and the sessions
// and admin sessions they ride on, and returns how many web sessions it deleted.
func deleteExpiredWebSessions(ctx context.Context, tx pgx.Tx, t time.Time) (int64, error) {
	rows, err := tx.Query(ctx, `DELETE FROM web_sessions WHERE expires_at < $1
		RETURNING admin_session_id, session_id`, t)
	if err != nil {
		return 0, err
	}
	var adminSessions, sessions []string
	for rows.Next() {
		var adminSession, session *string
		if err := rows.Scan(&adminSession, &session); err != nil {
			rows.Close()
			return 0, err
		}
		if adminSession != nil {
			adminSessions = append(adminSessions, *adminSession)
		} else if session != nil {
			sessions = append(sessions, *session)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM admin_sessions WHERE id = ANY($1)`, adminSessions); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE id = ANY($1)`, sessions); err != nil {
		return 0, err
	}
	return int64(len(adminSessions) + len(sessions)), nil
}
