package ui_test

import (
	"context"
	"fmt"
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
	if err := srv.Service.Register(context.Background(), srv.App, userEmail, userPassword); err != nil {
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
			if _, err := srv.Service.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: fmt.Sprintf("key-%02d", i)}); err != nil {
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
}
