package ui

import (
	"net/http"
	"strings"

	"github.com/latchkey/latchkey"
)

type serverKeysData struct {
	Keys  []*latchkey.APIKey
	Max   int
	Name  string // the create form's value, kept when it is refused
	Error string
}

func (h *Handler) handleServerKeys(w http.ResponseWriter, r *http.Request) {
	h.renderServerKeys(w, r, http.StatusOK, serverKeysData{})
}

func (h *Handler) renderServerKeys(w http.ResponseWriter, r *http.Request, status int, d serverKeysData) {
	app, ok := h.pathApp(w, r)
	if !ok {
		return
	}
	var err error
	if d.Keys, err = h.serverKeys.FindServerAPIKeys(r.Context(), app.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	d.Max = latchkey.MaxServerAPIKeysPerApp
	h.render(w, r, status, "server_keys", h.consolePage(r, app.Name+": server API keys", "server-keys", app, d))
}

func (h *Handler) handleCreateServerKey(w http.ResponseWriter, r *http.Request) {
	app := r.PathValue("app")
	name := strings.TrimSpace(r.PostForm.Get("name"))
	k, err := h.serverKeys.CreateServerAPIKey(r.Context(), app, latchkey.APIKeyInput{Name: name})
	if msg := keyErrorMessage(err, name, latchkey.MaxServerAPIKeysPerApp, "This app has"); msg != "" {
		h.renderServerKeys(w, r, http.StatusUnprocessableEntity, serverKeysData{Name: name, Error: msg})
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	h.showNewKey(w, r, appURL(app, "/server-keys"), "", secret{Name: k.Name, Value: k.Value})
}

// showNewKey sends the browser to the page at to, which shows the key's new value, once,
// with message (if any).
func (h *Handler) showNewKey(w http.ResponseWriter, r *http.Request, to, message string, key secret) {
	if err := h.setFlash(r.Context(), currentOf(r), &flash{Message: message, Secret: &key}); err != nil {
		h.internal(w, r, err)
		return
	}
	seeOther(w, r, to)
}

// keyErrorMessage is the message shown next to a key's create form for the key rules a
// name or an owner broke, or "" for any other error.
func keyErrorMessage(err error, name string, max int, owner string) string {
	switch latchkey.ErrorCode(err) {
	case latchkey.ERequired:
		return "Give the key a name."
	case latchkey.EInvalid:
		return sentence(latchkey.ErrorMessage(err))
	case latchkey.EAPIKeyExists:
		return "There is already a key named “" + name + "”. Choose another name."
	case latchkey.ELimitReached:
		return owner + " " + plural(int64(max), "key") + ", the most allowed. Delete one before creating another."
	}
	return ""
}

func (h *Handler) handleSetServerKey(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		app := r.PathValue("app")
		ctx := r.Context()
		k, err := h.serverKeys.FindServerAPIKey(ctx, app, r.PathValue("key"))
		if err == nil {
			err = h.serverKeys.SetServerAPIKeyDisabled(ctx, app, k.ID, disabled)
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		h.done(w, r, appURL(app, "/server-keys"), "Server key "+k.Name+" "+enabledWord(!disabled)+".")
	}
}

// sentence capitalises a service message and ends it with a full stop.
func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

func enabledWord(enabled bool) string {
	if enabled {
		return "enabled"
	}
	return "disabled"
}

func (h *Handler) handleDeleteServerKeyConfirm(w http.ResponseWriter, r *http.Request) {
	app, ok := h.pathApp(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	k, err := h.serverKeys.FindServerAPIKey(ctx, app.ID, r.PathValue("key"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	back := appURL(app.ClientAppID, "/server-keys")
	h.render(w, r, http.StatusOK, "confirm", h.consolePage(r, "Delete server key", "server-keys", app, confirmData{
		Question: "Delete the server key " + k.Name + " (" + k.Start + "…)?",
		Detail:   "Services using it can no longer log in, and its sessions end at once. This cannot be undone.",
		Action:   back + "/" + k.ID + "/delete", Button: "Delete key", Cancel: back,
	}))
}

func (h *Handler) handleDeleteServerKey(w http.ResponseWriter, r *http.Request) {
	app := r.PathValue("app")
	ctx := r.Context()
	k, err := h.serverKeys.FindServerAPIKey(ctx, app, r.PathValue("key"))
	if err == nil {
		err = h.serverKeys.DeleteServerAPIKey(ctx, app, k.ID)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.done(w, r, appURL(app, "/server-keys"), "Server key "+k.Name+" deleted.")
}
