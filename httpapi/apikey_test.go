package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// keyOps are the six key operations, for the rows that hold for all of them.
func keyOps(id string) []struct{ method, path string } {
	return []struct{ method, path string }{
		{"POST", keysPath},
		{"GET", keysPath},
		{"GET", keyPath(id)},
		{"PUT", keyPath(id) + "/enable"},
		{"PUT", keyPath(id) + "/disable"},
		{"DELETE", keyPath(id)},
	}
}

func opBody(method string) any {
	if method == "POST" {
		return map[string]string{"name": "new-key"}
	}
	return nil
}

func TestCreateAPIKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("OK", func(t *testing.T) {
		u := e.newUser(t, e.AppID)
		var got map[string]any
		r := e.do(t, "POST", keysPath, u.RefreshToken, map[string]string{"name": "my_key-1"})
		r.wantJSON(t, http.StatusCreated, &got)
		id, _ := got["_id"].(string)
		key, _ := got["key"].(string)
		e.remember(&e.keys, key)
		if !hex24.MatchString(id) {
			t.Errorf("_id = %v, want 24 hex", got["_id"])
		}
		// 27 base62 characters carry 160 bits.
		if len(key) < 27 {
			t.Errorf("key = %q, want at least 27 characters", key)
		}
		for _, field := range []string{"created_at", "last_used_at", "expires_at"} {
			if v, ok := got[field]; ok && v != nil {
				if _, err := time.Parse(time.RFC3339, fmt.Sprint(v)); err != nil {
					t.Errorf("%s = %v, want RFC 3339", field, v)
				}
			}
		}
		if got["name"] != "my_key-1" || got["disabled"] != false {
			t.Errorf("key = %v, want name my_key-1, disabled false", got)
		}
		other := e.createKey(t, u.RefreshToken, "other")
		if other.Key == key || other.ID == id {
			t.Errorf("two keys share a value or an id")
		}
	})

	t.Run("Name64", func(t *testing.T) {
		u := e.newUser(t, e.AppID)
		name := strings.Repeat("a", 64)
		if k := e.createKey(t, u.RefreshToken, name); k.Name != name {
			t.Errorf("name = %q, want %q", k.Name, name)
		}
	})

	t.Run("SameNameOtherUser", func(t *testing.T) {
		a, b := e.newUser(t, e.AppID), e.newUser(t, e.AppID)
		e.createKey(t, a.RefreshToken, "shared")
		e.createKey(t, b.RefreshToken, "shared")
	})

	t.Run("NameOfDeletedKey", func(t *testing.T) {
		u := e.newUser(t, e.AppID)
		k := e.createKey(t, u.RefreshToken, "reused")
		e.do(t, "DELETE", keyPath(k.ID), u.RefreshToken, nil).wantEmpty(t, http.StatusNoContent)
		e.createKey(t, u.RefreshToken, "reused")
	})

	u := e.newUser(t, e.AppID)
	e.createKey(t, u.RefreshToken, "taken")
	e.wantErrors(t, "POST", keysPath, u.RefreshToken, keyNameErrCases)

	t.Run("ErrLimitReached", func(t *testing.T) {
		u := e.newUser(t, e.AppID)
		for i := range 20 {
			e.createKey(t, u.RefreshToken, fmt.Sprintf("key-%d", i))
		}
		e.do(t, "POST", keysPath, u.RefreshToken, map[string]string{"name": "key-20"}).
			wantError(t, http.StatusBadRequest, "InvalidParameter", "user already has the maximum of 20 API keys")
		// Deleting one makes room again.
		keys := e.listKeys(t, u.RefreshToken)
		if len(keys) != 20 {
			t.Fatalf("%d keys, want 20", len(keys))
		}
		e.do(t, "DELETE", keyPath(keys[0].ID), u.RefreshToken, nil).wantEmpty(t, http.StatusNoContent)
		e.createKey(t, u.RefreshToken, "key-20")
	})
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("ListEmpty", func(t *testing.T) {
		u := e.newUser(t, e.AppID)
		r := e.do(t, "GET", keysPath, u.RefreshToken, nil)
		r.wantJSON(t, http.StatusOK, nil)
		if got := strings.TrimSpace(string(r.Body)); got != "[]" {
			t.Errorf("body = %s, want []", got)
		}
	})

	t.Run("OK", func(t *testing.T) {
		u := e.newUser(t, e.AppID)
		var created []apiKey
		for _, name := range []string{"zeta", "alpha", "mid", "Alpha"} {
			created = append(created, e.createKey(t, u.RefreshToken, name))
		}

		var raw []map[string]json.RawMessage
		e.do(t, "GET", keysPath, u.RefreshToken, nil).wantJSON(t, http.StatusOK, &raw)
		for _, k := range raw {
			if _, ok := k["key"]; ok {
				t.Errorf("list holds a key value: %v", k)
			}
		}
		got := e.listKeys(t, u.RefreshToken)
		want := make([]apiKey, len(created))
		for i, k := range created {
			want[i] = apiKey{ID: k.ID, Name: k.Name}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("list (-want +got):\n%s", diff)
		}

		k := created[1]
		fetch := func(t *testing.T) apiKey {
			t.Helper()
			var one map[string]json.RawMessage
			r := e.do(t, "GET", keyPath(k.ID), u.RefreshToken, nil)
			r.wantJSON(t, http.StatusOK, &one)
			if _, ok := one["key"]; ok {
				t.Errorf("fetch holds a key value: %s", r.Body)
			}
			var got apiKey
			mustUnmarshal(t, r.Body, &got)
			return got
		}
		if diff := cmp.Diff(apiKey{ID: k.ID, Name: "alpha"}, fetch(t)); diff != "" {
			t.Errorf("fetch (-want +got):\n%s", diff)
		}

		for _, step := range []struct {
			op       string
			disabled bool
		}{
			{"disable", true}, {"disable", true}, {"enable", false}, {"enable", false}, {"disable", true},
		} {
			e.do(t, "PUT", keyPath(k.ID)+"/"+step.op, u.RefreshToken, nil).wantEmpty(t, http.StatusNoContent)
			if got := fetch(t).Disabled; got != step.disabled {
				t.Errorf("after %s: disabled = %v, want %v", step.op, got, step.disabled)
			}
		}
		// The others were not touched.
		e.do(t, "GET", keysPath, u.RefreshToken, nil).wantJSON(t, http.StatusOK, &got)
		for _, g := range got {
			if g.Disabled != (g.ID == k.ID) {
				t.Errorf("key %s disabled = %v", g.Name, g.Disabled)
			}
		}

		e.do(t, "DELETE", keyPath(k.ID), u.RefreshToken, nil).wantEmpty(t, http.StatusNoContent)
		e.do(t, "GET", keyPath(k.ID), u.RefreshToken, nil).wantError(t, http.StatusNotFound, "APIKeyNotFound", "API key not found")
		e.do(t, "DELETE", keyPath(k.ID), u.RefreshToken, nil).wantError(t, http.StatusNotFound, "APIKeyNotFound", "API key not found")
		e.do(t, "GET", keysPath, u.RefreshToken, nil).wantJSON(t, http.StatusOK, &got)
		if diff := cmp.Diff([]apiKey{want[0], want[2], want[3]}, got); diff != "" {
			t.Errorf("list after delete (-want +got):\n%s", diff)
		}
	})
}

// TestAPIKeys_Err covers the key rules that hold for every key operation. The server-key user
// row is not here: no client API route creates a server-key user.
func TestAPIKeys_Err(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t, e.AppID)
	other := e.newUser(t, e.AppID)
	own := e.createKey(t, u.RefreshToken, "own")
	othersKey := e.createKey(t, other.RefreshToken, "theirs")
	deleted := e.createKey(t, u.RefreshToken, "deleted")
	e.do(t, "DELETE", keyPath(deleted.ID), u.RefreshToken, nil).wantEmpty(t, http.StatusNoContent)

	t.Run("ErrAPIKeyNotFound", func(t *testing.T) {
		for _, id := range []struct{ name, id string }{
			{"Unknown", "0123456789abcdef01234567"},
			{"Deleted", deleted.ID},
			{"OtherUsers", othersKey.ID},
			{"Short", own.ID[:23]},
			{"Long", own.ID + "0"},
			{"Uppercase", strings.ToUpper(own.ID)},
			{"NotHex", "zzzzzzzzzzzzzzzzzzzzzzzz"},
			{"Word", "abc"},
			{"Escaped", "%20" + own.ID[3:]},
		} {
			for _, op := range keyOps(id.id)[2:] {
				t.Run(id.name+"/"+op.method+strings.TrimPrefix(op.path, keyPath(id.id)), func(t *testing.T) {
					e.do(t, op.method, op.path, u.RefreshToken, nil).wantError(t, http.StatusNotFound, "APIKeyNotFound", "API key not found")
				})
			}
		}
		var k apiKey
		e.do(t, "GET", keyPath(othersKey.ID), other.RefreshToken, nil).wantJSON(t, http.StatusOK, &k)
		if k.Disabled {
			t.Errorf("another user disabled the key")
		}
	})

	anon := e.login(t, e.AppID, "anon-user", nil)
	keySession := e.loginKey(t, e.AppID, own.Key)

	t.Run("ErrAnonymous", func(t *testing.T) {
		e.do(t, "POST", keysPath, anon.RefreshToken, map[string]string{"name": "anon"}).
			wantError(t, http.StatusForbidden, "AuthError", "anonymous users cannot create API keys")
		for _, op := range keyOps(own.ID)[1:] {
			e.do(t, op.method, op.path, anon.RefreshToken, nil).
				wantErrorContains(t, http.StatusForbidden, "AuthError", "anonymous users cannot")
		}
	})

	t.Run("ErrAPIKeySession", func(t *testing.T) {
		for _, op := range keyOps(own.ID) {
			e.do(t, op.method, op.path, keySession.RefreshToken, opBody(op.method)).
				wantError(t, http.StatusForbidden, "AuthError", "API key sessions cannot manage API keys")
		}
		// Nothing changed, and the key session is still open.
		keys := e.listKeys(t, u.RefreshToken)
		if diff := cmp.Diff([]apiKey{{ID: own.ID, Name: "own"}}, keys); diff != "" {
			t.Errorf("keys (-want +got):\n%s", diff)
		}
		e.wantLive(t, keySession.RefreshToken)
	})

	t.Run("ErrNoAuthorization", func(t *testing.T) {
		for _, op := range keyOps(own.ID) {
			e.do(t, op.method, op.path, "", opBody(op.method)).
				wantError(t, http.StatusUnauthorized, "InvalidSession", "must authenticate first")
		}
	})

	t.Run("ErrBearerEmpty", func(t *testing.T) {
		for _, op := range keyOps(own.ID) {
			req := e.newRequest(t, op.method, op.path, opBody(op.method))
			req.Header.Set("Authorization", "Bearer ")
			e.send(t, req).wantError(t, http.StatusUnauthorized, noCode, "expected Authorization header with JWT (Bearer schema)")
		}
	})

	t.Run("ErrAccessToken", func(t *testing.T) {
		for _, op := range keyOps(own.ID) {
			e.do(t, op.method, op.path, u.AccessToken, opBody(op.method)).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
		}
	})
}

func TestAPIKeyLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	owner := e.newUser(t, e.AppID)

	t.Run("OK", func(t *testing.T) {
		k := e.createKey(t, owner.RefreshToken, "login-ok")
		l := e.loginKey(t, e.AppID, k.Key)
		if l.UserID != owner.UserID {
			t.Errorf("user_id = %q, want the owner's %q", l.UserID, owner.UserID)
		}
		p := e.getProfile(t, l.AccessToken)
		var types []string
		for _, id := range p.Identities {
			types = append(types, id.ProviderType)
		}
		if !strings.Contains(strings.Join(types, ","), "api-key") || !strings.Contains(strings.Join(types, ","), "local-userpass") {
			t.Errorf("identities = %v, want local-userpass and api-key", types)
		}
		if p.UserID != owner.UserID || p.Data["email"] != owner.Email {
			t.Errorf("profile = %+v, want the owner's", p)
		}
		// The owner's own profile lists the api-key identity too.
		if got := len(e.getProfile(t, owner.AccessToken).Identities); got != 2 {
			t.Errorf("owner has %d identities, want 2", got)
		}
	})

	t.Run("ErrDisabled", func(t *testing.T) {
		k := e.createKey(t, owner.RefreshToken, "login-disabled")
		e.do(t, "PUT", keyPath(k.ID)+"/disable", owner.RefreshToken, nil).wantEmpty(t, http.StatusNoContent)
		e.do(t, "POST", loginPath(e.AppID, "api-key"), "", map[string]string{"key": k.Key}).
			wantError(t, http.StatusUnauthorized, "AuthError", "unauthorized")
		e.do(t, "PUT", keyPath(k.ID)+"/enable", owner.RefreshToken, nil).wantEmpty(t, http.StatusNoContent)
		e.loginKey(t, e.AppID, k.Key)
	})

	t.Run("ErrDeleted", func(t *testing.T) {
		k := e.createKey(t, owner.RefreshToken, "login-deleted")
		e.do(t, "DELETE", keyPath(k.ID), owner.RefreshToken, nil).wantEmpty(t, http.StatusNoContent)
		e.do(t, "POST", loginPath(e.AppID, "api-key"), "", map[string]string{"key": k.Key}).
			wantError(t, http.StatusUnauthorized, "AuthError", "unauthorized")
	})

	valid := e.createKey(t, owner.RefreshToken, "valid")
	for _, tt := range []struct {
		name string
		body any
	}{
		{"ErrUnknown", map[string]any{"key": strings.Repeat("A", len(valid.Key))}},
		{"ErrTruncated", map[string]any{"key": valid.Key[:len(valid.Key)-1]}},
		{"ErrExtended", map[string]any{"key": valid.Key + "A"}},
		{"ErrCase", map[string]any{"key": swapCase(valid.Key)}},
		{"ErrMalformed", map[string]any{"key": "not a key!"}},
		{"ErrHuge", map[string]any{"key": strings.Repeat("A", 1000)}},
		{"ErrEmpty", map[string]any{"key": ""}},
		{"ErrMissing", map[string]any{}},
		{"ErrNull", map[string]any{"key": nil}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.do(t, "POST", loginPath(e.AppID, "api-key"), "", tt.body).wantError(t, http.StatusUnauthorized, "AuthError", "unauthorized")
		})
	}
}

func swapCase(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		case c >= 'A' && c <= 'Z':
			b[i] = c - 'A' + 'a'
		}
	}
	return string(b)
}

func TestAPIKeyLogin_EndsSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	for _, tt := range []struct {
		name   string
		method string
		suffix string
	}{
		{"Disable", "PUT", "/disable"},
		{"Delete", "DELETE", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			owner := e.newUser(t, e.AppID)
			k := e.createKey(t, owner.RefreshToken, "ended")
			spare := e.createKey(t, owner.RefreshToken, "spare")
			s1 := e.loginKey(t, e.AppID, k.Key)
			s2 := e.loginKey(t, e.AppID, k.Key)
			other := e.loginKey(t, e.AppID, spare.Key)

			e.do(t, tt.method, keyPath(k.ID)+tt.suffix, owner.RefreshToken, nil).wantEmpty(t, http.StatusNoContent)

			for _, s := range []login{s1, s2} {
				e.wantEnded(t, s.RefreshToken)
				e.do(t, "DELETE", authPath+"/session", s.RefreshToken, nil).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
				// Their access tokens end with them.
				e.do(t, "GET", authPath+"/profile", s.AccessToken, nil).wantError(t, http.StatusUnauthorized, "InvalidSession", "invalid session")
			}
			e.wantLive(t, owner.RefreshToken)
			e.wantLive(t, other.RefreshToken)
			e.listKeys(t, owner.RefreshToken)

			if tt.name == "Disable" {
				// Enabling again does not revive the ended sessions.
				e.do(t, "PUT", keyPath(k.ID)+"/enable", owner.RefreshToken, nil).wantEmpty(t, http.StatusNoContent)
				e.wantEnded(t, s1.RefreshToken)
				e.wantLive(t, e.loginKey(t, e.AppID, k.Key).RefreshToken)
			}
		})
	}
}
