package ui

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

type appsData struct {
	Apps        []*latchkey.App
	ClientAppID string // the create form's values, kept when it is refused
	Name        string
	Error       string
}

func (h *Handler) handleApps(w http.ResponseWriter, r *http.Request) {
	h.renderApps(w, r, http.StatusOK, appsData{})
}

func (h *Handler) renderApps(w http.ResponseWriter, r *http.Request, status int, d appsData) {
	apps, err := h.apps.FindApps(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Apps = apps
	h.render(w, r, status, "apps", h.consolePage(r, "Apps", "apps", nil, d))
}

func (h *Handler) handleCreateApp(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	// New apps start from the quickstart settings, as in the admin API.
	app := &latchkey.App{
		ClientAppID: strings.TrimSpace(f.Get("client_app_id")), Name: strings.TrimSpace(f.Get("name")),
		AutoConfirm: true, AnonymousEnabled: true, UserpassEnabled: true, APIKeyEnabled: true,
	}
	err := h.apps.CreateApp(r.Context(), app)
	switch latchkey.ErrorCode(err) {
	case "":
		h.done(w, r, appURL(app.ClientAppID, ""), "App "+app.ClientAppID+" created.")
	case latchkey.EInvalid, latchkey.EConflict:
		h.renderApps(w, r, http.StatusUnprocessableEntity, appsData{ClientAppID: app.ClientAppID, Name: app.Name, Error: latchkey.ErrorMessage(err)})
	default:
		h.fail(w, r, err)
	}
}

// settingsForm is an app's settings as the form shows and sends them.
type settingsForm struct {
	Name                 string
	AutoConfirm          bool
	AnonymousEnabled     bool
	UserpassEnabled      bool
	APIKeyEnabled        bool
	PasswordMinLength    string
	RefreshTokenLifetime string // seconds
	AllowedOrigins       string // one per line
	HideAccountExistence bool
	KeyPrefix            string
	MaxKeyLifetime       string // seconds, 0 for none
	Scopes               string // separated by spaces
}

func newSettingsForm(a *latchkey.App) settingsForm {
	return settingsForm{
		Name: a.Name, AutoConfirm: a.AutoConfirm, AnonymousEnabled: a.AnonymousEnabled,
		UserpassEnabled: a.UserpassEnabled, APIKeyEnabled: a.APIKeyEnabled,
		PasswordMinLength:    strconv.Itoa(a.PasswordMinLength),
		RefreshTokenLifetime: strconv.FormatInt(int64(a.RefreshTokenLifetime/time.Second), 10),
		AllowedOrigins:       strings.Join(a.AllowedOrigins, "\n"),
		HideAccountExistence: a.HideAccountExistence,
		KeyPrefix:            a.KeyPrefix,
		MaxKeyLifetime:       strconv.FormatInt(int64(a.MaxKeyLifetime/time.Second), 10),
		Scopes:               strings.Join(a.Scopes, " "),
	}
}

func readSettingsForm(r *http.Request) settingsForm {
	f := r.PostForm
	return settingsForm{
		Name: strings.TrimSpace(f.Get("name")), AutoConfirm: f.Get("auto_confirm") == "on",
		AnonymousEnabled: f.Get("anon_user_enabled") == "on", UserpassEnabled: f.Get("local_userpass_enabled") == "on",
		APIKeyEnabled:        f.Get("api_key_enabled") == "on",
		PasswordMinLength:    strings.TrimSpace(f.Get("password_min_length")),
		RefreshTokenLifetime: strings.TrimSpace(f.Get("refresh_token_lifetime_seconds")),
		AllowedOrigins:       f.Get("allowed_origins"),
		HideAccountExistence: f.Get("hide_account_existence") == "on",
		KeyPrefix:            strings.TrimSpace(f.Get("key_prefix")),
		MaxKeyLifetime:       strings.TrimSpace(f.Get("max_key_lifetime_seconds")),
		Scopes:               f.Get("scopes"),
	}
}

// update turns the form into a change of every setting, or says which field is unreadable.
func (f settingsForm) update() (latchkey.AppSettings, string) {
	number := func(s, what string) (int64, string) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, what + " must be a whole number."
		}
		return n, ""
	}
	minLen, msg := number(f.PasswordMinLength, "Password minimum length")
	if msg != "" {
		return latchkey.AppSettings{}, msg
	}
	refresh, msg := number(f.RefreshTokenLifetime, "Refresh token lifetime")
	if msg != "" {
		return latchkey.AppSettings{}, msg
	}
	maxKey, msg := number(f.MaxKeyLifetime, "Maximum key lifetime")
	if msg != "" {
		return latchkey.AppSettings{}, msg
	}
	if refresh < 0 || refresh > int64(latchkey.MaxRefreshTokenLifetime/time.Second) || maxKey < 0 || maxKey > 1<<40 || minLen > 1<<20 || minLen < 0 {
		return latchkey.AppSettings{}, "A number is out of range."
	}
	n := int(minLen)
	rl := time.Duration(refresh) * time.Second
	mk := time.Duration(maxKey) * time.Second
	origins := fields(f.AllowedOrigins)
	scopes := fields(f.Scopes)
	return latchkey.AppSettings{
		Name: &f.Name, AutoConfirm: &f.AutoConfirm, AnonymousEnabled: &f.AnonymousEnabled,
		UserpassEnabled: &f.UserpassEnabled, APIKeyEnabled: &f.APIKeyEnabled,
		PasswordMinLength: &n, RefreshTokenLifetime: &rl, AllowedOrigins: &origins,
		HideAccountExistence: &f.HideAccountExistence,
		KeyPrefix:            &f.KeyPrefix, MaxKeyLifetime: &mk, Scopes: &scopes,
	}, ""
}

// fields splits a list typed one per line or separated by spaces or commas.
func fields(s string) []string {
	out := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
	if out == nil {
		out = []string{}
	}
	return out
}

type settingsData struct {
	Form  settingsForm
	Error string
}

// pathApp finds the app the path names; when it cannot, it answers the request itself and
// returns false.
func (h *Handler) pathApp(w http.ResponseWriter, r *http.Request) (*latchkey.App, bool) {
	app, err := h.apps.FindApp(r.Context(), r.PathValue("app"))
	if err != nil {
		h.fail(w, r, err)
		return nil, false
	}
	return app, true
}

// pathUser resolves the path's app and its user, or answers the error.
func (h *Handler) pathUser(w http.ResponseWriter, r *http.Request) (*latchkey.App, *latchkey.User, bool) {
	app, ok := h.pathApp(w, r)
	if !ok {
		return nil, nil, false
	}
	u, _, err := h.users.FindUser(r.Context(), app.ID, r.PathValue("user"))
	if err != nil {
		h.fail(w, r, err)
		return nil, nil, false
	}
	return app, u, true
}

// pathUserKey resolves the path's app and a key of the path's user, or answers the error.
func (h *Handler) pathUserKey(w http.ResponseWriter, r *http.Request) (*latchkey.App, *latchkey.APIKey, bool) {
	app, ok := h.pathApp(w, r)
	if !ok {
		return nil, nil, false
	}
	k, err := h.users.FindUserAPIKey(r.Context(), app.ID, r.PathValue("user"), r.PathValue("key"))
	if err != nil {
		h.fail(w, r, err)
		return nil, nil, false
	}
	return app, k, true
}

func (h *Handler) handleAppSettings(w http.ResponseWriter, r *http.Request) {
	app, ok := h.pathApp(w, r)
	if !ok {
		return
	}
	h.render(w, r, http.StatusOK, "app_settings", h.consolePage(r, app.Name+": settings", "settings", app, settingsData{Form: newSettingsForm(app)}))
}

func (h *Handler) handleUpdateAppSettings(w http.ResponseWriter, r *http.Request) {
	app, ok := h.pathApp(w, r)
	if !ok {
		return
	}
	form := readSettingsForm(r)
	upd, msg := form.update()
	if msg == "" {
		_, err := h.apps.UpdateApp(r.Context(), app.ID, upd)
		var answered bool
		if msg, answered = h.saved(w, r, err, appURL(app.ClientAppID, ""), "Settings saved."); answered {
			return
		}
	}
	h.render(w, r, http.StatusUnprocessableEntity, "app_settings", h.consolePage(r, app.Name+": settings", "settings", app, settingsData{Form: form, Error: msg}))
}

func (h *Handler) handleDeleteAppConfirm(w http.ResponseWriter, r *http.Request) {
	app, ok := h.pathApp(w, r)
	if !ok {
		return
	}
	h.render(w, r, http.StatusOK, "confirm", h.consolePage(r, "Delete app", "settings", app, confirmData{
		Question: "Delete the app " + app.ClientAppID + "?",
		Detail:   "Its users, their API keys and sessions, its server keys and its audit events are deleted with it. This cannot be undone.",
		Action:   appURL(app.ClientAppID, "/delete"), Button: "Delete app", Cancel: appURL(app.ClientAppID, ""),
	}))
}

func (h *Handler) handleDeleteApp(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("app")
	if err := h.apps.DeleteApp(r.Context(), id); err != nil {
		h.fail(w, r, err)
		return
	}
	h.done(w, r, consolePath+"/apps", "App "+id+" deleted.")
}
