package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey"
)

// listUsers lists an app's users with a query string.
func (e *env) listUsers(t *testing.T, admin, appID, query string) []adminUser {
	t.Helper()
	var users []adminUser
	e.do(t, "GET", adminAppPath(appID, "/users")+query, admin, nil).wantJSON(t, http.StatusOK, &users)
	return users
}

func userIDs(users []adminUser) []string {
	ids := make([]string, 0, len(users))
	for _, u := range users {
		ids = append(ids, u.ID)
	}
	return ids
}

// sessionID returns the id of the session a refresh token names.
func sessionID(t *testing.T, refresh string) string {
	t.Helper()
	var sid string
	mustUnmarshal(t, jwtClaims(t, refresh)["sid"], &sid)
	return sid
}

func TestAdminFindUsers(t *testing.T) {
	t.Parallel()
	e, tok := newAdminEnvToken(t)
	app := e.createApp(t, tok, map[string]any{"client_app_id": "people-app"})
	a, b, c := e.newUser(t, app.ClientAppID), e.newUser(t, app.ClientAppID), e.newUser(t, app.ClientAppID)
	anon := e.login(t, app.ClientAppID, "anon-user", map[string]any{})
	server := e.loginKey(t, app.ClientAppID, e.createServerKey(t, tok, app.ID, "people").Key)
	all := []string{a.UserID, b.UserID, c.UserID, anon.UserID, server.UserID}
	slices.Sort(all)
	// A user of another app never shows.
	e.newUser(t, e.AppID)

	t.Run("All", func(t *testing.T) {
		users := e.listUsers(t, tok, app.ID, "")
		if diff := cmp.Diff(all, userIDs(users)); diff != "" {
			t.Errorf("users (-want +got):\n%s", diff)
		}
		for _, u := range users {
			if u.APIKeyCount != nil || u.SessionCount != nil {
				t.Errorf("listed user %+v carries counts", u)
			}
		}
		// The client app id names the app as well.
		if diff := cmp.Diff(all, userIDs(e.listUsers(t, tok, app.ClientAppID, ""))); diff != "" {
			t.Errorf("users by client app id (-want +got):\n%s", diff)
		}
	})

	e.do(t, "PUT", adminUserPath(app.ID, b.UserID, "/disable"), tok, nil).wantEmpty(t, http.StatusNoContent)
	for _, tt := range []struct {
		name, query string
		want        []string
	}{
		{"Email", "?email=" + url.QueryEscape(a.Email), []string{a.UserID}},
		{"EmailCase", "?email=" + url.QueryEscape(strings.ToUpper(c.Email)), []string{c.UserID}},
		{"EmailUnknown", "?email=nobody%40example.com", nil},
		{"ProviderUserpass", "?provider=local-userpass", []string{a.UserID, b.UserID, c.UserID}},
		{"ProviderAnon", "?provider=anon-user", []string{anon.UserID}},
		{"ProviderAPIKey", "?provider=api-key", []string{server.UserID}},
		{"Disabled", "?disabled=true", []string{b.UserID}},
		{"Enabled", "?disabled=false", []string{a.UserID, c.UserID, anon.UserID, server.UserID}},
		{"TypeServer", "?type=server", []string{server.UserID}},
		{"TypeNormal", "?type=normal", []string{a.UserID, b.UserID, c.UserID, anon.UserID}},
		{"Combined", "?provider=local-userpass&disabled=false", []string{a.UserID, c.UserID}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if want == nil {
				want = []string{}
			}
			if diff := cmp.Diff(want, userIDs(e.listUsers(t, tok, app.ID, tt.query))); diff != "" {
				t.Errorf("users (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("Paging", func(t *testing.T) {
		var got []string
		var sizes []int
		after := ""
		for range 4 {
			q := "?limit=2"
			if after != "" {
				q += "&after=" + after
			}
			page := userIDs(e.listUsers(t, tok, app.ID, q))
			sizes = append(sizes, len(page))
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = page[len(page)-1]
		}
		if !slices.Equal(sizes, []int{2, 2, 1, 0}) {
			t.Errorf("page sizes = %v, want [2 2 1 0]", sizes)
		}
		if diff := cmp.Diff(all, got); diff != "" {
			t.Errorf("paged users (-want +got):\n%s", diff)
		}
		// Paging composes with filters.
		page := userIDs(e.listUsers(t, tok, app.ID, "?provider=local-userpass&limit=1&after="+all[0]))
		if len(page) != 1 {
			t.Errorf("filtered page = %v, want 1 user", page)
		}
	})

	for _, tt := range []struct{ name, query string }{
		{"ErrLimitWord", "?limit=abc"},
		{"ErrLimitNegative", "?limit=-1"},
		{"ErrLimitFloat", "?limit=1.5"},
		{"ErrDisabledWord", "?disabled=maybe"},
		{"ErrAfterNotID", "?after=zzz"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.do(t, "GET", adminAppPath(app.ID, "/users")+tt.query, tok, nil).wantErrorBody(t, http.StatusBadRequest, "BadRequest")
		})
	}
}

func TestAdminFindUser(t *testing.T) {
	t.Parallel()
	e, admin := newAdminEnv(t)
	tok := admin.AccessToken
	u := e.newUser(t, e.AppID)
	k1 := e.createKey(t, u.RefreshToken, "one")
	e.createKey(t, u.RefreshToken, "two")
	e.loginPassword(t, e.AppID, u.Email, u.Password)
	e.loginKey(t, e.AppID, k1.Key)

	got := e.getUser(t, tok, e.App.ID, u.UserID)
	if got.ID != u.UserID || got.Type != "normal" || got.Disabled || !got.Confirmed || got.Data["email"] != u.Email || got.CreationDate == 0 {
		t.Errorf("user = %+v", got)
	}
	var providers []string
	for _, id := range got.Identities {
		providers = append(providers, id.ProviderType)
		if id.ID == "" || !hex24.MatchString(id.ProviderID) {
			t.Errorf("identity %+v, want an id and a 24-hex provider_id", id)
		}
	}
	if !slices.Equal(providers, []string{"local-userpass", "api-key"}) {
		t.Errorf("identities = %v, want local-userpass then api-key", providers)
	}
	if got.APIKeyCount == nil || *got.APIKeyCount != 2 {
		t.Errorf("api_key_count = %v, want 2", got.APIKeyCount)
	}
	if got.SessionCount == nil || *got.SessionCount != 3 {
		t.Errorf("session_count = %v, want 3", got.SessionCount)
	}
	// The profile the user sees has the same identities.
	p := e.getProfile(t, u.AccessToken)
	if len(p.Identities) != len(got.Identities) || p.Identities[0].ID != got.Identities[0].ID {
		t.Errorf("profile identities %+v, admin identities %+v", p.Identities, got.Identities)
	}

	// Logging out ends a session and the count follows.
	e.do(t, "DELETE", authPath+"/session", u.RefreshToken, nil).wantEmpty(t, http.StatusNoContent)
	if got := e.getUser(t, tok, e.App.ID, u.UserID); got.SessionCount == nil || *got.SessionCount != 2 {
		t.Errorf("session_count after logout = %v, want 2", got.SessionCount)
	}

	anon := e.login(t, e.AppID, "anon-user", map[string]any{})
	if got := e.getUser(t, tok, e.App.ID, anon.UserID); len(got.Identities) != 1 || got.Identities[0].ProviderType != "anon-user" || len(got.Data) != 0 {
		t.Errorf("anonymous user = %+v", got)
	}

	t.Run("LiveSessionsOnly", func(t *testing.T) {
		app := e.createApp(t, tok, map[string]any{"client_app_id": "short-sessions", "refresh_token_lifetime_seconds": 1800})
		s := e.newUser(t, app.ClientAppID)
		e.Clock.Advance(31 * time.Minute)
		fresh := e.adminLogin(t, rootEmail, rootPassword)
		if got := e.getUser(t, fresh.AccessToken, app.ID, s.UserID); got.SessionCount == nil || *got.SessionCount != 0 {
			t.Errorf("session_count after expiry = %v, want 0", got.SessionCount)
		}
		e.wantEnded(t, s.RefreshToken)
		tok = fresh.AccessToken
	})

	t.Run("ErrUserNotFound", func(t *testing.T) {
		other := e.createApp(t, tok, map[string]any{"client_app_id": "other-app"})
		for _, tt := range []struct{ appID, userID string }{
			{e.App.ID, fakeID},
			{e.App.ID, "not-an-id"},
			{e.App.ID, strings.ToUpper(u.UserID)},
			{other.ID, u.UserID},
		} {
			for _, op := range []struct{ method, rest string }{
				{"GET", ""}, {"DELETE", ""}, {"PUT", "/enable"}, {"PUT", "/disable"}, {"PUT", "/logout"}, {"GET", "/api_keys"},
				{"GET", "/api_keys/" + k1.ID}, {"PUT", "/api_keys/" + k1.ID + "/disable"}, {"PUT", "/api_keys/" + k1.ID + "/enable"}, {"DELETE", "/api_keys/" + k1.ID},
			} {
				e.do(t, op.method, adminUserPath(tt.appID, tt.userID, op.rest), tok, nil).
					wantError(t, http.StatusNotFound, "UserNotFound", "user not found")
			}
		}
		// Nothing happened to the user.
		e.loginKey(t, e.AppID, k1.Key)
		if got := e.getUser(t, tok, e.App.ID, u.UserID); got.Disabled || *got.APIKeyCount != 2 {
			t.Errorf("user = %+v, want enabled with 2 keys", got)
		}
	})
}

func TestAdminDisableUser(t *testing.T) {
	t.Parallel()
	e, tok := newAdminEnvToken(t)
	u := e.newUser(t, e.AppID)
	k := e.createKey(t, u.RefreshToken, "disabled-user")
	keySession := e.loginKey(t, e.AppID, k.Key)
	bystander := e.newUser(t, e.AppID)

	e.do(t, "PUT", adminUserPath(e.App.ID, u.UserID, "/disable"), tok, nil).wantEmpty(t, http.StatusNoContent)

	t.Run("Refused", func(t *testing.T) {
		e.do(t, "POST", loginPath(e.AppID, "local-userpass"), "", map[string]string{"username": u.Email, "password": u.Password}).
			wantError(t, http.StatusUnauthorized, "UserDisabled", "user disabled")
		e.do(t, "POST", loginPath(e.AppID, "api-key"), "", map[string]string{"key": k.Key}).
			wantErrorBody(t, http.StatusUnauthorized, "UserDisabled")
		for _, refresh := range []string{u.RefreshToken, keySession.RefreshToken} {
			e.wantEnded(t, refresh)
			e.do(t, "GET", keysPath, refresh, nil).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
		}
		// A wrong password still answers as for anyone.
		e.do(t, "POST", loginPath(e.AppID, "local-userpass"), "", map[string]string{"username": u.Email, "password": "wrong password!"}).
			wantError(t, http.StatusUnauthorized, "InvalidPassword", "unauthorized")
		got := e.getUser(t, tok, e.App.ID, u.UserID)
		if !got.Disabled || *got.SessionCount != 0 {
			t.Errorf("user = %+v, want disabled without sessions", got)
		}
		e.wantLive(t, bystander.RefreshToken)
	})

	t.Run("DisableTwice", func(t *testing.T) {
		e.do(t, "PUT", adminUserPath(e.App.ID, u.UserID, "/disable"), tok, nil).wantEmpty(t, http.StatusNoContent)
	})

	t.Run("Enable", func(t *testing.T) {
		for range 2 {
			e.do(t, "PUT", adminUserPath(e.App.ID, u.UserID, "/enable"), tok, nil).wantEmpty(t, http.StatusNoContent)
		}
		l := e.loginPassword(t, e.AppID, u.Email, u.Password)
		if l.UserID != u.UserID {
			t.Errorf("login after enable: user %s, want %s", l.UserID, u.UserID)
		}
		e.wantLive(t, l.RefreshToken)
		if kl := e.loginKey(t, e.AppID, k.Key); kl.UserID != u.UserID {
			t.Errorf("key login after enable: user %s, want %s", kl.UserID, u.UserID)
		}
		// Sessions ended by the disable stay ended.
		e.wantEnded(t, u.RefreshToken)
		if got := e.getUser(t, tok, e.App.ID, u.UserID); got.Disabled {
			t.Errorf("user = %+v, want enabled", got)
		}
	})
}

func TestAdminRevokeSessions(t *testing.T) {
	t.Parallel()
	e, tok := newAdminEnvToken(t)
	u := e.newUser(t, e.AppID)
	second := e.loginPassword(t, e.AppID, u.Email, u.Password)
	k := e.createKey(t, u.RefreshToken, "revoked")
	keySession := e.loginKey(t, e.AppID, k.Key)
	bystander := e.newUser(t, e.AppID)

	e.do(t, "PUT", adminUserPath(e.App.ID, u.UserID, "/logout"), tok, nil).wantEmpty(t, http.StatusNoContent)
	for _, refresh := range []string{u.RefreshToken, second.RefreshToken, keySession.RefreshToken} {
		e.wantEnded(t, refresh)
	}
	if got := e.getUser(t, tok, e.App.ID, u.UserID); *got.SessionCount != 0 || got.Disabled || *got.APIKeyCount != 1 {
		t.Errorf("user = %+v, want enabled, no sessions, its key kept", got)
	}
	// Their access tokens end with them.
	e.do(t, "GET", authPath+"/profile", u.AccessToken, nil).wantError(t, http.StatusUnauthorized, "InvalidSession", "invalid session")
	e.wantLive(t, bystander.RefreshToken)

	// The user may log in again, with its password or its key.
	l := e.loginPassword(t, e.AppID, u.Email, u.Password)
	if l.UserID != u.UserID {
		t.Errorf("login after revoke: user %s, want %s", l.UserID, u.UserID)
	}
	e.wantLive(t, l.RefreshToken)
	e.wantLive(t, e.loginKey(t, e.AppID, k.Key).RefreshToken)
	// Revoking a user without sessions is no error.
	e.do(t, "PUT", adminUserPath(e.App.ID, bystander.UserID, "/logout"), tok, nil).wantEmpty(t, http.StatusNoContent)
	e.do(t, "PUT", adminUserPath(e.App.ID, bystander.UserID, "/logout"), tok, nil).wantEmpty(t, http.StatusNoContent)
}

// TestAdminDeleteUser checks that deleting a user removes every row that belonged to it.
func TestAdminDeleteUser(t *testing.T) {
	t.Parallel()
	e, tok := newAdminEnvToken(t)
	ctx := context.Background()
	u := e.newUser(t, e.AppID)
	k1 := e.createKey(t, u.RefreshToken, "first")
	k2 := e.createKey(t, u.RefreshToken, "second")
	keySession := e.loginKey(t, e.AppID, k1.Key)
	sessions := []string{sessionID(t, u.RefreshToken), sessionID(t, keySession.RefreshToken)}
	bystander := e.newUser(t, e.AppID)
	bk := e.createKey(t, bystander.RefreshToken, "first")

	e.do(t, "DELETE", adminUserPath(e.App.ID, u.UserID, ""), tok, nil).wantEmpty(t, http.StatusNoContent)

	e.do(t, "POST", loginPath(e.AppID, "local-userpass"), "", map[string]string{"username": u.Email, "password": u.Password}).
		wantError(t, http.StatusUnauthorized, "InvalidPassword", "unauthorized")
	for _, key := range []string{k1.Key, k2.Key} {
		e.do(t, "POST", loginPath(e.AppID, "api-key"), "", map[string]string{"key": key}).
			wantError(t, http.StatusUnauthorized, "AuthError", "unauthorized")
	}
	for _, refresh := range []string{u.RefreshToken, keySession.RefreshToken} {
		e.wantEnded(t, refresh)
	}
	e.do(t, "GET", authPath+"/profile", u.AccessToken, nil).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
	e.do(t, "GET", adminUserPath(e.App.ID, u.UserID, ""), tok, nil).wantError(t, http.StatusNotFound, "UserNotFound", "user not found")
	e.do(t, "DELETE", adminUserPath(e.App.ID, u.UserID, ""), tok, nil).wantError(t, http.StatusNotFound, "UserNotFound", "user not found")
	if ids := userIDs(e.listUsers(t, tok, e.App.ID, "")); slices.Contains(ids, u.UserID) {
		t.Errorf("users = %v, still lists the deleted user", ids)
	}

	t.Run("Store", func(t *testing.T) {
		if _, err := e.Store.FindUserByID(ctx, e.App.ID, u.UserID); latchkey.ErrorCode(err) != latchkey.ENotFound {
			t.Errorf("FindUserByID: %v, want not found", err)
		}
		if _, err := e.Store.FindUserByEmail(ctx, e.App.ID, u.Email); latchkey.ErrorCode(err) != latchkey.ENotFound {
			t.Errorf("FindUserByEmail: %v, want not found", err)
		}
		if keys, err := e.Store.FindAPIKeys(ctx, u.UserID); err != nil || len(keys) != 0 {
			t.Errorf("FindAPIKeys = %v, %v; want none", keys, err)
		}
		for _, k := range []apiKey{k1, k2} {
			if _, err := e.Store.FindAPIKey(ctx, u.UserID, k.ID); latchkey.ErrorCode(err) != latchkey.ENotFound {
				t.Errorf("FindAPIKey %s: %v, want not found", k.ID, err)
			}
		}
		if stats, err := e.Store.FindUserStats(ctx, u.UserID, e.Clock.Now()); err != nil || stats != (latchkey.UserStats{}) {
			t.Errorf("FindUserStats = %+v, %v; want zero", stats, err)
		}
		for _, sid := range sessions {
			if _, err := e.Store.FindSession(ctx, sid); latchkey.ErrorCode(err) != latchkey.ENotFound {
				t.Errorf("FindSession %s: %v, want not found", sid, err)
			}
		}
		users, err := e.Store.FindUsers(ctx, latchkey.UserFilter{AppID: e.App.ID, Provider: ptr("api-key")})
		if err != nil || len(users) != 0 {
			t.Errorf("users with an api-key identity = %v, %v; want none", users, err)
		}
	})

	t.Run("Bystander", func(t *testing.T) {
		e.wantLive(t, bystander.RefreshToken)
		e.loginKey(t, e.AppID, bk.Key)
		if got := e.getUser(t, tok, e.App.ID, bystander.UserID); *got.APIKeyCount != 1 {
			t.Errorf("bystander = %+v, want its key kept", got)
		}
	})

	t.Run("RegisterAgain", func(t *testing.T) {
		e.register(t, e.AppID, u.Email, u.Password)
		if l := e.loginPassword(t, e.AppID, u.Email, u.Password); l.UserID == u.UserID {
			t.Errorf("new user has the deleted user's id %s", l.UserID)
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestAdminUserAPIKeys(t *testing.T) {
	t.Parallel()
	e, tok := newAdminEnvToken(t)
	u := e.newUser(t, e.AppID)
	k1 := e.createKey(t, u.RefreshToken, "first")
	k2 := e.createKey(t, u.RefreshToken, "second")
	other := e.newUser(t, e.AppID)
	ok := e.createKey(t, other.RefreshToken, "others")
	keyAt := func(userID, keyID, rest string) string {
		return adminUserPath(e.App.ID, userID, "/api_keys/"+keyID+rest)
	}
	list := func(t *testing.T) []apiKey {
		t.Helper()
		var keys []apiKey
		r := e.do(t, "GET", adminUserPath(e.App.ID, u.UserID, "/api_keys"), tok, nil)
		r.wantJSON(t, http.StatusOK, &keys)
		wantNoKeyField(t, r)
		return keys
	}

	t.Run("List", func(t *testing.T) {
		want := []apiKey{{ID: k1.ID, Name: "first"}, {ID: k2.ID, Name: "second"}}
		if diff := cmp.Diff(want, list(t)); diff != "" {
			t.Errorf("keys (-want +got):\n%s", diff)
		}
		var none []apiKey
		e.do(t, "GET", adminUserPath(e.App.ID, e.newUser(t, e.AppID).UserID, "/api_keys"), tok, nil).wantJSON(t, http.StatusOK, &none)
		if none == nil || len(none) != 0 {
			t.Errorf("keys of a user without any = %v, want []", none)
		}
	})

	t.Run("Find", func(t *testing.T) {
		var got apiKey
		r := e.do(t, "GET", keyAt(u.UserID, k2.ID, ""), tok, nil)
		r.wantJSON(t, http.StatusOK, &got)
		wantNoKeyField(t, r)
		if diff := cmp.Diff(apiKey{ID: k2.ID, Name: "second"}, got); diff != "" {
			t.Errorf("key (-want +got):\n%s", diff)
		}
	})

	t.Run("Disable", func(t *testing.T) {
		s := e.loginKey(t, e.AppID, k1.Key)
		e.do(t, "PUT", keyAt(u.UserID, k1.ID, "/disable"), tok, nil).wantEmpty(t, http.StatusNoContent)
		e.do(t, "POST", loginPath(e.AppID, "api-key"), "", map[string]string{"key": k1.Key}).
			wantError(t, http.StatusUnauthorized, "AuthError", "unauthorized")
		e.wantEnded(t, s.RefreshToken)
		// The owner sees it disabled; its password session lives on.
		var got apiKey
		e.do(t, "GET", keyPath(k1.ID), u.RefreshToken, nil).wantJSON(t, http.StatusOK, &got)
		if !got.Disabled {
			t.Errorf("key = %+v, want disabled", got)
		}
		if keys := list(t); !keys[0].Disabled || keys[1].Disabled {
			t.Errorf("keys = %+v, want only the first disabled", keys)
		}
		e.loginKey(t, e.AppID, k2.Key)
	})

	t.Run("Enable", func(t *testing.T) {
		e.do(t, "PUT", keyAt(u.UserID, k1.ID, "/enable"), tok, nil).wantEmpty(t, http.StatusNoContent)
		e.loginKey(t, e.AppID, k1.Key)
		if keys := list(t); keys[0].Disabled {
			t.Errorf("keys = %+v, want the first enabled", keys)
		}
	})

	t.Run("ErrOtherUsersKey", func(t *testing.T) {
		for _, op := range []struct{ method, rest string }{{"GET", ""}, {"PUT", "/disable"}, {"PUT", "/enable"}, {"DELETE", ""}} {
			for _, id := range []string{ok.ID, fakeID, "not-an-id"} {
				e.do(t, op.method, keyAt(u.UserID, id, op.rest), tok, nil).wantError(t, http.StatusNotFound, "APIKeyNotFound", "API key not found")
			}
		}
		e.loginKey(t, e.AppID, ok.Key)
	})

	t.Run("Delete", func(t *testing.T) {
		s := e.loginKey(t, e.AppID, k2.Key)
		e.do(t, "DELETE", keyAt(u.UserID, k2.ID, ""), tok, nil).wantEmpty(t, http.StatusNoContent)
		e.do(t, "POST", loginPath(e.AppID, "api-key"), "", map[string]string{"key": k2.Key}).
			wantError(t, http.StatusUnauthorized, "AuthError", "unauthorized")
		e.wantEnded(t, s.RefreshToken)
		e.do(t, "DELETE", keyAt(u.UserID, k2.ID, ""), tok, nil).wantError(t, http.StatusNotFound, "APIKeyNotFound", "API key not found")
		e.do(t, "GET", keyPath(k2.ID), u.RefreshToken, nil).wantError(t, http.StatusNotFound, "APIKeyNotFound", "API key not found")
		if diff := cmp.Diff([]apiKey{{ID: k1.ID, Name: "first"}}, list(t)); diff != "" {
			t.Errorf("keys (-want +got):\n%s", diff)
		}
		e.wantLive(t, u.RefreshToken)
	})
}

func TestAdminVerifyToken(t *testing.T) {
	t.Parallel()
	e, admin := newAdminEnv(t)
	tok := admin.AccessToken
	path := adminAppPath(e.App.ID, "/users/verify_token")
	u := e.newUser(t, e.AppID)

	t.Run("OK", func(t *testing.T) {
		var claims map[string]any
		e.do(t, "POST", path, tok, map[string]string{"token": u.AccessToken}).wantJSON(t, http.StatusOK, &claims)
		if claims["sub"] != u.UserID || claims["aud"] != e.AppID || claims["baas_device_id"] != u.DeviceID {
			t.Errorf("claims = %v, want sub %s, aud %s, baas_device_id %s", claims, u.UserID, e.AppID, u.DeviceID)
		}
		iat, _ := claims["iat"].(float64)
		exp, _ := claims["exp"].(float64)
		if iat == 0 || exp-iat != 1800 {
			t.Errorf("iat = %v, exp = %v, want exp - iat = 1800", claims["iat"], claims["exp"])
		}
		// The same claims as in the token itself.
		tc := jwtClaims(t, u.AccessToken)
		var tokenExp float64
		mustUnmarshal(t, tc["exp"], &tokenExp)
		if tokenExp != exp {
			t.Errorf("exp = %v, token's exp = %v", exp, tokenExp)
		}
		// By client app id too.
		e.do(t, "POST", adminAppPath(e.AppID, "/users/verify_token"), tok, map[string]string{"token": u.AccessToken}).
			wantJSON(t, http.StatusOK, nil)
	})

	other := e.createApp(t, tok, map[string]any{"client_app_id": "other-app"})
	ou := e.newUser(t, "other-app")
	gone := e.newUser(t, e.AppID)
	e.do(t, "DELETE", authPath+"/delete", gone.AccessToken, nil).wantEmpty(t, http.StatusNoContent)
	for _, tt := range []struct {
		name  string
		app   string
		token any
	}{
		{"ErrGarbage", e.App.ID, "garbage"},
		{"ErrEmpty", e.App.ID, ""},
		{"ErrMissing", e.App.ID, nil},
		{"ErrTampered", e.App.ID, u.AccessToken[:len(u.AccessToken)-2] + "xx"},
		{"ErrRefreshToken", e.App.ID, u.RefreshToken},
		{"ErrAdminToken", e.App.ID, admin.AccessToken},
		{"ErrOtherAppsToken", e.App.ID, ou.AccessToken},
		{"ErrTokenOfOtherAppHere", other.ID, u.AccessToken},
		{"ErrDeletedUser", e.App.ID, gone.AccessToken},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := map[string]any{}
			if tt.token != nil {
				body["token"] = tt.token
			}
			e.do(t, "POST", adminAppPath(tt.app, "/users/verify_token"), tok, body).
				wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
		})
	}
}

// TestAdminUserCustomData sets, reads and clears a user's custom data through the admin API
// and finds it in the user_data claim of the next refresh, and checks the refusals.
func TestAdminUserCustomData(t *testing.T) {
	t.Parallel()
	e, tok := newAdminEnvToken(t)
	u := e.newUser(t, e.AppID)
	path := adminUserPath(e.App.ID, u.UserID, "/custom_data")
	refreshedUserData := func(t *testing.T) string {
		t.Helper()
		var got struct {
			AccessToken string `json:"access_token"`
		}
		e.do(t, "POST", authPath+"/session", u.RefreshToken, nil).wantJSON(t, http.StatusCreated, &got)
		return string(jwtClaims(t, got.AccessToken)["user_data"])
	}
	wantData := func(t *testing.T, want string) {
		t.Helper()
		r := e.do(t, "GET", path, tok, nil)
		r.wantStatus(t, http.StatusOK)
		if got := string(r.Body); got != want {
			t.Fatalf("GET custom_data = %s, want %s", got, want)
		}
	}

	t.Run("OK", func(t *testing.T) {
		wantData(t, `{}`)
		e.do(t, "PUT", path, tok, `{"plan": "pro", "seats": 5}`).wantEmpty(t, http.StatusNoContent)
		wantData(t, `{"plan":"pro","seats":5}`)
		if got, want := refreshedUserData(t), `{"plan":"pro","seats":5}`; got != want {
			t.Fatalf("refreshed user_data = %s, want %s", got, want)
		}
		// By client app id too.
		e.do(t, "GET", adminUserPath(e.AppID, u.UserID, "/custom_data"), tok, nil).wantJSON(t, http.StatusOK, nil)
	})
	t.Run("EmptyObjectClears", func(t *testing.T) {
		e.do(t, "PUT", path, tok, `{"plan":"pro"}`).wantEmpty(t, http.StatusNoContent)
		e.do(t, "PUT", path, tok, `{}`).wantEmpty(t, http.StatusNoContent)
		wantData(t, `{}`)
		if got := refreshedUserData(t); got != `{}` {
			t.Fatalf("refreshed user_data = %s, want {}", got)
		}
	})
	t.Run("DeleteClears", func(t *testing.T) {
		e.do(t, "PUT", path, tok, `{"plan":"pro"}`).wantEmpty(t, http.StatusNoContent)
		e.do(t, "DELETE", path, tok, nil).wantEmpty(t, http.StatusNoContent)
		wantData(t, `{}`)
		// Clearing what is clear is no error.
		e.do(t, "DELETE", path, tok, nil).wantEmpty(t, http.StatusNoContent)
	})

	e.do(t, "PUT", path, tok, `{"kept":true}`).wantEmpty(t, http.StatusNoContent)
	for _, tt := range []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"ErrArray", `[{"a":1}]`, http.StatusBadRequest, "InvalidParameter"},
		{"ErrNull", `null`, http.StatusBadRequest, "InvalidParameter"},
		{"ErrString", `"x"`, http.StatusBadRequest, "InvalidParameter"},
		{"ErrMalformed", `{"a":`, http.StatusBadRequest, "BadRequest"},
		{"ErrEmptyBody", nil, http.StatusBadRequest, "BadRequest"},
		{"ErrNUL", `{"a":"\u0000"}`, http.StatusBadRequest, "InvalidParameter"},
		{"ErrOver16KiB", `{"s":"` + strings.Repeat("x", latchkey.MaxCustomDataBytes) + `"}`, http.StatusBadRequest, "InvalidParameter"},
		{"ErrOverBodyLimit", `{"s":"` + strings.Repeat("x", 64<<10) + `"}`, http.StatusRequestEntityTooLarge, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, "PUT", path, tok, tt.body)
			if tt.code == "" {
				r.wantStatus(t, tt.status)
			} else {
				r.wantErrorBody(t, tt.status, tt.code)
			}
			wantData(t, `{"kept":true}`)
		})
	}
	t.Run("ErrUserNotFound", func(t *testing.T) {
		for _, id := range []string{latchkey.NewID(time.Now()), "not-an-id"} {
			e.do(t, "GET", adminUserPath(e.App.ID, id, "/custom_data"), tok, nil).wantErrorBody(t, http.StatusNotFound, "UserNotFound")
			e.do(t, "PUT", adminUserPath(e.App.ID, id, "/custom_data"), tok, `{"a":1}`).wantErrorBody(t, http.StatusNotFound, "UserNotFound")
		}
	})
	t.Run("ErrOtherAppsUser", func(t *testing.T) {
		other := e.createApp(t, tok, map[string]any{"client_app_id": "custom-data-other"})
		e.do(t, "PUT", adminUserPath(other.ID, u.UserID, "/custom_data"), tok, `{"a":1}`).wantErrorBody(t, http.StatusNotFound, "UserNotFound")
		wantData(t, `{"kept":true}`)
	})
}
