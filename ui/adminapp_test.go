package ui_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
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

// TestConsoleWritesValuesAsTheCLI: lengths of time read as the CLI writes them (60d, 36h)
// next to the seconds the forms take and in the audit log's details, and an app's sign-in
// methods are separate items.
func TestConsoleWritesValuesAsTheCLI(t *testing.T) {
	srv := newConsoleServer(t)
	ctx := userContext(t, srv, userEmail, userPassword)
	k, err := srv.Service.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Service.APIKeys.RotateAPIKey(ctx, k.ID, 36*time.Hour); err != nil {
		t.Fatal(err)
	}
	b := newClient(t, srv.URL, nil)
	signInAdmin(t, b)

	for _, tt := range []struct {
		name, path string
		want       []string
		not        []string
	}{
		{"Apps", "/console/apps", []string{`<ul class="items"><li class="badge">email/password</li><li class="badge">API key</li><li class="badge">anonymous</li></ul>`}, nil},
		{"Settings", "/console/apps/" + srv.AppID, []string{`value="5184000"`, `<strong class="now">60d</strong>`}, nil},
		{"Audit", "/console/audit?event=" + latchkey.EventAPIKeyRotated, []string{`<span class="kv">grace_period=36h</span>`}, []string{"129600"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := b.get(tt.path)
			if a.status != 200 {
				t.Fatalf("GET %s: %d", tt.path, a.status)
			}
			for _, want := range tt.want {
				if !strings.Contains(a.body, want) {
					t.Errorf("GET %s lacks %s", tt.path, want)
				}
			}
			for _, not := range tt.not {
				if strings.Contains(a.body, not) {
					t.Errorf("GET %s holds %s", tt.path, not)
				}
			}
		})
	}
}
