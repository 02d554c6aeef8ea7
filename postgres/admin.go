package postgres

import (
	"context"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/storeerr"
)

// adminColumns are the columns scanAdmin reads, in its order.
const adminColumns = `id, email, password_hash, created_at`

// CreateAdmin inserts an admin. Errors: EConflict when the email or the id is taken.
func (s *Store) CreateAdmin(ctx context.Context, a *latchkey.Admin) error {
	return s.retry(ctx, "create admin", func() error {
		_, err := s.exec(ctx, `INSERT INTO admins (`+adminColumns+`) VALUES ($1, $2, $3, $4)`,
			a.ID, a.Email, a.PasswordHash, dbTime(a.CreatedAt))
		if constraint, ok := violation(err, codeUniqueViolation); ok && constraint == "admins_email_key" {
			return storeerr.AdminEmailTaken()
		}
		return insertErr(err, "admin", nil)
	})
}

// FindAdminByEmail returns an admin by email. The email is compared as given: the service
// lowercases it.
func (s *Store) FindAdminByEmail(ctx context.Context, email string) (*latchkey.Admin, error) {
	a, err := scanAdmin(s.queryRow(ctx, `SELECT `+adminColumns+` FROM admins WHERE email = $1`, email))
	return a, wrap("find admin by email", err)
}

// FindAdminByID returns an admin by id.
func (s *Store) FindAdminByID(ctx context.Context, id string) (*latchkey.Admin, error) {
	a, err := scanAdmin(s.queryRow(ctx, `SELECT `+adminColumns+` FROM admins WHERE id = $1`, id))
	return a, wrap("find admin by id", err)
}

// CountAdmins returns how many admins exist.
func (s *Store) CountAdmins(ctx context.Context) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT count(*) FROM admins`).Scan(&n)
	return n, wrap("count admins", err)
}

// scanAdmin reads one row of adminColumns; no row is ENotFound.
func scanAdmin(row rowScanner) (*latchkey.Admin, error) {
	var a latchkey.Admin
	if err := row.Scan(&a.ID, &a.Email, &a.PasswordHash, &a.CreatedAt); err != nil {
		return nil, noRow(err, storeerr.AdminNotFound)
	}
	a.CreatedAt = a.CreatedAt.UTC()
	return &a, nil
}

// CreateAdminSession inserts an admin session.
// Errors: ENotFound when the admin does not exist; EConflict when the id is taken.
func (s *Store) CreateAdminSession(ctx context.Context, sess *latchkey.AdminSession) error {
	return s.execInsert(ctx, "create admin session", "admin session", storeerr.AdminNotFound,
		`INSERT INTO admin_sessions (id, admin_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		sess.ID, sess.AdminID, dbTime(sess.CreatedAt), dbTime(sess.ExpiresAt))
}

// FindAdminSession returns an admin session by id, whether or not it has expired: expiry is
// the service's rule.
func (s *Store) FindAdminSession(ctx context.Context, id string) (*latchkey.AdminSession, error) {
	var sess latchkey.AdminSession
	err := s.queryRow(ctx, `SELECT id, admin_id, created_at, expires_at FROM admin_sessions WHERE id = $1`, id).
		Scan(&sess.ID, &sess.AdminID, &sess.CreatedAt, &sess.ExpiresAt)
	if err != nil {
		return nil, wrap("find admin session", noRow(err, storeerr.AdminSessionNotFound))
	}
	sess.CreatedAt = sess.CreatedAt.UTC()
	sess.ExpiresAt = sess.ExpiresAt.UTC()
	return &sess, nil
}

// DeleteAdminSession deletes an admin session. Errors: ENotFound when it is already gone.
func (s *Store) DeleteAdminSession(ctx context.Context, id string) error {
	return s.execOne(ctx, "delete admin session", storeerr.AdminSessionNotFound,
		`DELETE FROM admin_sessions WHERE id = $1`, id)
}
