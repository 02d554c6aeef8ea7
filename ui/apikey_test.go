package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/testserver"
)

// TestAccountInBrowser: a user signs in to the self-service page, creates a key, copies its
// value, sees it gone after a reload, disables, enables and deletes it, and meets the
// duplicate-name and 20-key errors next to the form, in headless Chromium.
func TestAccountInBrowser(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	if err := srv.Service.Userpass.Register(context.Background(), srv.App, userEmail, userPassword); err != nil {
		t.Fatal(err)
	}
	p := newPage(t, srv)
	account := "/app/" + srv.AppID + "/account/"

	p.open("/app/"+srv.AppID+"/account", 200)
	if !p.has("form[action='" + account + "sign-in']") {
		t.Fatal("no sign-in form on the account page")
	}
	p.shot("account-sign-in")
	p.fill("#email", userEmail)
	p.fill("#password", "wrong password")
	p.click("main button[type=submit]", 401)
	p.contains(".error", "Wrong email or password.")
	p.fill("#password", userPassword)
	p.click("main button[type=submit]", 200)
	p.contains("h1", "Your API keys")
	p.contains(".who", userEmail)
	p.contains("table", "You have no API keys yet.")
	p.shot("account-keys-empty")

	var value string
	t.Run("CreateAndCopy", func(t *testing.T) {
		p := p.with(t)
		p.fill("#name", "laptop")
		p.step("choose an expiry", chromedp.SetValue(chromedp.CSS("#expires"), "90d"))
		p.click("main form.stack button[type=submit]", 200)
		value = p.value("#secret-value")
		if !latchkey.CheckKeyValue(value) {
			t.Fatalf("key value shown = %q, want a key", value)
		}
		p.contains(".secret .warning", "Copy this key now. It will not be shown again")
		p.press("button[data-copy]")
		p.waitText("button[data-copy]", "Copied")
		clip := p.run("read the clipboard", chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
		if clip != value {
			t.Fatalf("clipboard = %q, want the key value %q", clip, value)
		}
		p.shot("account-key-created")
		if err := keyLogIn(srv, value); err != nil {
			t.Fatalf("log in with the copied key: %v", err)
		}
	})

	t.Run("GoneAfterReload", func(t *testing.T) {
		p := p.with(t)
		p.navigate("reload", chromedp.Reload())
		if p.has("#secret-value") {
			t.Fatal("the key value is still shown after a reload")
		}
		row := p.text("tbody tr")
		for _, want := range []string{"laptop", latchkey.KeyStart(value), "enabled", "2027-"} {
			if !strings.Contains(row, want) {
				t.Fatalf("key row %q lacks %q", row, want)
			}
		}
		if strings.Contains(p.run("page HTML", chromedp.OuterHTML(chromedp.CSS("html"))), value) {
			t.Fatal("the page still holds the key value")
		}
		p.shot("account-keys")
	})

	t.Run("DisableEnable", func(t *testing.T) {
		p := p.with(t)
		p.click("button[aria-label='Disable laptop']", 200)
		p.contains(".flash", "Key laptop disabled.")
		p.contains("tbody tr", "disabled")
		if err := keyLogIn(srv, value); latchkey.ErrorCode(err) != latchkey.EUnauthorized {
			t.Fatalf("log in with the disabled key: %v, want %s", err, latchkey.EUnauthorized)
		}
		p.click("button[aria-label='Enable laptop']", 200)
		p.contains(".flash", "Key laptop enabled.")
		p.contains("tbody tr", "enabled")
		if err := keyLogIn(srv, value); err != nil {
			t.Fatalf("log in with the enabled key: %v", err)
		}
	})

	t.Run("Rotate", func(t *testing.T) {
		p := p.with(t)
		p.click("a[aria-label='Rotate laptop']", 200)
		p.contains("main h2", "Rotate the key laptop ("+latchkey.KeyStart(value)+"…)?")
		p.step("choose no grace period", chromedp.SetValue(chromedp.CSS("#grace"), "0s"))
		p.shot("account-confirm-rotate")
		p.click("main form button[type=submit]", 200)
		rotated := p.value("#secret-value")
		if !latchkey.CheckKeyValue(rotated) || rotated == value {
			t.Fatalf("value shown after rotate = %q, want a new key value (the old was %q)", rotated, value)
		}
		p.contains("#secret-title", "New value of key “laptop”")
		p.contains(".secret .warning", "Copy this key now. It will not be shown again")
		p.contains(".flash", "The old value of laptop no longer works.")
		p.shot("account-key-rotated")
		if err := keyLogIn(srv, value); latchkey.ErrorCode(err) != latchkey.EUnauthorized {
			t.Fatalf("log in with the old value: %v, want %s", err, latchkey.EUnauthorized)
		}
		if err := keyLogIn(srv, rotated); err != nil {
			t.Fatalf("log in with the new value: %v", err)
		}
		value = rotated
	})

	t.Run("PhoneWidth", func(t *testing.T) {
		p := p.with(t)
		p.step("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
		p.open(account, 200)
		width := p.run("page width", chromedp.Evaluate[string](`String(document.documentElement.scrollWidth)`))
		if width != "390" {
			t.Fatalf("page is %s px wide on a 390 px screen: it scrolls sideways", width)
		}
		p.shot("account-keys-phone")
		p.step("desktop viewport", chromedp.EmulateViewport(1280, 900))
	})

	t.Run("DuplicateName", func(t *testing.T) {
		p := p.with(t)
		p.fill("#name", "laptop")
		p.click("main form.stack button[type=submit]", 422)
		p.contains("#name-error", "There is already a key named “laptop”. Choose another name.")
		if p.value("#name") != "laptop" {
			t.Fatal("the refused name is not kept in the form")
		}
		p.shot("account-duplicate-name")

		p.fill("#name", "my laptop!")
		p.click("main form.stack button[type=submit]", 422)
		p.contains("#name-error", "Can only contain ASCII letters, numbers, underscores, and hyphens.")
	})

	t.Run("TwentyKeys", func(t *testing.T) {
		p := p.with(t)
		ctx := userContext(t, srv, userEmail, userPassword)
		for i := 2; i <= latchkey.MaxAPIKeysPerUser; i++ {
			if _, err := srv.Service.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: fmt.Sprintf("key-%02d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		p.open(account, 200)
		p.contains("main .muted", "You have 20 of at most 20 keys.")
		p.fill("#name", "one-too-many")
		p.click("main form.stack button[type=submit]", 422)
		p.contains("#name-error", "You have 20 keys, the most allowed. Delete one before creating another.")
		p.shot("account-key-limit")
	})

	t.Run("Delete", func(t *testing.T) {
		p := p.with(t)
		p.open(account, 200)
		p.click("a[aria-label='Delete laptop']", 200)
		p.contains("main h2", "Delete the key laptop ("+latchkey.KeyStart(value)+"…)?")
		p.shot("account-confirm-delete")
		p.click("main form button[type=submit]", 200)
		p.contains(".flash", "Key laptop deleted.")
		if strings.Contains(p.text("tbody"), "laptop") {
			t.Fatal("the deleted key is still listed")
		}
		if err := keyLogIn(srv, value); latchkey.ErrorCode(err) != latchkey.EUnauthorized {
			t.Fatalf("log in with the deleted key: %v, want %s", err, latchkey.EUnauthorized)
		}
	})

	t.Run("SignOut", func(t *testing.T) {
		p := p.with(t)
		p.open(account, 200)
		p.click("header .who button", 200)
		p.contains(".flash", "You have signed out.")
		if !p.has("form[action='" + account + "sign-in']") {
			t.Fatal("no sign-in form after signing out")
		}
	})

	t.Run("ForgotPassword", func(t *testing.T) {
		p := p.with(t)
		p.click("a[href='"+account+"forgot']", 200)
		p.contains("main h1", "Reset your password")
		p.fill("#email", userEmail)
		p.shot("account-forgot")
		p.click("main form button[type=submit]", 200)
		p.contains(".flash", "If an account exists for that address, we sent a link")
		if msg, ok := srv.Mailer.Last(userEmail); !ok || msg.Kind != latchkey.UserTokenReset {
			t.Fatalf("message to %s: %+v, %v; want a password reset message", userEmail, msg, ok)
		}
	})
}

// TestRotateKey: the rotate page offers the API's grace periods, the new value is shown once,
// and the old one keeps working for the chosen grace period; a period the page does not offer
// changes nothing.
func TestRotateKey(t *testing.T) {
	srv := newConsoleServer(t)
	account := "/app/" + srv.AppID + "/account/"
	b := newClient(t, srv.URL, nil)
	tok := signInUser(t, b, srv.AppID)
	k, err := srv.Service.APIKeys.CreateAPIKey(userContext(t, srv, userEmail, userPassword), latchkey.APIKeyInput{Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	rotate := account + "keys/" + k.ID + "/rotate"

	if a := b.get(account); !strings.Contains(a.body, `href="`+rotate+`" aria-label="Rotate ci"`) {
		t.Fatalf("the keys page has no Rotate link to %s:\n%s", rotate, a.body)
	}
	a := b.get(rotate)
	for _, want := range []string{`action="` + rotate + `"`, `<select id="grace" name="grace">`, `<option value="0s">`, `<option value="1h">`, `<option value="7d">`} {
		if a.status != http.StatusOK || !strings.Contains(a.body, want) {
			t.Fatalf("GET %s: %d, lacks %s:\n%s", rotate, a.status, want, a.body)
		}
	}

	t.Run("UnofferedGrace", func(t *testing.T) {
		if a := b.post(rotate, form("csrf", tok, "grace", "8d")); a.status != http.StatusBadRequest {
			t.Fatalf("POST with grace 8d: %d, want 400", a.status)
		}
		if err := keyLogIn(srv, k.Value); err != nil {
			t.Fatalf("the key changed: %v", err)
		}
	})

	t.Run("WithGrace", func(t *testing.T) {
		if a := b.post(rotate, form("csrf", tok, "grace", "1h")); a.status != http.StatusSeeOther || a.header.Get("Location") != account {
			t.Fatalf("POST: %d to %q, want 303 to %s", a.status, a.header.Get("Location"), account)
		}
		page := b.get(account).body
		m := regexp.MustCompile(`id="secret-value"[^>]*value="([^"]+)"`).FindStringSubmatch(page)
		if m == nil || !latchkey.CheckKeyValue(m[1]) || m[1] == k.Value {
			t.Fatalf("the page after rotate shows no new value:\n%s", page)
		}
		for _, want := range []string{"New value of key “ci”", "Copy this key now. It will not be shown again", "The old value of ci keeps working for 1h, then stops."} {
			if !strings.Contains(page, want) {
				t.Errorf("the page after rotate lacks %q", want)
			}
		}
		if err := keyLogIn(srv, m[1]); err != nil {
			t.Errorf("log in with the new value: %v", err)
		}
		if err := keyLogIn(srv, k.Value); err != nil {
			t.Errorf("log in with the old value during the grace period: %v", err)
		}
		if again := b.get(account).body; strings.Contains(again, m[1]) {
			t.Error("the new value is shown a second time")
		}
	})
}
