package ui

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// usersPageSize is how many users one page of the listing shows.
const usersPageSize = 25

type usersData struct {
	Users    []*latchkey.User
	Filter   usersFilter
	Next     string // the next page's URL, or ""
	First    string // the first page's URL when this is a later one, or ""
	Error    string
	Filtered bool
}

// usersFilter is the listing's search form, as the query string carries it.
type usersFilter struct {
	Email, Provider, Type, Disabled, After string
}

func (f usersFilter) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"email": f.Email, "provider": f.Provider, "type": f.Type, "disabled": f.Disabled, "after": f.After} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

func (h *Handler) handleUsers(w http.ResponseWriter, r *http.Request) {
	app, ok := h.pathApp(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	f := usersFilter{
		Email: strings.TrimSpace(q.Get("email")), Provider: q.Get("provider"), Type: q.Get("type"),
		Disabled: q.Get("disabled"), After: q.Get("after"),
	}
	filter := latchkey.UserFilter{After: f.After, Limit: usersPageSize + 1}
	if f.Email != "" {
		filter.Email = &f.Email
	}
	if f.Provider != "" {
		filter.Provider = &f.Provider
	}
	if f.Type != "" {
		filter.Type = &f.Type
	}
	if f.Disabled != "" {
		d := f.Disabled == "true"
		filter.Disabled = &d
	}
	d := usersData{Filter: f, Filtered: f.Email != "" || f.Provider != "" || f.Type != "" || f.Disabled != ""}
	users, err := h.users.FindUsers(ctx, app.ID, filter)
	switch latchkey.ErrorCode(err) {
	case "":
	case latchkey.EBadRequest:
		d.Error = sentence(latchkey.ErrorMessage(err))
	default:
		h.fail(w, r, err)
		return
	}
	d.Users, d.Next, d.First = paginate(users, usersPageSize, f.After, func(u *latchkey.User) string { return u.ID },
		func(after string) string {
			at := f
			at.After = after
			return appURL(app.ClientAppID, "/users") + "?" + at.query().Encode()
		})
	h.render(w, r, http.StatusOK, "users", h.consolePage(r, app.Name+": users", "users", app, d))
}

type userData struct {
	User      *latchkey.User
	Stats     latchkey.UserStats
	Keys      []keyView
	URL       string
	Intervals []string // the refill intervals the limits form offers
	// CustomData is what the custom data form holds: the user's, indented, or what a refused
	// form sent; CustomDataError says why it was refused.
	CustomData      string
	CustomDataError string
}

// customDataForm is a refused custom data form, shown again as sent.
type customDataForm struct{ Text, Error string }

func (h *Handler) handleUser(w http.ResponseWriter, r *http.Request) {
	app, ok := h.pathApp(w, r)
	if !ok {
		return
	}
	h.renderUser(w, r, http.StatusOK, app, r.PathValue("user"), nil)
}

// renderUser writes a user's page: the user, their keys with each key's limits, form and
// usage chart; edited, if not nil, is a key whose limits form was refused, shown as sent.
func (h *Handler) renderUser(w http.ResponseWriter, r *http.Request, status int, app *latchkey.App, userID string, edited *keyView) {
	h.renderUserPage(w, r, status, app, userID, edited, nil)
}

// renderUserPage is renderUser; cd, if not nil, is a refused custom data form.
func (h *Handler) renderUserPage(w http.ResponseWriter, r *http.Request, status int, app *latchkey.App, userID string, edited *keyView, cd *customDataForm) {
	ctx := r.Context()
	u, stats, err := h.users.FindUser(ctx, app.ID, userID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	keys, err := h.users.FindUserAPIKeys(ctx, app.ID, u.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	views, err := h.keyViews(ctx, keys, func(ctx context.Context, keyID string, from, to time.Time) ([]latchkey.KeyUsage, error) {
		return h.verify.FindUserAPIKeyUsage(ctx, app.ID, u.ID, keyID, from, to)
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for i := range views {
		if edited != nil && views[i].ID == edited.ID {
			views[i].Form, views[i].Was, views[i].Error = edited.Form, edited.Was, edited.Error
		}
	}
	title := u.Email
	if title == "" {
		title = "User " + u.ID
	}
	d := userData{User: u, Stats: stats, Keys: views, URL: userURL(app.ClientAppID, u.ID), Intervals: refillIntervals}
	if cd != nil {
		d.CustomData, d.CustomDataError = cd.Text, cd.Error
	} else if len(u.CustomData) > 0 {
		d.CustomData = metaText(u.CustomData)
	}
	h.render(w, r, status, "user", h.consolePage(r, title, "users", app, d))
}

func userURL(clientAppID, userID string) string {
	return appURL(clientAppID, "/users/"+url.PathEscape(userID))
}

// userName is how confirmation pages and messages name a user.
func userName(u *latchkey.User) string {
	if u.Email != "" {
		return latchkey.Visible(u.Email)
	}
	return "user " + u.ID
}

// userAction is one of the changes to a user that asks for confirmation first.
type userAction struct {
	path, question, detail, button, done string
	do                                   func(ctx context.Context, a latchkey.UserService, app, user string) error
	toList                               bool // after it, go to the users listing rather than the user
}

var userActions = []userAction{
	{
		path: "disable", question: "Disable %s?", button: "Disable user", done: "Disabled %s.",
		detail: "The user's sessions end at once and their logins are refused until you enable them again. Access tokens already issued live out their 30 minutes.",
		do: func(ctx context.Context, a latchkey.UserService, app, user string) error {
			return a.SetUserDisabled(ctx, app, user, true)
		},
	},
	{
		path: "logout", question: "Revoke every session of %s?", button: "Revoke sessions", done: "Revoked every session of %s.",
		detail: "Every refresh token of the user stops working; the user may sign in again.",
		do: func(ctx context.Context, a latchkey.UserService, app, user string) error {
			return a.RevokeUserSessions(ctx, app, user)
		},
	},
	{
		path: "delete", question: "Delete %s?", button: "Delete user", done: "Deleted %s.", toList: true,
		detail: "The user's identities, API keys and sessions are deleted with it. This cannot be undone.",
		do: func(ctx context.Context, a latchkey.UserService, app, user string) error {
			return a.DeleteUser(ctx, app, user)
		},
	},
}

func (h *Handler) handleUserActionConfirm(a userAction) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		app, u, ok := h.pathUser(w, r)
		if !ok {
			return
		}
		back := userURL(app.ClientAppID, u.ID)
		h.render(w, r, http.StatusOK, "confirm", h.consolePage(r, a.button, "users", app, confirmData{
			Question: strings.Replace(a.question, "%s", userName(u), 1), Detail: a.detail,
			Action: back + "/" + a.path, Button: a.button, Cancel: back,
		}))
	}
}

func (h *Handler) handleUserAction(a userAction) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		app := r.PathValue("app")
		u, _, err := h.users.FindUser(ctx, app, r.PathValue("user"))
		if err == nil {
			err = a.do(ctx, h.users, app, u.ID)
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		target := userURL(app, u.ID)
		if a.toList {
			target = appURL(app, "/users")
		}
		h.done(w, r, target, strings.Replace(a.done, "%s", userName(u), 1))
	}
}

func (h *Handler) handleEnableUser(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	app := r.PathValue("app")
	u, _, err := h.users.FindUser(ctx, app, r.PathValue("user"))
	if err == nil {
		err = h.users.SetUserDisabled(ctx, app, u.ID, false)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.done(w, r, userURL(app, u.ID), "Enabled "+userName(u)+".")
}

func (h *Handler) handleSetUserKey(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		app, user := r.PathValue("app"), r.PathValue("user")
		k, err := h.users.FindUserAPIKey(ctx, app, user, r.PathValue("key"))
		if err == nil {
			err = h.users.SetUserAPIKeyDisabled(ctx, app, user, k.ID, disabled)
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		h.done(w, r, userURL(app, user), "Key "+k.Name+" "+enabledWord(!disabled)+".")
	}
}

func (h *Handler) handleDeleteUserKeyConfirm(w http.ResponseWriter, r *http.Request) {
	app, k, ok := h.pathUserKey(w, r)
	if !ok {
		return
	}
	back := userURL(app.ClientAppID, r.PathValue("user"))
	h.render(w, r, http.StatusOK, "confirm", h.consolePage(r, "Delete key", "users", app, confirmData{
		Question: "Delete the key " + k.Name + " (" + k.Start + "…) of this user?",
		Detail:   "Whatever uses it can no longer log in, and its sessions end at once. This cannot be undone.",
		Action:   back + "/keys/" + url.PathEscape(k.ID) + "/delete", Button: "Delete key", Cancel: back,
	}))
}

func (h *Handler) handleDeleteUserKey(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	app, user := r.PathValue("app"), r.PathValue("user")
	k, err := h.users.FindUserAPIKey(ctx, app, user, r.PathValue("key"))
	if err == nil {
		err = h.users.DeleteUserAPIKey(ctx, app, user, k.ID)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.done(w, r, userURL(app, user), "Key "+k.Name+" deleted.")
}

// handleSetUserCustomData replaces a user's custom data with the form's JSON object; an
// empty form clears it. A refused form is shown again as sent, with the reason.
func (h *Handler) handleSetUserCustomData(w http.ResponseWriter, r *http.Request) {
	app, u, ok := h.pathUser(w, r)
	if !ok {
		return
	}
	text := r.PostForm.Get("custom_data")
	data := strings.TrimSpace(text)
	if data == "" {
		data = "{}"
	}
	msg := ""
	if !json.Valid([]byte(data)) {
		msg = "Custom data must be a JSON object."
	} else {
		err := h.users.SetUserCustomData(r.Context(), app.ID, u.ID, json.RawMessage(data))
		refusal, answered := h.saved(w, r, err, userURL(app.ClientAppID, u.ID), "Custom data of "+userName(u)+" saved.")
		if answered {
			return
		}
		msg = sentence(refusal)
	}
	h.renderUserPage(w, r, http.StatusUnprocessableEntity, app, u.ID, nil, &customDataForm{Text: text, Error: msg})
}
