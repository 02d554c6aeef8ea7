package ui_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestAppSettingsHideAccountExistence: the settings form shows the app's account hiding
// setting, with its explanation, and saves it both ways.
func TestAppSettingsHideAccountExistence(t *testing.T) {
	srv := newConsoleServer(t)
	ctx := context.Background()
	b := newClient(t, srv.URL, nil)
	tok := signInAdmin(t, b)
	path := "/console/apps/" + srv.AppID

	page := b.get(path)
	if page.status != http.StatusOK || !strings.Contains(page.body, `name="hide_account_existence"`) ||
		!strings.Contains(page.body, "Hide which emails have accounts") {
		t.Fatalf("GET %s: %d, no account hiding setting in\n%s", path, page.status, page.body)
	}
	settings := func(hide bool) map[string]string {
		f := map[string]string{
			"csrf": tok, "name": srv.App.Name, "local_userpass_enabled": "on", "api_key_enabled": "on",
			"anon_user_enabled": "on", "auto_confirm": "on", "password_min_length": "6",
			"refresh_token_lifetime_seconds": "5184000", "allowed_origins": "", "key_prefix": "lk",
			"max_key_lifetime_seconds": "0", "scopes": "",
		}
		if hide {
			f["hide_account_existence"] = "on"
		}
		return f
	}
	for _, hide := range []bool{true, false} {
		var kv []string
		for k, v := range settings(hide) {
			kv = append(kv, k, v)
		}
		if a := b.post(path, form(kv...)); a.status != http.StatusSeeOther {
			t.Fatalf("save with hide_account_existence=%v: %d\n%s", hide, a.status, a.body)
		}
		app, err := srv.Store.FindAppByClientID(ctx, srv.AppID)
		if err != nil {
			t.Fatal(err)
		}
		if app.HideAccountExistence != hide {
			t.Fatalf("after saving %v, the app's HideAccountExistence = %v", hide, app.HideAccountExistence)
		}
		if checked := strings.Contains(b.get(path).body, `name="hide_account_existence" aria-describedby="hae-hint" checked`); checked != hide {
			t.Fatalf("after saving %v, the box shows checked = %v", hide, checked)
		}
	}
}
