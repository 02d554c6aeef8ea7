package ui_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey"
)

// TestConsoleInBrowser: an admin signs in, changes an app setting, creates and revokes a
// server key, disables a user and reads the audit log, in headless Chromium.
func TestConsoleInBrowser(t *testing.T) {
	srv := newConsoleServer(t)
	ctx := context.Background()
	p := newPage(t, srv)
	app := "/console/apps/" + srv.AppID

	// Signed out, the console sends the browser to its sign-in page.
	p.open("/console/", 200)
	if !p.has("form[action='/console/sign-in']") {
		t.Fatal("no sign-in form at /console/")
	}
	p.shot("console-sign-in")

	p.fill("#email", adminEmail)
	p.fill("#password", "not the password")
	p.click("button[type=submit]", 401)
	p.contains(".error", "Wrong email or password.")
	if got := p.value("#email"); got != adminEmail {
		t.Fatalf("email after a refused sign-in = %q, want it kept", got)
	}

	p.fill("#password", adminPassword)
	p.click("main button[type=submit]", 200)
	p.contains("h1", "Apps")
	p.contains("table", srv.AppID)
	p.contains(".who", adminEmail)
	p.shot("console-apps")

	t.Run("ChangeSetting", func(t *testing.T) {
		p := p.with(t)
		p.click("a[href='"+app+"']", 200)
		if p.value("#password_min_length") != "6" {
			t.Fatalf("password minimum length shown = %q, want 6", p.value("#password_min_length"))
		}
		p.fill("#password_min_length", "10")
		p.press("input[name=anon_user_enabled]")
		p.press("input[name=hide_account_existence]")
		p.click("form.settings button[type=submit]", 200)
		p.contains(".flash", "Settings saved.")
		p.shot("console-app-settings")

		got, err := srv.Store.FindAppByClientID(ctx, srv.AppID)
		if err != nil {
			t.Fatal(err)
		}
		if got.PasswordMinLength != 10 || got.AnonymousEnabled || !got.UserpassEnabled || !got.APIKeyEnabled || !got.HideAccountExistence {
			t.Fatalf("app after saving: min length %d, anon %v, userpass %v, api-key %v, hide accounts %v; want 10, false, true, true, true",
				got.PasswordMinLength, got.AnonymousEnabled, got.UserpassEnabled, got.APIKeyEnabled, got.HideAccountExistence)
		}

		// A setting the rules refuse is explained next to the form, and nothing changes.
		p.fill("#key_prefix", "NOPE")
		p.click("form.settings button[type=submit]", 422)
		p.contains(".error", "key prefix must be 2 to 10 lowercase letters")
		if got := p.value("#key_prefix"); got != "NOPE" {
			t.Fatalf("key prefix after refusal = %q, want the typed value kept", got)
		}
	})

	t.Run("ServerKey", func(t *testing.T) {
		p := p.with(t)
		p.open(app+"/server-keys", 200)
		p.contains("table", "No server keys yet.")
		p.fill("#name", "backend")
		p.click("main form.stack button[type=submit]", 200)

		value := p.value("#secret-value")
		if !latchkey.CheckKeyValue(value) || !strings.HasPrefix(value, "lk_") {
			t.Fatalf("key value shown = %q, want a key", value)
		}
		p.contains(".secret .warning", "It will not be shown again")
		p.press("button[data-copy]")
		p.waitText("button[data-copy]", "Copied")
		p.shot("console-server-key-created")
		if _, err := srv.Service.Auth.LogIn(ctx, srv.App, latchkey.Credentials{Provider: latchkey.ProviderAPIKey, Key: value}); err != nil {
			t.Fatalf("log in with the shown server key: %v", err)
		}

		// The value is shown once: a reload shows the list without it.
		p.navigate("reload", chromedp.Reload())
		if p.has("#secret-value") {
			t.Fatal("the key value is still shown after a reload")
		}
		p.contains("table", "backend")
		p.shot("console-server-keys")

		// Revoke: disable, then delete after the confirmation page.
		p.click("button[aria-label='Disable backend']", 200)
		p.contains(".flash", "Server key backend disabled.")
		p.contains("table", "disabled")
		if _, err := srv.Service.Auth.LogIn(ctx, srv.App, latchkey.Credentials{Provider: latchkey.ProviderAPIKey, Key: value}); latchkey.ErrorCode(err) != latchkey.EUnauthorized {
			t.Fatalf("log in with a disabled server key: %v, want %s", err, latchkey.EUnauthorized)
		}
		p.click("a[aria-label='Delete backend']", 200)
		p.contains("main h2", "Delete the server key backend")
		p.shot("console-confirm-delete-server-key")
		p.click("main form button[type=submit]", 200)
		p.contains(".flash", "Server key backend deleted.")
		p.contains("table", "No server keys yet.")
	})

	t.Run("DisableUser", func(t *testing.T) {
		p := p.with(t)
		p.open(app+"/users", 200)
		for _, name := range []string{"ann", "bob", "cy"} {
			p.contains("table", name+"@example.com")
		}
		p.shot("console-users")
		p.fill("#f-email", "bob@example.com")
		p.click("form.filters button[type=submit]", 200)
		if p.has("a[href*='ann']") || !strings.Contains(p.text("table"), "bob@example.com") {
			t.Fatalf("search for bob shows %q", p.text("table"))
		}
		p.click("table a", 200)
		p.contains("main h2", "bob@example.com")
		p.contains(".facts", "normal")
		p.contains("table", "local-userpass")
		p.shot("console-user")

		p.click("a[href$='/disable']", 200)
		p.contains("main h2", "Disable bob@example.com?")
		p.click("main form button[type=submit]", 200)
		p.contains(".flash", "Disabled bob@example.com.")
		p.contains("main h2", "disabled")
		p.shot("console-user-disabled")

		_, err := srv.Service.Auth.LogIn(ctx, srv.App, latchkey.Credentials{Provider: latchkey.ProviderUserpass, Username: "bob@example.com", Password: "password bob"})
		if latchkey.ErrorCode(err) != latchkey.EUserDisabled {
			t.Fatalf("log in as the disabled user: %v, want %s", err, latchkey.EUserDisabled)
		}
	})

	t.Run("AuditLog", func(t *testing.T) {
		p := p.with(t)
		p.open("/console/audit", 200)
		for _, event := range []string{"admin_login", "app_updated", "server_api_key_created", "server_api_key_disabled", "server_api_key_deleted", "user_disabled"} {
			p.contains("table", event)
		}
		p.shot("console-audit")

		p.step("choose the event", chromedp.SetValue(chromedp.CSS("#f-event"), latchkey.EventUserDisabled))
		p.click("form.filters button[type=submit]", 200)
		rows := p.text("tbody")
		if !strings.Contains(rows, "user_disabled") || strings.Contains(rows, "admin_login") {
			t.Fatalf("audit log filtered on user_disabled shows:\n%s", rows)
		}
		p.shot("console-audit-filtered")
	})

	t.Run("SignOut", func(t *testing.T) {
		p := p.with(t)
		p.click("header .who button", 200)
		p.contains(".flash", "You have signed out.")
		p.open("/console/apps", 200)
		if !p.has("form[action='/console/sign-in']") {
			t.Fatal("the console still opens after signing out")
		}
	})
}
