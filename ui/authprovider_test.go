package ui_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/testserver"
	"github.com/latchkey/latchkey/ui"
)

const (
	tokenKey       = "the custom tokens' HS256 signing key, 48 bytes."
	functionSecret = "the webhook's signing secret, 40 bytes long"
)

// providerForm is a provider's form with the session's token.
func providerForm(tok string, kv ...string) url.Values {
	return form(append([]string{"csrf", tok}, kv...)...)
}

func findProvider(t *testing.T, srv *testserver.Server, typ string) *latchkey.AuthProvider {
	t.Helper()
	p, err := srv.Store.FindAuthProvider(context.Background(), srv.App.ID, typ)
	if err != nil {
		t.Fatalf("find %s: %v", typ, err)
	}
	return p
}

// TestAuthProvidersPage: the sign-in providers page shows the built-in providers' state
// and, for each external provider, "not configured" and a form, linked from the settings.
func TestAuthProvidersPage(t *testing.T) {
	srv := newConsoleServer(t)
	b := newClient(t, srv.URL, nil)
	signInAdmin(t, b)
	path := "/console/apps/" + srv.AppID + "/providers"

	if s := b.get("/console/apps/" + srv.AppID); !strings.Contains(s.body, `href="`+path+`"`) {
		t.Fatalf("the settings page does not link to %s:\n%s", path, s.body)
	}
	a := b.get(path)
	if a.status != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", path, a.status, a.body)
	}
	for _, want := range []string{
		`<td class="mono">local-userpass</td><td><span class="badge badge-on">enabled</span>`,
		`<td class="mono">api-key</td><td><span class="badge badge-on">enabled</span>`,
		`<td class="mono">anon-user</td><td><span class="badge badge-on">enabled</span>`,
		`placeholder="` + latchkey.GoogleIssuer + `"`, `placeholder="` + latchkey.AppleJWKURI + `"`,
	} {
		if !strings.Contains(a.body, want) {
			t.Errorf("GET %s lacks %s", path, want)
		}
	}
	for _, typ := range []string{"custom-token", "custom-function", "oauth2-google", "oauth2-apple"} {
		section := a.body[strings.Index(a.body, `id="provider-`+typ+`"`):]
		section = section[:strings.Index(section, "</section>")]
		if !strings.Contains(section, "not configured") || !strings.Contains(section, `action="`+path+`/`+typ+`#provider-`+typ+`"`) {
			t.Errorf("section of %s: not shown as not configured with its form:\n%s", typ, section)
		}
	}
}

// TestAuthProvidersNotServed: a console without the providers service has no providers page
// and no link to it.
func TestAuthProvidersNotServed(t *testing.T) {
	srv := newConsoleServer(t)
	cfg := testserver.UIConfig(srv.Service)
	cfg.Providers = nil
	ts := httptest.NewServer(ui.New(cfg))
	t.Cleanup(ts.Close)
	b := newClient(t, ts.URL, nil)
	signInAdmin(t, b)
	if s := b.get("/console/apps/" + srv.AppID); strings.Contains(s.body, "/providers") {
		t.Fatalf("the settings page links to the providers page:\n%s", s.body)
	}
	if a := b.get("/console/apps/" + srv.AppID + "/providers"); a.status != http.StatusNotFound {
		t.Fatalf("GET the providers page: %d, want 404", a.status)
	}
}

// TestCustomTokenForm: the custom JWT form configures the provider, shows its settings but
// never its keys, keeps the keys when left empty, shows the service's refusals with the form
// as sent, and the provider is disabled, enabled and deleted behind a confirmation page.
func TestCustomTokenForm(t *testing.T) {
	srv := newConsoleServer(t)
	ctx := context.Background()
	b := newClient(t, srv.URL, nil)
	tok := signInAdmin(t, b)
	page := "/console/apps/" + srv.AppID + "/providers"
	action := page + "/custom-token"

	t.Run("Refused", func(t *testing.T) {
		a := b.post(action, providerForm(tok, "signing_algorithm", "HS256", "audience", "my-app", "signing_keys", "too short"))
		if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "an HS256 signing key must be 32 to 512 characters") {
			t.Fatalf("a short key: %d\n%s", a.status, a.body)
		}
		if !strings.Contains(a.body, `name="audience" value="my-app"`) || strings.Contains(a.body, "too short") {
			t.Fatalf("the refused form does not keep the audience, or shows the key:\n%s", a.body)
		}
		a = b.post(action, providerForm(tok, "signing_algorithm", "HS256", "signing_keys", tokenKey, "metadata_fields", "email,mail,maybe"))
		if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "Metadata field 1: the third value must be “required” or left out.") ||
			!strings.Contains(a.body, "email,mail,maybe</textarea>") {
			t.Fatalf("a bad metadata line: %d\n%s", a.status, a.body)
		}
		if _, err := srv.Store.FindAuthProvider(ctx, srv.App.ID, "custom-token"); latchkey.ErrorCode(err) != latchkey.ENotFound {
			t.Fatalf("after refusals the provider is there: %v", err)
		}
	})

	t.Run("Configure", func(t *testing.T) {
		a := b.post(action, providerForm(tok, "signing_algorithm", "HS256", "audience", "my-app, other-app",
			"signing_keys", tokenKey+"\n", "metadata_fields", "email,email,required\nuser.name,name"))
		if a.status != http.StatusSeeOther || a.header.Get("Location") != page+"#provider-custom-token" {
			t.Fatalf("configure: %d to %q\n%s", a.status, a.header.Get("Location"), a.body)
		}
		p := findProvider(t, srv, "custom-token")
		wantFields := []latchkey.MetadataField{{Required: true, Name: "email", FieldName: "email"}, {Name: "user.name", FieldName: "name"}}
		if p.Disabled || p.Config.SigningAlgorithm != "HS256" || !slices.Equal(p.Config.Audience, []string{"my-app", "other-app"}) ||
			!slices.Equal(p.MetadataFields, wantFields) || p.SealedSecrets == nil {
			t.Fatalf("provider saved: %+v", p)
		}
		s := b.get(page)
		for _, want := range []string{"Sign-in provider custom-token configured.", `value="my-app, other-app"`,
			"email,email,required\nuser.name,name</textarea>", "Set: leave empty to keep.", `aria-label="Disable custom-token"`} {
			if !strings.Contains(s.body, want) {
				t.Errorf("the page after configuring lacks %q", want)
			}
		}
		if strings.Contains(s.body, tokenKey) {
			t.Fatal("the page shows the signing key")
		}
	})

	t.Run("ReplaceKeepsKeys", func(t *testing.T) {
		if a := b.post(action+"/disable", providerForm(tok)); a.status != http.StatusSeeOther {
			t.Fatalf("disable: %d\n%s", a.status, a.body)
		}
		// No signing keys: the stored ones stay (without them, HS256 would be refused).
		a := b.post(action, providerForm(tok, "signing_algorithm", "HS256", "audience", "third-app", "signing_keys", ""))
		if a.status != http.StatusSeeOther {
			t.Fatalf("replace without keys: %d\n%s", a.status, a.body)
		}
		p := findProvider(t, srv, "custom-token")
		if !slices.Equal(p.Config.Audience, []string{"third-app"}) || p.SealedSecrets == nil || !p.Disabled || len(p.MetadataFields) != 0 {
			t.Fatalf("after the replacement: %+v, want audience third-app, keys kept, still disabled", p)
		}
	})

	t.Run("EnableDisableDelete", func(t *testing.T) {
		if s := b.get(page); !strings.Contains(s.body, `aria-label="Enable custom-token"`) {
			t.Fatal("a disabled provider has no Enable button")
		}
		if a := b.post(action+"/enable", providerForm(tok)); a.status != http.StatusSeeOther {
			t.Fatalf("enable: %d\n%s", a.status, a.body)
		}
		if p := findProvider(t, srv, "custom-token"); p.Disabled {
			t.Fatal("still disabled after enable")
		}
		c := b.get(action + "/delete")
		if c.status != http.StatusOK || !strings.Contains(c.body, "Delete the sign-in provider custom-token?") || !strings.Contains(c.body, `action="`+action+`/delete"`) {
			t.Fatalf("delete confirmation: %d\n%s", c.status, c.body)
		}
		if a := b.post(action+"/delete", providerForm(tok)); a.status != http.StatusSeeOther {
			t.Fatalf("delete: %d\n%s", a.status, a.body)
		}
		if _, err := srv.Store.FindAuthProvider(ctx, srv.App.ID, "custom-token"); latchkey.ErrorCode(err) != latchkey.ENotFound {
			t.Fatalf("after delete: %v, want %s", err, latchkey.ENotFound)
		}
		if a := b.get(action + "/delete"); a.status != http.StatusNotFound {
			t.Fatalf("confirm deleting a deleted provider: %d, want 404", a.status)
		}
	})

	t.Run("UnknownType", func(t *testing.T) {
		if a := b.post(page+"/oauth2-facebook", providerForm(tok, "client_ids", "x")); a.status != http.StatusNotFound {
			t.Fatalf("POST an unknown provider type: %d, want 404", a.status)
		}
	})
}

// TestCustomFunctionAndOAuthForms: the custom function's and Google's forms, with their
// refusals and their defaults.
func TestCustomFunctionAndOAuthForms(t *testing.T) {
	srv := newConsoleServer(t)
	b := newClient(t, srv.URL, nil)
	tok := signInAdmin(t, b)
	page := "/console/apps/" + srv.AppID + "/providers"

	t.Run("CustomFunction", func(t *testing.T) {
		action := page + "/custom-function"
		a := b.post(action, providerForm(tok, "url", "https://functions.example.com/login"))
		if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "secret_config.secret is required") ||
			!strings.Contains(a.body, `value="https://functions.example.com/login"`) {
			t.Fatalf("no secret: %d\n%s", a.status, a.body)
		}
		a = b.post(action, providerForm(tok, "url", "https://functions.example.com/login", "timeout_ms", "soon", "secret", functionSecret))
		if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "Timeout must be a whole number of milliseconds.") {
			t.Fatalf("a bad timeout: %d\n%s", a.status, a.body)
		}
		a = b.post(action, providerForm(tok, "url", "https://functions.example.com/login", "timeout_ms", "2500", "secret", functionSecret))
		if a.status != http.StatusSeeOther {
			t.Fatalf("configure: %d\n%s", a.status, a.body)
		}
		p := findProvider(t, srv, "custom-function")
		if p.Config.URL != "https://functions.example.com/login" || p.Config.TimeoutMS != 2500 || p.SealedSecrets == nil {
			t.Fatalf("provider saved: %+v", p)
		}
		s := b.get(page)
		if !strings.Contains(s.body, `name="timeout_ms" type="number" min="100" max="10000" value="2500"`) ||
			!strings.Contains(s.body, `name="secret" type="password" value=""`) || !strings.Contains(s.body, "Set: leave empty to keep.") {
			t.Fatalf("the page after configuring:\n%s", s.body)
		}
		// An empty secret keeps the one set.
		if a := b.post(action, providerForm(tok, "url", "https://functions.example.com/v2", "secret", "")); a.status != http.StatusSeeOther {
			t.Fatalf("replace without a secret: %d\n%s", a.status, a.body)
		}
		if p := findProvider(t, srv, "custom-function"); p.Config.URL != "https://functions.example.com/v2" || p.SealedSecrets == nil {
			t.Fatalf("after the replacement: %+v", p)
		}
	})

	t.Run("Google", func(t *testing.T) {
		action := page + "/oauth2-google"
		a := b.post(action, providerForm(tok, "client_ids", " ", "issuer", ""))
		if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "clientId is required") {
			t.Fatalf("no client id: %d\n%s", a.status, a.body)
		}
		a = b.post(action, providerForm(tok, "client_ids", "one.apps.example, two.apps.example", "issuer", "", "jwk_uri", ""))
		if a.status != http.StatusSeeOther {
			t.Fatalf("configure: %d\n%s", a.status, a.body)
		}
		p := findProvider(t, srv, "oauth2-google")
		if got := p.Config.AllClientIDs(); !slices.Equal(got, []string{"one.apps.example", "two.apps.example"}) ||
			p.Config.Issuer != latchkey.GoogleIssuer || p.Config.JWKURI != latchkey.GoogleJWKURI {
			t.Fatalf("provider saved: %+v", p.Config)
		}
		s := b.get(page)
		for _, want := range []string{
			`name="client_ids" value="one.apps.example, two.apps.example"`,
			`name="issuer" value="" class="mono" placeholder="` + latchkey.GoogleIssuer + `"`,
		} {
			if !strings.Contains(s.body, want) {
				t.Errorf("the page lacks %s", want)
			}
		}
	})
}

// TestProviderSecretsNeverShown: once set, a provider's secrets appear in no console page of
// the app, nor in a refused form that carried a new one.
func TestProviderSecretsNeverShown(t *testing.T) {
	srv := newConsoleServer(t)
	b := newClient(t, srv.URL, nil)
	tok := signInAdmin(t, b)
	app := "/console/apps/" + srv.AppID
	page := app + "/providers"
	for _, f := range []struct {
		typ  string
		form url.Values
	}{
		{"custom-token", providerForm(tok, "signing_algorithm", "HS256", "signing_keys", tokenKey)},
		{"custom-function", providerForm(tok, "url", "https://functions.example.com/login", "secret", functionSecret)},
	} {
		if a := b.post(page+"/"+f.typ, f.form); a.status != http.StatusSeeOther {
			t.Fatalf("configure %s: %d\n%s", f.typ, a.status, a.body)
		}
	}
	const newSecret = "a new secret sent with a refused form"
	a := b.post(page+"/custom-function", providerForm(tok, "url", "ftp://nowhere", "secret", newSecret))
	if a.status != http.StatusUnprocessableEntity {
		t.Fatalf("a refused replacement: %d", a.status)
	}
	bodies := map[string]string{"the refused form": a.body}
	users, err := srv.Store.FindUsers(context.Background(), latchkey.UserFilter{AppID: srv.App.ID})
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{"/console/apps", app, page, page + "/custom-token/delete", page + "/custom-function/delete",
		app + "/users", app + "/server-keys", "/console/audit", "/console/audit?app=" + srv.AppID}
	for _, u := range users {
		paths = append(paths, app+"/users/"+u.ID)
	}
	for _, path := range paths {
		a := b.get(path)
		if a.status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, a.status)
		}
		bodies[path] = a.body
	}
	for path, body := range bodies {
		for _, secret := range []string{tokenKey, functionSecret, newSecret} {
			if strings.Contains(body, secret) {
				t.Errorf("%s shows the secret %q", path, secret)
			}
		}
	}
}

// TestUserPageShowsExternalIdentity: a user's page shows each identity's provider and, for
// an external one, its external id and what the provider said of the user.
func TestUserPageShowsExternalIdentity(t *testing.T) {
	srv := newConsoleServer(t)
	ctx := context.Background()
	now := srv.Clock.Now()
	u := &latchkey.User{ID: latchkey.NewID(now), AppID: srv.App.ID, Type: latchkey.UserTypeNormal, CreatedAt: now,
		Identities: []*latchkey.Identity{{
			ID: latchkey.NewID(now), ProviderType: latchkey.ProviderGoogle, ProviderID: latchkey.ProviderID(srv.App.ID, latchkey.ProviderGoogle),
			ExternalID: "google-subject-42", Data: map[string]any{"email": "xena@example.com", "name": "Xena", "email_verified": true}, CreatedAt: now,
		}}}
	u.Identities[0].UserID = u.ID
	if err := srv.Store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	b := newClient(t, srv.URL, nil)
	signInAdmin(t, b)
	a := b.get("/console/apps/" + srv.AppID + "/users/" + u.ID)
	if a.status != http.StatusOK {
		t.Fatalf("GET the user: %d\n%s", a.status, a.body)
	}
	for _, want := range []string{`<td class="mono">oauth2-google</td>`, "google-subject-42",
		"<li>email: xena@example.com</li><li>email_verified: true</li><li>name: Xena</li>"} {
		if !strings.Contains(a.body, want) {
			t.Errorf("the user's page lacks %s", want)
		}
	}
}

// TestCustomFunctionConfiguredInConsole: a custom function configured with the console's
// form logs users in through its webhook, and the user's page shows what it said of them.
func TestCustomFunctionConfiguredInConsole(t *testing.T) {
	srv := newConsoleServer(t)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id": "crm-7", "name": "Yuri", "email": "yuri@example.com"}`))
	}))
	t.Cleanup(hook.Close)
	b := newClient(t, srv.URL, nil)
	tok := signInAdmin(t, b)
	if a := b.post("/console/apps/"+srv.AppID+"/providers/custom-function", providerForm(tok, "url", hook.URL, "secret", functionSecret)); a.status != http.StatusSeeOther {
		t.Fatalf("configure: %d\n%s", a.status, a.body)
	}
	login, err := srv.Service.Auth.LogIn(context.Background(), srv.App, latchkey.Credentials{
		Provider: latchkey.ProviderCustomFunction, Payload: []byte(`{"crmToken": "t"}`)})
	if err != nil {
		t.Fatalf("log in through the custom function: %v", err)
	}
	a := b.get("/console/apps/" + srv.AppID + "/users/" + login.UserID)
	for _, want := range []string{`<td class="mono">custom-function</td>`, "crm-7", "<li>email: yuri@example.com</li>", "<li>name: Yuri</li>"} {
		if !strings.Contains(a.body, want) {
			t.Errorf("the user's page lacks %s", want)
		}
	}
}

// TestAuthProvidersInBrowser: an admin configures a custom JWT provider through its form in
// headless Chromium, has a refusal explained next to the form, and disables the provider.
func TestAuthProvidersInBrowser(t *testing.T) {
	srv := newConsoleServer(t)
	p := newPage(t, srv)
	p.open("/console/sign-in", 200)
	p.fill("#email", adminEmail)
	p.fill("#password", adminPassword)
	p.click("main button[type=submit]", 200)

	p.open("/console/apps/"+srv.AppID, 200)
	p.click("nav.tabs a[href$='/providers']", 200)
	p.contains("#provider-custom-token h3", "not configured")
	setKeys := func(value string) {
		t.Helper()
		p.run("set the signing keys", chromedp.Evaluate[string](
			`(document.querySelector('#provider-custom-token-keys').value = `+jsString(value)+`)`))
	}
	p.fill("#provider-custom-token-audience", "my-app")
	setKeys("short")
	p.click("button[aria-label='Save custom-token']", http.StatusUnprocessableEntity)
	p.contains("#provider-custom-token .error", "an HS256 signing key must be 32 to 512 characters")
	if got := p.value("#provider-custom-token-audience"); got != "my-app" {
		t.Fatalf("audience after the refusal = %q, want it kept", got)
	}
	if got := p.value("#provider-custom-token-keys"); got != "" {
		t.Fatalf("signing keys after the refusal = %q, want the field empty", got)
	}

	setKeys(tokenKey)
	p.click("button[aria-label='Save custom-token']", 200)
	p.contains(".flash", "Sign-in provider custom-token configured.")
	p.contains("#provider-custom-token h3", "enabled")
	p.contains("#provider-custom-token", "Set: leave empty to keep.")
	if got := p.value("#provider-custom-token-keys"); got != "" {
		t.Fatalf("signing keys shown = %q, want the field empty", got)
	}
	p.shot("console-auth-providers")
	if pr := findProvider(t, srv, "custom-token"); !slices.Equal(pr.Config.Audience, []string{"my-app"}) || pr.SealedSecrets == nil {
		t.Fatalf("provider saved: %+v", pr)
	}

	p.click("button[aria-label='Disable custom-token']", 200)
	p.contains(".flash", "Sign-in provider custom-token disabled.")
	p.contains("#provider-custom-token h3", "disabled")
	if pr := findProvider(t, srv, "custom-token"); !pr.Disabled {
		t.Fatal("the provider is not disabled")
	}
}
