package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/latchkey/latchkey"
)

const sessionColumns = `id, app_id, user_id, device_id, provider, api_key_id, created_at, expires_at,
	scopes`

// CreateSession inserts a session.
//
// A session with an APIKeyID is inserted only while that key of the user exists and is
// enabled. The check takes a share lock on the key's row: a concurrent disable or delete
// either waits for this insert to commit and then deletes the new session, or commits first
// and makes the check fail.
func (s *Store) CreateSession(ctx context.Context, sess *latchkey.Session) error {
	query := `INSERT INTO sessions (` + sessionColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`
	if sess.APIKeyID != "" {
		query = `INSERT INTO sessions (` + sessionColumns + `)
			SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::timestamptz, $8::timestamptz,
				$9::jsonb
			WHERE EXISTS (
				SELECT 1 FROM api_keys WHERE id = $6 AND user_id = $3 AND NOT disabled FOR SHARE
			)`
	}
	return s.retry(ctx, "create session", func() error {
		tag, err := s.pool.Exec(ctx, query, sess.ID, sess.AppID, sess.UserID, sess.DeviceID, sess.Provider,
			nullString(sess.APIKeyID), dbTime(sess.CreatedAt), dbTime(sess.ExpiresAt), list(sess.Scopes))
		if _, ok := violation(err, codeForeignKeyViolation); ok {
			return latchkey.Errorf(latchkey.ENotFound, "user or API key not found")
		} else if _, ok := violation(err, codeUniqueViolation); ok {
			return latchkey.Errorf(latchkey.EConflict, "session already exists")
		} else if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return latchkey.Errorf(latchkey.ENotFound, "API key not found")
		}
		return nil
	})
}

// FindSession returns a session by id, whether or not it has expired.
func (s *Store) FindSession(ctx context.Context, id string) (*latchkey.Session, error) {
	var sess latchkey.Session
	var apiKeyID *string
	err := s.pool.QueryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = $1`, id).
		Scan(&sess.ID, &sess.AppID, &sess.UserID, &sess.DeviceID, &sess.Provider, &apiKeyID,
			&sess.CreatedAt, &sess.ExpiresAt, &sess.Scopes)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, latchkey.Errorf(latchkey.ENotFound, "session not found")
	} else if err != nil {
		return nil, wrap("find session", err)
	}
	if apiKeyID != nil {
		sess.APIKeyID = *apiKeyID
	}
	sess.Scopes = nilIfEmpty(sess.Scopes)
	sess.CreatedAt = sess.CreatedAt.UTC()
	sess.ExpiresAt = sess.ExpiresAt.UTC()
	return &sess, nil
}

// DeleteSession deletes a session.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return s.retry(ctx, "delete session", func() error {
		tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return latchkey.Errorf(latchkey.ENotFound, "session not found")
		}
		return nil
	})
}

// DeleteExpiredSessions deletes the sessions that expired before t and returns how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context, t time.Time) (int64, error) {
	var n int64
	err := s.retry(ctx, "delete expired sessions", func() error {
		tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at < $1`, t)
		n = tag.RowsAffected()
		return err
	})
	return n, err
}
