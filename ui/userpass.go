package ui

import (
	"net/http"
	"strings"

	"github.com/latchkey/latchkey"
)

// The self-service page's "Forgot your password?": a form that sends a password reset
// message, as POST .../local-userpass/reset/send does. Its answer is the same whether or not
// the address has an account, so that the form cannot be used to find out who does.

type forgotData struct {
	Email string
	Error string
	Sent  bool
}

func (h *Handler) handleForgotPage(w http.ResponseWriter, r *http.Request) {
	h.renderForgot(w, r, http.StatusOK, forgotData{})
}

func (h *Handler) renderForgot(w http.ResponseWriter, r *http.Request, status int, d forgotData) {
	app := appOf(r)
	id := h.ensureSessionID(w, r)
	h.render(w, r, status, "forgot", &pageData{Title: "Reset your password for " + app.Name, CSRF: h.csrfToken(r, id), App: app, Data: d})
}

func (h *Handler) handleForgot(w http.ResponseWriter, r *http.Request) {
	email := strings.TrimSpace(r.PostForm.Get("email"))
	err := h.userpass.SendPasswordReset(r.Context(), appOf(r), email)
	switch latchkey.ErrorCode(err) {
	case latchkey.ETooManyRequests:
		h.renderForgot(w, r, http.StatusTooManyRequests, forgotData{Email: email, Error: tooManyAttempts(w, err)})
		return
	case latchkey.EInternal:
		// Logged, but answered like the rest: a failure that only an existing account can
		// meet (its message could not be sent) would otherwise tell that it exists.
		h.logger.ErrorContext(r.Context(), "send password reset", "err", err, "request_id", w.Header().Get("X-Request-Id"))
	}
	h.renderForgot(w, r, http.StatusOK, forgotData{Sent: true})
}
