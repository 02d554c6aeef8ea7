package service

import (
	"context"

	"github.com/latchkey/latchkey"
)

var _ latchkey.AdminService = (*Admins)(nil)

// Admins keeps the admin accounts and their sessions.
type Admins struct{ *core }

// adminAudience is the "aud" of admin tokens: no client app id can take it, as client app
// ids may not contain a colon.
const adminAudience = "latchkey:admin"

// CreateAdmin creates an admin account.
func (s *Admins) CreateAdmin(ctx context.Context, email, password string) (*latchkey.Admin, error) {
	email = normalizeEmail(email)
	if err := validateEmail(email); err != nil {
		return nil, err
	}
	if err := validatePassword(password, adminPasswordMinLength); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return nil, err
	}
	now := s.now()
	a := &latchkey.Admin{ID: latchkey.NewID(now), Email: email, PasswordHash: hash, CreatedAt: now}
	err = s.store.CreateAdmin(ctx, a)
	if latchkey.ErrorCode(err) == latchkey.EConflict {
		err = latchkey.Errorf(latchkey.EAccountNameInUse, "name already in use")
	}
	s.audit(ctx, nil, latchkey.EventAdminCreated, err, "admin", a.ID, map[string]string{"email": email})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// adminPasswordMinLength is stricter than apps' default: an admin opens everything.
const adminPasswordMinLength = 10

// EnsureAdmin creates the first admin when there is none; it does nothing otherwise. It is
// how LATCHKEY_ADMIN_EMAIL and LATCHKEY_ADMIN_PASSWORD bootstrap a new server.
func (s *Service) EnsureAdmin(ctx context.Context, email, password string) (created bool, err error) {
	n, err := s.store.CountAdmins(ctx)
	if err != nil || n > 0 {
		return false, err
	}
	if _, err := s.Admins.CreateAdmin(ctx, email, password); latchkey.ErrorCode(err) == latchkey.EAccountNameInUse {
		return false, nil // another node created it first
	} else if err != nil {
		return false, err
	}
	return true, nil
}

// LogInAdmin checks an admin's credentials and opens an admin session.
func (s *Admins) LogInAdmin(ctx context.Context, email, password string) (_ *latchkey.Login, err error) {
	email = normalizeEmail(email)
	done, err := s.limitAdminLogIn(ctx, email)
	if err != nil {
		return nil, err
	}
	defer func() { done(err) }()
	a, err := s.store.FindAdminByEmail(ctx, email)
	if err != nil && latchkey.ErrorCode(err) != latchkey.ENotFound {
		return nil, err
	}
	hash := ""
	if a != nil {
		hash = a.PasswordHash
	}
	ok, err := s.hasher.Verify(ctx, password, hash)
	if err != nil {
		return nil, err
	}
	if a == nil || !ok {
		err := latchkey.Errorf(latchkey.EInvalidPassword, "unauthorized")
		s.audit(ctx, nil, latchkey.EventAdminLogin, err, "admin", "", map[string]string{"email": email})
		return nil, err
	}
	now := s.now()
	sess := &latchkey.AdminSession{ID: latchkey.NewID(now), AdminID: a.ID, CreatedAt: now, ExpiresAt: now.Add(latchkey.AdminRefreshTokenLifetime)}
	if err := s.store.CreateAdminSession(ctx, sess); err != nil {
		return nil, err
	}
	access, err := s.adminAccessToken(a.ID, sess.ID)
	if err != nil {
		return nil, err
	}
	refresh, err := s.tokens.Sign(&claims{
		Subject: a.ID, Audience: adminAudience, Issuer: s.issuer, IssuedAt: now.Unix(),
		ExpiresAt: sess.ExpiresAt.Unix(), Type: string(latchkey.AdminRefreshToken), SessionID: sess.ID,
	})
	if err != nil {
		return nil, err
	}
	ctx = latchkey.NewContextWithAdmin(ctx, &latchkey.AdminAuth{Admin: a, SessionID: sess.ID})
	s.audit(ctx, nil, latchkey.EventAdminLogin, nil, "admin", a.ID, nil)
	return &latchkey.Login{AccessToken: access, RefreshToken: refresh, UserID: a.ID, DeviceID: latchkey.ZeroID}, nil
}

func (s *core) adminAccessToken(adminID, sessionID string) (string, error) {
	now := s.now()
	return s.tokens.Sign(&claims{
		Subject: adminID, Audience: adminAudience, Issuer: s.issuer, IssuedAt: now.Unix(),
		ExpiresAt: now.Add(latchkey.AccessTokenLifetime).Unix(), Type: string(latchkey.AdminAccessToken), SessionID: sessionID,
	})
}

// AuthenticateAdmin verifies an admin token. Admin refresh tokens need a live admin session.
func (s *Admins) AuthenticateAdmin(ctx context.Context, token string, typ latchkey.TokenType) (*latchkey.AdminAuth, error) {
	c, err := s.tokens.Verify(ctx, token, typ)
	if err != nil {
		return nil, err
	}
	invalid := latchkey.Errorf(latchkey.EUnauthenticated, "invalid session")
	if c.Audience != adminAudience {
		return nil, invalid
	}
	// Both kinds of token live only while their session does: a logout or a revoked
	// session refuses its access tokens at once too, on every node.
	ended := invalid
	if typ == latchkey.AdminRefreshToken {
		ended = latchkey.Errorf(latchkey.EUnauthenticated, "invalid session: failed to find refresh token")
	}
	sess, err := s.store.FindAdminSession(ctx, c.SessionID)
	if latchkey.ErrorCode(err) == latchkey.ENotFound {
		return nil, ended
	} else if err != nil {
		return nil, err
	}
	if sess.AdminID != c.Subject || !s.now().Before(sess.ExpiresAt) {
		return nil, ended
	}
	a, err := s.store.FindAdminByID(ctx, c.Subject)
	if latchkey.ErrorCode(err) == latchkey.ENotFound {
		return nil, invalid
	} else if err != nil {
		return nil, err
	}
	return &latchkey.AdminAuth{Admin: a, SessionID: c.SessionID, TokenType: typ}, nil
}

// RefreshAdmin issues a new admin access token.
func (s *Admins) RefreshAdmin(ctx context.Context) (string, error) {
	auth := latchkey.AdminFromContext(ctx)
	if auth == nil || auth.TokenType != latchkey.AdminRefreshToken {
		return "", latchkey.Errorf(latchkey.EUnauthenticated, "must authenticate first")
	}
	return s.adminAccessToken(auth.Admin.ID, auth.SessionID)
}

// LogOutAdmin ends the caller's admin session.
func (s *Admins) LogOutAdmin(ctx context.Context) error {
	auth := latchkey.AdminFromContext(ctx)
	if auth == nil || auth.TokenType != latchkey.AdminRefreshToken {
		return latchkey.Errorf(latchkey.EUnauthenticated, "must authenticate first")
	}
	err := s.store.DeleteAdminSession(ctx, auth.SessionID)
	if latchkey.ErrorCode(err) == latchkey.ENotFound {
		err = latchkey.Errorf(latchkey.EUnauthenticated, "invalid session: failed to find refresh token")
	}
	s.audit(ctx, nil, latchkey.EventAdminLogout, err, "admin", auth.Admin.ID, nil)
	return err
}

// requireAdmin returns the admin caller with an admin access token.
func requireAdmin(ctx context.Context) (*latchkey.AdminAuth, error) {
	auth := latchkey.AdminFromContext(ctx)
	if auth == nil || auth.Admin == nil || auth.TokenType != latchkey.AdminAccessToken {
		return nil, latchkey.Errorf(latchkey.EUnauthenticated, "must authenticate first")
	}
	return auth, nil
}
