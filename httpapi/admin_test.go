package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey"
)

// The first admin, created as `latchkey admin create-user` would.
const (
	rootEmail    = "root@example.com"
	rootPassword = "rootpassword1"
)

// Paths of the admin API.
const (
	adminPath      = "/api/admin/v3.0"
	adminLoginPath = adminPath + "/auth/providers/local-userpass/login"
)

// fakeID is a well-formed id that names nothing.
const fakeID = "0123456789abcdef01234567"

func groupPath(group, rest string) string { return adminPath + "/groups/" + group + rest }

func appsPath() string { return groupPath(latchkey.GroupID, "/apps") }

func adminAppPath(appID, rest string) string { return appsPath() + "/" + appID + rest }

func adminUserPath(appID, userID, rest string) string {
	return adminAppPath(appID, "/users/"+userID+rest)
}

// newAdminEnv starts a server, creates the first admin and logs it in.
func newAdminEnv(t *testing.T) (*env, login) {
	t.Helper()
	e := newEnv(t)
	if _, err := e.Service.Admins.CreateAdmin(context.Background(), rootEmail, rootPassword); err != nil {
		t.Fatalf("create admin: %v", err)
	}
	e.remember(&e.passwords, rootPassword)
	return e, e.adminLogin(t, rootEmail, rootPassword)
}

// newAdminEnvToken is newAdminEnv for the tests that need only the admin's access token.
func newAdminEnvToken(t *testing.T) (*env, string) {
	t.Helper()
	e, admin := newAdminEnv(t)
	return e, admin.AccessToken
}

// adminLogin logs an admin in.
func (e *env) adminLogin(t *testing.T, email, password string) login {
	t.Helper()
	var l login
	e.do(t, "POST", adminLoginPath, "", map[string]string{"username": email, "password": password}).
		wantJSON(t, http.StatusOK, &l)
	return l
}

// adminApp is an app as the admin API shows it.
type adminApp struct {
	ID              string `json:"_id"`
	ClientAppID     string `json:"client_app_id"`
	Name            string `json:"name"`
	GroupID         string `json:"group_id"`
	DomainID        string `json:"domain_id"`
	Location        string `json:"location"`
	DeploymentModel string `json:"deployment_model"`
	CreatedAt       string `json:"created_at"`
}

// settings is an app's settings as GET .../settings shows them.
type settings struct {
	Name                        string   `json:"name"`
	AutoConfirm                 bool     `json:"auto_confirm"`
	AnonUserEnabled             bool     `json:"anon_user_enabled"`
	LocalUserpassEnabled        bool     `json:"local_userpass_enabled"`
	APIKeyEnabled               bool     `json:"api_key_enabled"`
	PasswordMinLength           int      `json:"password_min_length"`
	RefreshTokenLifetimeSeconds int64    `json:"refresh_token_lifetime_seconds"`
	AllowedOrigins              []string `json:"allowed_origins"`
	HideAccountExistence        bool     `json:"hide_account_existence"`
}

// adminUser is a user as the admin API shows it.
type adminUser struct {
	ID           string            `json:"_id"`
	Type         string            `json:"type"`
	Disabled     bool              `json:"disabled"`
	Confirmed    bool              `json:"confirmed"`
	CreationDate int64             `json:"creation_date"`
	Identities   []identity        `json:"identities"`
	Data         map[string]string `json:"data"`
	APIKeyCount  *int              `json:"api_key_count"`
	SessionCount *int              `json:"session_count"`
}

// createApp creates an app through the admin API.
func (e *env) createApp(t *testing.T, admin string, body any) adminApp {
	t.Helper()
	var app adminApp
	e.do(t, "POST", appsPath(), admin, body).wantJSON(t, http.StatusCreated, &app)
	return app
}

// getSettings reads an app's settings.
func (e *env) getSettings(t *testing.T, admin, appID string) settings {
	t.Helper()
	var s settings
	e.do(t, "GET", adminAppPath(appID, "/settings"), admin, nil).wantJSON(t, http.StatusOK, &s)
	return s
}

// getUser reads one user through the admin API.
func (e *env) getUser(t *testing.T, admin, appID, userID string) adminUser {
	t.Helper()
	var u adminUser
	e.do(t, "GET", adminUserPath(appID, userID, ""), admin, nil).wantJSON(t, http.StatusOK, &u)
	return u
}

// createServerKey creates a server API key and remembers its value.
func (e *env) createServerKey(t *testing.T, admin, appID, name string) apiKey {
	t.Helper()
	var k apiKey
	e.do(t, "POST", adminAppPath(appID, "/api_keys"), admin, map[string]string{"name": name}).
		wantJSON(t, http.StatusCreated, &k)
	if k.Key == "" {
		t.Fatalf("create server key %q: no key value", name)
	}
	e.remember(&e.keys, k.Key)
	return k
}

// wantNoKeyField checks that no object of a key listing or key body carries a "key" field.
func wantNoKeyField(t *testing.T, r *response) {
	t.Helper()
	var objs []map[string]json.RawMessage
	if json.Unmarshal(r.Body, &objs) != nil {
		var obj map[string]json.RawMessage
		mustUnmarshal(t, r.Body, &obj)
		objs = append(objs, obj)
	}
	for _, o := range objs {
		if _, ok := o["key"]; ok {
			t.Errorf("%v: a key object has a key field", r)
		}
	}
}

// adminRoute is one route of routes.go's adminRoutes, with a body that gets a request past
// decoding to the route's checks.
type adminRoute struct {
	method  string
	path    string // after adminPath, with the wildcards of the pattern
	refresh bool   // takes the admin refresh token rather than the access token
	body    any
}

func (r adminRoute) pattern() string { return r.method + " " + adminPath + r.path }

// at returns the route's path with its wildcards filled in.
func (r adminRoute) at(group, appID string) string {
	return adminPath + strings.NewReplacer(
		"{group}", group, "{appID}", appID, "{userID}", fakeID, "{keyID}", fakeID, "{provider}", latchkey.ProviderAnonymous,
	).Replace(r.path)
}

// adminRoutes is every admin route that needs a token.
var adminRoutes = []adminRoute{
	{"GET", "/auth/profile", false, nil},
	{"POST", "/auth/session", true, nil},
	{"DELETE", "/auth/session", true, nil},
	{"GET", "/audit", false, nil},
	{"GET", "/signing_keys", false, nil},
	{"POST", "/signing_keys/rotate", false, nil},

	{"GET", "/groups/{group}/apps", false, nil},
	{"POST", "/groups/{group}/apps", false, map[string]any{"client_app_id": "refused-app"}},
	{"GET", "/groups/{group}/apps/{appID}", false, nil},
	{"DELETE", "/groups/{group}/apps/{appID}", false, nil},
	{"GET", "/groups/{group}/apps/{appID}/settings", false, nil},
	{"PATCH", "/groups/{group}/apps/{appID}/settings", false, map[string]any{"name": "refused"}},
	{"GET", "/groups/{group}/apps/{appID}/security/refresh_token_expiration", false, nil},
	{"PUT", "/groups/{group}/apps/{appID}/security/refresh_token_expiration", false, map[string]any{"expiration_time_seconds": 1800}},
	{"GET", "/groups/{group}/apps/{appID}/security/allowed_request_origins", false, nil},
	{"POST", "/groups/{group}/apps/{appID}/security/allowed_request_origins", false, []string{"https://refused.example.com"}},
	{"GET", "/groups/{group}/apps/{appID}/auth_providers", false, nil},
	{"POST", "/groups/{group}/apps/{appID}/auth_providers", false, map[string]any{"type": "oauth2-google", "config": map[string]any{"clientId": "x"}}},
	{"GET", "/groups/{group}/apps/{appID}/auth_providers/{provider}", false, nil},
	{"PUT", "/groups/{group}/apps/{appID}/auth_providers/{provider}", false, map[string]any{"config": map[string]any{}}},
	{"DELETE", "/groups/{group}/apps/{appID}/auth_providers/{provider}", false, nil},
	{"PUT", "/groups/{group}/apps/{appID}/auth_providers/{provider}/enable", false, nil},
	{"PUT", "/groups/{group}/apps/{appID}/auth_providers/{provider}/disable", false, nil},
	{"GET", "/groups/{group}/apps/{appID}/audit", false, nil},
	{"POST", "/groups/{group}/apps/{appID}/leak_secret", false, nil},

	{"GET", "/groups/{group}/apps/{appID}/api_keys", false, nil},
	{"POST", "/groups/{group}/apps/{appID}/api_keys", false, map[string]any{"name": "refused"}},
	{"GET", "/groups/{group}/apps/{appID}/api_keys/{keyID}", false, nil},
	{"DELETE", "/groups/{group}/apps/{appID}/api_keys/{keyID}", false, nil},
	{"PUT", "/groups/{group}/apps/{appID}/api_keys/{keyID}/enable", false, nil},
	{"PUT", "/groups/{group}/apps/{appID}/api_keys/{keyID}/disable", false, nil},

	{"GET", "/groups/{group}/apps/{appID}/users", false, nil},
	{"POST", "/groups/{group}/apps/{appID}/users/verify_token", false, map[string]any{"token": "x"}},
	{"GET", "/groups/{group}/apps/{appID}/users/{userID}", false, nil},
	{"DELETE", "/groups/{group}/apps/{appID}/users/{userID}", false, nil},
	{"PUT", "/groups/{group}/apps/{appID}/users/{userID}/enable", false, nil},
	{"PUT", "/groups/{group}/apps/{appID}/users/{userID}/disable", false, nil},
	{"PUT", "/groups/{group}/apps/{appID}/users/{userID}/logout", false, nil},
	{"GET", "/groups/{group}/apps/{appID}/users/{userID}/custom_data", false, nil},
	{"PUT", "/groups/{group}/apps/{appID}/users/{userID}/custom_data", false, map[string]any{"plan": "refused"}},
	{"DELETE", "/groups/{group}/apps/{appID}/users/{userID}/custom_data", false, nil},
	{"GET", "/groups/{group}/apps/{appID}/users/{userID}/api_keys", false, nil},
	{"GET", "/groups/{group}/apps/{appID}/users/{userID}/api_keys/{keyID}", false, nil},
	{"PUT", "/groups/{group}/apps/{appID}/users/{userID}/api_keys/{keyID}/enable", false, nil},
	{"PUT", "/groups/{group}/apps/{appID}/users/{userID}/api_keys/{keyID}/disable", false, nil},
	{"DELETE", "/groups/{group}/apps/{appID}/users/{userID}/api_keys/{keyID}", false, nil},
	{"PATCH", "/groups/{group}/apps/{appID}/users/{userID}/api_keys/{keyID}", false, map[string]any{"meta": nil}},
	{"GET", "/groups/{group}/apps/{appID}/users/{userID}/api_keys/{keyID}/usage", false, nil},
}

// TestAdminRoutesCovered keeps adminRoutes in step with routes.go: a new admin endpoint
// must come with its refusal rows.
func TestAdminRoutesCovered(t *testing.T) {
	src, err := os.ReadFile("routes.go")
	if err != nil {
		t.Fatal(err)
	}
	prefixes := map[string]string{"adminPrefix": adminPath, "groupApp": adminPath + "/groups/{group}/apps/{appID}"}
	var registered []string
	re := regexp.MustCompile(`handle\("([A-Z]+)", (adminPrefix|groupApp)(?:\+"([^"]*)")?,`)
	for _, m := range re.FindAllStringSubmatch(string(src), -1) {
		registered = append(registered, m[1]+" "+prefixes[m[2]]+m[3])
	}
	covered := []string{"POST " + adminLoginPath}
	for _, r := range adminRoutes {
		covered = append(covered, r.pattern())
	}
	slices.Sort(registered)
	slices.Sort(covered)
	if len(registered) < 30 || !slices.Equal(registered, covered) {
		t.Errorf("routes.go registers\n%s\ntests cover\n%s", strings.Join(registered, "\n"), strings.Join(covered, "\n"))
	}
}

func TestAdminLogin(t *testing.T) {
	t.Parallel()
	e, admin := newAdminEnv(t)

	t.Run("OK", func(t *testing.T) {
		if !hex24.MatchString(admin.UserID) || admin.DeviceID != latchkey.ZeroID {
			t.Errorf("login = %+v, want a 24-hex user_id and the zero device_id", admin)
		}
		for _, tok := range []string{admin.AccessToken, admin.RefreshToken} {
			if strings.Count(tok, ".") != 2 {
				t.Errorf("token %q is not a JWT", tok)
			}
		}
		// Emails are compared case-insensitively, as for app users.
		e.adminLogin(t, " ROOT@example.com ", rootPassword)
	})

	t.Run("Profile", func(t *testing.T) {
		var p struct {
			UserID string            `json:"user_id"`
			Data   map[string]string `json:"data"`
			Roles  []struct {
				RoleName string `json:"role_name"`
				GroupID  string `json:"group_id"`
			} `json:"roles"`
		}
		e.do(t, "GET", adminPath+"/auth/profile", admin.AccessToken, nil).wantJSON(t, http.StatusOK, &p)
		if p.UserID != admin.UserID || p.Data["email"] != rootEmail {
			t.Errorf("profile = %+v, want user_id %s, email %s", p, admin.UserID, rootEmail)
		}
		if len(p.Roles) == 0 || p.Roles[0].GroupID != latchkey.GroupID {
			t.Errorf("roles = %+v, want roles[0].group_id = %s", p.Roles, latchkey.GroupID)
		}
	})

	t.Run("Refresh", func(t *testing.T) {
		var got struct {
			AccessToken string `json:"access_token"`
		}
		e.do(t, "POST", adminPath+"/auth/session", admin.RefreshToken, nil).wantJSON(t, http.StatusCreated, &got)
		e.do(t, "GET", adminPath+"/auth/profile", got.AccessToken, nil).wantJSON(t, http.StatusOK, nil)
		e.do(t, "GET", appsPath(), got.AccessToken, nil).wantJSON(t, http.StatusOK, nil)
	})

	t.Run("LogOut", func(t *testing.T) {
		l := e.adminLogin(t, rootEmail, rootPassword)
		e.do(t, "DELETE", adminPath+"/auth/session", l.RefreshToken, nil).wantEmpty(t, http.StatusNoContent)
		e.do(t, "POST", adminPath+"/auth/session", l.RefreshToken, nil).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
		e.do(t, "DELETE", adminPath+"/auth/session", l.RefreshToken, nil).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
		// The session's access token ended with it, on the admin API as a whole.
		e.do(t, "GET", adminPath+"/auth/profile", l.AccessToken, nil).wantError(t, http.StatusUnauthorized, "InvalidSession", "invalid session")
		e.do(t, "GET", appsPath(), l.AccessToken, nil).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
		// Other admin sessions live on.
		e.do(t, "POST", adminPath+"/auth/session", admin.RefreshToken, nil).wantJSON(t, http.StatusCreated, nil)
	})

	for _, tt := range []struct {
		name     string
		body     any
		status   int
		code     string
		msg      string
		contains bool
	}{
		{"ErrWrongPassword", map[string]string{"username": rootEmail, "password": "wrongpassword1"}, 401, "InvalidPassword", "unauthorized", false},
		{"ErrUnknownEmail", map[string]string{"username": "nobody@example.com", "password": rootPassword}, 401, "InvalidPassword", "unauthorized", false},
		{"ErrNoBody", nil, 401, "InvalidPassword", "unauthorized", false},
		{"ErrMalformed", `{"username":`, 400, "BadRequest", "malformed JSON body", false},
		{"ErrUsernameNumber", `{"username":5,"password":"rootpassword1"}`, 400, "BadRequest", "username", true},
		{"ErrArray", `[]`, 400, "BadRequest", "JSON object", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, "POST", adminLoginPath, "", tt.body)
			if tt.contains {
				r.wantErrorContains(t, tt.status, tt.code, tt.msg)
			} else {
				r.wantError(t, tt.status, tt.code, tt.msg)
			}
		})
	}

	t.Run("ErrAppUserCredentials", func(t *testing.T) {
		u := e.newUser(t, e.AppID)
		e.do(t, "POST", adminLoginPath, "", map[string]string{"username": u.Email, "password": u.Password}).
			wantError(t, http.StatusUnauthorized, "InvalidPassword", "unauthorized")
	})
}

// TestAdminRefusals sends every admin route the requests it must refuse.
func TestAdminRefusals(t *testing.T) {
	t.Parallel()
	e, admin := newAdminEnv(t)
	u := e.newUser(t, e.AppID)
	appID := e.App.ID

	// tokenFor returns the admin token of the type the route does not take.
	wrongType := func(r adminRoute) string {
		if r.refresh {
			return admin.AccessToken
		}
		return admin.RefreshToken
	}

	for _, r := range adminRoutes {
		path := r.at(latchkey.GroupID, appID)
		t.Run(r.pattern(), func(t *testing.T) {
			e.do(t, r.method, path, "", r.body).
				wantError(t, http.StatusUnauthorized, "InvalidSession", "must authenticate first")

			req := e.newRequest(t, r.method, path, r.body)
			req.Header.Set("Authorization", "Bearer ")
			e.send(t, req).wantError(t, http.StatusUnauthorized, noCode, "expected Authorization header with JWT (Bearer schema)")

			for _, tok := range []string{u.AccessToken, u.RefreshToken, wrongType(r), "not-a-jwt", admin.AccessToken + "x"} {
				e.do(t, r.method, path, tok, r.body).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
			}

			if strings.Contains(r.path, "{group}") {
				for _, g := range []string{fakeID, "not-a-group"} {
					e.do(t, r.method, r.at(g, appID), admin.AccessToken, r.body).
						wantErrorContains(t, http.StatusNotFound, noCodeOrAny, "group")
				}
			}
			if strings.Contains(r.path, "{appID}") {
				for _, a := range []string{fakeID, "no-such-app"} {
					e.do(t, r.method, r.at(latchkey.GroupID, a), admin.AccessToken, r.body).
						wantError(t, http.StatusNotFound, "InvalidParameter", "cannot find app using ID '"+a+"'")
				}
			}
		})
	}

	t.Run("NothingChanged", func(t *testing.T) {
		var apps []adminApp
		e.do(t, "GET", appsPath(), admin.AccessToken, nil).wantJSON(t, http.StatusOK, &apps)
		if len(apps) != 1 || apps[0].ID != appID {
			t.Errorf("apps = %+v, want only the default app", apps)
		}
		if s := e.getSettings(t, admin.AccessToken, appID); s.Name != e.AppID || len(s.AllowedOrigins) != 0 || !s.AnonUserEnabled {
			t.Errorf("settings = %+v, want the defaults", s)
		}
		var keys []apiKey
		e.do(t, "GET", adminAppPath(appID, "/api_keys"), admin.AccessToken, nil).wantJSON(t, http.StatusOK, &keys)
		if len(keys) != 0 {
			t.Errorf("server keys = %+v, want none", keys)
		}
		e.wantLive(t, u.RefreshToken)
	})
}

// TestAdminTokensOnClientAPI checks that admin tokens open nothing of the client API.
func TestAdminTokensOnClientAPI(t *testing.T) {
	t.Parallel()
	e, admin := newAdminEnv(t)
	for _, tt := range []struct {
		method, path string
		body         any
	}{
		{"GET", authPath + "/profile", nil},
		{"DELETE", authPath + "/delete", nil},
		{"POST", authPath + "/session", nil},
		{"DELETE", authPath + "/session", nil},
		{"POST", keysPath, map[string]string{"name": "admin-key"}},
		{"GET", keysPath, nil},
		{"GET", keyPath(fakeID), nil},
		{"PUT", keyPath(fakeID) + "/disable", nil},
		{"DELETE", keyPath(fakeID), nil},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			for _, tok := range []string{admin.AccessToken, admin.RefreshToken} {
				e.do(t, tt.method, tt.path, tok, tt.body).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
			}
		})
	}
	// The refused requests left the admin session alone.
	e.do(t, "POST", adminPath+"/auth/session", admin.RefreshToken, nil).wantJSON(t, http.StatusCreated, nil)
	e.do(t, "GET", adminPath+"/auth/profile", admin.AccessToken, nil).wantJSON(t, http.StatusOK, nil)
}

// TestAdminBadJSON sends malformed and mistyped bodies to every admin route that reads one.
func TestAdminBadJSON(t *testing.T) {
	t.Parallel()
	e, admin := newAdminEnv(t)
	appID := e.App.ID
	routes := []struct {
		name, method, path string
		wrongType          string // a well-formed body with a field of the wrong type
	}{
		{"CreateApp", "POST", appsPath(), `{"client_app_id":5}`},
		{"UpdateSettings", "PATCH", adminAppPath(appID, "/settings"), `{"auto_confirm":"yes"}`},
		{"RefreshExpiration", "PUT", adminAppPath(appID, "/security/refresh_token_expiration"), `{"expiration_time_seconds":"1800"}`},
		{"AllowedOrigins", "POST", adminAppPath(appID, "/security/allowed_request_origins"), `{"origins":["https://a.example.com"]}`},
		{"VerifyToken", "POST", adminAppPath(appID, "/users/verify_token"), `{"token":5}`},
	}
	for _, r := range routes {
		for _, body := range []string{`{"name":`, `name=a`, `{"a":1} x`} {
			t.Run("Malformed/"+r.name, func(t *testing.T) {
				e.do(t, r.method, r.path, admin.AccessToken, body).wantError(t, http.StatusBadRequest, "BadRequest", "malformed JSON body")
			})
		}
		t.Run("WrongType/"+r.name, func(t *testing.T) {
			e.do(t, r.method, r.path, admin.AccessToken, r.wrongType).wantErrorBody(t, http.StatusBadRequest, "BadRequest")
		})
	}
	for _, tt := range []struct{ name, body string }{
		{"ServerKeyMalformed", `{"name":`},
		{"ServerKeyArray", `[]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.do(t, "POST", adminAppPath(appID, "/api_keys"), admin.AccessToken, tt.body).
				wantErrorBody(t, http.StatusBadRequest, "BadRequest")
		})
	}
	t.Run("RefreshExpirationMissing", func(t *testing.T) {
		e.do(t, "PUT", adminAppPath(appID, "/security/refresh_token_expiration"), admin.AccessToken, `{}`).
			wantError(t, http.StatusBadRequest, "BadRequest", "expiration_time_seconds is required")
	})

	t.Run("NothingChanged", func(t *testing.T) {
		s := e.getSettings(t, admin.AccessToken, appID)
		want := settings{
			Name: e.AppID, AutoConfirm: true, AnonUserEnabled: true, LocalUserpassEnabled: true, APIKeyEnabled: true,
			PasswordMinLength: 6, RefreshTokenLifetimeSeconds: 5184000, AllowedOrigins: []string{},
		}
		if diff := cmp.Diff(want, s); diff != "" {
			t.Errorf("settings (-want +got):\n%s", diff)
		}
		var apps []adminApp
		e.do(t, "GET", appsPath(), admin.AccessToken, nil).wantJSON(t, http.StatusOK, &apps)
		if len(apps) != 1 {
			t.Errorf("apps = %+v, want only the default app", apps)
		}
	})
}
