package ui_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/testserver"
)

// annCustomData returns ann's custom data as the admin API reads it, and ann's user id.
func annCustomData(t *testing.T, srv *testserver.Server) (string, string) {
	t.Helper()
	ctx := context.Background()
	login, err := srv.Service.Auth.LogIn(ctx, srv.App, latchkey.Credentials{Provider: latchkey.ProviderUserpass, Username: userEmail, Password: userPassword})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := srv.Service.Admins.CreateAdmin(ctx, "reader-"+latchkey.NewID(srv.Clock.Now())+"@example.com", adminPassword)
	if err != nil {
		t.Fatal(err)
	}
	adminCtx := latchkey.NewContextWithAdmin(ctx, &latchkey.AdminAuth{Admin: admin, TokenType: latchkey.AdminAccessToken})
	data, err := srv.Service.Users.FindUserCustomData(adminCtx, srv.App.ID, login.UserID)
	if err != nil {
		t.Fatal(err)
	}
	return string(data), login.UserID
}

// TestUserCustomDataInBrowser: an admin sets a user's custom data on the user's page, sees it
// shown back indented, has a non-object refused next to the form with the text kept, and
// clears it by emptying the field, in headless Chromium.
func TestUserCustomDataInBrowser(t *testing.T) {
	srv := newConsoleServer(t)
	_, annID := annCustomData(t, srv)
	p := newPage(t, srv)
	p.open("/console/sign-in", 200)
	p.fill("#email", adminEmail)
	p.fill("#password", adminPassword)
	p.click("main button[type=submit]", 200)
	userPage := "/console/apps/" + srv.AppID + "/users/" + annID
	// setText sets the textarea's value: chromedp.Clear, which fill uses, needs text in it.
	setText := func(value string) {
		t.Helper()
		p.run("set the custom data field", chromedp.Evaluate[string](
			`(document.querySelector('#custom-data-text').value = `+jsString(value)+`)`))
	}
	submit := "#custom-data button[type=submit]"

	p.open(userPage, 200)
	if got := p.value("#custom-data-text"); got != "" {
		t.Fatalf("custom data field = %q, want empty", got)
	}
	setText(`{"plan":"pro","seats":5}`)
	p.click(submit, 200)
	p.contains(".flash", "Custom data of ann@example.com saved.")
	if got, _ := annCustomData(t, srv); got != `{"plan":"pro","seats":5}` {
		t.Fatalf("stored custom data = %s", got)
	}
	if got, want := p.value("#custom-data-text"), "{\n  \"plan\": \"pro\",\n  \"seats\": 5\n}"; got != want {
		t.Fatalf("custom data field = %q, want %q", got, want)
	}
	p.shot("console-user-custom-data")

	setText(`["not","an","object"]`)
	p.click(submit, http.StatusUnprocessableEntity)
	p.contains("#custom-data .error", "Custom data must be a JSON object")
	if got := p.value("#custom-data-text"); got != `["not","an","object"]` {
		t.Fatalf("refused field = %q, want the text as sent", got)
	}
	setText(`{"plan":`)
	p.click(submit, http.StatusUnprocessableEntity)
	p.contains("#custom-data .error", "Custom data must be a JSON object.")
	if got, _ := annCustomData(t, srv); got != `{"plan":"pro","seats":5}` {
		t.Fatalf("stored custom data after refusals = %s, want it unchanged", got)
	}

	p.open(userPage, 200)
	setText("")
	p.click(submit, 200)
	p.contains(".flash", "Custom data of ann@example.com saved.")
	if got, _ := annCustomData(t, srv); got != "{}" {
		t.Fatalf("stored custom data after clearing = %s, want {}", got)
	}
}

// TestUserCustomDataCSRF: the custom data form needs the session's CSRF token, as every
// console form does.
func TestUserCustomDataCSRF(t *testing.T) {
	srv := newConsoleServer(t)
	_, annID := annCustomData(t, srv)
	b := newClient(t, srv.URL, nil)
	tok := signInAdmin(t, b)
	path := "/console/apps/" + srv.AppID + "/users/" + annID + "/custom_data"

	for _, f := range []struct{ name, csrf string }{{"Missing", ""}, {"Wrong", strings.Repeat("x", len(tok))}} {
		if a := b.post(path, form("csrf", f.csrf, "custom_data", `{"plan":"pro"}`)); a.status != http.StatusForbidden {
			t.Fatalf("%s token: status %d, want 403", f.name, a.status)
		}
	}
	if got, _ := annCustomData(t, srv); got != "{}" {
		t.Fatalf("custom data set without a CSRF token: %s", got)
	}
	if a := b.post(path, form("csrf", tok, "custom_data", `{"plan":"pro"}`)); a.status != http.StatusSeeOther {
		t.Fatalf("with the token: status %d, want 303", a.status)
	}
	if got, _ := annCustomData(t, srv); got != `{"plan":"pro"}` {
		t.Fatalf("custom data = %s, want {\"plan\":\"pro\"}", got)
	}
}
