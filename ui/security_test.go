package ui_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/testserver"
	"github.com/latchkey/latchkey/ui"
)

// Handler tests, no browser: headers, cookies and CSRF refusals.

// client is an HTTP client with a cookie jar that does not follow redirects, so tests see
// each answer.
type client struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newClient(t *testing.T, base string, c *http.Client) *client {
	t.Helper()
	if c == nil {
		c = &http.Client{}
	}
	jar, _ := cookiejar.New(nil)
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &client{t: t, base: base, c: c}
}

// jwtPattern matches a JWT: a base64 JSON header (`{"` is eyJ), a payload and a signature.
var jwtPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.`)

type answer struct {
	status int
	header http.Header
	body   string
}

func (b *client) do(req *http.Request) answer {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	// A page never carries a token.
	if jwtPattern.Match(body) {
		b.t.Fatalf("%s %s: the page holds a token:\n%s", req.Method, req.URL.Path, body)
	}
	for _, c := range resp.Cookies() {
		if jwtPattern.MatchString(c.Value) || strings.Contains(c.Value, ".") {
			b.t.Fatalf("%s %s: cookie %s holds a token: %q", req.Method, req.URL.Path, c.Name, c.Value)
		}
	}
	return answer{resp.StatusCode, resp.Header, string(body)}
}

func (b *client) get(path string) answer {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.base+path, nil)
	return b.do(req)
}

// post sends a form; headers are name, value pairs.
func (b *client) post(path string, form url.Values, headers ...string) answer {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

var csrfPattern = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of the page at path.
func (b *client) csrf(path string) string {
	b.t.Helper()
	a := b.get(path)
	m := csrfPattern.FindStringSubmatch(a.body)
	if m == nil {
		b.t.Fatalf("GET %s: %d, no CSRF token in\n%s", path, a.status, a.body)
	}
	return m[1]
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// signInAdmin signs b in to the console and returns a CSRF token of the session.
func signInAdmin(t *testing.T, b *client) string {
	t.Helper()
	tok := b.csrf("/console/sign-in")
	if a := b.post("/console/sign-in", form("csrf", tok, "email", adminEmail, "password", adminPassword)); a.status != http.StatusSeeOther {
		t.Fatalf("sign in: %d\n%s", a.status, a.body)
	}
	return b.csrf("/console/apps")
}

// signInUser signs b in to the account page and returns a CSRF token of the session.
func signInUser(t *testing.T, b *client, app string) string {
	t.Helper()
	account := "/app/" + app + "/account/"
	tok := b.csrf(account)
	if a := b.post(account+"sign-in", form("csrf", tok, "email", userEmail, "password", userPassword)); a.status != http.StatusSeeOther {
		t.Fatalf("sign in: %d\n%s", a.status, a.body)
	}
	return b.csrf(account)
}

func TestHeaders(t *testing.T) {
	srv := newConsoleServer(t)
	b := newClient(t, srv.URL, nil)
	account := "/app/" + srv.AppID + "/account/"
	for _, tt := range []struct {
		name, path string
		status     int
		page       bool
	}{
		{"ConsoleSignIn", "/console/sign-in", 200, true},
		{"ConsoleHome", "/console/", 303, true},
		{"ConsolePageSignedOut", "/console/apps", 303, true},
		{"Account", account, 200, true},
		{"AccountNoSlash", "/app/" + srv.AppID + "/account", 303, true},
		{"UnknownApp", "/app/no-such-app/account/", 404, true},
		{"UnknownPage", "/console/no-such-page", 404, true},
		{"Stylesheet", "/console/static/style.css", 200, false},
		{"Script", "/console/static/console.js", 200, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := b.get(tt.path)
			if a.status != tt.status {
				t.Fatalf("GET %s: %d, want %d", tt.path, a.status, tt.status)
			}
			csp := a.header.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("Content-Security-Policy %q allows inline code", csp)
			}
			if got := a.header.Get("X-Frame-Options"); got != "DENY" {
				t.Errorf("X-Frame-Options = %q, want DENY", got)
			}
			if got := a.header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
			cc := a.header.Get("Cache-Control")
			if tt.page && cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			} else if !tt.page && strings.Contains(cc, "no-store") {
				t.Errorf("Cache-Control of an asset = %q", cc)
			}
			if a.header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("a page answers CORS")
			}
			if tt.page && tt.status == 200 {
				if got := a.header.Get("Content-Type"); got != "text/html; charset=utf-8" {
					t.Errorf("Content-Type = %q", got)
				}
				for _, s := range regexp.MustCompile(`<script[^>]*>`).FindAllString(a.body, -1) {
					if !strings.Contains(s, `src="/console/static/`) {
						t.Errorf("inline script %s", s)
					}
				}
				if strings.Contains(a.body, " style=") || regexp.MustCompile(` on[a-z]+=`).MatchString(a.body) {
					t.Errorf("inline style or event handler in\n%s", a.body)
				}
			}
		})
	}
}

// sessionCookie returns the Set-Cookie of a page's answer for the named cookie.
func sessionCookie(t *testing.T, resp *http.Response, name string) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", name, resp.Header["Set-Cookie"])
	return nil
}

func TestCookies(t *testing.T) {
	srv := newConsoleServer(t)
	check := func(t *testing.T, base string, c *http.Client, path, name, cookiePath string, secure bool) {
		t.Helper()
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		ck := sessionCookie(t, resp, name)
		if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != cookiePath || ck.Secure != secure {
			t.Fatalf("cookie %s: HttpOnly %v, SameSite %v, Path %q, Secure %v; want true, Lax, %q, %v",
				ck.Name, ck.HttpOnly, ck.SameSite, ck.Path, ck.Secure, cookiePath, secure)
		}
		if len(ck.Value) != 43 {
			t.Fatalf("cookie value %q: want an opaque 32-byte id", ck.Value)
		}
	}
	account := "/app/" + srv.AppID + "/account/"

	t.Run("PlainHTTP", func(t *testing.T) {
		check(t, srv.URL, http.DefaultClient, "/console/sign-in", "latchkey_console", "/console/", false)
		check(t, srv.URL, http.DefaultClient, account, "latchkey_account", account, false)
	})

	t.Run("TLS", func(t *testing.T) {
		ts := httptest.NewTLSServer(ui.New(testserver.UIConfig(srv.Service)))
		defer ts.Close()
		check(t, ts.URL, ts.Client(), "/console/sign-in", "latchkey_console", "/console/", true)
		check(t, ts.URL, ts.Client(), account, "latchkey_account", account, true)
	})

	t.Run("BehindTLSProxy", func(t *testing.T) {
		cfg := testserver.UIConfig(srv.Service)
		cfg.SecureCookies = true
		ts := httptest.NewServer(ui.New(cfg))
		defer ts.Close()
		check(t, ts.URL, ts.Client(), "/console/sign-in", "latchkey_console", "/console/", true)
	})

	t.Run("NewIDAtSignIn", func(t *testing.T) {
		b := newClient(t, srv.URL, nil)
		u, _ := url.Parse(srv.URL + "/console/")
		b.get("/console/sign-in")
		before := b.c.Jar.Cookies(u)[0].Value
		signInAdmin(t, b)
		if after := b.c.Jar.Cookies(u)[0].Value; after == before {
			t.Fatal("the session id did not change at sign-in")
		}
	})

	t.Run("SignOutEndsSession", func(t *testing.T) {
		b := newClient(t, srv.URL, nil)
		tok := signInAdmin(t, b)
		u, _ := url.Parse(srv.URL + "/console/")
		old := b.c.Jar.Cookies(u)[0]
		if a := b.post("/console/sign-out", form("csrf", tok)); a.status != http.StatusSeeOther {
			t.Fatalf("sign out: %d", a.status)
		}
		// The old id, replayed, opens nothing.
		replay := newClient(t, srv.URL, nil)
		replay.c.Jar.SetCookies(u, []*http.Cookie{old})
		if a := replay.get("/console/apps"); a.status != http.StatusSeeOther {
			t.Fatalf("console with a signed-out session id: %d, want 303 to sign-in", a.status)
		}
	})
}

func TestCSRF(t *testing.T) {
	srv := newConsoleServer(t)
	ctx := context.Background()
	account := "/app/" + srv.AppID + "/account/"
	users, err := srv.Store.FindUsers(ctx, latchkey.UserFilter{AppID: srv.App.ID})
	if err != nil {
		t.Fatal(err)
	}
	userURL := "/console/apps/" + srv.AppID + "/users/" + users[0].ID

	admin := newClient(t, srv.URL, nil)
	adminTok := signInAdmin(t, admin)
	user := newClient(t, srv.URL, nil)
	userTok := signInUser(t, user, srv.AppID)
	// Another browser's token: valid, but for another session.
	otherTok := signInAdmin(t, newClient(t, srv.URL, nil))

	for _, tt := range []struct {
		name string
		b    *client
		path string
		form url.Values
	}{
		{"ConsoleSignIn", newClient(t, srv.URL, nil), "/console/sign-in", form("email", adminEmail, "password", adminPassword)},
		{"CreateApp", admin, "/console/apps", form("client_app_id", "csrf-app")},
		{"AppSettings", admin, "/console/apps/" + srv.AppID, form("name", "renamed", "password_min_length", "6", "refresh_token_lifetime_seconds", "5184000", "key_prefix", "lk", "max_key_lifetime_seconds", "0")},
		{"DeleteApp", admin, "/console/apps/" + srv.AppID + "/delete", nil},
		{"CreateServerKey", admin, "/console/apps/" + srv.AppID + "/server-keys", form("name", "csrf-key")},
		{"SaveProvider", admin, "/console/apps/" + srv.AppID + "/providers/custom-function", form("url", "https://functions.example.com/login", "secret", "a webhook secret of the app")},
		{"DeleteProvider", admin, "/console/apps/" + srv.AppID + "/providers/custom-function/delete", nil},
		{"DisableUser", admin, userURL + "/disable", nil},
		{"RevokeSessions", admin, userURL + "/logout", nil},
		{"DeleteUser", admin, userURL + "/delete", nil},
		{"SetKeyLimits", admin, userURL + "/keys/" + latchkey.NewID(time.Now()) + "/limits", form("ratelimit", "5", "window", "60")},
		{"ConsoleSignOut", admin, "/console/sign-out", nil},
		{"AccountSignIn", newClient(t, srv.URL, nil), account + "sign-in", form("email", userEmail, "password", userPassword)},
		{"CreateKey", user, account + "keys", form("name", "csrf-key")},
		{"RotateKey", user, account + "keys/" + latchkey.NewID(time.Now()) + "/rotate", form("grace", "0s")},
		{"ForgotPassword", user, account + "forgot", form("email", userEmail)},
		{"AccountSignOut", user, account + "sign-out", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, attempt := range []struct {
				name    string
				token   string
				headers []string
			}{
				{"NoToken", "", nil},
				{"WrongToken", "not-a-token", nil},
				{"OtherSessionsToken", otherTok, nil},
				{"OtherAreasToken", map[bool]string{true: userTok, false: adminTok}[strings.HasPrefix(tt.path, "/console")], nil},
			} {
				f := url.Values{}
				for k, v := range tt.form {
					f[k] = v
				}
				if attempt.token != "" {
					f.Set("csrf", attempt.token)
				}
				if a := tt.b.post(tt.path, f, attempt.headers...); a.status != http.StatusForbidden || !strings.Contains(a.body, "This form has expired") {
					t.Errorf("%s: %d, want 403 with an explanation", attempt.name, a.status)
				}
			}
			// The right token from another site is refused too.
			tok := map[bool]string{true: adminTok, false: userTok}[strings.HasPrefix(tt.path, "/console")]
			f := url.Values{}
			for k, v := range tt.form {
				f[k] = v
			}
			f.Set("csrf", tok)
			if a := tt.b.post(tt.path, f, "Origin", "https://evil.example"); a.status != http.StatusForbidden {
				t.Errorf("cross-origin with the right token: %d, want 403", a.status)
			}
			if a := tt.b.post(tt.path, f, "Sec-Fetch-Site", "cross-site"); a.status != http.StatusForbidden {
				t.Errorf("cross-site with the right token: %d, want 403", a.status)
			}
		})
	}

	// Nothing happened.
	if _, err := srv.Store.FindAppByClientID(ctx, "csrf-app"); latchkey.ErrorCode(err) != latchkey.ENotFound {
		t.Errorf("an app was created: %v", err)
	}
	app, err := srv.Store.FindAppByClientID(ctx, srv.AppID)
	if err != nil || app.Name != srv.App.Name {
		t.Errorf("the app changed or went: %v", err)
	}
	if keys, _ := srv.Store.FindServerAPIKeys(ctx, srv.App.ID); len(keys) != 0 {
		t.Errorf("a server key was created")
	}
	if _, err := srv.Store.FindAuthProvider(ctx, srv.App.ID, latchkey.ProviderCustomFunction); latchkey.ErrorCode(err) != latchkey.ENotFound {
		t.Errorf("a sign-in provider was configured: %v", err)
	}
	u, err := srv.Store.FindUserByID(ctx, srv.App.ID, users[0].ID)
	if err != nil || u.Disabled {
		t.Errorf("the user was disabled or deleted: %v", err)
	}
	if m, ok := srv.Mailer.Last(userEmail); ok && m.Kind == latchkey.UserTokenReset {
		t.Errorf("a password reset message was sent")
	}
	if a := admin.get("/console/apps"); a.status != http.StatusOK {
		t.Errorf("the admin was signed out: %d", a.status)
	}
	if a := user.get(account); !strings.Contains(a.body, "You have no API keys yet.") {
		t.Errorf("the user was signed out or a key created:\n%s", a.body)
	}

	// With its own token and no foreign origin, the same form works.
	if a := admin.post("/console/apps/"+srv.AppID+"/server-keys", form("csrf", adminTok, "name", "good-key"), "Origin", srv.URL); a.status != http.StatusSeeOther {
		t.Fatalf("create a server key with the right token: %d\n%s", a.status, a.body)
	}
	if keys, _ := srv.Store.FindServerAPIKeys(ctx, srv.App.ID); len(keys) != 1 {
		t.Fatalf("server keys after a good form: %d, want 1", len(keys))
	}
}

// TestKeyValueShownOnce: the value of a new key is on the next page and never again.
func TestKeyValueShownOnce(t *testing.T) {
	srv := newConsoleServer(t)
	account := "/app/" + srv.AppID + "/account/"
	b := newClient(t, srv.URL, nil)
	tok := signInUser(t, b, srv.AppID)
	a := b.post(account+"keys", form("csrf", tok, "name", "ci"))
	if a.status != http.StatusSeeOther || a.header.Get("Location") != account {
		t.Fatalf("create: %d to %q", a.status, a.header.Get("Location"))
	}
	if strings.Contains(a.body, "lk_") {
		t.Fatal("the redirect holds the value")
	}
	first := b.get(account)
	m := regexp.MustCompile(`id="secret-value"[^>]*value="([^"]+)"`).FindStringSubmatch(first.body)
	if m == nil || !latchkey.CheckKeyValue(m[1]) {
		t.Fatalf("the page after create shows no key value:\n%s", first.body)
	}
	if second := b.get(account); strings.Contains(second.body, m[1]) || strings.Contains(second.body, "secret-value") {
		t.Fatal("the value is shown a second time")
	}
}
