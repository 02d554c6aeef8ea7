package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey"
)

func TestProfile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("OK", func(t *testing.T) {
		u := e.newUser(t, e.AppID)
		p := e.getProfile(t, u.AccessToken)
		if got, want := p.UserID, u.UserID; got != want {
			t.Errorf("user_id = %q, want %q", got, want)
		}
		if got, want := p.DomainID, e.App.ID; got != want || !hex24.MatchString(got) {
			t.Errorf("domain_id = %q, want %q (24 hex)", got, want)
		}
		if got, want := p.Type, "normal"; got != want {
			t.Errorf("type = %q, want %q", got, want)
		}
		if diff := cmp.Diff(map[string]any{"email": u.Email}, p.Data); diff != "" {
			t.Errorf("data (-want +got):\n%s", diff)
		}
		if len(p.Identities) != 1 {
			t.Fatalf("identities = %+v, want one", p.Identities)
		}
		id := p.Identities[0]
		if id.ProviderType != "local-userpass" || !hex24.MatchString(id.ID) || !hex24.MatchString(id.ProviderID) {
			t.Errorf("identity = %+v, want local-userpass with 24-hex ids", id)
		}
	})

	t.Run("Anonymous", func(t *testing.T) {
		l := e.login(t, e.AppID, "anon-user", nil)
		var raw map[string]any
		e.do(t, "GET", authPath+"/profile", l.AccessToken, nil).wantJSON(t, http.StatusOK, &raw)
		if diff := cmp.Diff(map[string]any{}, raw["data"]); diff != "" {
			t.Errorf("data (-want +got):\n%s", diff)
		}
		p := e.getProfile(t, l.AccessToken)
		if p.UserID != l.UserID || p.Type != "normal" || len(p.Identities) != 1 || p.Identities[0].ProviderType != "anon-user" {
			t.Errorf("profile = %+v, want a normal user %s with one anon-user identity", p, l.UserID)
		}
	})

	t.Run("ErrRefreshToken", func(t *testing.T) {
		u := e.newUser(t, e.AppID)
		e.do(t, "GET", authPath+"/profile", u.RefreshToken, nil).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
	})

	t.Run("ErrNoToken", func(t *testing.T) {
		e.do(t, "GET", authPath+"/profile", "", nil).wantError(t, http.StatusUnauthorized, "InvalidSession", "must authenticate first")
	})
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t, e.AppID)

	t.Run("OK", func(t *testing.T) {
		var got map[string]string
		e.do(t, "POST", authPath+"/session", u.RefreshToken, nil).wantJSON(t, http.StatusCreated, &got)
		if len(got) != 1 || got["access_token"] == "" {
			t.Fatalf("body = %v, want only access_token", got)
		}
		if got := e.getProfile(t, got["access_token"]).UserID; got != u.UserID {
			t.Errorf("profile user_id = %q, want %q", got, u.UserID)
		}
		claims := jwtClaims(t, got["access_token"])
		if got, want := string(claims["baas_device_id"]), `"`+u.DeviceID+`"`; got != want {
			t.Errorf("baas_device_id = %s, want %s", got, want)
		}
	})

	t.Run("ErrAccessToken", func(t *testing.T) {
		e.do(t, "POST", authPath+"/session", u.AccessToken, nil).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
	})

	t.Run("ErrNoToken", func(t *testing.T) {
		e.do(t, "POST", authPath+"/session", "", nil).wantError(t, http.StatusUnauthorized, "InvalidSession", "must authenticate first")
	})
}

func TestLogOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("OK", func(t *testing.T) {
		u := e.newUser(t, e.AppID)
		other := e.loginPassword(t, e.AppID, u.Email, u.Password)
		e.do(t, "DELETE", authPath+"/session", u.RefreshToken, nil).wantEmpty(t, http.StatusNoContent)

		e.wantEnded(t, u.RefreshToken)
		e.do(t, "GET", keysPath, u.RefreshToken, nil).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
		e.do(t, "DELETE", authPath+"/session", u.RefreshToken, nil).
			wantErrorContains(t, http.StatusUnauthorized, "InvalidSession", "failed to find refresh token")
		// Only that session ended.
		e.wantLive(t, other.RefreshToken)
	})

	t.Run("ErrAccessToken", func(t *testing.T) {
		u := e.newUser(t, e.AppID)
		e.do(t, "DELETE", authPath+"/session", u.AccessToken, nil).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
		e.wantLive(t, u.RefreshToken)
	})

	t.Run("ErrNoToken", func(t *testing.T) {
		e.do(t, "DELETE", authPath+"/session", "", nil).wantError(t, http.StatusUnauthorized, "InvalidSession", "must authenticate first")
	})
}

func TestDeleteUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("OK", func(t *testing.T) {
		u := e.newUser(t, e.AppID)
		other := e.loginPassword(t, e.AppID, u.Email, u.Password)
		key := e.createKey(t, u.RefreshToken, "doomed")
		keyLogin := e.loginKey(t, e.AppID, key.Key)

		e.do(t, "DELETE", authPath+"/delete", u.AccessToken, nil).wantEmpty(t, http.StatusNoContent)

		e.do(t, "POST", loginPath(e.AppID, "local-userpass"), "", map[string]string{"username": u.Email, "password": u.Password}).
			wantError(t, http.StatusUnauthorized, "InvalidPassword", "unauthorized")
		e.do(t, "POST", loginPath(e.AppID, "api-key"), "", map[string]string{"key": key.Key}).
			wantError(t, http.StatusUnauthorized, "AuthError", "unauthorized")
		e.wantEnded(t, u.RefreshToken)
		e.wantEnded(t, other.RefreshToken)
		e.wantEnded(t, keyLogin.RefreshToken)
		// realm-web logs out after deleting and tolerates only this text.
		e.do(t, "DELETE", authPath+"/session", u.RefreshToken, nil).
			wantErrorContains(t, http.StatusUnauthorized, "InvalidSession", "failed to find refresh token")
		e.do(t, "GET", keysPath, other.RefreshToken, nil).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
		e.do(t, "DELETE", authPath+"/delete", u.AccessToken, nil).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
	})

	t.Run("Anonymous", func(t *testing.T) {
		l := e.login(t, e.AppID, "anon-user", nil)
		e.do(t, "DELETE", authPath+"/delete", l.AccessToken, nil).wantEmpty(t, http.StatusNoContent)
		e.wantEnded(t, l.RefreshToken)
	})

	t.Run("ErrRefreshToken", func(t *testing.T) {
		u := e.newUser(t, e.AppID)
		e.do(t, "DELETE", authPath+"/delete", u.RefreshToken, nil).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
		e.loginPassword(t, e.AppID, u.Email, u.Password)
	})

	t.Run("ErrNoToken", func(t *testing.T) {
		e.do(t, "DELETE", authPath+"/delete", "", nil).wantError(t, http.StatusUnauthorized, "InvalidSession", "must authenticate first")
	})
}

// flipSignature changes one character in the middle of a token's signature.
func flipSignature(token string) string {
	i := strings.LastIndex(token, ".") + 10
	c := byte('A')
	if token[i] == 'A' {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}

func TestTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t, e.AppID)

	// Every route that takes a token, with the token type it takes.
	accessRoutes := []struct{ method, path string }{
		{"GET", authPath + "/profile"},
		{"DELETE", authPath + "/delete"},
	}
	refreshRoutes := []struct{ method, path string }{
		{"POST", authPath + "/session"},
		{"DELETE", authPath + "/session"},
		{"POST", keysPath},
		{"GET", keysPath},
		{"GET", keyPath("0123456789abcdef01234567")},
		{"PUT", keyPath("0123456789abcdef01234567") + "/enable"},
		{"PUT", keyPath("0123456789abcdef01234567") + "/disable"},
		{"DELETE", keyPath("0123456789abcdef01234567")},
	}
	body := func(method string) any {
		if method == "POST" || method == "PUT" {
			return map[string]string{"name": "k"}
		}
		return nil
	}

	for _, tt := range []struct {
		name    string
		access  string // presented where an access token is expected
		refresh string // presented where a refresh token is expected
	}{
		{"ErrBadSignature", flipSignature(u.AccessToken), flipSignature(u.RefreshToken)},
		{"ErrWrongType", u.RefreshToken, u.AccessToken},
		{"ErrGarbage", "not-a-jwt", "not-a-jwt"},
		{"ErrTwoParts", "a.b", "a.b"},
		{"ErrNoSignature", u.AccessToken[:strings.LastIndex(u.AccessToken, ".")+1], u.RefreshToken[:strings.LastIndex(u.RefreshToken, ".")+1]},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range accessRoutes {
				e.do(t, r.method, r.path, tt.access, nil).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
			}
			for _, r := range refreshRoutes {
				e.do(t, r.method, r.path, tt.refresh, body(r.method)).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
			}
		})
	}

	t.Run("NoSideEffects", func(t *testing.T) {
		e.getProfile(t, u.AccessToken)
		e.wantLive(t, u.RefreshToken)
		keys := e.listKeys(t, u.RefreshToken)
		if len(keys) != 0 {
			t.Errorf("keys = %+v, want none", keys)
		}
	})

	t.Run("ErrBearerEmpty", func(t *testing.T) {
		for _, r := range append(accessRoutes, refreshRoutes...) {
			req := e.newRequest(t, r.method, r.path, body(r.method))
			req.Header.Set("Authorization", "Bearer ")
			e.send(t, req).wantError(t, http.StatusUnauthorized, noCode, "expected Authorization header with JWT (Bearer schema)")
		}
	})
}

func TestTokens_Expiry(t *testing.T) {
	t.Parallel()

	t.Run("AccessToken", func(t *testing.T) {
		e := newEnv(t)
		u := e.newUser(t, e.AppID)
		e.Clock.Advance(29 * time.Minute)
		e.getProfile(t, u.AccessToken)
		e.Clock.Advance(2 * time.Minute)
		e.do(t, "GET", authPath+"/profile", u.AccessToken, nil).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
		e.do(t, "DELETE", authPath+"/delete", u.AccessToken, nil).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
		// realm-web then refreshes, and the new access token works.
		var got struct {
			AccessToken string `json:"access_token"`
		}
		e.do(t, "POST", authPath+"/session", u.RefreshToken, nil).wantJSON(t, http.StatusCreated, &got)
		e.getProfile(t, got.AccessToken)
	})

	t.Run("RefreshTokenDefault", func(t *testing.T) {
		e := newEnv(t)
		u := e.newUser(t, e.AppID)
		e.Clock.Advance(latchkey.DefaultRefreshTokenLifetime - time.Minute)
		e.wantLive(t, u.RefreshToken)
		e.Clock.Advance(2 * time.Minute)
		e.wantEnded(t, u.RefreshToken)
		e.do(t, "GET", keysPath, u.RefreshToken, nil).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
		e.do(t, "DELETE", authPath+"/session", u.RefreshToken, nil).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
	})

	t.Run("RefreshTokenPerApp", func(t *testing.T) {
		e := newEnv(t)
		app := e.CreateApp(t, "short-sessions", func(a *latchkey.App) { a.RefreshTokenLifetime = time.Hour }).ClientAppID
		u := e.newUser(t, app)
		claims := jwtClaims(t, u.RefreshToken)
		var iat, exp int64
		mustUnmarshal(t, claims["iat"], &iat)
		mustUnmarshal(t, claims["exp"], &exp)
		if got, want := exp-iat, int64(time.Hour/time.Second); got != want {
			t.Errorf("refresh exp - iat = %d, want %d", got, want)
		}
		e.Clock.Advance(59 * time.Minute)
		e.wantLive(t, u.RefreshToken)
		e.Clock.Advance(2 * time.Minute)
		e.wantEnded(t, u.RefreshToken)
		// A new login opens a new session.
		e.wantLive(t, e.loginPassword(t, app, u.Email, u.Password).RefreshToken)
	})
}

func TestTokens_OtherApp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := e.CreateApp(t, "other-app", nil)

	a := e.newUser(t, e.AppID)
	b := e.newUser(t, other.ClientAppID)
	keyA := e.createKey(t, a.RefreshToken, "shared-name")

	t.Run("OwnRoutes", func(t *testing.T) {
		p := e.getProfile(t, b.AccessToken)
		if p.UserID != b.UserID || p.DomainID != other.ID {
			t.Errorf("profile = %+v, want user %s of domain %s", p, b.UserID, other.ID)
		}
		if got := string(jwtClaims(t, b.AccessToken)["aud"]); got != `"other-app"` {
			t.Errorf("aud = %s, want \"other-app\"", got)
		}
		keyB := e.createKey(t, b.RefreshToken, "shared-name")
		e.loginKey(t, other.ClientAppID, keyB.Key)
		e.wantLive(t, b.RefreshToken)
	})

	t.Run("ErrKeysOfOtherApp", func(t *testing.T) {
		keys := e.listKeys(t, b.RefreshToken)
		for _, k := range keys {
			if k.ID == keyA.ID {
				t.Errorf("app B's user lists app A's key %s", k.ID)
			}
		}
		for _, r := range []struct{ method, path string }{
			{"GET", keyPath(keyA.ID)},
			{"PUT", keyPath(keyA.ID) + "/enable"},
			{"PUT", keyPath(keyA.ID) + "/disable"},
			{"DELETE", keyPath(keyA.ID)},
		} {
			e.do(t, r.method, r.path, b.RefreshToken, nil).wantError(t, http.StatusNotFound, "APIKeyNotFound", "API key not found")
		}
		var k apiKey
		e.do(t, "GET", keyPath(keyA.ID), a.RefreshToken, nil).wantJSON(t, http.StatusOK, &k)
		if k.Disabled {
			t.Errorf("app A's key was disabled by app B's user")
		}
	})

	t.Run("ErrKeyLoginOtherApp", func(t *testing.T) {
		e.do(t, "POST", loginPath(other.ClientAppID, "api-key"), "", map[string]string{"key": keyA.Key}).
			wantError(t, http.StatusUnauthorized, "AuthError", "unauthorized")
	})

	t.Run("ErrUserpassOtherApp", func(t *testing.T) {
		e.do(t, "POST", loginPath(other.ClientAppID, "local-userpass"), "", map[string]string{"username": a.Email, "password": a.Password}).
			wantError(t, http.StatusUnauthorized, "InvalidPassword", "unauthorized")
	})
}
