package ui

import (
	"bytes"
	"html/template"
	"net/http"

	"github.com/latchkey/latchkey"
)

// The pages that confirmation and password reset links lead to, /app/{app}/confirm and
// /app/{app}/reset. A GET only shows a form: the token is used by the form's POST, so that
// mail scanners and link previews that fetch the link do not spend it. The pages need no
// JavaScript and no session: the link's token is the credential, so their forms carry no
// CSRF token and they keep a look and headers of their own.

var mailLinkTemplates = template.Must(template.ParseFS(templatesFS, "templates/maillink.html"))

// mailLinkRoutes registers the link pages on their own mux, which ServeHTTP asks first.
func (h *Handler) mailLinkRoutes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /app/{app}/confirm", h.handleConfirmPage)
	m.HandleFunc("POST /app/{app}/confirm", h.handleConfirmPage)
	m.HandleFunc("GET /app/{app}/reset", h.handleResetPage)
	m.HandleFunc("POST /app/{app}/reset", h.handleResetPage)
	return m
}

// linkData fills a link page template.
type linkData struct {
	Title     string
	AppName   string
	Token     string
	TokenID   string
	MinLength int
	Error     string
	Done      bool
}

// Texts of link page errors. They never say whether an account exists.
const (
	linkBad      = "This link is invalid, has expired or was already used. Ask for a new one from the app."
	linkMissing  = "This link is incomplete. Open the whole link from the email, or ask for a new one from the app."
	linkMismatch = "The two passwords differ."
	linkFailed   = "Something went wrong on our side. Try again later."
)

func (h *Handler) handleConfirmPage(w http.ResponseWriter, r *http.Request) {
	h.linkPage(w, r, "confirm", "Confirm your email address", "Email address confirmed", func(app *latchkey.App, d linkData) error {
		return h.userpass.Confirm(r.Context(), app, d.Token, d.TokenID)
	})
}

func (h *Handler) handleResetPage(w http.ResponseWriter, r *http.Request) {
	h.linkPage(w, r, "reset", "Reset your password", "Password changed", func(app *latchkey.App, d linkData) error {
		password := r.PostForm.Get("password")
		if password != r.PostForm.Get("confirm") {
			return latchkey.Errorf(latchkey.EBadRequest, linkMismatch)
		}
		return h.userpass.ResetPassword(r.Context(), app, password, d.Token, d.TokenID)
	})
}

// linkPage serves a link page: a GET shows its form, a POST does what the link is for and
// shows the outcome, titled done when it worked.
func (h *Handler) linkPage(w http.ResponseWriter, r *http.Request, name, title, done string, do func(*latchkey.App, linkData) error) {
	app, data, ok := h.linkStart(w, r, title)
	if !ok {
		return
	}
	if r.Method != http.MethodPost {
		h.renderLink(w, r, name, http.StatusOK, data)
		return
	}
	if data.Error != "" {
		h.renderLink(w, r, name, http.StatusBadRequest, data)
		return
	}
	if err := do(app, data); err != nil {
		h.linkError(w, r, name, data, err)
		return
	}
	h.renderLink(w, r, name, http.StatusOK, linkData{Title: done, AppName: data.AppName, Done: true})
}

// linkStart finds the app and reads the token from the query (GET) or the form (POST). It
// answers an unknown app itself and reports whether the handler goes on.
func (h *Handler) linkStart(w http.ResponseWriter, r *http.Request, title string) (*latchkey.App, linkData, bool) {
	data := linkData{Title: title, AppName: "Latchkey"}
	app, err := h.apps.FindAppByClientID(r.Context(), r.PathValue("app"))
	if err != nil {
		status := http.StatusNotFound
		data.Error = "There is no such app. Check the link in the email."
		if latchkey.ErrorCode(err) != latchkey.EAppNotFound {
			h.logInternal(w, r, err)
			status, data.Error = http.StatusInternalServerError, linkFailed
		}
		h.renderLink(w, r, "confirm", status, data)
		return nil, data, false
	}
	data.AppName, data.MinLength = app.Name, app.PasswordMinLength
	values := r.URL.Query()
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			data.Error = linkMissing
			h.renderLink(w, r, "confirm", http.StatusBadRequest, data)
			return nil, data, false
		}
		values = r.PostForm
	}
	data.Token, data.TokenID = values.Get("token"), values.Get("tokenId")
	if data.Token == "" || data.TokenID == "" {
		data.Error, data.Token, data.TokenID = linkMissing, "", ""
	}
	return app, data, true
}

// linkError shows a failed confirm or reset: the form again for a password the rules refuse,
// a plain refusal for a bad token.
func (h *Handler) linkError(w http.ResponseWriter, r *http.Request, name string, data linkData, err error) {
	switch {
	case latchkey.ErrorCode(err) == latchkey.EInternal:
		h.logInternal(w, r, err)
		data.Error = linkFailed
		h.renderLink(w, r, name, http.StatusInternalServerError, data)
	case latchkey.ErrorMessage(err) == "invalid token data": // the contract fixes this text
		data.Error, data.Token = linkBad, ""
		h.renderLink(w, r, name, http.StatusBadRequest, data)
	default:
		data.Error = latchkey.ErrorMessage(err)
		h.renderLink(w, r, name, http.StatusBadRequest, data)
	}
}

// renderLink writes a link page with headers that keep it (and the token in its URL and
// form) out of caches, referrers and frames.
func (h *Handler) renderLink(w http.ResponseWriter, r *http.Request, name string, status int, data linkData) {
	var buf bytes.Buffer
	if err := mailLinkTemplates.ExecuteTemplate(&buf, name, data); err != nil {
		h.logInternal(w, r, err)
		http.Error(w, linkFailed, http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
