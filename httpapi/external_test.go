package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/testidp"
	"github.com/latchkey/latchkey/webhook"
)

const (
	hsSecret      = "an-hs256-secret-of-at-least-32-characters"
	webhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
)

// claimsFor are valid claims for sub and aud at the server's clock.
func (e *env) claimsFor(sub, aud string) jwt.MapClaims {
	now := e.Clock.Now()
	return jwt.MapClaims{"sub": sub, "aud": aud, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

// setProvider creates or replaces an external provider through the admin API.
func (e *env) setProvider(t *testing.T, admin string, body map[string]any) {
	t.Helper()
	r := e.do(t, "POST", adminAppPath(e.AppID, "/auth_providers"), admin, body)
	if r.Status == http.StatusConflict {
		r = e.do(t, "PUT", adminAppPath(e.AppID, "/auth_providers/"+body["type"].(string)), admin, body)
		r.wantJSON(t, http.StatusOK, nil)
		return
	}
	r.wantJSON(t, http.StatusCreated, nil)
}

// countUsers counts the app's users with an identity of the provider.
func (e *env) countUsers(t *testing.T, provider string) int {
	t.Helper()
	users, err := e.Store.FindUsers(context.Background(), latchkey.UserFilter{AppID: e.App.ID, Provider: &provider})
	if err != nil {
		t.Fatal(err)
	}
	return len(users)
}

func tokenBody(token string) map[string]any {
	return map[string]any{"token": token, "options": device(nil)}
}

func TestAuthProvidersAdmin(t *testing.T) {
	t.Parallel()
	e, admin := newAdminEnv(t)
	tok := admin.AccessToken
	p := testidp.New(t)

	t.Run("OK", func(t *testing.T) {
		var got map[string]any
		e.do(t, "POST", adminAppPath(e.AppID, "/auth_providers"), tok, map[string]any{
			"name": "custom-token", "type": "custom-token",
			"config":          map[string]any{"audience": []string{"my-aud"}, "signingAlgorithm": "HS256", "useJWKURI": false},
			"secret_config":   map[string]any{"signingKeys": []string{hsSecret}},
			"metadata_fields": []map[string]any{{"required": false, "name": "email", "field_name": "email"}},
		}).wantJSON(t, http.StatusCreated, &got)
		if got["secrets_set"] != true || got["_id"] != "custom-token" || got["disabled"] != false {
			t.Errorf("created = %v; want custom-token, enabled, secrets_set", got)
		}
		e.do(t, "POST", adminAppPath(e.AppID, "/auth_providers"), tok, map[string]any{
			"name": "custom-function", "type": "custom-function",
			"config": map[string]any{"url": "http://127.0.0.1:9/login"}, "secret_config": map[string]any{"secret": webhookSecret},
		}).wantJSON(t, http.StatusCreated, nil)
		e.do(t, "POST", adminAppPath(e.AppID, "/auth_providers"), tok, map[string]any{
			"type": "oauth2-google", "config": map[string]any{"clientId": "google-client", "openId": true},
		}).wantJSON(t, http.StatusCreated, &got)
		cfg := got["config"].(map[string]any)
		if cfg["issuer"] != latchkey.GoogleIssuer || cfg["jwkURI"] != latchkey.GoogleJWKURI || got["secrets_set"] != false {
			t.Errorf("google = %v; want the real issuer and JWK URL by default, no secrets", got)
		}
		e.do(t, "POST", adminAppPath(e.AppID, "/auth_providers"), tok, map[string]any{
			"type": "oauth2-apple", "config": map[string]any{"clientId": "com.example.app", "jwkURI": p.URL("/jwks")},
		}).wantJSON(t, http.StatusCreated, nil)

		var list []map[string]any
		r := e.do(t, "GET", adminAppPath(e.AppID, "/auth_providers"), tok, nil)
		r.wantJSON(t, http.StatusOK, &list)
		var names []string
		for _, p := range list {
			names = append(names, p["name"].(string))
		}
		if want := "anon-user,local-userpass,api-key,custom-function,custom-token,oauth2-apple,oauth2-google"; strings.Join(names, ",") != want {
			t.Errorf("providers = %v, want %s", names, want)
		}
		for _, secret := range []string{hsSecret, webhookSecret} {
			if strings.Contains(string(r.Body), secret) {
				t.Errorf("the listing shows a secret: %s", r.Body)
			}
		}

		// A replacement without secrets keeps them: the token still logs in.
		e.do(t, "PUT", adminAppPath(e.AppID, "/auth_providers/custom-token"), tok, map[string]any{
			"type": "custom-token", "config": map[string]any{"audience": []string{"other-aud"}, "signingAlgorithm": "HS256"},
		}).wantJSON(t, http.StatusOK, &got)
		if got["secrets_set"] != true {
			t.Errorf("replaced = %v; want the secrets kept", got)
		}
		e.login(t, e.AppID, "custom-token", tokenBody(testidp.SignHS(t, hsSecret, e.claimsFor("kept", "other-aud"))))

		// Disabled, it answers as an unknown provider; enabled again, it logs in.
		e.do(t, "PUT", adminAppPath(e.AppID, "/auth_providers/custom-token/disable"), tok, nil).wantEmpty(t, http.StatusNoContent)
		e.do(t, "POST", loginPath(e.AppID, "custom-token"), "", tokenBody(testidp.SignHS(t, hsSecret, e.claimsFor("kept", "other-aud")))).
			wantErrorBody(t, http.StatusBadRequest, "AuthProviderNotFound")
		// A replacement that does not say keeps it disabled; one that does enables it.
		e.do(t, "PUT", adminAppPath(e.AppID, "/auth_providers/custom-token"), tok, map[string]any{
			"config": map[string]any{"audience": []string{"other-aud"}, "signingAlgorithm": "HS256"},
		}).wantJSON(t, http.StatusOK, &got)
		if got["disabled"] != true {
			t.Errorf("replaced without disabled = %v; want it kept disabled", got)
		}
		e.do(t, "PUT", adminAppPath(e.AppID, "/auth_providers/custom-token/enable"), tok, nil).wantEmpty(t, http.StatusNoContent)
		e.login(t, e.AppID, "custom-token", tokenBody(testidp.SignHS(t, hsSecret, e.claimsFor("kept", "other-aud"))))
		e.do(t, "PUT", adminAppPath(e.AppID, "/auth_providers/oauth2-apple"), tok, map[string]any{
			"disabled": true, "config": map[string]any{"clientId": "com.example.app", "jwkURI": p.URL("/jwks")},
		}).wantJSON(t, http.StatusOK, &got)
		if got["disabled"] != true {
			t.Errorf("replaced with disabled = %v; want it disabled", got)
		}

		e.do(t, "DELETE", adminAppPath(e.AppID, "/auth_providers/oauth2-google"), tok, nil).wantEmpty(t, http.StatusNoContent)
		e.do(t, "GET", adminAppPath(e.AppID, "/auth_providers/oauth2-google"), tok, nil).wantErrorBody(t, http.StatusNotFound, noCode)
	})

	t.Run("Errors", func(t *testing.T) {
		path := adminAppPath(e.AppID, "/auth_providers")
		token := func(cfg map[string]any, keys ...string) map[string]any {
			return map[string]any{"type": "custom-token", "config": cfg, "secret_config": map[string]any{"signingKeys": keys}}
		}
		for _, tc := range []errCase{
			{"duplicate", map[string]any{"type": "oauth2-apple", "config": map[string]any{"clientId": "x"}}, http.StatusConflict, noCode, ""},
			{"unknown type", map[string]any{"type": "oauth2-facebook"}, http.StatusBadRequest, "InvalidParameter", ""},
			{"name not the type", map[string]any{"name": "mine", "type": "oauth2-google", "config": map[string]any{"clientId": "x"}}, http.StatusBadRequest, "InvalidParameter", ""},
			{"unknown field", map[string]any{"type": "oauth2-google", "config": map[string]any{"clientSecret": "x"}}, http.StatusBadRequest, "BadRequest", ""},
			{"alg none", token(map[string]any{"signingAlgorithm": "none"}, hsSecret), http.StatusBadRequest, "InvalidParameter", ""},
			{"short HS256 key", token(map[string]any{"signingAlgorithm": "HS256"}, "short"), http.StatusBadRequest, "InvalidParameter", ""},
			{"RS256 key not PEM", token(map[string]any{"signingAlgorithm": "RS256"}, hsSecret), http.StatusBadRequest, "InvalidParameter", ""},
			{"no keys", token(map[string]any{"signingAlgorithm": "HS256"}), http.StatusBadRequest, "InvalidParameter", ""},
			{"JWK URL with HS256", token(map[string]any{"signingAlgorithm": "HS256", "useJWKURI": true, "jwkURI": p.URL("/jwks")}), http.StatusBadRequest, "InvalidParameter", ""},
			{"JWK URL not https", map[string]any{"type": "custom-token", "config": map[string]any{"signingAlgorithm": "RS256", "useJWKURI": true, "jwkURI": "http://example.com/jwks"}}, http.StatusBadRequest, "InvalidParameter", ""},
			{"webhook not https", map[string]any{"type": "custom-function", "config": map[string]any{"url": "http://10.0.0.1/login"}, "secret_config": map[string]any{"secret": webhookSecret}}, http.StatusBadRequest, "InvalidParameter", ""},
			{"webhook without secret", map[string]any{"type": "custom-function", "config": map[string]any{"url": "https://example.com/login"}}, http.StatusBadRequest, "InvalidParameter", ""},
			{"webhook timeout too long", map[string]any{"type": "custom-function", "config": map[string]any{"url": "https://example.com/login", "timeout_ms": 60000}, "secret_config": map[string]any{"secret": webhookSecret}}, http.StatusBadRequest, "InvalidParameter", ""},
			{"google without client id", map[string]any{"type": "oauth2-google", "config": map[string]any{}}, http.StatusBadRequest, "InvalidParameter", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e.do(t, "POST", path, tok, tc.body).wantErrorContains(t, tc.status, tc.code, tc.msg)
			})
		}
		e.do(t, "PUT", adminAppPath(e.AppID, "/auth_providers/oauth2-google"), tok, map[string]any{"config": map[string]any{"clientId": "x"}}).
			wantErrorBody(t, http.StatusNotFound, noCode)
		e.do(t, "PUT", adminAppPath(e.AppID, "/auth_providers/oauth2-apple"), tok, map[string]any{"type": "oauth2-google"}).
			wantErrorBody(t, http.StatusBadRequest, "InvalidParameter")
		e.do(t, "DELETE", adminAppPath(e.AppID, "/auth_providers/local-userpass"), tok, nil).
			wantErrorBody(t, http.StatusBadRequest, "InvalidParameter")
	})
}

func TestCustomTokenLogin(t *testing.T) {
	t.Parallel()
	e, admin := newAdminEnv(t)
	p := testidp.New(t)
	e.setProvider(t, admin.AccessToken, map[string]any{
		"type":            "custom-token",
		"config":          map[string]any{"audience": []string{"my-aud"}, "signingAlgorithm": "HS256"},
		"secret_config":   map[string]any{"signingKeys": []string{hsSecret}},
		"metadata_fields": []map[string]any{{"name": "email"}, {"required": true, "name": "user.name", "field_name": "name"}},
	})
	valid := func(sub string) jwt.MapClaims {
		c := e.claimsFor(sub, "my-aud")
		c["email"], c["user"] = sub+"@example.com", map[string]any{"name": "N. " + sub}
		return c
	}

	t.Run("OK", func(t *testing.T) {
		first := e.login(t, e.AppID, "custom-token", tokenBody(testidp.SignHS(t, hsSecret, valid("alice"))))
		again := e.login(t, e.AppID, "custom-token", tokenBody(testidp.SignHS(t, hsSecret, valid("alice"))))
		if first.UserID != again.UserID {
			t.Errorf("the same sub logged in as %s, then %s", first.UserID, again.UserID)
		}
		prof := e.getProfile(t, first.AccessToken)
		if len(prof.Identities) != 1 || prof.Identities[0].ID != "alice" || prof.Identities[0].ProviderType != "custom-token" {
			t.Errorf("identities = %+v; want one custom-token identity with id alice", prof.Identities)
		}
		if prof.Data["email"] != "alice@example.com" || prof.Data["name"] != "N. alice" {
			t.Errorf("data = %v; want the metadata fields", prof.Data)
		}
		// An anonymous user may not create keys; a custom-token user may.
		e.createKey(t, first.RefreshToken, "ct")
	})

	t.Run("RS256", func(t *testing.T) {
		e.setProvider(t, admin.AccessToken, map[string]any{"type": "custom-token",
			"config": map[string]any{"audience": []string{"my-aud"}, "signingAlgorithm": "RS256", "useJWKURI": true, "jwkURI": p.URL("/jwks")}})
		e.login(t, e.AppID, "custom-token", tokenBody(p.Sign(t, valid("rita"))))
		e.setProvider(t, admin.AccessToken, map[string]any{"type": "custom-token",
			"config":        map[string]any{"audience": []string{"my-aud"}, "signingAlgorithm": "RS256"},
			"secret_config": map[string]any{"signingKeys": []string{p.PublicPEM(t)}}})
		e.login(t, e.AppID, "custom-token", tokenBody(p.Sign(t, valid("rita"))))
		// RS/HS confusion: the public key as an HMAC secret.
		before := e.countUsers(t, "custom-token")
		e.do(t, "POST", loginPath(e.AppID, "custom-token"), "", tokenBody(testidp.SignHS(t, p.PublicPEM(t), valid("mallory")))).
			wantErrorContains(t, http.StatusUnauthorized, "AuthError", "invalid custom auth token")
		if after := e.countUsers(t, "custom-token"); after != before {
			t.Errorf("users %d → %d after a refused token", before, after)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		e.setProvider(t, admin.AccessToken, map[string]any{"type": "custom-token",
			"config":          map[string]any{"audience": []string{"my-aud"}, "signingAlgorithm": "HS256"},
			"secret_config":   map[string]any{"signingKeys": []string{hsSecret}},
			"metadata_fields": []map[string]any{{"required": true, "name": "user.name", "field_name": "name"}}})
		expired := valid("bob")
		expired["exp"] = e.Clock.Now().Add(-time.Hour).Unix()
		wrongAud := valid("bob")
		wrongAud["aud"] = "another-aud"
		noName := valid("bob")
		delete(noName, "user")
		none := strings.Join([]string{
			base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)),
			base64.RawURLEncoding.EncodeToString(must(json.Marshal(valid("bob")))), "",
		}, ".")
		before := e.countUsers(t, "custom-token")
		for _, tc := range []struct {
			name, token, msg string
		}{
			{"expired", testidp.SignHS(t, hsSecret, expired), "invalid custom auth token: token is expired"},
			{"bad signature", testidp.SignHS(t, hsSecret+"x", valid("bob")), "invalid custom auth token"},
			{"wrong audience", testidp.SignHS(t, hsSecret, wrongAud), "'my-aud' not found in 'aud' claim"},
			{"alg none", none, "invalid custom auth token"},
			{"missing required field", testidp.SignHS(t, hsSecret, noName), "invalid custom auth token: required metadata field 'user.name' is missing"},
			{"not a JWT", "garbage", "invalid custom auth token"},
			{"NUL in sub", testidp.SignHS(t, hsSecret, jwt.MapClaims{"sub": "a\x00b", "user": map[string]any{"name": "x"}, "aud": "my-aud", "exp": e.Clock.Now().Add(time.Hour).Unix()}), "without NUL"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e.do(t, "POST", loginPath(e.AppID, "custom-token"), "", tokenBody(tc.token)).
					wantErrorContains(t, http.StatusUnauthorized, "AuthError", tc.msg)
			})
		}
		e.do(t, "POST", loginPath(e.AppID, "custom-token"), "", map[string]any{"options": device(nil)}).
			wantErrorBody(t, http.StatusBadRequest, "BadRequest")
		if after := e.countUsers(t, "custom-token"); after != before {
			t.Errorf("users %d → %d after refused tokens", before, after)
		}

		// A JWK URL that answers garbage or hangs refuses within the fetch timeout.
		for _, path := range []string{"/garbage", "/hang"} {
			e.setProvider(t, admin.AccessToken, map[string]any{"type": "custom-token",
				"config": map[string]any{"signingAlgorithm": "RS256", "useJWKURI": true, "jwkURI": p.URL(path)}})
			e.do(t, "POST", loginPath(e.AppID, "custom-token"), "", tokenBody(p.Sign(t, valid("bob")))).
				wantErrorContains(t, http.StatusUnauthorized, "AuthError", "invalid custom auth token")
		}
	})

	t.Run("ConcurrentFirstLogins", func(t *testing.T) {
		e.setProvider(t, admin.AccessToken, map[string]any{"type": "custom-token",
			"config":        map[string]any{"signingAlgorithm": "HS256"},
			"secret_config": map[string]any{"signingKeys": []string{hsSecret}}})
		token := testidp.SignHS(t, hsSecret, e.claimsFor("twin", ""))
		ids := make([]string, 8)
		var wg sync.WaitGroup
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ids[i] = e.login(t, e.AppID, "custom-token", tokenBody(token)).UserID
			}()
		}
		wg.Wait()
		for _, id := range ids {
			if id != ids[0] {
				t.Fatalf("concurrent first logins made users %v; want one", ids)
			}
		}
	})

	t.Run("UserDisabled", func(t *testing.T) {
		l := e.login(t, e.AppID, "custom-token", tokenBody(testidp.SignHS(t, hsSecret, e.claimsFor("carol", ""))))
		e.do(t, "PUT", adminUserPath(e.AppID, l.UserID, "/disable"), admin.AccessToken, nil).wantEmpty(t, http.StatusNoContent)
		e.do(t, "POST", loginPath(e.AppID, "custom-token"), "", tokenBody(testidp.SignHS(t, hsSecret, e.claimsFor("carol", "")))).
			wantErrorBody(t, http.StatusUnauthorized, "UserDisabled")
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// fnServer is a custom function's webhook: it checks the signature and answers by username.
func fnServer(t *testing.T, e *env) *httptest.Server {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(webhookSecret, r.Header, body, e.Clock.Now(), 5*time.Minute); err != nil {
			t.Errorf("webhook signature: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var payload map[string]any
		json.Unmarshal(body, &payload)
		if _, ok := payload["options"]; ok {
			t.Errorf("the webhook got the SDK's options: %s", body)
		}
		switch name, _ := payload["username"].(string); name {
		case "boom":
			w.WriteHeader(http.StatusInternalServerError)
		case "garbage":
			io.WriteString(w, "nope")
		case "slow":
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		case "refused":
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"error":"wrong secret"}`)
		default:
			json.NewEncoder(w).Encode(map[string]any{"id": "fn-" + name, "name": name, "email": name + "@example.com",
				"custom_data": payload["custom_data"]})
		}
	}))
	t.Cleanup(func() { close(hang); srv.Close() })
	return srv
}

func TestCustomFunctionLogin(t *testing.T) {
	t.Parallel()
	e, admin := newAdminEnv(t)
	fn := fnServer(t, e)
	e.setProvider(t, admin.AccessToken, map[string]any{"type": "custom-function",
		"config": map[string]any{"url": fn.URL + "/login", "timeout_ms": 500}, "secret_config": map[string]any{"secret": webhookSecret}})
	body := func(name string, customData any) map[string]any {
		return map[string]any{"username": name, "custom_data": customData, "options": device(nil)}
	}

	t.Run("OK", func(t *testing.T) {
		l := e.login(t, e.AppID, "custom-function", body("dana", map[string]any{"plan": "pro"}))
		if got := string(jwtClaims(t, l.AccessToken)["user_data"]); got != `{"plan":"pro"}` {
			t.Errorf("user_data = %s, want the function's custom data", got)
		}
		prof := e.getProfile(t, l.AccessToken)
		if prof.Identities[0].ID != "fn-dana" || prof.Data["name"] != "dana" || prof.Data["email"] != "dana@example.com" {
			t.Errorf("profile = %+v; want the function's id, name and email", prof)
		}
		again := e.login(t, e.AppID, "custom-function", body("dana", map[string]any{"plan": "team"}))
		if again.UserID != l.UserID || string(jwtClaims(t, again.AccessToken)["user_data"]) != `{"plan":"team"}` {
			t.Errorf("second login: user %s (want %s), user_data %s", again.UserID, l.UserID, jwtClaims(t, again.AccessToken)["user_data"])
		}
	})

	t.Run("Errors", func(t *testing.T) {
		before := e.countUsers(t, "custom-function")
		for name, msg := range map[string]string{
			"boom":    "custom function authentication failed",
			"garbage": "custom function authentication failed",
			"slow":    "custom function authentication failed",
			"refused": "wrong secret",
		} {
			e.do(t, "POST", loginPath(e.AppID, "custom-function"), "", body(name, nil)).
				wantErrorContains(t, http.StatusUnauthorized, "AuthError", msg)
		}
		e.do(t, "POST", loginPath(e.AppID, "custom-function"), "", body("nodata", []int{1})).
			wantErrorContains(t, http.StatusUnauthorized, "AuthError", "custom_data")
		if after := e.countUsers(t, "custom-function"); after != before {
			t.Errorf("users %d → %d after refused logins", before, after)
		}
		down := httptest.NewServer(http.NotFoundHandler())
		down.Close()
		e.do(t, "PUT", adminAppPath(e.AppID, "/auth_providers/custom-function"), admin.AccessToken,
			map[string]any{"config": map[string]any{"url": down.URL}}).wantJSON(t, http.StatusOK, nil)
		e.do(t, "POST", loginPath(e.AppID, "custom-function"), "", body("dana", nil)).
			wantErrorContains(t, http.StatusUnauthorized, "AuthError", "custom function authentication failed")
	})
}

func TestIDTokenLogin(t *testing.T) {
	t.Parallel()
	e, admin := newAdminEnv(t)
	p := testidp.New(t)
	e.setProvider(t, admin.AccessToken, map[string]any{"type": "oauth2-google",
		"config": map[string]any{"clientId": "google-client", "clientIds": []string{"google-ios"}, "jwkURI": p.URL("/jwks")}})
	e.setProvider(t, admin.AccessToken, map[string]any{"type": "oauth2-apple",
		"config": map[string]any{"clientId": "com.example.app", "jwkURI": p.URL("/jwks")}})
	idToken := func(iss, aud, sub string, extra map[string]any) string {
		c := e.claimsFor(sub, aud)
		c["iss"] = iss
		for k, v := range extra {
			c[k] = v
		}
		return p.Sign(t, c)
	}
	idBody := func(tok string) map[string]any { return map[string]any{"id_token": tok, "options": device(nil)} }

	t.Run("OK", func(t *testing.T) {
		g := e.login(t, e.AppID, "oauth2-google", idBody(idToken(latchkey.GoogleIssuer, "google-client", "g-1",
			map[string]any{"email": "g@example.com", "name": "Gee", "given_name": "G"})))
		prof := e.getProfile(t, g.AccessToken)
		if prof.Identities[0].ID != "g-1" || prof.Data["email"] != "g@example.com" || prof.Data["name"] != "Gee" || prof.Data["first_name"] != "G" {
			t.Errorf("profile = %+v", prof)
		}
		// The second client id, and Google's issuer without its scheme.
		if got := e.login(t, e.AppID, "oauth2-google", idBody(idToken("accounts.google.com", "google-ios", "g-1", nil))).UserID; got != g.UserID {
			t.Errorf("second client id: user %s, want %s", got, g.UserID)
		}
		e.login(t, e.AppID, "oauth2-apple", idBody(idToken(latchkey.AppleIssuer, "com.example.app", "a-1", nil)))
		// A nonce, plain and as Apple hashes it.
		sum := sha256.Sum256([]byte("n0nce"))
		e.login(t, e.AppID, "oauth2-apple", map[string]any{"id_token": idToken(latchkey.AppleIssuer, "com.example.app", "a-1",
			map[string]any{"nonce": hex.EncodeToString(sum[:])}), "nonce": "n0nce"})
	})

	t.Run("Errors", func(t *testing.T) {
		before := e.countUsers(t, "oauth2-google")
		for _, tc := range []struct{ name, provider, token, nonce, msg string }{
			{"another client id", "oauth2-google", idToken(latchkey.GoogleIssuer, "someone-else", "g-2", nil), "", "invalid Google ID token"},
			{"another issuer", "oauth2-google", idToken("https://evil.example.com", "google-client", "g-2", nil), "", "invalid Google ID token"},
			{"Apple token to Google", "oauth2-google", idToken(latchkey.AppleIssuer, "google-client", "g-2", nil), "", "invalid Google ID token"},
			{"nonce mismatch", "oauth2-apple", idToken(latchkey.AppleIssuer, "com.example.app", "a-2", map[string]any{"nonce": "other"}), "n0nce", "invalid Apple ID token"},
			{"HS256", "oauth2-google", testidp.SignHS(t, hsSecret, jwt.MapClaims{"iss": latchkey.GoogleIssuer, "aud": "google-client", "sub": "g-2", "exp": e.Clock.Now().Add(time.Hour).Unix()}), "", "invalid Google ID token"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				b := idBody(tc.token)
				if tc.nonce != "" {
					b["nonce"] = tc.nonce
				}
				e.do(t, "POST", loginPath(e.AppID, tc.provider), "", b).wantErrorContains(t, http.StatusUnauthorized, "AuthError", tc.msg)
			})
		}
		if after := e.countUsers(t, "oauth2-google"); after != before {
			t.Errorf("users %d → %d after refused tokens", before, after)
		}
		e.do(t, "POST", loginPath(e.AppID, "oauth2-google"), "", map[string]any{"authCode": "4/0Ab"}).
			wantErrorContains(t, http.StatusBadRequest, "BadRequest", "auth code is not supported")
		e.do(t, "GET", loginPath(e.AppID, "oauth2-google")+"?redirect=https%3A%2F%2Fapp.example.com&state=abcdefghijkl", "", nil).
			wantErrorContains(t, http.StatusBadRequest, "BadRequest", "redirect flow is not supported")
	})
}

func TestLinkExternal(t *testing.T) {
	t.Parallel()
	e, admin := newAdminEnv(t)
	e.setProvider(t, admin.AccessToken, map[string]any{"type": "custom-token",
		"config": map[string]any{"signingAlgorithm": "HS256"}, "secret_config": map[string]any{"signingKeys": []string{hsSecret}}})
	jwtFor := func(sub string) map[string]any { return tokenBody(testidp.SignHS(t, hsSecret, e.claimsFor(sub, ""))) }

	t.Run("OK", func(t *testing.T) {
		anon := e.login(t, e.AppID, "anon-user", map[string]any{"options": device(nil)})
		var body map[string]any
		e.do(t, "POST", linkPath(e.AppID, "custom-token"), anon.AccessToken, jwtFor("linked")).wantJSON(t, http.StatusOK, &body)
		if body["user_id"] != anon.UserID {
			t.Fatalf("link answered %v; want user %s", body, anon.UserID)
		}
		var types []string
		for _, id := range e.getProfile(t, body["access_token"].(string)).Identities {
			types = append(types, id.ProviderType)
		}
		if strings.Join(types, ",") != "anon-user,custom-token" {
			t.Errorf("identities = %v; want anon-user then custom-token", types)
		}
		// No longer anonymous: the old refresh token may create keys; the token logs in as it.
		e.createKey(t, anon.RefreshToken, "after-link")
		if got := e.login(t, e.AppID, "custom-token", jwtFor("linked")).UserID; got != anon.UserID {
			t.Errorf("login after link: user %s, want %s", got, anon.UserID)
		}
		// Linking it again is a success.
		e.do(t, "POST", linkPath(e.AppID, "custom-token"), anon.AccessToken, jwtFor("linked")).wantJSON(t, http.StatusOK, nil)
	})

	t.Run("Errors", func(t *testing.T) {
		taken := e.login(t, e.AppID, "custom-token", jwtFor("taken"))
		anon := e.login(t, e.AppID, "anon-user", map[string]any{"options": device(nil)})
		e.do(t, "POST", linkPath(e.AppID, "custom-token"), anon.AccessToken, jwtFor("taken")).
			wantErrorBody(t, http.StatusConflict, "AccountNameInUse")
		// A second identity of the same provider.
		e.do(t, "POST", linkPath(e.AppID, "custom-token"), taken.AccessToken, jwtFor("another")).
			wantErrorBody(t, http.StatusConflict, "AccountNameInUse")
		e.do(t, "POST", linkPath(e.AppID, "custom-token"), anon.AccessToken, tokenBody(testidp.SignHS(t, "wrong-secret-wrong-secret-wrong-secret", e.claimsFor("x", "")))).
			wantErrorContains(t, http.StatusUnauthorized, "AuthError", "invalid custom auth token")
		k := e.createKey(t, taken.RefreshToken, "k")
		keySession := e.loginKey(t, e.AppID, k.Key)
		e.do(t, "POST", linkPath(e.AppID, "custom-token"), keySession.AccessToken, jwtFor("fresh")).
			wantErrorBody(t, http.StatusForbidden, "AuthError")
		if n := e.countUsers(t, "custom-token"); n != 2 {
			t.Errorf("%d custom-token users, want 2 (linked, taken): a refused link created one", n)
		}
	})
}
