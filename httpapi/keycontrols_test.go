package httpapi_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey"
)

// Tests of Latchkey's key controls beyond App Services (issue 7): key format and start,
// expiry, rotation, scopes, key prefixes and leak reports. Each addition is an extra field
// of a request or a response, so the Realm-visible fields are checked to stay as they were.

var keyPattern = regexp.MustCompile(`^` + latchkey.KeyPattern + `$`)

func groupAppPath(app, rest string) string {
	return adminPath + "/groups/" + latchkey.GroupID + "/apps/" + app + rest
}

func leakPath(app string) string { return appPath(app, "/auth/api_keys/leaked") }

// keyObject is a key object with Latchkey's additions.
type keyObject struct {
	ID         string   `json:"_id"`
	Key        string   `json:"key"`
	Name       string   `json:"name"`
	Disabled   bool     `json:"disabled"`
	Start      string   `json:"start"`
	Scopes     []string `json:"scopes"`
	CreatedAt  string   `json:"created_at"`
	LastUsedAt *string  `json:"last_used_at"`
	ExpiresAt  *string  `json:"expires_at"`
}

// createKeyWith creates a key from a request body with Latchkey's optional fields, and
// remembers its value so that no later response may show it.
func (e *env) createKeyWith(t *testing.T, refresh string, body map[string]any) keyObject {
	t.Helper()
	var k keyObject
	e.do(t, "POST", keysPath, refresh, body).wantJSON(t, http.StatusCreated, &k)
	e.remember(&e.keys, k.Key)
	return k
}

// getKey fetches one of the user's keys.
func (e *env) getKey(t *testing.T, refresh, id string) keyObject {
	t.Helper()
	var k keyObject
	e.do(t, "GET", keyPath(id), refresh, nil).wantJSON(t, http.StatusOK, &k)
	return k
}

// rotate rotates a key with a request body and remembers the new value.
func (e *env) rotate(t *testing.T, refresh, id string, body any) keyObject {
	t.Helper()
	var k keyObject
	e.do(t, "POST", keyPath(id)+"/rotate", refresh, body).wantJSON(t, http.StatusOK, &k)
	e.remember(&e.keys, k.Key)
	return k
}

// wantKeyRefused checks that a key value no longer logs in.
func (e *env) wantKeyRefused(t *testing.T, app, key string) {
	t.Helper()
	e.do(t, "POST", loginPath(app, "api-key"), "", map[string]string{"key": key}).
		wantError(t, http.StatusUnauthorized, "AuthError", "unauthorized")
}

// newAdmin creates the server's admin account and logs it in through the admin API; it
// returns the admin access token. Once per env.
func (e *env) newAdmin(t *testing.T) string {
	t.Helper()
	if _, err := e.Service.Admins.CreateAdmin(context.Background(), "root@example.com", "rootpassword1"); err != nil {
		t.Fatal(err)
	}
	var l login
	e.do(t, "POST", adminPath+"/auth/providers/local-userpass/login", "",
		map[string]string{"username": "root@example.com", "password": "rootpassword1"}).wantJSON(t, http.StatusOK, &l)
	return l.AccessToken
}

// appSettings is the part of the admin settings that the key controls use.
type appSettings struct {
	KeyPrefix             string     `json:"key_prefix"`
	MaxKeyLifetimeSeconds int64      `json:"max_key_lifetime_seconds"`
	Scopes                []string   `json:"scopes"`
	LeakSecretSet         bool       `json:"leak_secret_set"`
	KeyRateLimit          *rateLimit `json:"key_ratelimit"`
}

// patchSettings changes an app's settings through the admin API and returns them.
func (e *env) patchSettings(t *testing.T, admin, app string, body map[string]any) appSettings {
	t.Helper()
	var s appSettings
	e.do(t, "PATCH", groupAppPath(app, "/settings"), admin, body).wantJSON(t, http.StatusOK, &s)
	return s
}

// claims decodes a JWT's payload without verifying it.
func claims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("%q is not a JWT", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	mustUnmarshal(t, b, &c)
	return c
}

func parseTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("%q is not RFC 3339: %v", s, err)
	}
	return v
}

func TestKeyFormat(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t, e.AppID)

	var raw map[string]any
	r := e.do(t, "POST", keysPath, u.RefreshToken, map[string]string{"name": "formatted"})
	r.wantJSON(t, http.StatusCreated, &raw)
	value, _ := raw["key"].(string)
	e.remember(&e.keys, value)
	start, _ := raw["start"].(string)
	if !keyPattern.MatchString(value) || !strings.HasPrefix(value, "lk_") {
		t.Fatalf("key = %q, want lk_ and the pattern %s", value, latchkey.KeyPattern)
	}
	if start != latchkey.KeyStart(value) || !strings.HasPrefix(start, "lk_") || len(start) >= len(value)/2 {
		t.Fatalf("start = %q of %q, want a short beginning of the value", start, value)
	}
	// The Realm-visible fields are as App Services had them.
	id, _ := raw["_id"].(string)
	if !hex24.MatchString(id) || raw["name"] != "formatted" || raw["disabled"] != false {
		t.Fatalf("key object %v: want _id 24 hex, name, disabled false", raw)
	}
	if _, ok := raw["expires_at"]; ok {
		t.Errorf("a key without expiry has expires_at: %v", raw)
	}
	if _, ok := raw["scopes"]; ok {
		t.Errorf("a key without scopes has scopes: %v", raw)
	}

	// list and get show start, never the value (e.check fails any body that holds it).
	var list []keyObject
	e.do(t, "GET", keysPath, u.RefreshToken, nil).wantJSON(t, http.StatusOK, &list)
	want := keyObject{ID: id, Name: "formatted", Start: start, CreatedAt: raw["created_at"].(string)}
	if diff := cmp.Diff([]keyObject{want}, list); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, e.getKey(t, u.RefreshToken, id)); diff != "" {
		t.Errorf("get (-want +got):\n%s", diff)
	}
	var realm []apiKey // what a Realm SDK decodes
	e.do(t, "GET", keysPath, u.RefreshToken, nil).wantJSON(t, http.StatusOK, &realm)
	if diff := cmp.Diff([]apiKey{{ID: id, Name: "formatted"}}, realm); diff != "" {
		t.Errorf("Realm view of the list (-want +got):\n%s", diff)
	}

	e.loginKey(t, e.AppID, value)
	// Another base62 character at position i: a changed checksum never matches, and a
	// changed body matches its old checksum once in 2^32.
	changed := func(i int) string {
		b := []byte(value)
		b[i] = '0'
		if value[i] == '0' {
			b[i] = '1'
		}
		return string(b)
	}
	for _, tt := range []struct{ name, key string }{
		{"ErrChecksum", changed(len(value) - 1)},
		{"ErrBodyChanged", changed(5)},
		{"ErrPrefixUppercase", "LK" + value[2:]},
		{"ErrNoSeparator", strings.Replace(value, "_", "", 1)},
		{"ErrShort", value[:len(value)-2]},
		{"ErrUnknownWellFormed", latchkey.NewKeyValue("lk")},
		{"ErrUnknownOtherPrefix", latchkey.NewKeyValue("acme")},
		{"ErrUnknownLegacy", strings.Repeat("aB3", 21) + "x"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.wantKeyRefused(t, e.AppID, tt.key)
		})
	}
}

func TestKeyExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t, e.AppID)

	t.Run("ExpiresIn", func(t *testing.T) {
		k := e.createKeyWith(t, u.RefreshToken, map[string]any{"name": "in-an-hour", "expires_in": 3600})
		if k.ExpiresAt == nil || !parseTime(t, *k.ExpiresAt).Equal(parseTime(t, k.CreatedAt).Add(time.Hour)) {
			t.Fatalf("expires_at = %v, want an hour after %s", k.ExpiresAt, k.CreatedAt)
		}
		var list []keyObject
		e.do(t, "GET", keysPath, u.RefreshToken, nil).wantJSON(t, http.StatusOK, &list)
		if len(list) == 0 || list[0].ID != k.ID || list[0].ExpiresAt == nil || *list[0].ExpiresAt != *k.ExpiresAt {
			t.Fatalf("list = %+v, want expires_at %s", list, *k.ExpiresAt)
		}
	})
	t.Run("ExpiresAt", func(t *testing.T) {
		at := e.Clock.Now().Add(72 * time.Hour).UTC().Truncate(time.Second).Format(time.RFC3339)
		k := e.createKeyWith(t, u.RefreshToken, map[string]any{"name": "at", "expires_at": at})
		if k.ExpiresAt == nil || *k.ExpiresAt != at {
			t.Fatalf("expires_at = %v, want %s", k.ExpiresAt, at)
		}
		if got := e.getKey(t, u.RefreshToken, k.ID).ExpiresAt; got == nil || *got != at {
			t.Fatalf("get: expires_at = %v, want %s", got, at)
		}
	})
	t.Run("ExpiresAtOffset", func(t *testing.T) {
		at := e.Clock.Now().Add(72 * time.Hour).Truncate(time.Second)
		k := e.createKeyWith(t, u.RefreshToken, map[string]any{"name": "offset", "expires_at": at.In(time.FixedZone("", 2*3600)).Format(time.RFC3339)})
		if k.ExpiresAt == nil || *k.ExpiresAt != at.UTC().Format(time.RFC3339) {
			t.Fatalf("expires_at = %v, want %s in UTC", k.ExpiresAt, at.UTC().Format(time.RFC3339))
		}
	})
	future := e.Clock.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	e.wantErrors(t, "POST", keysPath, u.RefreshToken, []errCase{
		{"ErrExpiresAtNotRFC3339", map[string]any{"name": "k", "expires_at": "tomorrow"}, 400, "BadRequest", "expires_at must be an RFC 3339 time"},
		{"ErrExpiresAtDateOnly", map[string]any{"name": "k", "expires_at": "2099-01-01"}, 400, "BadRequest", "expires_at must be an RFC 3339 time"},
		{"ErrExpiresAtPast", map[string]any{"name": "k", "expires_at": "2001-01-01T00:00:00Z"}, 400, "InvalidParameter", "a key's expiry must be in the future"},
		{"ErrBoth", map[string]any{"name": "k", "expires_at": future, "expires_in": 3600}, 400, "InvalidParameter", "give expires_at or expires_in, not both"},
		{"ErrExpiresInZero", map[string]any{"name": "k", "expires_in": 0}, 400, "InvalidParameter", "expires_in must be a positive number of seconds"},
		{"ErrExpiresInNegative", map[string]any{"name": "k", "expires_in": -60}, 400, "InvalidParameter", "expires_in must be a positive number of seconds"},
	})
	t.Run("ErrExpiresInString", func(t *testing.T) {
		e.do(t, "POST", keysPath, u.RefreshToken, map[string]any{"name": "k", "expires_in": "3600"}).wantErrorBody(t, 400, "BadRequest")
	})

	t.Run("AppMaximum", func(t *testing.T) {
		admin := e.newAdmin(t)
		e.CreateApp(t, "max-life-app", nil)
		if s := e.patchSettings(t, admin, "max-life-app", map[string]any{"max_key_lifetime_seconds": 86400}); s.MaxKeyLifetimeSeconds != 86400 {
			t.Fatalf("settings = %+v, want max_key_lifetime_seconds 86400", s)
		}
		mu := e.newUser(t, "max-life-app")
		// Without an expiry, a key gets the maximum.
		k := e.createKeyWith(t, mu.RefreshToken, map[string]any{"name": "default"})
		if k.ExpiresAt == nil || !parseTime(t, *k.ExpiresAt).Equal(parseTime(t, k.CreatedAt).Add(24*time.Hour)) {
			t.Fatalf("expires_at = %v, want a day after %s", k.ExpiresAt, k.CreatedAt)
		}
		e.createKeyWith(t, mu.RefreshToken, map[string]any{"name": "shorter", "expires_in": 3600})
		e.do(t, "POST", keysPath, mu.RefreshToken, map[string]any{"name": "longer", "expires_in": 2 * 86400}).
			wantError(t, 400, "InvalidParameter", "keys of this app must expire within 86400 seconds")
		e.do(t, "POST", keysPath, mu.RefreshToken, map[string]any{"name": "longer", "expires_at": e.Clock.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)}).
			wantError(t, 400, "InvalidParameter", "keys of this app must expire within 86400 seconds")
		e.do(t, "PATCH", groupAppPath("max-life-app", "/settings"), admin, map[string]any{"max_key_lifetime_seconds": -1}).
			wantErrorBody(t, 400, "InvalidParameter")
		// Back to 0: keys may live forever again.
		e.patchSettings(t, admin, "max-life-app", map[string]any{"max_key_lifetime_seconds": 0})
		if k := e.createKeyWith(t, mu.RefreshToken, map[string]any{"name": "forever"}); k.ExpiresAt != nil {
			t.Fatalf("expires_at = %v with no maximum, want none", *k.ExpiresAt)
		}
	})
}

// TestKeyExpiry_Login moves the clock, so it has a server of its own.
func TestKeyExpiry_Login(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	owner := e.newUser(t, e.AppID)
	k := e.createKeyWith(t, owner.RefreshToken, map[string]any{"name": "short", "expires_in": 600})
	forever := e.createKey(t, owner.RefreshToken, "forever")
	s := e.loginKey(t, e.AppID, k.Key)
	other := e.loginKey(t, e.AppID, forever.Key)
	if exp := claims(t, s.AccessToken)["exp"].(float64); int64(exp) != parseTime(t, *k.ExpiresAt).Unix() {
		t.Errorf("access token exp = %v, want the key's expiry %s", exp, *k.ExpiresAt)
	}

	// Tokens carry whole seconds, so the margin before the expiry is a few seconds.
	e.Clock.Advance(595 * time.Second)
	e.wantLive(t, s.RefreshToken)
	e.Clock.Advance(5 * time.Second)
	e.wantKeyRefused(t, e.AppID, k.Key)
	e.wantEnded(t, s.RefreshToken) // its refresh token expired with the key
	// The other key, its session and the owner are untouched; the expired key is still listed.
	e.wantLive(t, other.RefreshToken)
	e.loginKey(t, e.AppID, forever.Key)
	got := e.getKey(t, owner.RefreshToken, k.ID)
	if got.ExpiresAt == nil || *got.ExpiresAt != *k.ExpiresAt || got.Disabled {
		t.Fatalf("the expired key = %+v", got)
	}
}

func TestRotateAPIKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // the grace period test moves the clock

	t.Run("GracePeriod", func(t *testing.T) {
		owner := e.newUser(t, e.AppID)
		old := e.createKey(t, owner.RefreshToken, "deploy")
		before := e.loginKey(t, e.AppID, old.Key)

		var raw map[string]any
		r := e.do(t, "POST", keyPath(old.ID)+"/rotate", owner.RefreshToken, map[string]any{"grace_period": 3600})
		r.wantJSON(t, http.StatusOK, &raw)
		if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control = %q, want no-store", cc)
		}
		var k keyObject
		mustUnmarshal(t, r.Body, &k)
		e.remember(&e.keys, k.Key)
		if k.ID != old.ID || k.Name != "deploy" || k.Disabled || k.Key == old.Key || !keyPattern.MatchString(k.Key) || k.Start != latchkey.KeyStart(k.Key) {
			t.Fatalf("rotated = %+v: want _id %s, name deploy, enabled, a new value with its start", k, old.ID)
		}
		if got := e.getKey(t, owner.RefreshToken, old.ID); got.Start != k.Start || got.Name != "deploy" || got.Disabled {
			t.Fatalf("get after rotate = %+v", got)
		}

		e.loginKey(t, e.AppID, k.Key)
		e.Clock.Advance(59 * time.Minute)
		e.loginKey(t, e.AppID, old.Key)
		e.wantLive(t, before.RefreshToken)
		e.Clock.Advance(time.Minute)
		e.wantKeyRefused(t, e.AppID, old.Key)
		e.wantEnded(t, before.RefreshToken)
		e.loginKey(t, e.AppID, k.Key)
	})
	t.Run("NoGrace", func(t *testing.T) {
		owner := e.newUser(t, e.AppID)
		for _, body := range []any{nil, map[string]any{}, map[string]any{"grace_period": 0}} {
			old := e.createKey(t, owner.RefreshToken, "k")
			before := e.loginKey(t, e.AppID, old.Key)
			k := e.rotate(t, owner.RefreshToken, old.ID, body)
			e.wantKeyRefused(t, e.AppID, old.Key)
			e.wantEnded(t, before.RefreshToken)
			e.loginKey(t, e.AppID, k.Key)
			e.do(t, "DELETE", keyPath(k.ID), owner.RefreshToken, nil).wantEmpty(t, http.StatusNoContent)
		}
	})
	t.Run("KeepsExpiryAndScopesOfKey", func(t *testing.T) {
		owner := e.newUser(t, e.AppID)
		old := e.createKeyWith(t, owner.RefreshToken, map[string]any{"name": "k", "expires_in": 86400})
		k := e.rotate(t, owner.RefreshToken, old.ID, map[string]any{"grace_period": 60})
		if k.ExpiresAt == nil || *k.ExpiresAt != *old.ExpiresAt || k.CreatedAt != old.CreatedAt {
			t.Fatalf("rotated = %+v, from %+v: want the same expiry and creation", k, old)
		}
	})
	t.Run("MaxGrace", func(t *testing.T) {
		owner := e.newUser(t, e.AppID)
		old := e.createKey(t, owner.RefreshToken, "k")
		e.rotate(t, owner.RefreshToken, old.ID, map[string]any{"grace_period": 604800})
	})

	owner := e.newUser(t, e.AppID)
	own := e.createKey(t, owner.RefreshToken, "own")
	theirs := e.createKey(t, e.newUser(t, e.AppID).RefreshToken, "theirs")
	e.wantErrors(t, "POST", keyPath(own.ID)+"/rotate", owner.RefreshToken, []errCase{
		{"ErrGraceNegative", map[string]any{"grace_period": -1}, 400, "InvalidParameter", "grace_period must be between 0 and 604800 seconds"},
		{"ErrGraceTooLong", map[string]any{"grace_period": 604801}, 400, "InvalidParameter", "grace_period must be between 0 and 604800 seconds"},
		{"ErrGraceHuge", map[string]any{"grace_period": int64(1) << 62}, 400, "InvalidParameter", "grace_period must be between 0 and 604800 seconds"},
	})
	t.Run("ErrGraceString", func(t *testing.T) {
		e.do(t, "POST", keyPath(own.ID)+"/rotate", owner.RefreshToken, `{"grace_period":"1h"}`).wantErrorBody(t, 400, "BadRequest")
	})
	t.Run("ErrOtherUsersKey", func(t *testing.T) {
		for _, id := range []string{theirs.ID, "0123456789abcdef01234567", "abc"} {
			e.do(t, "POST", keyPath(id)+"/rotate", owner.RefreshToken, nil).wantError(t, http.StatusNotFound, "APIKeyNotFound", "API key not found")
		}
		e.loginKey(t, e.AppID, theirs.Key)
	})
	t.Run("ErrKeySession", func(t *testing.T) {
		s := e.loginKey(t, e.AppID, own.Key)
		e.do(t, "POST", keyPath(own.ID)+"/rotate", s.RefreshToken, nil).
			wantError(t, http.StatusForbidden, "AuthError", "API key sessions cannot manage API keys")
	})
	t.Run("ErrAnonymous", func(t *testing.T) {
		anon := e.login(t, e.AppID, "anon-user", nil)
		e.do(t, "POST", keyPath(own.ID)+"/rotate", anon.RefreshToken, nil).wantErrorBody(t, http.StatusForbidden, "AuthError")
	})
	t.Run("ErrAccessToken", func(t *testing.T) {
		e.do(t, "POST", keyPath(own.ID)+"/rotate", owner.AccessToken, nil).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
	})
	t.Run("ErrNoAuthorization", func(t *testing.T) {
		e.do(t, "POST", keyPath(own.ID)+"/rotate", "", nil).wantError(t, http.StatusUnauthorized, "InvalidSession", "must authenticate first")
	})
	// None of the refused calls changed the key.
	e.loginKey(t, e.AppID, own.Key)
}

func TestKeyScopes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.newAdmin(t)
	e.CreateApp(t, "scoped-app", nil)
	s := e.patchSettings(t, admin, "scoped-app", map[string]any{"scopes": []string{"read", "write", "billing"}})
	if diff := cmp.Diff([]string{"read", "write", "billing"}, s.Scopes); diff != "" {
		t.Fatalf("settings scopes (-want +got):\n%s", diff)
	}
	u := e.newUser(t, "scoped-app")

	t.Run("OK", func(t *testing.T) {
		k := e.createKeyWith(t, u.RefreshToken, map[string]any{"name": "rw", "scopes": []string{"read", "write"}})
		if diff := cmp.Diff([]string{"read", "write"}, k.Scopes); diff != "" {
			t.Fatalf("scopes (-want +got):\n%s", diff)
		}
		if got := e.getKey(t, u.RefreshToken, k.ID).Scopes; !cmp.Equal(got, k.Scopes) {
			t.Fatalf("get: scopes %v", got)
		}
		l := e.loginKey(t, "scoped-app", k.Key)
		if got := claims(t, l.AccessToken)["scope"]; got != "read write" {
			t.Fatalf("scope claim = %v, want \"read write\"", got)
		}
		// A refreshed access token carries them too.
		var refreshed struct {
			AccessToken string `json:"access_token"`
		}
		e.do(t, "POST", authPath+"/session", l.RefreshToken, nil).wantJSON(t, http.StatusCreated, &refreshed)
		if got := claims(t, refreshed.AccessToken)["scope"]; got != "read write" {
			t.Fatalf("scope claim after refresh = %v, want \"read write\"", got)
		}
	})
	t.Run("NoScopes", func(t *testing.T) {
		k := e.createKeyWith(t, u.RefreshToken, map[string]any{"name": "full", "scopes": []string{}})
		if k.Scopes != nil {
			t.Fatalf("scopes = %v, want none", k.Scopes)
		}
		for _, token := range []string{e.loginKey(t, "scoped-app", k.Key).AccessToken, u.AccessToken} {
			if c, ok := claims(t, token)["scope"]; ok {
				t.Fatalf("scope claim = %v, want none: full rights", c)
			}
		}
	})
	for _, tt := range []struct {
		name   string
		app    string
		scopes []string
		msg    string
	}{
		{"ErrUnknownScope", "scoped-app", []string{"read", "admin"}, `unknown scope "admin"`},
		{"ErrScopeTwice", "scoped-app", []string{"read", "read"}, `scope "read" is listed twice`},
		{"ErrAppWithoutScopes", e.AppID, []string{"read"}, `unknown scope "read"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			refresh := u.RefreshToken
			if tt.app != "scoped-app" {
				refresh = e.newUser(t, tt.app).RefreshToken
			}
			e.do(t, "POST", keysPath, refresh, map[string]any{"name": "k", "scopes": tt.scopes}).wantError(t, 400, "InvalidParameter", tt.msg)
		})
	}
	t.Run("ErrBadVocabulary", func(t *testing.T) {
		e.do(t, "PATCH", groupAppPath("scoped-app", "/settings"), admin, map[string]any{"scopes": []string{"has space"}}).
			wantErrorBody(t, 400, "InvalidParameter")
	})
}

func TestKeyPrefix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.newAdmin(t)
	e.CreateApp(t, "prefix-app", nil)
	u := e.newUser(t, "prefix-app")
	old := e.createKeyWith(t, u.RefreshToken, map[string]any{"name": "old"})
	if !strings.HasPrefix(old.Key, "lk_") {
		t.Fatalf("key = %q, want the default prefix lk_", old.Key)
	}

	if s := e.patchSettings(t, admin, "prefix-app", map[string]any{"key_prefix": "acme"}); s.KeyPrefix != "acme" {
		t.Fatalf("settings = %+v, want key_prefix acme", s)
	}
	k := e.createKeyWith(t, u.RefreshToken, map[string]any{"name": "new"})
	if !strings.HasPrefix(k.Key, "acme_") || !keyPattern.MatchString(k.Key) || k.Start != latchkey.KeyStart(k.Key) || !strings.HasPrefix(k.Start, "acme_") {
		t.Fatalf("key %q, start %q: want the acme_ prefix", k.Key, k.Start)
	}
	e.loginKey(t, "prefix-app", k.Key)
	e.loginKey(t, "prefix-app", old.Key)
	// A rotation takes the app's prefix of the day.
	if r := e.rotate(t, u.RefreshToken, old.ID, nil); !strings.HasPrefix(r.Key, "acme_") {
		t.Fatalf("rotated key = %q, want the acme_ prefix", r.Key)
	}
	for _, bad := range []string{"ACME", "a", "abcdefghijk", "ac_me", "ac1"} {
		e.do(t, "PATCH", groupAppPath("prefix-app", "/settings"), admin, map[string]any{"key_prefix": bad}).
			wantError(t, 400, "InvalidParameter", "key prefix must be 2 to 10 lowercase letters")
	}
}

// leakItem is one finding in the shape of GitHub's secret scanning partner program.
type leakItem struct {
	Token  string `json:"token"`
	Type   string `json:"type"`
	URL    string `json:"url"`
	Source string `json:"source"`
}

// leakResult is the answer for one finding.
type leakResult struct {
	TokenRaw  string `json:"token_raw"`
	TokenType string `json:"token_type"`
	Label     string `json:"label"`
}

func found(values ...string) []leakItem {
	items := make([]leakItem, len(values))
	for i, v := range values {
		items[i] = leakItem{Token: v, Type: "latchkey_api_key", URL: "https://github.com/example/repo/blob/main/.env", Source: "content"}
	}
	return items
}

// leakedKey creates a key that a test will report leaked. Its value is not remembered by e:
// the leak report's answer echoes it, as scanners expect.
func (e *env) leakedKey(t *testing.T, refresh, name string) keyObject {
	t.Helper()
	var k keyObject
	e.do(t, "POST", keysPath, refresh, map[string]string{"name": name}).wantJSON(t, http.StatusCreated, &k)
	return k
}

func TestLeakReport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.newAdmin(t)
	owner := e.newUser(t, e.AppID)
	leaked := e.leakedKey(t, owner.RefreshToken, "leaked")
	safe := e.createKey(t, owner.RefreshToken, "safe")
	s1, s2 := e.loginKey(t, e.AppID, leaked.Key), e.loginKey(t, e.AppID, leaked.Key)
	safeSession := e.loginKey(t, e.AppID, safe.Key)

	var settings appSettings
	e.do(t, "GET", groupAppPath(e.AppID, "/settings"), admin, nil).wantJSON(t, http.StatusOK, &settings)
	if settings.LeakSecretSet {
		t.Fatal("leak_secret_set is true before any secret was made")
	}
	t.Run("ErrNoSecretYet", func(t *testing.T) {
		e.do(t, "POST", leakPath(e.AppID), "lkleak_guess", found(leaked.Key)).
			wantError(t, http.StatusUnauthorized, "InvalidSession", "invalid leak report secret")
	})
	var secret struct {
		Secret string `json:"secret"`
	}
	r := e.do(t, "POST", groupAppPath(e.AppID, "/leak_secret"), admin, nil)
	r.wantJSON(t, http.StatusCreated, &secret)
	if secret.Secret == "" || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("leak_secret answered %s with Cache-Control %q", r.Body, r.Header.Get("Cache-Control"))
	}
	e.do(t, "GET", groupAppPath(e.AppID, "/settings"), admin, nil).wantJSON(t, http.StatusOK, &settings)
	if !settings.LeakSecretSet {
		t.Fatal("leak_secret_set is false after the secret was made")
	}

	t.Run("ErrNoAuthorization", func(t *testing.T) {
		e.do(t, "POST", leakPath(e.AppID), "", found(leaked.Key)).wantError(t, http.StatusUnauthorized, "InvalidSession", "must authenticate first")
	})
	t.Run("ErrWrongSecret", func(t *testing.T) {
		e.do(t, "POST", leakPath(e.AppID), secret.Secret+"x", found(leaked.Key)).
			wantError(t, http.StatusUnauthorized, "InvalidSession", "invalid leak report secret")
	})
	t.Run("ErrUserToken", func(t *testing.T) {
		for _, token := range []string{owner.AccessToken, owner.RefreshToken} {
			e.do(t, "POST", leakPath(e.AppID), token, found(leaked.Key)).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
		}
	})
	t.Run("ErrOtherAppsSecret", func(t *testing.T) {
		e.CreateApp(t, "other-app", nil)
		e.do(t, "POST", leakPath("other-app"), secret.Secret, found(leaked.Key)).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
	})
	// None of the refused reports touched the key.
	e.wantLive(t, s1.RefreshToken)

	unknown := latchkey.NewKeyValue("lk")
	var results []leakResult
	e.do(t, "POST", leakPath(e.AppID), secret.Secret, found(leaked.Key, unknown, "not-a-key")).wantJSON(t, http.StatusOK, &results)
	want := []leakResult{
		{TokenRaw: leaked.Key, TokenType: "latchkey_api_key", Label: "true_positive"},
		{TokenRaw: unknown, TokenType: "latchkey_api_key", Label: "false_positive"},
		{TokenRaw: "not-a-key", TokenType: "latchkey_api_key", Label: "false_positive"},
	}
	if diff := cmp.Diff(want, results); diff != "" {
		t.Fatalf("results (-want +got):\n%s", diff)
	}

	// The leaked key is disabled and its sessions ended; nothing else changed.
	e.wantKeyRefused(t, e.AppID, leaked.Key)
	e.wantEnded(t, s1.RefreshToken)
	e.wantEnded(t, s2.RefreshToken)
	if got := e.getKey(t, owner.RefreshToken, leaked.ID); !got.Disabled || got.Name != "leaked" || got.ID != leaked.ID {
		t.Fatalf("leaked key = %+v, want it disabled", got)
	}
	e.wantLive(t, safeSession.RefreshToken)
	e.wantLive(t, owner.RefreshToken)
	e.loginKey(t, e.AppID, safe.Key)

	if err := e.Service.FlushAudit(context.Background()); err != nil {
		t.Fatal(err)
	}
	var events []struct {
		Event   string `json:"event"`
		AppID   string `json:"app_id"`
		Outcome string `json:"outcome"`
		Subject struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		} `json:"subject"`
		Details map[string]string `json:"details"`
	}
	e.do(t, "GET", adminPath+"/audit?event=api_key_leaked", admin, nil).wantJSON(t, http.StatusOK, &events)
	if len(events) != 1 || events[0].Event != "api_key_leaked" || events[0].Subject.ID != leaked.ID || events[0].Details["user_id"] != owner.UserID {
		t.Fatalf("audit events = %+v, want one api_key_leaked of key %s", events, leaked.ID)
	}

	t.Run("AdminToken", func(t *testing.T) {
		k := e.leakedKey(t, owner.RefreshToken, "leaked-too")
		s := e.loginKey(t, e.AppID, k.Key)
		var results []leakResult
		e.do(t, "POST", leakPath(e.AppID), admin, found(k.Key)).wantJSON(t, http.StatusOK, &results)
		if len(results) != 1 || results[0].Label != "true_positive" || results[0].TokenRaw != k.Key {
			t.Fatalf("results = %+v", results)
		}
		e.wantKeyRefused(t, e.AppID, k.Key)
		e.wantEnded(t, s.RefreshToken)
	})
	t.Run("PreviousValueInGrace", func(t *testing.T) {
		old := e.leakedKey(t, owner.RefreshToken, "rotated")
		k := e.rotate(t, owner.RefreshToken, old.ID, map[string]any{"grace_period": 3600})
		e.loginKey(t, e.AppID, old.Key)
		var results []leakResult
		e.do(t, "POST", leakPath(e.AppID), secret.Secret, found(old.Key)).wantJSON(t, http.StatusOK, &results)
		if len(results) != 1 || results[0].Label != "true_positive" {
			t.Fatalf("results = %+v", results)
		}
		// The old value lost its grace; the new one, not leaked, still works.
		e.wantKeyRefused(t, e.AppID, old.Key)
		e.loginKey(t, e.AppID, k.Key)
	})
	t.Run("EmptyReport", func(t *testing.T) {
		r := e.do(t, "POST", leakPath(e.AppID), secret.Secret, []leakItem{})
		r.wantJSON(t, http.StatusOK, nil)
		if got := strings.TrimSpace(string(r.Body)); got != "[]" {
			t.Fatalf("body = %s, want []", got)
		}
	})
	t.Run("ErrNotAList", func(t *testing.T) {
		e.do(t, "POST", leakPath(e.AppID), secret.Secret, map[string]any{"token": safe.Key}).wantErrorBody(t, 400, "BadRequest")
		e.loginKey(t, e.AppID, safe.Key)
	})
	t.Run("NewSecretReplacesOld", func(t *testing.T) {
		var again struct {
			Secret string `json:"secret"`
		}
		e.do(t, "POST", groupAppPath(e.AppID, "/leak_secret"), admin, nil).wantJSON(t, http.StatusCreated, &again)
		e.do(t, "POST", leakPath(e.AppID), secret.Secret, found(unknown)).wantError(t, http.StatusUnauthorized, "InvalidSession", "invalid leak report secret")
		e.do(t, "POST", leakPath(e.AppID), again.Secret, found(unknown)).wantJSON(t, http.StatusOK, nil)
	})
}
