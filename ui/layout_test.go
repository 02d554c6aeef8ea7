package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/testserver"
	"github.com/latchkey/latchkey/service"
)

// Long values, as real data has them: every page must fit them at a desktop's and a phone's
// width.
const (
	longAppID = "customer-portal-production-eu-west-1-primary-tenant-0042"
	longEmail = "maximilian.alexander.schmidt-hohenberg@accounts.very-long-subdomain.example-company.co.uk"
	longAdmin = "platform-operations-on-call-administrator@infrastructure.example-company.com"
	longKey   = "nightly-reporting-pipeline-for-the-european-customer-data-warehouse"
)

// TestLayoutInBrowser: every console and self-service page, filled with long emails, ids and
// key names and a full page of audit events with long details, fits a 1280-pixel and a
// 390-pixel wide window without scrolling sideways; at 1280 pixels no table scrolls in its
// frame either, and no short audit detail is broken across lines.
func TestLayoutInBrowser(t *testing.T) {
	srv, paths := newLayoutServer(t)
	p := newPage(t, srv)

	check := func(t *testing.T, width int64, path string, status int64) {
		t.Helper()
		p := p.with(t)
		p.open(path, status)
		p.shot(fmt.Sprintf("layout-%d-%s", width, shotName(path)))
		if msg := p.run("measure "+path, chromedp.Evaluate[string](overflowScript)); msg != "" {
			t.Errorf("%s at %d px scrolls sideways: %s", path, width, msg)
		}
		if width < 1280 {
			return
		}
		if msg := p.run("measure tables of "+path, chromedp.Evaluate[string](tableOverflowScript)); msg != "" {
			t.Errorf("%s at %d px: a table scrolls in its frame: %s", path, width, msg)
		}
		if msg := p.run("measure details of "+path, chromedp.Evaluate[string](brokenDetailScript)); msg != "" {
			t.Errorf("%s at %d px: an audit detail is broken across lines: %s", path, width, msg)
		}
	}

	for _, width := range []int64{1280, 390} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			p := p.with(t)
			if width == 1280 {
				p.step("desktop viewport", chromedp.EmulateViewport(1280, 900))
			} else {
				p.step("phone viewport", chromedp.EmulateViewport(width, 844, chromedp.EmulateMobile))
			}

			for _, path := range paths.signedOut {
				check(t, width, path, 200)
			}
			// The console, as the admin with the long email.
			p.open("/console/sign-in", 200)
			p.fill("#email", longAdmin)
			p.fill("#password", adminPassword)
			p.click("main button[type=submit]", 200)
			for _, path := range paths.console {
				check(t, width, path, 200)
			}
			check(t, width, "/console/no-such-page", 404)
			p.open("/console/apps", 200)
			p.click("header .who button", 200)

			// The self-service page, as the user with the long email.
			p.open(paths.account, 200)
			p.fill("#email", longEmail)
			p.fill("#password", userPassword)
			p.click("main button[type=submit]", 200)
			for _, path := range paths.signedIn {
				check(t, width, path, 200)
			}
			p.click("header .who button", 200)
		})
	}
}

type layoutPaths struct {
	signedOut []string // pages anyone sees
	console   []string // an admin's pages
	account   string   // the self-service page of the app
	signedIn  []string // a user's self-service pages
}

// newLayoutServer starts a server with an app, an admin, users, keys and audit events that all
// carry long values, and returns the pages to check.
func newLayoutServer(t *testing.T) (*testserver.Server, layoutPaths) {
	t.Helper()
	limits := testserver.GenerousLimits()
	limits.LockoutFailures = 2 // to lock an account, for the audit event
	srv := testserver.New(t, testserver.Options{Limits: limits})
	ctx := context.Background()
	admin, err := srv.Service.Admins.CreateAdmin(ctx, longAdmin, adminPassword)
	if err != nil {
		t.Fatal(err)
	}
	adminCtx := latchkey.NewContextWithAdmin(ctx, &latchkey.AdminAuth{Admin: admin, TokenType: latchkey.AdminAccessToken})
	app := service.NewDefaultApp(longAppID)
	app.Name = "Customer portal, production, EU West primary tenant"
	app.Scopes = []string{"read:reports", "write:reports", "admin:billing-exports"}
	app.MaxKeyLifetime = 90 * 24 * time.Hour
	if err := srv.Service.Apps.CreateApp(adminCtx, app); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Service.Providers.CreateAuthProvider(adminCtx, app.ID, &latchkey.AuthProvider{
		Type: latchkey.ProviderCustomToken,
		Config: latchkey.AuthProviderConfig{SigningAlgorithm: latchkey.AlgRS256, UseJWKURI: true, Audience: []string{"customer-portal-production-eu-west", "customer-portal-staging"},
			JWKURI: "https://identity.customer-portal.example.com/tenants/eu-west-primary/.well-known/jwks.json"},
		MetadataFields: []latchkey.MetadataField{{Name: "organization.billing.contact_email", FieldName: "billing_contact_email", Required: true}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Service.Userpass.Register(ctx, app, longEmail, userPassword); err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		if err := srv.Service.Userpass.Register(ctx, app, fmt.Sprintf("user-%02d.%s", i, longEmail), userPassword); err != nil {
			t.Fatal(err)
		}
	}
	login, err := srv.Service.Auth.LogIn(ctx, app, latchkey.Credentials{Provider: latchkey.ProviderUserpass, Username: longEmail, Password: userPassword})
	if err != nil {
		t.Fatal(err)
	}
	auth, err := srv.Service.Auth.Authenticate(ctx, login.RefreshToken, latchkey.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	userCtx := latchkey.NewContextWithAuth(ctx, auth)
	var key *latchkey.APIKey
	for i := range 5 {
		expires := 30 * 24 * time.Hour
		k, err := srv.Service.APIKeys.CreateAPIKey(userCtx, latchkey.APIKeyInput{Name: fmt.Sprintf("%s-%d", longKey[:60], i), Scopes: app.Scopes, ExpiresIn: &expires})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := srv.Service.APIKeys.RotateAPIKey(userCtx, k.ID, 36*time.Hour); err != nil {
			t.Fatal(err)
		}
		key = k
	}
	var serverKey *latchkey.APIKey
	for i := range 3 {
		if serverKey, err = srv.Service.ServerKeys.CreateServerAPIKey(adminCtx, app.ID, latchkey.APIKeyInput{Name: fmt.Sprintf("%s-%d", longKey[:60], i)}); err != nil {
			t.Fatal(err)
		}
	}
	// The last key has every limit, a long meta and verify calls, for its panel and chart.
	rl := &latchkey.KeyRateLimit{Limit: 1_000_000_000, Duration: 24 * time.Hour}
	rem := int64(9_000_000_000)
	remaining, refill := &rem, &latchkey.KeyRefill{Amount: 9_000_000_000, Interval: latchkey.RefillMonthly}
	meta := json.RawMessage(`{"customer":"` + longEmail + `","plan":"enterprise-annual-with-premium-support-and-dedicated-infrastructure"}`)
	if _, err := srv.Service.Verify.SetUserAPIKeyLimits(adminCtx, app.ID, key.UserID, key.ID,
		latchkey.APIKeyLimits{RateLimit: &rl, Remaining: &remaining, Refill: &refill, Meta: &meta}); err != nil {
		t.Fatal(err)
	}
	backend, err := srv.Service.Verify.AuthenticateServerKey(ctx, app, serverKey.Value)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if res, err := srv.Service.Verify.VerifyAPIKey(latchkey.NewContextWithAuth(ctx, backend), latchkey.VerifyRequest{Key: key.Value, Cost: 1}); err != nil || !res.Valid {
			t.Fatalf("verify: %+v, %v", res, err)
		}
	}
	// Wrong passwords lock an account, which the audit log tells with its email and end.
	for range 2 {
		srv.Service.Auth.LogIn(ctx, app, latchkey.Credentials{Provider: latchkey.ProviderUserpass, Username: "user-01." + longEmail, Password: "wrong password"})
	}
	refresh := 30 * 24 * time.Hour
	for range 5 {
		if _, err := srv.Service.Apps.UpdateApp(adminCtx, app.ID, latchkey.AppSettings{RefreshTokenLifetime: &refresh}); err != nil {
			t.Fatal(err)
		}
	}
	email := longEmail
	users, err := srv.Store.FindUsers(ctx, latchkey.UserFilter{AppID: app.ID, Email: &email})
	if err != nil || len(users) != 1 {
		t.Fatalf("find the user: %v, %d", err, len(users))
	}
	u := users[0]
	console := "/console/apps/" + longAppID
	account := "/app/" + longAppID + "/account/"
	return srv, layoutPaths{
		signedOut: []string{"/console/sign-in", account, account + "forgot"},
		console: []string{
			"/console/apps",
			console,
			console + "/delete",
			console + "/users",
			console + "/users/" + u.ID,
			console + "/users/" + u.ID + "/disable",
			console + "/users/" + u.ID + "/keys/" + key.ID + "/delete",
			console + "/server-keys",
			console + "/server-keys/" + serverKey.ID + "/delete",
			console + "/providers",
			"/console/audit",
			"/console/audit?app=" + longAppID + "&user=" + u.ID,
		},
		account:  account,
		signedIn: []string{account, account + "keys/" + key.ID + "/rotate", account + "keys/" + key.ID + "/delete"},
	}
}

// overflowScript says how the page is wider than the window and which elements stick out,
// or "" when it fits.
const overflowScript = `(() => {
  const d = document.documentElement;
  if (d.scrollWidth <= d.clientWidth) return "";
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.right > d.clientWidth + 0.5 && out.length < 6) out.push(el.tagName.toLowerCase() + (el.className ? "." + el.className : "") + " to " + Math.round(r.right) + "px");
  }
  return d.scrollWidth + "px wide in " + d.clientWidth + "px: " + out.join(", ");
})()`

// tableOverflowScript names the tables that scroll sideways in their frame, or "".
const tableOverflowScript = `(() => {
  return [...document.querySelectorAll(".table-wrap")].filter(e => e.scrollWidth > e.clientWidth)
    .map(e => (e.querySelector("caption") || {}).textContent + ": " + e.scrollWidth + "px in " + e.clientWidth + "px").join("; ");
})()`

// brokenDetailScript names the audit details of at most 40 characters that take more than
// one line, or "".
const brokenDetailScript = `(() => {
  return [...document.querySelectorAll(".audit .kv")].filter(e => e.textContent.length <= 40 &&
    e.getBoundingClientRect().height > 1.5 * parseFloat(getComputedStyle(e).lineHeight))
    .slice(0, 5).map(e => JSON.stringify(e.textContent)).join(", ");
})()`

// shotName names a page's screenshot after its path, without the long values.
func shotName(path string) string {
	r := strings.NewReplacer(longAppID, "app", "/", "-", "?", "-", "&", "-", "=", "-")
	name := strings.Trim(r.Replace(path), "-")
	return regexp.MustCompile(`[0-9a-f]{24}`).ReplaceAllString(name, "id")
}
