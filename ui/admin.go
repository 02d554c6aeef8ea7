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

func currentOf(r *http.Request) *current {
	c, _ := r.Context().Value(sessionContextKey{}).(*current)
	return c
}

// withAdmin runs h for a signed-in admin, with the admin's access in the context the way the
// admin API would have it; anyone else goes to the sign-in page.
func (h *Handler) withAdmin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := sessionID(r)
		wa, err := h.webSession(r.Context(), nil, id)
		switch latchkey.ErrorCode(err) {
		case "":
		case latchkey.ENotFound:
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
		case latchkey.EUnauthenticated:
			// The session ended: unused too long, too old, or its admin session expired.
			seeOther(w, r, consolePath+"/sign-in?ended=1")
			return
		default:
			h.internal(w, r, err)
			return
		}
		ctx := latchkey.NewContextWithAdmin(r.Context(), wa.Admin)
		ctx = context.WithValue(ctx, sessionContextKey{}, &current{id: id, ws: wa.Session})
		next(w, r.WithContext(ctx))
	}
}

// consolePage is the page data of a signed-in console page; it takes the session's flash.
func (h *Handler) consolePage(r *http.Request, title, nav string, app *latchkey.App, data any) *pageData {
	c := currentOf(r)
	return &pageData{
		Title: title, Console: true, Nav: nav, CSRF: h.csrfToken(r, c.id), Who: c.ws.Email, App: app,
		Providers: h.providers != nil, Flash: h.takeFlash(r.Context(), c), Data: data,
	}
}

// done ends a POST: a message for the next page, then a redirect to it.
func (h *Handler) done(w http.ResponseWriter, r *http.Request, target, message string) {
	if c := currentOf(r); c != nil {
		if err := h.setFlash(r.Context(), c, &flash{Message: message}); err != nil {
			h.logger.WarnContext(r.Context(), "set flash", "err", err)
		}
	}
	seeOther(w, r, target)
}

// saved answers a form whose change the service took or refused: taken, it goes to target
// with message; refused for its input (EInvalid, EBadRequest), it returns the reason for the
// form to be shown again with; any other error is the error page. answered says the
// response is written.
func (h *Handler) saved(w http.ResponseWriter, r *http.Request, err error, target, message string) (refusal string, answered bool) {
	switch latchkey.ErrorCode(err) {
	case "":
		h.done(w, r, target, message)
		return "", true
	case latchkey.EInvalid, latchkey.EBadRequest:
		return latchkey.ErrorMessage(err), false
	}
	h.fail(w, r, err)
	return "", true
}

func (h *Handler) handleConsoleHome(w http.ResponseWriter, r *http.Request) {
	if _, err := h.webSession(r.Context(), nil, sessionID(r)); signedOut(err) {
		seeOther(w, r, consolePath+"/sign-in")
		return
	} else if err != nil {
		h.internal(w, r, err)
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
	if _, err := h.webSession(r.Context(), nil, sessionID(r)); err == nil {
		seeOther(w, r, cmp.Or(next, consolePath+"/apps"))
		return
	} else if !signedOut(err) {
		h.internal(w, r, err)
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
	login, err := h.admins.LogInAdmin(r.Context(), email, r.PostForm.Get("password"))
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
	// The web session rides on the admin session just opened; the refresh token is not kept.
	ctx := r.Context()
	auth, err := h.admins.AuthenticateAdmin(ctx, login.RefreshToken, latchkey.AdminRefreshToken)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	// A new id at sign-in, so an id planted in the browser before cannot ride the session.
	h.endPrevious(r, nil)
	id := newSessionID()
	if err := h.webSessions.CreateWebSession(latchkey.NewContextWithAdmin(ctx, auth), id, email); err != nil {
		h.internal(w, r, err)
		return
	}
	h.setSessionCookie(w, r, id)
	seeOther(w, r, cmp.Or(next, consolePath+"/apps"))
}

// handleAdminSignOut ends the browser's session and the admin session under it, on every
// node.
func (h *Handler) handleAdminSignOut(w http.ResponseWriter, r *http.Request) {
	if err := h.webSessions.EndWebSession(r.Context(), currentOf(r).id); err != nil && !signedOut(err) {
		h.logger.WarnContext(r.Context(), "sign out", "err", err)
	}
	h.setSessionCookie(w, r, "")
	seeOther(w, r, consolePath+"/sign-in?signed_out=1")
}
