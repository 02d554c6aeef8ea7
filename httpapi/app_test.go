package httpapi_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey"
)

// defaultSettings are the settings of an app created with only a client app id.
func defaultSettings(name string) settings {
	return settings{
		Name: name, AutoConfirm: true, AnonUserEnabled: true, LocalUserpassEnabled: true, APIKeyEnabled: true,
		PasswordMinLength: 6, RefreshTokenLifetimeSeconds: 5184000, AllowedOrigins: []string{},
	}
}

func TestAdminApps(t *testing.T) {
	t.Parallel()
	e, admin := newAdminEnv(t)
	tok := admin.AccessToken

	created := e.createApp(t, tok, map[string]any{"client_app_id": "shop-app"})
	t.Run("Create", func(t *testing.T) {
		if !hex24.MatchString(created.ID) || created.ClientAppID != "shop-app" || created.Name != "shop-app" ||
			created.GroupID != latchkey.GroupID || created.DomainID != created.ID {
			t.Errorf("app = %+v", created)
		}
		if _, err := time.Parse(time.RFC3339, created.CreatedAt); err != nil {
			t.Errorf("created_at = %q: %v", created.CreatedAt, err)
		}
		if diff := cmp.Diff(defaultSettings("shop-app"), e.getSettings(t, tok, created.ID)); diff != "" {
			t.Errorf("settings (-want +got):\n%s", diff)
		}
		// The new app serves the client API at once.
		e.do(t, "GET", appPath("shop-app", "/location"), "", nil).wantJSON(t, http.StatusOK, nil)
		e.newUser(t, "shop-app")
	})

	t.Run("CreateGeneratedID", func(t *testing.T) {
		app := e.createApp(t, tok, map[string]any{})
		if !regexp.MustCompile(`^latchkey-[a-z]{5}$`).MatchString(app.ClientAppID) || app.Name != app.ClientAppID {
			t.Errorf("app = %+v, want a generated latchkey-xxxxx client app id", app)
		}
		e.do(t, "GET", appPath(app.ClientAppID, "/location"), "", nil).wantJSON(t, http.StatusOK, nil)
	})

	t.Run("CreateWithSettings", func(t *testing.T) {
		app := e.createApp(t, tok, map[string]any{
			"client_app_id": "tuned-app", "name": "Tuned", "auto_confirm": false, "anon_user_enabled": false,
			"password_min_length": 8, "refresh_token_lifetime_seconds": 3600, "allowed_origins": []string{"https://tuned.example.com"},
		})
		want := settings{
			Name: "Tuned", AutoConfirm: false, AnonUserEnabled: false, LocalUserpassEnabled: true, APIKeyEnabled: true,
			PasswordMinLength: 8, RefreshTokenLifetimeSeconds: 3600, AllowedOrigins: []string{"https://tuned.example.com"},
		}
		if diff := cmp.Diff(want, e.getSettings(t, tok, app.ID)); diff != "" {
			t.Errorf("settings (-want +got):\n%s", diff)
		}
	})

	t.Run("List", func(t *testing.T) {
		var apps []adminApp
		e.do(t, "GET", appsPath(), tok, nil).wantJSON(t, http.StatusOK, &apps)
		var ids []string
		for _, a := range apps {
			ids = append(ids, a.ClientAppID)
		}
		for _, want := range []string{e.AppID, "shop-app", "tuned-app"} {
			if !slices.Contains(ids, want) {
				t.Errorf("apps = %v, want %s among them", ids, want)
			}
		}
	})

	t.Run("Get", func(t *testing.T) {
		for _, id := range []string{created.ID, created.ClientAppID} {
			var got adminApp
			e.do(t, "GET", adminAppPath(id, ""), tok, nil).wantJSON(t, http.StatusOK, &got)
			if got != created {
				t.Errorf("GET %s = %+v, want %+v", id, got, created)
			}
		}
	})

	t.Run("ErrDuplicate", func(t *testing.T) {
		e.do(t, "POST", appsPath(), tok, map[string]any{"client_app_id": "shop-app"}).
			wantErrorContains(t, http.StatusConflict, noCodeOrAny, "already exists")
		e.do(t, "POST", appsPath(), tok, map[string]any{"client_app_id": e.AppID}).
			wantErrorContains(t, http.StatusConflict, noCodeOrAny, "already exists")
	})

	for _, tt := range []struct {
		name string
		body map[string]any
	}{
		{"ErrClientIDSpaces", map[string]any{"client_app_id": "my app"}},
		{"ErrClientIDUpper", map[string]any{"client_app_id": "MyApp"}},
		{"ErrClientIDColon", map[string]any{"client_app_id": "latchkey:admin"}},
		{"ErrRefresh60s", map[string]any{"client_app_id": "bad-app", "refresh_token_lifetime_seconds": 60}},
		{"ErrPasswordMin3", map[string]any{"client_app_id": "bad-app", "password_min_length": 3}},
		{"ErrOrigin", map[string]any{"client_app_id": "bad-app", "allowed_origins": []string{"not a url"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.do(t, "POST", appsPath(), tok, tt.body).wantErrorBody(t, http.StatusBadRequest, "InvalidParameter")
		})
	}

	t.Run("Delete", func(t *testing.T) {
		app := e.createApp(t, tok, map[string]any{"client_app_id": "doomed-app"})
		u := e.newUser(t, "doomed-app")
		k := e.createKey(t, u.RefreshToken, "doomed")
		sk := e.createServerKey(t, tok, app.ID, "doomed-server")

		e.do(t, "DELETE", adminAppPath(app.ID, ""), tok, nil).wantEmpty(t, http.StatusNoContent)
		e.do(t, "GET", adminAppPath(app.ID, ""), tok, nil).wantErrorBody(t, http.StatusNotFound, "InvalidParameter")
		e.do(t, "GET", adminAppPath("doomed-app", ""), tok, nil).wantErrorBody(t, http.StatusNotFound, "InvalidParameter")
		e.do(t, "DELETE", adminAppPath(app.ID, ""), tok, nil).wantErrorBody(t, http.StatusNotFound, "InvalidParameter")

		e.do(t, "GET", appPath("doomed-app", "/location"), "", nil).wantErrorBody(t, http.StatusNotFound, "InvalidParameter")
		e.do(t, "POST", loginPath("doomed-app", "local-userpass"), "", map[string]string{"username": u.Email, "password": u.Password}).
			wantErrorBody(t, http.StatusNotFound, "InvalidParameter")
		for _, key := range []string{k.Key, sk.Key} {
			e.do(t, "POST", loginPath("doomed-app", "api-key"), "", map[string]string{"key": key}).
				wantErrorBody(t, http.StatusNotFound, "InvalidParameter")
		}
		e.wantEnded(t, u.RefreshToken)
		e.do(t, "GET", authPath+"/profile", u.AccessToken, nil).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")

		// A new app may take the client app id again, and starts empty.
		again := e.createApp(t, tok, map[string]any{"client_app_id": "doomed-app"})
		var users []adminUser
		e.do(t, "GET", adminAppPath(again.ID, "/users"), tok, nil).wantJSON(t, http.StatusOK, &users)
		if len(users) != 0 {
			t.Errorf("users of the recreated app = %+v, want none", users)
		}
		e.do(t, "POST", loginPath("doomed-app", "local-userpass"), "", map[string]string{"username": u.Email, "password": u.Password}).
			wantError(t, http.StatusUnauthorized, "InvalidPassword", "unauthorized")
		// Other apps are untouched.
		e.do(t, "GET", adminAppPath(created.ID, ""), tok, nil).wantJSON(t, http.StatusOK, nil)
	})
}

func TestAdminAppSettings(t *testing.T) {
	t.Parallel()
	e, tok := newAdminEnvToken(t)
	app := e.createApp(t, tok, map[string]any{"client_app_id": "settings-app"})
	path := adminAppPath(app.ID, "/settings")

	t.Run("RoundTrip", func(t *testing.T) {
		want := settings{
			Name: "Renamed", AutoConfirm: false, AnonUserEnabled: false, LocalUserpassEnabled: true, APIKeyEnabled: false,
			PasswordMinLength: 12, RefreshTokenLifetimeSeconds: 7200, AllowedOrigins: []string{"https://a.example.com", "http://localhost:3000"},
			HideAccountExistence: true,
		}
		var got settings
		e.do(t, "PATCH", path, tok, want).wantJSON(t, http.StatusOK, &got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("PATCH answer (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, e.getSettings(t, tok, "settings-app")); diff != "" {
			t.Errorf("GET after PATCH (-want +got):\n%s", diff)
		}

		// A partial PATCH changes only what it names.
		want.Name, want.AnonUserEnabled = "Partly", true
		e.do(t, "PATCH", path, tok, map[string]any{"name": "Partly", "anon_user_enabled": true}).wantJSON(t, http.StatusOK, &got)
		if diff := cmp.Diff(want, e.getSettings(t, tok, app.ID)); diff != "" {
			t.Errorf("GET after partial PATCH (-want +got):\n%s", diff)
		}
		// An empty list of origins allows every origin again.
		want.AllowedOrigins = []string{}
		e.do(t, "PATCH", path, tok, map[string]any{"allowed_origins": []string{}}).wantJSON(t, http.StatusOK, &got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("PATCH origins (-want +got):\n%s", diff)
		}
	})

	before := e.getSettings(t, tok, app.ID)
	for _, tt := range []struct {
		name string
		body map[string]any
	}{
		{"ErrRefresh60s", map[string]any{"refresh_token_lifetime_seconds": 60}},
		{"ErrRefresh1799s", map[string]any{"refresh_token_lifetime_seconds": 1799}},
		{"ErrRefresh200Days", map[string]any{"refresh_token_lifetime_seconds": 200 * 86400}},
		{"ErrPasswordMin3", map[string]any{"password_min_length": 3}},
		{"ErrPasswordMin129", map[string]any{"password_min_length": 129}},
		{"ErrOriginNotURL", map[string]any{"allowed_origins": []string{"not a url"}}},
		{"ErrOriginPath", map[string]any{"allowed_origins": []string{"https://a.example.com/path"}}},
		{"ErrNameEmpty", map[string]any{"name": ""}},
		{"ErrOneBadAmongGood", map[string]any{"name": "Changed", "password_min_length": 3}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.do(t, "PATCH", path, tok, tt.body).wantErrorBody(t, http.StatusBadRequest, "InvalidParameter")
			if diff := cmp.Diff(before, e.getSettings(t, tok, app.ID)); diff != "" {
				t.Errorf("settings changed by a refused PATCH (-before +after):\n%s", diff)
			}
		})
	}
	t.Run("ErrWrongType", func(t *testing.T) {
		for _, body := range []string{
			`{"auto_confirm":"yes"}`, `{"password_min_length":"10"}`, `{"refresh_token_lifetime_seconds":1.5}`,
			`{"allowed_origins":"https://a.example.com"}`, `{"name":5}`,
		} {
			e.do(t, "PATCH", path, tok, body).wantErrorBody(t, http.StatusBadRequest, "BadRequest")
		}
		if diff := cmp.Diff(before, e.getSettings(t, tok, app.ID)); diff != "" {
			t.Errorf("settings changed by a refused PATCH (-before +after):\n%s", diff)
		}
	})
}

func TestAdminRefreshTokenExpiration(t *testing.T) {
	t.Parallel()
	e, tok := newAdminEnvToken(t)
	path := adminAppPath(e.App.ID, "/security/refresh_token_expiration")

	get := func(t *testing.T) int64 {
		t.Helper()
		var got struct {
			Seconds *int64 `json:"expiration_time_seconds"`
		}
		e.do(t, "GET", path, tok, nil).wantJSON(t, http.StatusOK, &got)
		if got.Seconds == nil {
			t.Fatal("no expiration_time_seconds")
		}
		return *got.Seconds
	}
	lifetime := func(t *testing.T, refresh string) int64 {
		t.Helper()
		c := jwtClaims(t, refresh)
		var iat, exp int64
		mustUnmarshal(t, c["iat"], &iat)
		mustUnmarshal(t, c["exp"], &exp)
		return exp - iat
	}

	if got := get(t); got != 5184000 {
		t.Errorf("default = %d, want 5184000", got)
	}
	before := e.newUser(t, e.AppID)

	t.Run("Set1800", func(t *testing.T) {
		e.do(t, "PUT", path, tok, map[string]int{"expiration_time_seconds": 1800}).wantEmpty(t, http.StatusNoContent)
		if got := get(t); got != 1800 {
			t.Errorf("after PUT = %d, want 1800", got)
		}
		if got := e.getSettings(t, tok, e.AppID).RefreshTokenLifetimeSeconds; got != 1800 {
			t.Errorf("settings refresh lifetime = %d, want 1800", got)
		}
		u := e.newUser(t, e.AppID)
		if got := lifetime(t, u.RefreshToken); got != 1800 {
			t.Errorf("refresh token exp - iat = %d, want 1800", got)
		}
		anon := e.login(t, e.AppID, "anon-user", map[string]any{})
		if got := lifetime(t, anon.RefreshToken); got != 1800 {
			t.Errorf("anonymous refresh token exp - iat = %d, want 1800", got)
		}
		// Tokens issued before keep the lifetime they were issued with.
		if got := lifetime(t, before.RefreshToken); got != 5184000 {
			t.Errorf("earlier refresh token exp - iat = %d, want 5184000", got)
		}
	})

	t.Run("SetMax", func(t *testing.T) {
		e.do(t, "PUT", path, tok, map[string]int{"expiration_time_seconds": 15552000}).wantEmpty(t, http.StatusNoContent)
		u := e.newUser(t, e.AppID)
		if got := lifetime(t, u.RefreshToken); got != 15552000 {
			t.Errorf("refresh token exp - iat = %d, want 15552000", got)
		}
	})

	for _, tt := range []struct {
		name string
		secs int64
	}{
		{"Err60s", 60},
		{"Err0", 0},
		{"ErrNegative", -1800},
		{"Err1799s", 1799},
		{"Err200Days", 200 * 86400},
		{"Err180DaysPlus1", 15552001},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.do(t, "PUT", path, tok, map[string]int64{"expiration_time_seconds": tt.secs}).
				wantError(t, http.StatusBadRequest, "InvalidParameter", "refresh token lifetime must be between 30 minutes and 180 days")
			if got := get(t); got != 15552000 {
				t.Errorf("after a refused PUT = %d, want 15552000", got)
			}
		})
	}
}

func TestAdminAllowedOrigins(t *testing.T) {
	t.Parallel()
	e, tok := newAdminEnvToken(t)
	path := adminAppPath(e.App.ID, "/security/allowed_request_origins")
	u := e.newUser(t, e.AppID)
	const allowed, other = "https://ok.example.com", "https://evil.example.com"

	getOrigins := func(t *testing.T) []string {
		t.Helper()
		var got []string
		r := e.do(t, "GET", path, tok, nil)
		r.wantJSON(t, http.StatusOK, &got)
		if got == nil {
			t.Errorf("%v: want a JSON array", r)
		}
		return got
	}
	// corsOrigin sends a request with an Origin and returns the Access-Control-Allow-Origin.
	corsOrigin := func(t *testing.T, method, path, token, origin string, preflight bool) string {
		t.Helper()
		req := e.newRequest(t, method, path, nil)
		req.Header.Set("Origin", origin)
		if preflight {
			req.Method = "OPTIONS"
			req.Header.Set("Access-Control-Request-Method", method)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return e.send(t, req).Header.Get("Access-Control-Allow-Origin")
	}
	location := appPath(e.AppID, "/location")

	if got := getOrigins(t); len(got) != 0 {
		t.Errorf("default origins = %q, want []", got)
	}
	if got := corsOrigin(t, "GET", location, "", other, false); got != other && got != "*" {
		t.Errorf("no origins set: Access-Control-Allow-Origin = %q, want any origin allowed", got)
	}

	e.do(t, "POST", path, tok, []string{allowed}).wantEmpty(t, http.StatusNoContent)
	if got := getOrigins(t); !slices.Equal(got, []string{allowed}) {
		t.Errorf("origins = %q, want [%s]", got, allowed)
	}
	if got := e.getSettings(t, tok, e.App.ID).AllowedOrigins; !slices.Equal(got, []string{allowed}) {
		t.Errorf("settings origins = %q, want [%s]", got, allowed)
	}

	for _, tt := range []struct {
		name, method, path, token string
		preflight                 bool
	}{
		{"Location", "GET", location, "", false},
		{"LocationPreflight", "GET", location, "", true},
		{"LoginPreflight", "POST", loginPath(e.AppID, "local-userpass"), "", true},
		{"Profile", "GET", authPath + "/profile", u.AccessToken, false},
		{"Refresh", "POST", authPath + "/session", u.RefreshToken, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := corsOrigin(t, tt.method, tt.path, tt.token, allowed, tt.preflight); got != allowed {
				t.Errorf("allowed origin: Access-Control-Allow-Origin = %q, want %q", got, allowed)
			}
			if got := corsOrigin(t, tt.method, tt.path, tt.token, other, tt.preflight); got != "" {
				t.Errorf("disallowed origin: Access-Control-Allow-Origin = %q, want none", got)
			}
		})
	}

	t.Run("Replace", func(t *testing.T) {
		e.do(t, "POST", path, tok, []string{other, "http://localhost:8080"}).wantEmpty(t, http.StatusNoContent)
		if got := getOrigins(t); !slices.Equal(got, []string{other, "http://localhost:8080"}) {
			t.Errorf("origins = %q", got)
		}
		if got := corsOrigin(t, "GET", location, "", allowed, false); got != "" {
			t.Errorf("replaced origin still allowed: %q", got)
		}
		e.do(t, "POST", path, tok, []string{}).wantEmpty(t, http.StatusNoContent)
		if got := corsOrigin(t, "GET", location, "", allowed, false); got != allowed && got != "*" {
			t.Errorf("empty list: Access-Control-Allow-Origin = %q, want any origin allowed", got)
		}
	})

	for _, tt := range []struct {
		name string
		body any
		code string
	}{
		{"ErrNotURL", []string{"not a url"}, "InvalidParameter"},
		{"ErrNoScheme", []string{"ok.example.com"}, "InvalidParameter"},
		{"ErrPath", []string{"https://ok.example.com/app"}, "InvalidParameter"},
		{"ErrOneBad", []string{allowed, "not a url"}, "InvalidParameter"},
		{"ErrObject", map[string]any{"origins": []string{allowed}}, "BadRequest"},
		{"ErrNumbers", []int{1, 2}, "BadRequest"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.do(t, "POST", path, tok, tt.body).wantErrorBody(t, http.StatusBadRequest, tt.code)
			if got := getOrigins(t); len(got) != 0 {
				t.Errorf("origins after a refused POST = %q, want []", got)
			}
		})
	}
}

func TestAdminAuthProviders(t *testing.T) {
	t.Parallel()
	e, tok := newAdminEnvToken(t)
	providerPath := func(p, action string) string {
		return adminAppPath(e.App.ID, "/auth_providers/"+p+"/"+action)
	}
	type provider struct {
		ID       string `json:"_id"`
		Name     string `json:"name"`
		Type     string `json:"type"`
		Disabled bool   `json:"disabled"`
	}
	disabled := func(t *testing.T) map[string]bool {
		t.Helper()
		var ps []provider
		e.do(t, "GET", adminAppPath(e.App.ID, "/auth_providers"), tok, nil).wantJSON(t, http.StatusOK, &ps)
		got := map[string]bool{}
		for _, p := range ps {
			if p.Name != p.Type {
				t.Errorf("provider %+v: name and type differ", p)
			}
			got[p.Type] = p.Disabled
		}
		return got
	}

	want := map[string]bool{"anon-user": false, "local-userpass": false, "api-key": false}
	if diff := cmp.Diff(want, disabled(t)); diff != "" {
		t.Errorf("providers (-want +got):\n%s", diff)
	}

	t.Run("AnonUser", func(t *testing.T) {
		e.do(t, "PUT", providerPath("anon-user", "disable"), tok, nil).wantEmpty(t, http.StatusNoContent)
		if !disabled(t)["anon-user"] || e.getSettings(t, tok, e.App.ID).AnonUserEnabled {
			t.Errorf("anon-user not shown disabled")
		}
		e.do(t, "POST", loginPath(e.AppID, "anon-user"), "", map[string]any{}).
			wantErrorBody(t, http.StatusBadRequest, "AuthProviderNotFound")
		// Disabling twice is no error.
		e.do(t, "PUT", providerPath("anon-user", "disable"), tok, nil).wantEmpty(t, http.StatusNoContent)
		e.do(t, "PUT", providerPath("anon-user", "enable"), tok, nil).wantEmpty(t, http.StatusNoContent)
		e.login(t, e.AppID, "anon-user", map[string]any{})
		if disabled(t)["anon-user"] {
			t.Errorf("anon-user still shown disabled")
		}
	})

	t.Run("LocalUserpass", func(t *testing.T) {
		u := e.newUser(t, e.AppID)
		e.do(t, "PUT", providerPath("local-userpass", "disable"), tok, nil).wantEmpty(t, http.StatusNoContent)
		e.do(t, "POST", loginPath(e.AppID, "local-userpass"), "", map[string]string{"username": u.Email, "password": u.Password}).
			wantErrorBody(t, http.StatusBadRequest, "AuthProviderNotFound")
		e.do(t, "POST", userpassPath(e.AppID, "/register"), "", map[string]string{"email": e.newEmail(), "password": e.newPassword()}).
			wantErrorBody(t, http.StatusBadRequest, "AuthProviderNotFound")
		e.do(t, "PUT", providerPath("local-userpass", "enable"), tok, nil).wantEmpty(t, http.StatusNoContent)
		e.loginPassword(t, e.AppID, u.Email, u.Password)
	})

	t.Run("APIKey", func(t *testing.T) {
		u := e.newUser(t, e.AppID)
		k := e.createKey(t, u.RefreshToken, "provider")
		sk := e.createServerKey(t, tok, e.App.ID, "provider")
		e.do(t, "PUT", providerPath("api-key", "disable"), tok, nil).wantEmpty(t, http.StatusNoContent)
		for _, key := range []string{k.Key, sk.Key} {
			e.do(t, "POST", loginPath(e.AppID, "api-key"), "", map[string]string{"key": key}).
				wantErrorBody(t, http.StatusBadRequest, "AuthProviderNotFound")
		}
		e.do(t, "PUT", providerPath("api-key", "enable"), tok, nil).wantEmpty(t, http.StatusNoContent)
		e.loginKey(t, e.AppID, k.Key)
		e.loginKey(t, e.AppID, sk.Key)
	})

	t.Run("ErrUnknownProvider", func(t *testing.T) {
		for _, p := range []string{"custom-token", "oauth2-google", "nope"} {
			for _, action := range []string{"enable", "disable"} {
				e.do(t, "PUT", providerPath(p, action), tok, nil).wantErrorContains(t, http.StatusNotFound, noCodeOrAny, p)
			}
		}
	})

	if diff := cmp.Diff(want, disabled(t)); diff != "" {
		t.Errorf("providers at the end (-want +got):\n%s", diff)
	}
}

func TestAdminPasswordMinLength(t *testing.T) {
	t.Parallel()
	e, tok := newAdminEnvToken(t)
	var got settings
	e.do(t, "PATCH", adminAppPath(e.App.ID, "/settings"), tok, map[string]int{"password_min_length": 10}).
		wantJSON(t, http.StatusOK, &got)
	if got.PasswordMinLength != 10 {
		t.Fatalf("password_min_length = %d, want 10", got.PasswordMinLength)
	}
	for _, pw := range []string{"eight ch", "nine char"} {
		e.do(t, "POST", userpassPath(e.AppID, "/register"), "", map[string]string{"email": e.newEmail(), "password": pw}).
			wantError(t, http.StatusBadRequest, "BadRequest", "password must be between 10 and 128 characters")
	}
	e.register(t, e.AppID, e.newEmail(), "ten chars!")
	e.register(t, e.AppID, e.newEmail(), strings.Repeat("p", 128))
	e.do(t, "POST", userpassPath(e.AppID, "/register"), "", map[string]string{"email": e.newEmail(), "password": strings.Repeat("p", 129)}).
		wantError(t, http.StatusBadRequest, "BadRequest", "password must be between 10 and 128 characters")

	// Other apps keep their own minimum.
	other := e.createApp(t, tok, map[string]any{"client_app_id": "lenient-app"})
	e.register(t, other.ClientAppID, e.newEmail(), "six ch")
	e.do(t, "POST", userpassPath(other.ClientAppID, "/register"), "", map[string]string{"email": e.newEmail(), "password": "five!"}).
		wantError(t, http.StatusBadRequest, "BadRequest", "password must be between 6 and 128 characters")
}
