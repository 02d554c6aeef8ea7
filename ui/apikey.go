package ui

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// The self-service page: an app's user signs in with email and password and manages their
// own API keys, through the same APIKeyService as the client API, so the same rules hold.

type appContextKey struct{}

func appOf(r *http.Request) *latchkey.App {
	a, _ := r.Context().Value(appContextKey{}).(*latchkey.App)
	return a
}

// withAccountApp resolves the path's app; an unknown app is a 404 page.
func (h *Handler) withAccountApp(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		app, err := h.apps.FindAppByClientID(r.Context(), r.PathValue("app"))
		if err != nil {
			h.fail(w, r, err)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), appContextKey{}, app)))
	}
}

// withAccount runs next for a user signed in to the path's app, with the user's refresh
// session in the context as the client API's key calls have it.
func (h *Handler) withAccount(next http.HandlerFunc) http.HandlerFunc {
	return h.withAccountApp(func(w http.ResponseWriter, r *http.Request) {
		app := appOf(r)
		ctx, c, err := h.accountSession(r)
		if err != nil {
			h.internal(w, r, err)
			return
		} else if c == nil {
			seeOther(w, r, accountURL(app.ClientAppID)+"?ended=1")
			return
		}
		next(w, r.WithContext(ctx))
	})
}

// accountSession returns the request's context with the signed-in user and their browser
// session, or a nil session when nobody is signed in here (any more).
func (h *Handler) accountSession(r *http.Request) (context.Context, *current, error) {
	app := appOf(r)
	id := sessionID(r)
	wa, err := h.webSession(r.Context(), app, id)
	if signedOut(err) {
		// Never signed in here, signed out elsewhere, disabled or deleted by an admin, or
		// the session expired.
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	c := &current{id: id, ws: wa.Session}
	ctx := latchkey.NewContextWithAuth(r.Context(), wa.User)
	return context.WithValue(ctx, sessionContextKey{}, c), c, nil
}

func (h *Handler) handleAccount(w http.ResponseWriter, r *http.Request) {
	ctx, c, err := h.accountSession(r)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	if c == nil {
		h.renderAccountSignIn(w, r, http.StatusOK, signInData{Info: signInInfo(r)})
		return
	}
	h.renderKeys(w, r.WithContext(ctx), http.StatusOK, keysData{})
}

func (h *Handler) renderAccountSignIn(w http.ResponseWriter, r *http.Request, status int, d signInData) {
	app := appOf(r)
	if !app.UserpassEnabled && d.Error == "" {
		d.Error = "This app does not allow signing in with an email and password."
	}
	id := h.ensureSessionID(w, r)
	h.render(w, r, status, "account_sign_in", &pageData{Title: "Sign in to " + app.Name, CSRF: h.csrfToken(r, id), App: app, Data: d})
}

func (h *Handler) handleAccountSignIn(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	app := appOf(r)
	email := strings.TrimSpace(r.PostForm.Get("email"))
	login, err := h.auth.LogIn(ctx, app, latchkey.Credentials{
		Provider: latchkey.ProviderUserpass, Username: email, Password: r.PostForm.Get("password"),
	})
	if latchkey.ErrorCode(err) == latchkey.ETooManyRequests {
		h.renderAccountSignIn(w, r, http.StatusTooManyRequests, signInData{Email: email, Error: tooManyAttempts(w, err)})
		return
	} else if msg := signInError(err); msg != "" {
		h.renderAccountSignIn(w, r, http.StatusUnauthorized, signInData{Email: email, Error: msg})
		return
	} else if err != nil {
		h.internal(w, r, err)
		return
	}
	// The web session rides on the user's session just opened; the refresh token is not kept.
	auth, err := h.auth.Authenticate(ctx, login.RefreshToken, latchkey.RefreshToken)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	h.endPrevious(r, app)
	id := newSessionID()
	if err := h.webSessions.CreateWebSession(latchkey.NewContextWithAuth(ctx, auth), id, email); err != nil {
		h.internal(w, r, err)
		return
	}
	h.setSessionCookie(w, r, id)
	seeOther(w, r, accountURL(app.ClientAppID))
}

func signInError(err error) string {
	switch latchkey.ErrorCode(err) {
	case latchkey.EInvalidPassword:
		return "Wrong email or password."
	case latchkey.EUserDisabled:
		return "This account is disabled. Ask the app's administrator."
	case latchkey.EUnauthorized:
		return "This account's email address is not confirmed yet."
	case latchkey.EProviderDisabled:
		return "This app does not allow signing in with an email and password."
	case latchkey.EBadRequest:
		return sentence(latchkey.ErrorMessage(err))
	}
	return ""
}

func (h *Handler) handleAccountSignOut(w http.ResponseWriter, r *http.Request) {
	if err := h.webSessions.EndWebSession(r.Context(), currentOf(r).id); err != nil && !signedOut(err) {
		h.logger.WarnContext(r.Context(), "sign out", "err", err)
	}
	h.setSessionCookie(w, r, "")
	seeOther(w, r, accountURL(appOf(r).ClientAppID)+"?signed_out=1")
}

// expiryChoices are the lifetimes the create form offers.
var expiryChoices = []struct {
	Value, Label string
	D            time.Duration
}{
	{"7d", "7 days", 7 * 24 * time.Hour},
	{"30d", "30 days", 30 * 24 * time.Hour},
	{"90d", "90 days", 90 * 24 * time.Hour},
	{"365d", "1 year", 365 * 24 * time.Hour},
}

type keysData struct {
	Keys    []keyView
	Max     int
	Now     time.Time
	Choices any
	// The create form's values, kept when it is refused.
	Name    string
	Expires string
	Scopes  []string
	Error   string
}

func (h *Handler) renderKeys(w http.ResponseWriter, r *http.Request, status int, d keysData) {
	keys, err := h.apiKeys.FindAPIKeys(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Keys, err = h.keyViews(r.Context(), keys, h.verify.FindAPIKeyUsage)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Max, d.Now, d.Choices = latchkey.MaxAPIKeysPerUser, h.now(), expiryChoices
	c := currentOf(r)
	app := appOf(r)
	h.render(w, r, status, "account", &pageData{
		Title: "Your API keys", CSRF: h.csrfToken(r, c.id), Who: c.ws.Email, App: app,
		Flash: h.takeFlash(r.Context(), c), Data: d,
	})
}

func (h *Handler) handleCreateKey(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	in := latchkey.APIKeyInput{Name: strings.TrimSpace(f.Get("name")), Scopes: f["scope"]}
	expires := f.Get("expires")
	for _, c := range expiryChoices {
		if c.Value == expires {
			in.ExpiresIn = &c.D
		}
	}
	k, err := h.apiKeys.CreateAPIKey(r.Context(), in)
	if msg := keyErrorMessage(err, in.Name, latchkey.MaxAPIKeysPerUser, "You have"); msg != "" {
		h.renderKeys(w, r, http.StatusUnprocessableEntity, keysData{Name: in.Name, Expires: expires, Scopes: in.Scopes, Error: msg})
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	h.showNewKey(w, r, accountURL(appOf(r).ClientAppID), "", secret{Name: k.Name, Value: k.Value})
}

func (h *Handler) handleSetKey(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		k, err := h.apiKeys.FindAPIKey(ctx, r.PathValue("key"))
		if err == nil && disabled {
			err = h.apiKeys.DisableAPIKey(ctx, k.ID)
		} else if err == nil {
			err = h.apiKeys.EnableAPIKey(ctx, k.ID)
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		h.done(w, r, accountURL(appOf(r).ClientAppID), "Key "+k.Name+" "+enabledWord(!disabled)+".")
	}
}

// graceChoices are the grace periods the rotate form offers: how long the old value keeps
// working, from none up to the most the service allows.
var graceChoices = []struct {
	Value, Label string
	D            time.Duration
}{
	{latchkey.FormatDuration(0), "no time: it stops now", 0},
	{latchkey.FormatDuration(time.Hour), "1 hour", time.Hour},
	{latchkey.FormatDuration(24 * time.Hour), "1 day", 24 * time.Hour},
	{latchkey.FormatDuration(latchkey.MaxRotationGracePeriod), "7 days, the most allowed", latchkey.MaxRotationGracePeriod},
}

func (h *Handler) handleRotateKeyConfirm(w http.ResponseWriter, r *http.Request) {
	h.confirmKey(w, r, "Rotate key", func(k *latchkey.APIKey, back string) confirmData {
		return confirmData{
			Question: "Rotate the key " + k.Name + " (" + k.Start + "…)?",
			Detail: "It gets a new value, shown once on the next page. The old value keeps working for the time you choose, " +
				"so you can put the new one in place first; then it stops, and the sessions opened with it end.",
			Action: back + "keys/" + url.PathEscape(k.ID) + "/rotate", Button: "Rotate key", Cancel: back,
			Grace: graceChoices,
		}
	})
}

// confirmKey renders the confirmation page of an action on one of the signed-in user's keys,
// with the data that data makes from the key and the account page's address.
func (h *Handler) confirmKey(w http.ResponseWriter, r *http.Request, title string, data func(k *latchkey.APIKey, back string) confirmData) {
	k, err := h.apiKeys.FindAPIKey(r.Context(), r.PathValue("key"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	c := currentOf(r)
	app := appOf(r)
	h.render(w, r, http.StatusOK, "confirm", &pageData{
		Title: title, CSRF: h.csrfToken(r, c.id), Who: c.ws.Email, App: app,
		Data: data(k, accountURL(app.ClientAppID)),
	})
}

func (h *Handler) handleRotateKey(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	grace, ok := time.Duration(0), false
	for _, c := range graceChoices {
		if c.Value == r.PostForm.Get("grace") {
			grace, ok = c.D, true
		}
	}
	if !ok {
		h.fail(w, r, latchkey.Errorf(latchkey.EInvalid, "Choose how long the old value keeps working."))
		return
	}
	k, err := h.apiKeys.RotateAPIKey(ctx, r.PathValue("key"), grace)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	msg := "The old value of " + k.Name + " no longer works."
	if grace > 0 {
		msg = "The old value of " + k.Name + " keeps working for " + latchkey.FormatDuration(grace) + ", then stops."
	}
	h.showNewKey(w, r, accountURL(appOf(r).ClientAppID), msg, secret{Name: k.Name, Value: k.Value, Rotated: true})
}

func (h *Handler) handleDeleteKeyConfirm(w http.ResponseWriter, r *http.Request) {
	h.confirmKey(w, r, "Delete key", func(k *latchkey.APIKey, back string) confirmData {
		return confirmData{
			Question: "Delete the key " + k.Name + " (" + k.Start + "…)?",
			Detail:   "Anything that uses it can no longer log in, and its sessions end at once. This cannot be undone.",
			Action:   back + "keys/" + url.PathEscape(k.ID) + "/delete", Button: "Delete key", Cancel: back,
		}
	})
}

func (h *Handler) handleDeleteKey(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	k, err := h.apiKeys.FindAPIKey(ctx, r.PathValue("key"))
	if err == nil {
		err = h.apiKeys.DeleteAPIKey(ctx, k.ID)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.done(w, r, accountURL(appOf(r).ClientAppID), "Key "+k.Name+" deleted.")
}

// expired reports whether a key has expired by now, for the template.
func (d keysData) Expired(k *latchkey.APIKey) bool { return k.Expired(d.Now) }

// Checked reports whether the form had the scope ticked.
func (d keysData) Checked(scope string) bool { return slices.Contains(d.Scopes, scope) }
