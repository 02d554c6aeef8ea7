package ui

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/latchkey/latchkey"
)

type sessionContextKey struct{}

// current is the signed-in browser of a request.
type current struct {
	id string
	s  *session
}

func currentOf(r *http.Request) *current {
	c, _ := r.Context().Value(sessionContextKey{}).(*current)
	return c
}

// withAdmin runs h for a signed-in admin, with the admin's access in the context the way the
// admin API would have it; anyone else goes to the sign-in page.
func (h *Handler) withAdmin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := sessionID(r)
		s := h.sessions.get(id, consoleArea)
		if s == nil {
			// A page opened from a link (an error's request link, a bookmark) opens again
			// once the admin has signed in.
			target := consolePath + "/sign-in"
			if r.Method == http.MethodGet {
				if next := consoleNext(r.URL.RequestURI()); next != "" {
					target += "?next=" + url.QueryEscape(next)
				}
			}
			seeOther(w, r, target)
			return
		}
		ctx, err := h.adminContext(r.Context(), s)
		if latchkey.ErrorCode(err) == latchkey.EUnauthenticated {
			// The admin session ended elsewhere (logged out, expired, admin deleted).
			h.sessions.remove(id)
			seeOther(w, r, consolePath+"/sign-in?ended=1")
			return
		} else if err != nil {
			h.internal(w, r, err)
			return
		}
		ctx = context.WithValue(ctx, sessionContextKey{}, &current{id: id, s: s})
		next(w, r.WithContext(ctx))
	}
}

// adminContext checks that the admin session behind s is still live and returns ctx with an
// admin access token's authentication, minting a new access token when the last is near
// its end.
func (h *Handler) adminContext(ctx context.Context, s *session) (context.Context, error) {
	refresh, err := h.admin.AuthenticateAdmin(ctx, s.refresh, latchkey.AdminRefreshToken)
	if err != nil {
		return nil, err
	}
	access, exp := h.sessions.accessToken(s)
	now := h.now()
	if access == "" || now.After(exp) {
		if access, err = h.admin.RefreshAdmin(latchkey.NewContextWithAdmin(ctx, refresh)); err != nil {
			return nil, err
		}
		// Renewed well before the token's own end, so a slow request never holds a stale one.
		h.sessions.setAccessToken(s, access, now.Add(latchkey.AccessTokenLifetime/2))
	}
	auth, err := h.admin.AuthenticateAdmin(ctx, access, latchkey.AdminAccessToken)
	if err != nil {
		return nil, err
	}
	return latchkey.NewContextWithAdmin(ctx, auth), nil
}

// consolePage is the page data of a signed-in console page; it takes the session's flash.
func (h *Handler) consolePage(r *http.Request, title, nav string, app *latchkey.App, data any) *pageData {
	c := currentOf(r)
	return &pageData{
		Title: title, Console: true, Nav: nav, CSRF: h.csrfToken(r, c.id), Who: c.s.email, App: app,
		Flash: h.sessions.takeFlash(c.s), Data: data,
	}
}

// done ends a POST: a message for the next page, then a redirect to it.
func (h *Handler) done(w http.ResponseWriter, r *http.Request, target, message string) {
	if c := currentOf(r); c != nil {
		h.sessions.setFlash(c.s, &flash{Message: message})
	}
	seeOther(w, r, target)
}

func (h *Handler) handleConsoleHome(w http.ResponseWriter, r *http.Request) {
	if h.sessions.get(sessionID(r), consoleArea) == nil {
		seeOther(w, r, consolePath+"/sign-in")
		return
	}
	seeOther(w, r, consolePath+"/apps")
}

type signInData struct {
	Email string
	Error string
	Info  string
	Next  string // the console page to go to after signing in
}

// consoleNext returns target if it is a console page of this server, to go to after signing
// in, or "" for the console's start: never another site, whatever a link carried.
func consoleNext(target string) string {
	if !strings.HasPrefix(target, consolePath+"/") || strings.ContainsAny(target, "\\\r\n") ||
		strings.HasPrefix(target, consolePath+"/sign-in") {
		return ""
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || path.Clean(u.Path) != u.Path {
		return ""
	}
	return target
}

func (h *Handler) handleAdminSignInPage(w http.ResponseWriter, r *http.Request) {
	next := consoleNext(r.URL.Query().Get("next"))
	if h.sessions.get(sessionID(r), consoleArea) != nil {
		seeOther(w, r, cmp.Or(next, consolePath+"/apps"))
		return
	}
	h.renderAdminSignIn(w, r, http.StatusOK, signInData{Info: signInInfo(r), Next: next})
}

// signInInfo explains why a browser is on a sign-in page.
func signInInfo(r *http.Request) string {
	q := r.URL.Query()
	switch {
	case q.Has("ended"):
		return "Your session has ended. Sign in again."
	case q.Has("signed_out"):
		return "You have signed out."
	}
	return ""
}

func (h *Handler) renderAdminSignIn(w http.ResponseWriter, r *http.Request, status int, d signInData) {
	id := h.ensureSessionID(w, r)
	h.render(w, r, status, "sign_in", &pageData{Title: "Sign in", Console: true, CSRF: h.csrfToken(r, id), Data: d})
}

func (h *Handler) handleAdminSignIn(w http.ResponseWriter, r *http.Request) {
	email := r.PostForm.Get("email")
	next := consoleNext(r.PostForm.Get("next"))
	login, err := h.admin.LogInAdmin(r.Context(), email, r.PostForm.Get("password"))
	switch latchkey.ErrorCode(err) {
	case "":
	case latchkey.EInvalidPassword:
		h.renderAdminSignIn(w, r, http.StatusUnauthorized, signInData{Email: email, Error: "Wrong email or password.", Next: next})
		return
	case latchkey.ETooManyRequests:
		h.renderAdminSignIn(w, r, http.StatusTooManyRequests, signInData{Email: email, Error: tooManyAttempts(w, err), Next: next})
		return
	default:
		h.internal(w, r, err)
		return
	}
	// A new id at sign-in, so an id planted in the browser before cannot ride the session.
	h.sessions.remove(sessionID(r))
	id := h.sessions.create(consoleArea, email, login.RefreshToken)
	h.setSessionCookie(w, r, id)
	seeOther(w, r, cmp.Or(next, consolePath+"/apps"))
}

func (h *Handler) handleAdminSignOut(w http.ResponseWriter, r *http.Request) {
	c := currentOf(r)
	h.sessions.remove(c.id)
	h.endSession(r.Context(), c.s)
	h.setSessionCookie(w, r, "")
	seeOther(w, r, consolePath+"/sign-in?signed_out=1")
}

// endSession revokes the refresh token of a browser session that ended, so that it stops
// counting as a live session and can never be used again.
func (h *Handler) endSession(ctx context.Context, s *session) {
	var err error
	if s.area == consoleArea {
		var auth *latchkey.AdminAuth
		if auth, err = h.admin.AuthenticateAdmin(ctx, s.refresh, latchkey.AdminRefreshToken); err == nil {
			err = h.admin.LogOutAdmin(latchkey.NewContextWithAdmin(ctx, auth))
		}
	} else {
		var auth *latchkey.Auth
		if auth, err = h.auth.Authenticate(ctx, s.refresh, latchkey.RefreshToken); err == nil {
			err = h.auth.LogOut(latchkey.NewContextWithAuth(ctx, auth))
		}
	}
	if err != nil && latchkey.ErrorCode(err) != latchkey.EUnauthenticated {
		h.logger.WarnContext(ctx, "end web session", "err", err)
	}
}
