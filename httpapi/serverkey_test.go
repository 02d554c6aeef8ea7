package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestServerAPIKeys(t *testing.T) {
	t.Parallel()
	e, admin := newAdminEnv(t)
	tok := admin.AccessToken
	keysAt := func(rest string) string { return adminAppPath(e.App.ID, "/api_keys"+rest) }

	var created apiKey
	t.Run("Create", func(t *testing.T) {
		r := e.do(t, "POST", keysAt(""), tok, map[string]any{"name": "build_server-1", "disabled": true})
		var fields map[string]json.RawMessage
		r.wantJSON(t, http.StatusCreated, &fields)
		mustUnmarshal(t, r.Body, &created)
		e.remember(&e.keys, created.Key)
		if !hex24.MatchString(created.ID) || created.Name != "build_server-1" || created.Disabled {
			t.Errorf("key = %+v, want a 24-hex _id, the name and disabled false (a disabled field is ignored)", created)
		}
		if len(created.Key) < 27 {
			t.Errorf("key value %q, want at least 27 characters", created.Key)
		}
		for _, f := range []string{"_id", "key", "name", "disabled"} {
			if _, ok := fields[f]; !ok {
				t.Errorf("%v: no %s field", r, f)
			}
		}
		if got := r.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("Cache-Control = %q, want no-store", got)
		}
	})
	if created.ID == "" {
		t.FailNow()
	}
	want := apiKey{ID: created.ID, Name: created.Name}

	t.Run("Get", func(t *testing.T) {
		var got apiKey
		r := e.do(t, "GET", keysAt("/"+created.ID), tok, nil)
		r.wantJSON(t, http.StatusOK, &got)
		wantNoKeyField(t, r)
		if got != want {
			t.Errorf("key = %+v, want %+v", got, want)
		}
	})

	t.Run("List", func(t *testing.T) {
		second := e.createServerKey(t, tok, e.App.ID, "second")
		var got []apiKey
		r := e.do(t, "GET", keysAt(""), tok, nil)
		r.wantJSON(t, http.StatusOK, &got)
		wantNoKeyField(t, r)
		if diff := cmp.Diff([]apiKey{want, {ID: second.ID, Name: "second"}}, got); diff != "" {
			t.Errorf("keys (-want +got):\n%s", diff)
		}
		// User API keys are not server keys.
		u := e.newUser(t, e.AppID)
		uk := e.createKey(t, u.RefreshToken, "user-key")
		e.do(t, "GET", keysAt(""), tok, nil).wantJSON(t, http.StatusOK, &got)
		if len(got) != 2 {
			t.Errorf("keys = %+v, want the 2 server keys", got)
		}
		e.do(t, "GET", keysAt("/"+uk.ID), tok, nil).wantError(t, http.StatusNotFound, "APIKeyNotFound", "API key not found")
		e.do(t, "DELETE", keysAt("/"+second.ID), tok, nil).wantEmpty(t, http.StatusNoContent)
	})

	var session login
	t.Run("Login", func(t *testing.T) {
		session = e.loginKey(t, e.AppID, created.Key)
		p := e.getProfile(t, session.AccessToken)
		if p.Type != "server" || p.UserID != session.UserID {
			t.Errorf("profile = %+v, want type server for user %s", p, session.UserID)
		}
		if len(p.Identities) != 1 || p.Identities[0].ProviderType != "api-key" {
			t.Errorf("identities = %+v, want one api-key identity", p.Identities)
		}
		// Every login with the key is the same server user.
		if again := e.loginKey(t, e.AppID, created.Key); again.UserID != session.UserID {
			t.Errorf("second login user %s, want %s", again.UserID, session.UserID)
		}
		// The admin sees the server user.
		var users []adminUser
		e.do(t, "GET", adminAppPath(e.App.ID, "/users?type=server"), tok, nil).wantJSON(t, http.StatusOK, &users)
		if len(users) != 1 || users[0].ID != session.UserID || users[0].Type != "server" {
			t.Errorf("server users = %+v, want %s", users, session.UserID)
		}
	})

	t.Run("ErrManageUserKeys", func(t *testing.T) {
		e.do(t, "POST", keysPath, session.RefreshToken, map[string]string{"name": "nope"}).
			wantError(t, http.StatusForbidden, "AuthError", "server API key users cannot manage user API keys")
		e.do(t, "GET", keysPath, session.RefreshToken, nil).wantErrorBody(t, http.StatusForbidden, "AuthError")
		e.do(t, "DELETE", keyPath(created.ID), session.RefreshToken, nil).wantErrorBody(t, http.StatusForbidden, "AuthError")
	})

	t.Run("ErrOtherApp", func(t *testing.T) {
		other := e.createApp(t, tok, map[string]any{"client_app_id": "other-app"})
		e.do(t, "GET", adminAppPath(other.ID, "/api_keys/"+created.ID), tok, nil).wantError(t, http.StatusNotFound, "APIKeyNotFound", "API key not found")
		e.do(t, "PUT", adminAppPath(other.ID, "/api_keys/"+created.ID+"/disable"), tok, nil).wantErrorBody(t, http.StatusNotFound, "APIKeyNotFound")
		e.do(t, "DELETE", adminAppPath(other.ID, "/api_keys/"+created.ID), tok, nil).wantErrorBody(t, http.StatusNotFound, "APIKeyNotFound")
		// A server key logs in only to its own app.
		e.do(t, "POST", loginPath("other-app", "api-key"), "", map[string]string{"key": created.Key}).
			wantError(t, http.StatusUnauthorized, "AuthError", "unauthorized")
	})

	t.Run("Disable", func(t *testing.T) {
		e.wantLive(t, session.RefreshToken)
		for range 2 { // disabling a disabled key is no error
			e.do(t, "PUT", keysAt("/"+created.ID+"/disable"), tok, nil).wantEmpty(t, http.StatusNoContent)
		}
		e.do(t, "POST", loginPath(e.AppID, "api-key"), "", map[string]string{"key": created.Key}).
			wantError(t, http.StatusUnauthorized, "AuthError", "unauthorized")
		e.wantEnded(t, session.RefreshToken)
		var got apiKey
		e.do(t, "GET", keysAt("/"+created.ID), tok, nil).wantJSON(t, http.StatusOK, &got)
		if !got.Disabled {
			t.Errorf("key = %+v, want disabled", got)
		}
	})

	t.Run("Enable", func(t *testing.T) {
		for range 2 {
			e.do(t, "PUT", keysAt("/"+created.ID+"/enable"), tok, nil).wantEmpty(t, http.StatusNoContent)
		}
		session = e.loginKey(t, e.AppID, created.Key)
		var got apiKey
		e.do(t, "GET", keysAt("/"+created.ID), tok, nil).wantJSON(t, http.StatusOK, &got)
		if got.Disabled {
			t.Errorf("key = %+v, want enabled", got)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		e.do(t, "DELETE", keysAt("/"+created.ID), tok, nil).wantEmpty(t, http.StatusNoContent)
		e.do(t, "POST", loginPath(e.AppID, "api-key"), "", map[string]string{"key": created.Key}).
			wantError(t, http.StatusUnauthorized, "AuthError", "unauthorized")
		e.wantEnded(t, session.RefreshToken)
		e.do(t, "GET", keysAt("/"+created.ID), tok, nil).wantError(t, http.StatusNotFound, "APIKeyNotFound", "API key not found")
		e.do(t, "DELETE", keysAt("/"+created.ID), tok, nil).wantError(t, http.StatusNotFound, "APIKeyNotFound", "API key not found")
		var got []apiKey
		e.do(t, "GET", keysAt(""), tok, nil).wantJSON(t, http.StatusOK, &got)
		if len(got) != 0 {
			t.Errorf("keys = %+v, want none", got)
		}
		// The server user went with its key.
		e.do(t, "GET", adminUserPath(e.App.ID, session.UserID, ""), tok, nil).wantError(t, http.StatusNotFound, "UserNotFound", "user not found")
		if keys, err := e.Store.FindAPIKeys(context.Background(), session.UserID); err != nil || len(keys) != 0 {
			t.Errorf("store keys of the server user = %v, %v; want none", keys, err)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		for _, id := range []string{fakeID, "not-an-id", strings.ToUpper(fakeID)} {
			for _, op := range []struct{ method, rest string }{
				{"GET", ""}, {"PUT", "/enable"}, {"PUT", "/disable"}, {"DELETE", ""},
			} {
				e.do(t, op.method, keysAt("/"+id+op.rest), tok, nil).wantError(t, http.StatusNotFound, "APIKeyNotFound", "API key not found")
			}
		}
	})
}

func TestServerAPIKeyNames(t *testing.T) {
	t.Parallel()
	e, tok := newAdminEnvToken(t)
	path := adminAppPath(e.App.ID, "/api_keys")
	e.createServerKey(t, tok, e.App.ID, "taken")
	if k := e.createServerKey(t, tok, e.App.ID, strings.Repeat("a", 64)); k.Name != strings.Repeat("a", 64) {
		t.Errorf("name = %q", k.Name)
	}
	// Server key names are per app.
	other := e.createApp(t, tok, map[string]any{"client_app_id": "names-app"})
	e.createServerKey(t, tok, other.ID, "taken")
	// A user key's name does not clash with a server key's.
	u := e.newUser(t, e.AppID)
	e.createKey(t, u.RefreshToken, "taken")

	e.wantErrors(t, "POST", path, tok, keyNameErrCases)

	var keys []apiKey
	e.do(t, "GET", path, tok, nil).wantJSON(t, http.StatusOK, &keys)
	if len(keys) != 2 {
		t.Errorf("keys = %+v, want the 2 created", keys)
	}
	var users []adminUser
	e.do(t, "GET", adminAppPath(e.App.ID, "/users?type=server"), tok, nil).wantJSON(t, http.StatusOK, &users)
	if len(users) != 2 {
		t.Errorf("server users = %d, want 2: a refused key leaves no user behind", len(users))
	}
}

func TestServerAPIKeyLimit(t *testing.T) {
	t.Parallel()
	e, tok := newAdminEnvToken(t)
	app := e.createApp(t, tok, map[string]any{"client_app_id": "capped-app"})
	path := adminAppPath(app.ID, "/api_keys")
	for i := range 100 {
		e.do(t, "POST", path, tok, map[string]string{"name": fmt.Sprintf("key-%d", i)}).wantJSON(t, http.StatusCreated, nil)
	}
	e.do(t, "POST", path, tok, map[string]string{"name": "key-100"}).
		wantError(t, http.StatusBadRequest, "InvalidParameter", "app already has the maximum of 100 server API keys")

	var keys []apiKey
	e.do(t, "GET", path, tok, nil).wantJSON(t, http.StatusOK, &keys)
	if len(keys) != 100 {
		t.Fatalf("%d keys, want 100", len(keys))
	}
	// The cap is per app.
	e.createServerKey(t, tok, e.App.ID, "key-100")
	// Deleting one makes room again.
	e.do(t, "DELETE", path+"/"+keys[0].ID, tok, nil).wantEmpty(t, http.StatusNoContent)
	e.createServerKey(t, tok, app.ID, "key-100")
}
