package httpapi

import (
	"bytes"
	"embed"
	"html/template"
	"log/slog"
	"net/http"

	"github.com/latchkey/latchkey"
)

// The pages that confirmation and password reset links lead to. A GET only shows a form: the
// token is used by the form's POST, so that mail scanners and link previews that fetch the
// link do not spend it. The pages need no JavaScript.

//go:embed pages/*.html
var pageFS embed.FS

var pageTemplates = template.Must(template.ParseFS(pageFS, "pages/*.html"))

// pageData fills a page template.
type pageData struct {
	Title     string
	AppName   string
	Token     string
	TokenID   string
	MinLength int
	Error     string
	Done      bool
}

// Texts of page errors. They never say whether an account exists.
const (
	pageBadLink     = "This link is invalid, has expired or was already used. Ask for a new one from the app."
	pageMissingLink = "This link is incomplete. Open the whole link from the email, or ask for a new one from the app."
	pageMismatch    = "The two passwords differ."
	pageFailed      = "Something went wrong on our side. Try again later."
)

func (s *Server) handleConfirmPage(w http.ResponseWriter, r *http.Request) {
	app, data, ok := s.pageStart(w, r, "Confirm your email address")
	if !ok {
		return
	}
	if r.Method != http.MethodPost {
		s.renderPage(w, r, "confirm", http.StatusOK, data)
		return
	}
	if data.Error != "" {
		s.renderPage(w, r, "confirm", http.StatusBadRequest, data)
		return
	}
	if err := s.userpass.Confirm(r.Context(), app, data.Token, data.TokenID); err != nil {
		s.pageError(w, r, "confirm", data, err)
		return
	}
	s.renderPage(w, r, "confirm", http.StatusOK, pageData{Title: "Email address confirmed", AppName: data.AppName, Done: true})
}

func (s *Server) handleResetPage(w http.ResponseWriter, r *http.Request) {
	app, data, ok := s.pageStart(w, r, "Reset your password")
	if !ok {
		return
	}
	if r.Method != http.MethodPost {
		s.renderPage(w, r, "reset", http.StatusOK, data)
		return
	}
	if data.Error != "" {
		s.renderPage(w, r, "reset", http.StatusBadRequest, data)
		return
	}
	password := r.PostForm.Get("password")
	if password != r.PostForm.Get("confirm") {
		data.Error = pageMismatch
		s.renderPage(w, r, "reset", http.StatusBadRequest, data)
		return
	}
	if err := s.userpass.ResetPassword(r.Context(), app, password, data.Token, data.TokenID); err != nil {
		s.pageError(w, r, "reset", data, err)
		return
	}
	s.renderPage(w, r, "reset", http.StatusOK, pageData{Title: "Password changed", AppName: data.AppName, Done: true})
}

// pageStart finds the app and reads the token from the query (GET) or the form (POST). It
// answers an unknown app itself and reports whether the handler goes on.
func (s *Server) pageStart(w http.ResponseWriter, r *http.Request, title string) (*latchkey.App, pageData, bool) {
	data := pageData{Title: title, AppName: "Latchkey"}
	app, err := s.apps.FindAppByClientID(r.Context(), r.PathValue("app"))
	if err != nil {
		status := http.StatusNotFound
		data.Error = "There is no such app. Check the link in the email."
		if latchkey.ErrorCode(err) != latchkey.EAppNotFound {
			s.logger.ErrorContext(r.Context(), "internal error", slog.String(attrRequestID, requestID(r)), slog.Any("err", err))
			status, data.Error = http.StatusInternalServerError, pageFailed
		}
		s.renderPage(w, r, "confirm", status, data)
		return nil, data, false
	}
	setApp(w, r, app)
	data.AppName, data.MinLength = app.Name, app.PasswordMinLength
	values := r.URL.Query()
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			data.Error = pageMissingLink
			s.renderPage(w, r, "confirm", http.StatusBadRequest, data)
			return nil, data, false
		}
		values = r.PostForm
	}
	data.Token, data.TokenID = values.Get("token"), values.Get("tokenId")
	if data.Token == "" || data.TokenID == "" {
		data.Error, data.Token, data.TokenID = pageMissingLink, "", ""
	}
	return app, data, true
}

// pageError shows a failed confirm or reset: the form again for a password the rules refuse,
// a plain refusal for a bad token.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, name string, data pageData, err error) {
	switch {
	case latchkey.ErrorCode(err) == latchkey.EInternal:
		s.logger.ErrorContext(r.Context(), "internal error", slog.String(attrRequestID, requestID(r)), slog.Any("err", err))
		data.Error = pageFailed
		s.renderPage(w, r, name, http.StatusInternalServerError, data)
	case latchkey.ErrorMessage(err) == "invalid token data": // the contract fixes this text
		data.Error, data.Token = pageBadLink, ""
		s.renderPage(w, r, name, http.StatusBadRequest, data)
	default:
		data.Error = latchkey.ErrorMessage(err)
		s.renderPage(w, r, name, http.StatusBadRequest, data)
	}
}

// renderPage writes a page with headers that keep it (and the token in its URL and form) out
// of caches, referrers and frames.
func (s *Server) renderPage(w http.ResponseWriter, r *http.Request, name string, status int, data pageData) {
	var buf bytes.Buffer
	if err := pageTemplates.ExecuteTemplate(&buf, name, data); err != nil {
		s.Error(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
