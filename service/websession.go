package service

import (
	"context"
	"crypto/sha256"
	"time"

	"github.com/latchkey/latchkey"
)

var _ latchkey.WebSessionService = (*WebSessions)(nil)

// WebSessions keeps the signed-in browsers of the console and the self-service pages.
type WebSessions struct{ *core }

// Web sessions: the signed-in browsers of the console and the self-service pages, kept in
// the store so that any node serves any page. The store knows a browser only by the
// SHA-256 of its cookie's token; the refresh session the sign-in opened is the web
// session's authority, checked on every page, so that ending it ends the browser's session
// on every node at once.

// minWebSessionTokenLen is the shortest token a web session takes: the pages make 32
// random bytes, 43 characters in base64.
const minWebSessionTokenLen = 32

// webSessionHash is the store's key of a web session token. A plain hash suffices: the
// token is 256 random bits, not a password.
func webSessionHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// webSessionExpiry is when a web session created at created and last seen at seen ends.
func webSessionExpiry(created, seen time.Time) time.Time {
	end := created.Add(latchkey.WebSessionLifetime)
	if idle := seen.Add(latchkey.WebSessionIdle); idle.Before(end) {
		return idle
	}
	return end
}

// CreateWebSession signs a browser in with token on the caller's refresh session.
func (s *WebSessions) CreateWebSession(ctx context.Context, token, email string) error {
	if len(token) < minWebSessionTokenLen {
		return latchkey.Errorf(latchkey.EBadRequest, "web session token too short")
	}
	now := s.now()
	ws := &latchkey.WebSession{
		IDHash: webSessionHash(token), Email: email,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: webSessionExpiry(now, now),
	}
	if admin := latchkey.AdminFromContext(ctx); admin != nil && admin.TokenType == latchkey.AdminRefreshToken {
		ws.AdminSessionID = admin.SessionID
	} else if auth, err := requireAuth(ctx, latchkey.RefreshToken); err == nil {
		ws.AppID, ws.SessionID = auth.App.ID, auth.Session.ID
	} else {
		return err
	}
	err := s.store.CreateWebSession(ctx, ws)
	if latchkey.ErrorCode(err) == latchkey.ENotFound {
		return latchkey.Errorf(latchkey.EUnauthenticated, "invalid session")
	}
	return err
}

// AuthenticateWebSession returns the caller of a live web session of the console (app nil)
// or of app's self-service page, and records that it was seen, at most once a minute.
func (s *WebSessions) AuthenticateWebSession(ctx context.Context, app *latchkey.App, token string) (*latchkey.WebSessionAuth, error) {
	ws, err := s.store.FindWebSession(ctx, webSessionHash(token))
	if err != nil {
		return nil, err
	}
	if app == nil && ws.AdminSessionID == "" || app != nil && ws.AppID != app.ID {
		return nil, latchkey.Errorf(latchkey.ENotFound, "web session not found")
	}
	now := s.now()
	wa := &latchkey.WebSessionAuth{Session: ws}
	live := now.Before(ws.ExpiresAt)
	if live && app == nil {
		wa.Admin, err = s.webSessionAdmin(ctx, ws, now)
		live = wa.Admin != nil
	} else if live {
		wa.User, err = s.webSessionUser(ctx, app, ws, now)
		live = wa.User != nil
	}
	if err != nil {
		return nil, err
	}
	if !live {
		if err := s.endWebSession(ctx, ws); err != nil {
			return nil, err
		}
		return nil, latchkey.Errorf(latchkey.EUnauthenticated, "web session ended")
	}
	if now.Sub(ws.LastSeenAt) >= latchkey.WebSessionTouchEvery {
		ws.LastSeenAt, ws.ExpiresAt = now, webSessionExpiry(ws.CreatedAt, now)
		err := s.store.TouchWebSession(ctx, ws.IDHash, ws.LastSeenAt, ws.ExpiresAt)
		if latchkey.ErrorCode(err) == latchkey.ENotFound {
			return nil, latchkey.Errorf(latchkey.EUnauthenticated, "web session ended")
		} else if err != nil {
			return nil, err
		}
	}
	return wa, nil
}

// webSessionAdmin returns the admin of a console web session as an admin access token has
// it, or nil when its admin session has ended or its admin is gone.
func (s *core) webSessionAdmin(ctx context.Context, ws *latchkey.WebSession, now time.Time) (*latchkey.AdminAuth, error) {
	sess, err := s.store.FindAdminSession(ctx, ws.AdminSessionID)
	if latchkey.ErrorCode(err) == latchkey.ENotFound {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if !now.Before(sess.ExpiresAt) {
		return nil, nil
	}
	a, err := s.store.FindAdminByID(ctx, sess.AdminID)
	if latchkey.ErrorCode(err) == latchkey.ENotFound {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return &latchkey.AdminAuth{Admin: a, SessionID: sess.ID, TokenType: latchkey.AdminAccessToken}, nil
}

// webSessionUser returns the user of a self-service web session as the user's refresh
// token has it, or nil when the session has ended or the user is disabled, as Authenticate
// checks.
func (s *core) webSessionUser(ctx context.Context, app *latchkey.App, ws *latchkey.WebSession, now time.Time) (*latchkey.Auth, error) {
	sess, u, err := s.store.FindSessionAndUser(ctx, ws.SessionID)
	if latchkey.ErrorCode(err) == latchkey.ENotFound {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if sess.AppID != app.ID || !now.Before(sess.ExpiresAt) || u.AppID != app.ID || u.Disabled {
		return nil, nil
	}
	return &latchkey.Auth{
		App: app, User: u, SessionID: sess.ID, TokenType: latchkey.RefreshToken, Session: sess, DeviceID: sess.DeviceID,
	}, nil
}

// endWebSession deletes a web session and the session it rides on, which no one else holds
// a token of. Either may be gone already.
func (s *core) endWebSession(ctx context.Context, ws *latchkey.WebSession) error {
	var err error
	if ws.AdminSessionID != "" {
		err = s.store.DeleteAdminSession(ctx, ws.AdminSessionID)
	} else {
		err = s.store.DeleteSession(ctx, ws.SessionID)
	}
	if err != nil && latchkey.ErrorCode(err) != latchkey.ENotFound {
		return err
	}
	// Deleting the session deleted the web session with it; this is for one whose session
	// was already gone.
	if err := s.store.DeleteWebSession(ctx, ws.IDHash); err != nil && latchkey.ErrorCode(err) != latchkey.ENotFound {
		return err
	}
	return nil
}

// EndWebSession signs a browser out, as a logout of the session it rides on.
func (s *WebSessions) EndWebSession(ctx context.Context, token string) error {
	unauthenticated := latchkey.Errorf(latchkey.EUnauthenticated, "must authenticate first")
	ws, err := s.store.FindWebSession(ctx, webSessionHash(token))
	if latchkey.ErrorCode(err) == latchkey.ENotFound {
		return unauthenticated
	} else if err != nil {
		return err
	}
	if ws.AdminSessionID != "" {
		admin := latchkey.AdminFromContext(ctx)
		if admin == nil || admin.Admin == nil || admin.SessionID != ws.AdminSessionID {
			return unauthenticated
		}
		err = s.endWebSession(ctx, ws)
		s.audit(ctx, nil, latchkey.EventAdminLogout, err, "admin", admin.Admin.ID, nil)
		return err
	}
	auth := latchkey.AuthFromContext(ctx)
	if auth == nil || auth.User == nil || auth.Session == nil || auth.Session.ID != ws.SessionID {
		return unauthenticated
	}
	err = s.endWebSession(ctx, ws)
	s.audit(ctx, auth.App, latchkey.EventLogout, err, "user", auth.User.ID, nil)
	return err
}

// SetWebSessionFlash keeps a sealed message for the web session's next page.
func (s *WebSessions) SetWebSessionFlash(ctx context.Context, token string, flash []byte) error {
	return s.store.SetWebSessionFlash(ctx, webSessionHash(token), flash)
}

// TakeWebSessionFlash returns the web session's message and forgets it.
func (s *WebSessions) TakeWebSessionFlash(ctx context.Context, token string) ([]byte, error) {
	return s.store.TakeWebSessionFlash(ctx, webSessionHash(token))
}

// DeleteExpiredWebSessions removes the web sessions past their lifetimes, with the sessions
// they ride on.
func (s *Service) DeleteExpiredWebSessions(ctx context.Context) (int64, error) {
	return s.store.DeleteExpiredWebSessions(ctx, s.now())
}
