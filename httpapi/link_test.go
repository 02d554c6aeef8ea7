package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// linkPath is the login route of provider with ?link=true, as realm-web and realm-core send it.
func linkPath(app, provider string) string { return loginPath(app, provider) + "?link=true" }

// userpassBody is a realm-web email/password credentials body.
func userpassBody(email, password string) map[string]any {
	return map[string]any{"username": email, "password": password, "options": device(nil)}
}

func TestLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("OK", func(t *testing.T) {
		anon := e.login(t, e.AppID, "anon-user", map[string]any{"options": device(nil)})
		email, pw := e.newEmail(), e.newPassword()
		e.register(t, e.AppID, email, pw)

		r := e.do(t, "POST", linkPath(e.AppID, "local-userpass"), anon.AccessToken, userpassBody(email, pw))
		var body map[string]any
		r.wantJSON(t, http.StatusOK, &body)
		if body["user_id"] != anon.UserID || body["device_id"] != anon.DeviceID {
			t.Fatalf("link = %s; want user_id %s and device_id %s", r.Body, anon.UserID, anon.DeviceID)
		}
		if _, ok := body["refresh_token"]; ok {
			t.Errorf("link = %s; want no refresh_token: the caller keeps its session", r.Body)
		}
		access, _ := body["access_token"].(string)
		if got := string(jwtClaims(t, access)["sub"]); got != `"`+anon.UserID+`"` {
			t.Errorf("access token sub = %s, want %q", got, anon.UserID)
		}

		p := e.getProfile(t, access)
		var types []string
		for _, id := range p.Identities {
			types = append(types, id.ProviderType)
		}
		if p.UserID != anon.UserID || strings.Join(types, ",") != "anon-user,local-userpass" || p.Data["email"] != email {
			t.Fatalf("profile = %+v; want %s with anon-user then local-userpass and %s", p, anon.UserID, email)
		}
		// The old access token works too (same session), the email logs in as the same
		// user, and the anonymous login's refresh token may now create keys.
		if got := e.getProfile(t, anon.AccessToken).Identities; len(got) != 2 {
			t.Errorf("profile with the old access token has %d identities, want 2", len(got))
		}
		if got := e.loginPassword(t, e.AppID, email, pw).UserID; got != anon.UserID {
			t.Errorf("password login user_id = %s, want %s", got, anon.UserID)
		}
		e.createKey(t, anon.RefreshToken, "after-link")
	})

	t.Run("Errors", func(t *testing.T) {
		used := e.newUser(t, e.AppID)
		registered, pw := e.newEmail(), e.newPassword()
		e.register(t, e.AppID, registered, pw)
		anon := e.login(t, e.AppID, "anon-user", nil)
		for _, tt := range []struct {
			name     string
			provider string
			body     any
			status   int
			code     string
			msg      string
		}{
			{"ErrWrongPassword", "local-userpass", userpassBody(registered, "wrong password!"), 401, "InvalidPassword", "invalid username/password"},
			{"ErrUnknownEmail", "local-userpass", userpassBody("nobody@example.com", pw), 401, "InvalidPassword", "invalid username/password"},
			{"ErrEmailOfAnotherUser", "local-userpass", userpassBody(used.Email, used.Password), 409, "AccountNameInUse", "name already in use"},
			{"ErrAnonymousCredentials", "anon-user", map[string]any{"options": device(nil)}, 500, "InternalServerError", "linking an anonymous identity is not allowed"},
			{"ErrAPIKeyCredentials", "api-key", map[string]any{"key": "lk_whatever"}, 400, "BadRequest", "API key credentials cannot be linked: a key logs in as its owner"},
			{"ErrUnknownProvider", "custom-function", map[string]any{}, 400, "AuthProviderNotFound", "authentication via 'custom-function' is unsupported"},
			{"ErrMalformedBody", "local-userpass", "{", 400, "BadRequest", ""},
		} {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do(t, "POST", linkPath(e.AppID, tt.provider), anon.AccessToken, tt.body)
				if tt.msg == "" {
					r.wantErrorBody(t, tt.status, tt.code)
				} else {
					r.wantError(t, tt.status, tt.code, tt.msg)
				}
				if p := e.getProfile(t, anon.AccessToken); len(p.Identities) != 1 || p.Data["email"] != nil {
					t.Fatalf("profile after a refused link = %+v, want the anonymous user unchanged", p)
				}
			})
		}
		// The email user with a used account still logs in as itself.
		if got := e.loginPassword(t, e.AppID, used.Email, used.Password).UserID; got != used.UserID {
			t.Errorf("used account's login = %s, want %s", got, used.UserID)
		}
	})

	t.Run("ErrSecondUserpassIdentity", func(t *testing.T) {
		u := e.newUser(t, e.AppID)
		email, pw := e.newEmail(), e.newPassword()
		e.register(t, e.AppID, email, pw)
		e.do(t, "POST", linkPath(e.AppID, "local-userpass"), u.AccessToken, userpassBody(email, pw)).
			wantError(t, 500, "InternalServerError", "linking a local-userpass identity is not allowed")
		e.loginPassword(t, e.AppID, email, pw) // the registration is untouched
	})
}

// TestLinkAuthorization is the authorization matrix of the login route's ?link=true form,
// which the route's row in authzRoutes (a public login) does not cover: it takes the access
// token of an app user of the path's app, from a session of the user's own identity. Every
// kind of caller sends credentials of a fresh registered user.
func TestLinkAuthorization(t *testing.T) {
	t.Parallel()
	fx := newAuthzFixture(t)
	e := fx.e
	route := authzRoute{method: "POST", pattern: linkPath("{app}", "local-userpass"), class: access}
	secondIdentity := want{http.StatusInternalServerError, "InternalServerError"}
	for _, c := range callers {
		t.Run(string(c), func(t *testing.T) {
			w := route.want(c)
			switch c {
			case cKeySession, cScopedKey, cServerKeyUser:
				w = ownerOnly
			case cAppUser, cOtherUser:
				w = secondIdentity // email users already have an email/password identity
			case cOtherApp:
				w = invalidSession // a token of another app than the path's
			case cAnonymous:
				w = want{http.StatusOK, ""}
			}
			email, pw := e.newEmail(), e.newPassword()
			e.register(t, e.AppID, email, pw)
			req := e.newRequest(t, "POST", linkPath(e.AppID, "local-userpass"), userpassBody(email, pw))
			if header := fx.token(t, route, c); header != "" {
				req.Header.Set("Authorization", header)
			}
			got := e.send(t, req)
			if got.Status != w.status || (w.code == noCode && got.HasErrorCode) || got.ErrorCode != w.code {
				t.Fatalf("%d %q, want %v (%s)", got.Status, got.ErrorCode, w, got.Body)
			}
			if got.Status == http.StatusOK {
				fx.forget(c) // the anonymous caller is anonymous no more
				return
			}
			// A refused link leaves the registration as it was.
			e.loginPassword(t, e.AppID, email, pw)
		})
	}
}
