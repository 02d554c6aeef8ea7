package httpapi_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/latchkey/latchkey"
)

// caller is a kind of caller in the authorization matrix.
type caller string

const (
	cNoToken       caller = "NoToken"       // no Authorization header
	cEmptyBearer   caller = "EmptyBearer"   // "Bearer " and nothing
	cMalformed     caller = "Malformed"     // not a JWT
	cBadSignature  caller = "BadSignature"  // the right token, signed by another key with the same kid
	cExpired       caller = "Expired"       // the right token, signed by the server, expired
	cWrongType     caller = "WrongType"     // access where refresh is taken, or the reverse
	cOtherApp      caller = "OtherAppUser"  // a user of another app
	cOtherUser     caller = "OtherUser"     // another user of the same app
	cAnonymous     caller = "Anonymous"     // an anonymous user
	cKeySession    caller = "KeySession"    // a session opened by logging in with a user API key
	cScopedKey     caller = "ScopedKey"     // a session opened with a user API key scoped ["read"]
	cDisabledKey   caller = "DisabledKey"   // a key session whose key its owner disabled after it logged in
	cEndedSession  caller = "EndedSession"  // a password session that logged out
	cServerKeyUser caller = "ServerKeyUser" // a session of a server API key's user
	cDisabledUser  caller = "DisabledUser"  // a user an admin disabled after it logged in
	cDeletedUser   caller = "DeletedUser"   // a user deleted after it logged in
	cAppUser       caller = "AppUser"       // the user whose key the client routes name; on admin routes, an app user
	cAdmin         caller = "Admin"         // an admin; on client routes, with the admin token of the same type
)

var callers = []caller{
	cNoToken, cEmptyBearer, cMalformed, cBadSignature, cExpired, cWrongType, cOtherApp, cOtherUser,
	cAnonymous, cKeySession, cScopedKey, cDisabledKey, cEndedSession, cServerKeyUser, cDisabledUser,
	cDeletedUser, cAppUser, cAdmin,
}

// routeClass is what a route takes as a credential, which decides most of its row.
type routeClass int

const (
	public       routeClass = iota // nothing: every caller gets the same answer
	access                         // an app user's access token
	owner                          // access, from a session of the user's own password or anonymous identity
	refresh                        // an app user's refresh token
	keys                           // refresh, from a user who may manage user API keys
	keyByID                        // keys, for one of the AppUser's keys
	adminAccess                    // an admin access token
	adminRefresh                   // an admin refresh token
	leak                           // the app's leak-report secret or an admin access token
	backend                        // a server API key of the app, or the access token of its session
)

// want is an expected answer: the status and the error_code (noCode: none).
type want struct {
	status int
	code   string
}

func (w want) String() string { return strconv.Itoa(w.status) + " " + w.code }

var (
	invalidSession = want{http.StatusUnauthorized, "InvalidSession"}
	badAuthHeader  = want{http.StatusUnauthorized, noCode}
	keysForbidden  = want{http.StatusForbidden, "AuthError"}
	ownerOnly      = want{http.StatusForbidden, "AuthError"}
	noSuchKey      = want{http.StatusNotFound, "APIKeyNotFound"}
	noSuchUser     = want{http.StatusNotFound, "UserNotFound"}
)

// authzRoute is one row of the matrix: a route as routes.go registers it.
type authzRoute struct {
	method, pattern string
	class           routeClass
	body            any
	// ok is the answer to the route's own caller: the AppUser on client routes, the Admin
	// on admin routes and on the leak report, anyone on public routes.
	ok want
	// destructive: a success ends what the caller logged in with (its user, session or
	// the admin routes' app), so the fixture makes a new one.
	destructive bool
}

// want gives the contract's answer to caller c. The client API's rules (wire contract
// §"Wire rules" 6-7, "User API key rules"): no or a bad token 401 InvalidSession, an empty
// bearer 401 without a code; both kinds of token die with their session (a logout, a disabled
// key, a disabled or deleted user); anonymous, key session (scoped or not) and server-key
// callers may not manage keys (403), before any key is looked up; another user's key is 404;
// only the user's own password or anonymous session may delete the account. Admin and app
// tokens never open each other's API.
func (r authzRoute) want(c caller) want {
	if r.class == public {
		return r.ok
	}
	switch c {
	case cNoToken, cMalformed, cBadSignature, cExpired, cWrongType:
		return invalidSession
	case cEmptyBearer:
		return badAuthHeader
	}
	switch r.class {
	case adminAccess, adminRefresh, leak:
		if c == cAdmin {
			return r.ok
		}
		return invalidSession
	case backend:
		if c == cServerKeyUser {
			return r.ok
		}
		return invalidSession
	}
	switch c {
	case cAdmin, cDeletedUser, cDisabledUser, cDisabledKey, cEndedSession:
		return invalidSession
	}
	switch r.class {
	case owner:
		switch c {
		case cKeySession, cScopedKey, cServerKeyUser:
			return ownerOnly
		}
	case keys, keyByID:
		switch c {
		case cAnonymous, cKeySession, cScopedKey, cServerKeyUser:
			return keysForbidden
		}
	}
	if r.class == keyByID && c != cAppUser {
		return noSuchKey
	}
	return r.ok
}

// authzRoutes is every route of routes.go. TestAuthorizationMatrix fails when routes.go
// has a route without a row here.
var authzRoutes = []authzRoute{
	// The client API.
	{"GET", "/api/client/v2.0/app/{app}/location", public, nil, want{200, ""}, false},
	{"POST", "/api/client/v2.0/app/{app}/auth/providers/{provider}/login", public, nil, want{200, ""}, false},
	{"GET", "/api/client/v2.0/app/{app}/auth/providers/{provider}/login", public, nil, want{400, "BadRequest"}, false},
	{"POST", "/api/client/v2.0/app/{app}/auth/providers/local-userpass/register", public, map[string]string{"email": "not an email", "password": "s3cretpass"}, want{400, "BadRequest"}, false},
	{"POST", "/api/client/v2.0/app/{app}/auth/providers/local-userpass/confirm", public, map[string]string{"token": "x", "tokenId": fakeID}, want{400, "BadRequest"}, false},
	{"POST", "/api/client/v2.0/app/{app}/auth/providers/local-userpass/confirm/send", public, map[string]string{"email": "nobody@example.com"}, noSuchUser, false},
	{"POST", "/api/client/v2.0/app/{app}/auth/providers/local-userpass/reset/send", public, map[string]string{"email": "nobody@example.com"}, noSuchUser, false},
	{"POST", "/api/client/v2.0/app/{app}/auth/providers/local-userpass/reset", public, map[string]string{"password": "n3wpassword", "token": "x", "tokenId": fakeID}, want{400, "BadRequest"}, false},
	{"GET", "/api/client/v2.0/app/{app}/.well-known/jwks.json", public, nil, want{200, ""}, false},
	{"GET", "/.well-known/jwks.json", public, nil, want{200, ""}, false},
	{"POST", "/api/client/v2.0/app/{app}/auth/api_keys/leaked", leak, []any{}, want{200, ""}, false},
	{"POST", "/api/client/v2.0/app/{app}/auth/api_keys/verify", backend, map[string]any{"key": "lk_unknown"}, want{200, ""}, false},

	{"GET", "/api/client/v2.0/auth/profile", access, nil, want{200, ""}, false},
	{"DELETE", "/api/client/v2.0/auth/delete", owner, nil, want{204, ""}, true},
	{"POST", "/api/client/v2.0/auth/session", refresh, nil, want{201, ""}, false},
	{"DELETE", "/api/client/v2.0/auth/session", refresh, nil, want{204, ""}, true},

	{"POST", "/api/client/v2.0/auth/api_keys", keys, map[string]string{"name": "authz"}, want{201, ""}, false},
	{"GET", "/api/client/v2.0/auth/api_keys", keys, nil, want{200, ""}, false},
	{"GET", "/api/client/v2.0/auth/api_keys/{id}", keyByID, nil, want{200, ""}, false},
	{"PUT", "/api/client/v2.0/auth/api_keys/{id}/enable", keyByID, nil, want{204, ""}, false},
	{"PUT", "/api/client/v2.0/auth/api_keys/{id}/disable", keyByID, nil, want{204, ""}, false},
	{"POST", "/api/client/v2.0/auth/api_keys/{id}/rotate", keyByID, nil, want{200, ""}, false},
	{"GET", "/api/client/v2.0/auth/api_keys/{id}/usage", keyByID, nil, want{200, ""}, false},
	{"DELETE", "/api/client/v2.0/auth/api_keys/{id}", keyByID, nil, want{204, ""}, true},

	// The admin API. {userID} and {keyID} name nothing, so the admin's own answers are 404s
	// there: past authorization, the id was looked up.
	{"POST", "/api/admin/v3.0/auth/providers/local-userpass/login", public, map[string]string{"username": rootEmail, "password": "wrongpassword"}, want{401, "InvalidPassword"}, false},
	{"GET", "/api/admin/v3.0/auth/profile", adminAccess, nil, want{200, ""}, false},
	{"POST", "/api/admin/v3.0/auth/session", adminRefresh, nil, want{201, ""}, false},
	{"DELETE", "/api/admin/v3.0/auth/session", adminRefresh, nil, want{204, ""}, true},
	{"GET", "/api/admin/v3.0/audit", adminAccess, nil, want{200, ""}, false},
	{"GET", "/api/admin/v3.0/signing_keys", adminAccess, nil, want{200, ""}, false},
	{"POST", "/api/admin/v3.0/signing_keys/rotate", adminAccess, nil, want{200, ""}, false},

	{"GET", "/api/admin/v3.0/groups/{group}/apps", adminAccess, nil, want{200, ""}, false},
	{"POST", "/api/admin/v3.0/groups/{group}/apps", adminAccess, map[string]any{"client_app_id": "authz-created"}, want{201, ""}, false},
	{"GET", "/api/admin/v3.0/groups/{group}/apps/{appID}", adminAccess, nil, want{200, ""}, false},
	{"DELETE", "/api/admin/v3.0/groups/{group}/apps/{appID}", adminAccess, nil, want{204, ""}, true},
	{"GET", "/api/admin/v3.0/groups/{group}/apps/{appID}/settings", adminAccess, nil, want{200, ""}, false},
	{"PATCH", "/api/admin/v3.0/groups/{group}/apps/{appID}/settings", adminAccess, map[string]any{"name": "authz"}, want{200, ""}, false},
	{"GET", "/api/admin/v3.0/groups/{group}/apps/{appID}/security/refresh_token_expiration", adminAccess, nil, want{200, ""}, false},
	{"PUT", "/api/admin/v3.0/groups/{group}/apps/{appID}/security/refresh_token_expiration", adminAccess, map[string]any{"expiration_time_seconds": 1800}, want{204, ""}, false},
	{"GET", "/api/admin/v3.0/groups/{group}/apps/{appID}/security/allowed_request_origins", adminAccess, nil, want{200, ""}, false},
	{"POST", "/api/admin/v3.0/groups/{group}/apps/{appID}/security/allowed_request_origins", adminAccess, []string{"https://authz.example.com"}, want{204, ""}, false},
	{"GET", "/api/admin/v3.0/groups/{group}/apps/{appID}/auth_providers", adminAccess, nil, want{200, ""}, false},
	{"POST", "/api/admin/v3.0/groups/{group}/apps/{appID}/auth_providers", adminAccess, map[string]any{"type": "custom-function", "config": map[string]any{"url": "http://127.0.0.1:9/fn"}, "secret_config": map[string]any{"secret": "authz-webhook-secret"}}, want{201, ""}, false},
	{"GET", "/api/admin/v3.0/groups/{group}/apps/{appID}/auth_providers/{provider}", adminAccess, nil, want{200, ""}, false},
	{"PUT", "/api/admin/v3.0/groups/{group}/apps/{appID}/auth_providers/{provider}", adminAccess, map[string]any{"config": map[string]any{}}, want{404, noCode}, false},
	{"DELETE", "/api/admin/v3.0/groups/{group}/apps/{appID}/auth_providers/{provider}", adminAccess, nil, want{400, "InvalidParameter"}, false},
	{"PUT", "/api/admin/v3.0/groups/{group}/apps/{appID}/auth_providers/{provider}/enable", adminAccess, nil, want{204, ""}, false},
	{"PUT", "/api/admin/v3.0/groups/{group}/apps/{appID}/auth_providers/{provider}/disable", adminAccess, nil, want{204, ""}, false},
	{"GET", "/api/admin/v3.0/groups/{group}/apps/{appID}/audit", adminAccess, nil, want{200, ""}, false},
	{"POST", "/api/admin/v3.0/groups/{group}/apps/{appID}/leak_secret", adminAccess, nil, want{201, ""}, false},

	{"GET", "/api/admin/v3.0/groups/{group}/apps/{appID}/api_keys", adminAccess, nil, want{200, ""}, false},
	{"POST", "/api/admin/v3.0/groups/{group}/apps/{appID}/api_keys", adminAccess, map[string]any{"name": "authz"}, want{201, ""}, false},
	{"GET", "/api/admin/v3.0/groups/{group}/apps/{appID}/api_keys/{keyID}", adminAccess, nil, noSuchKey, false},
	{"DELETE", "/api/admin/v3.0/groups/{group}/apps/{appID}/api_keys/{keyID}", adminAccess, nil, noSuchKey, false},
	{"PUT", "/api/admin/v3.0/groups/{group}/apps/{appID}/api_keys/{keyID}/enable", adminAccess, nil, noSuchKey, false},
	{"PUT", "/api/admin/v3.0/groups/{group}/apps/{appID}/api_keys/{keyID}/disable", adminAccess, nil, noSuchKey, false},

	{"GET", "/api/admin/v3.0/groups/{group}/apps/{appID}/users", adminAccess, nil, want{200, ""}, false},
	{"POST", "/api/admin/v3.0/groups/{group}/apps/{appID}/users/verify_token", adminAccess, map[string]any{"token": "x"}, invalidSession, false},
	{"GET", "/api/admin/v3.0/groups/{group}/apps/{appID}/users/{userID}", adminAccess, nil, noSuchUser, false},
	{"DELETE", "/api/admin/v3.0/groups/{group}/apps/{appID}/users/{userID}", adminAccess, nil, noSuchUser, false},
	{"PUT", "/api/admin/v3.0/groups/{group}/apps/{appID}/users/{userID}/enable", adminAccess, nil, noSuchUser, false},
	{"PUT", "/api/admin/v3.0/groups/{group}/apps/{appID}/users/{userID}/disable", adminAccess, nil, noSuchUser, false},
	{"PUT", "/api/admin/v3.0/groups/{group}/apps/{appID}/users/{userID}/logout", adminAccess, nil, noSuchUser, false},
	{"GET", "/api/admin/v3.0/groups/{group}/apps/{appID}/users/{userID}/custom_data", adminAccess, nil, noSuchUser, false},
	{"PUT", "/api/admin/v3.0/groups/{group}/apps/{appID}/users/{userID}/custom_data", adminAccess, map[string]any{"plan": "authz"}, noSuchUser, false},
	{"DELETE", "/api/admin/v3.0/groups/{group}/apps/{appID}/users/{userID}/custom_data", adminAccess, nil, noSuchUser, false},
	{"GET", "/api/admin/v3.0/groups/{group}/apps/{appID}/users/{userID}/api_keys", adminAccess, nil, noSuchUser, false},
	{"GET", "/api/admin/v3.0/groups/{group}/apps/{appID}/users/{userID}/api_keys/{keyID}", adminAccess, nil, noSuchUser, false},
	{"PUT", "/api/admin/v3.0/groups/{group}/apps/{appID}/users/{userID}/api_keys/{keyID}/enable", adminAccess, nil, noSuchUser, false},
	{"PUT", "/api/admin/v3.0/groups/{group}/apps/{appID}/users/{userID}/api_keys/{keyID}/disable", adminAccess, nil, noSuchUser, false},
	{"DELETE", "/api/admin/v3.0/groups/{group}/apps/{appID}/users/{userID}/api_keys/{keyID}", adminAccess, nil, noSuchUser, false},
	{"PATCH", "/api/admin/v3.0/groups/{group}/apps/{appID}/users/{userID}/api_keys/{keyID}", adminAccess, map[string]any{"meta": nil}, noSuchUser, false},
	{"GET", "/api/admin/v3.0/groups/{group}/apps/{appID}/users/{userID}/api_keys/{keyID}/usage", adminAccess, nil, noSuchUser, false},
}

// TestAuthorizationMatrix sends every route of the client and admin APIs a request from
// every kind of caller and checks the exact status and error code the contract gives.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	wantRoutesCovered(t)
	fx := newAuthzFixture(t)
	for _, r := range authzRoutes {
		t.Run(r.method+" "+r.pattern, func(t *testing.T) {
			for _, c := range callers {
				w := r.want(c)
				got := fx.send(t, r, c)
				if got.Status != w.status || (w.code == noCode && got.HasErrorCode) || got.ErrorCode != w.code {
					t.Errorf("%s: %d %q, want %v (%s)", c, got.Status, got.ErrorCode, w, got.Body)
				}
				switch {
				case c == cNoToken && r.class != public:
					if got.Error != "must authenticate first" {
						t.Errorf("%s: error = %q, want must authenticate first", c, got.Error)
					}
				case c == cEmptyBearer && r.class != public:
					if got.Error != "expected Authorization header with JWT (Bearer schema)" {
						t.Errorf("%s: error = %q, want the contract's text", c, got.Error)
					}
				}
				if r.destructive && got.Status < 300 {
					fx.forget(c)
				}
			}
		})
	}
}

// wantRoutesCovered compares the matrix's rows with the routes that routes.go registers,
// reading routes.go's handle calls and the prefix constants they use.
func wantRoutesCovered(t *testing.T) {
	t.Helper()
	src, err := os.ReadFile("routes.go")
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	eval := func(expr string) (string, bool) {
		var s string
		for _, part := range strings.Split(expr, "+") {
			part = strings.TrimSpace(part)
			if v, err := strconv.Unquote(part); err == nil {
				s += v
			} else if v, ok := consts[part]; ok {
				s += v
			} else {
				return "", false
			}
		}
		return s, true
	}
	for _, m := range regexp.MustCompile(`(?m)^\t(\w+)\s*=\s*(.+)$`).FindAllStringSubmatch(string(src), -1) {
		if v, ok := eval(m[2]); ok {
			consts[m[1]] = v
		}
	}
	calls := regexp.MustCompile(`\bhandle\(`).FindAllStringIndex(string(src), -1)
	var registered []string
	for _, m := range regexp.MustCompile(`\bhandle\("([A-Z]+)", ([^,]+),`).FindAllStringSubmatch(string(src), -1) {
		path, ok := eval(m[2])
		if !ok {
			t.Fatalf("routes.go: cannot read the path %s: teach wantRoutesCovered its prefix", m[2])
		}
		registered = append(registered, m[1]+" "+path)
	}
	if len(registered) != len(calls) || len(registered) < 50 {
		t.Fatalf("routes.go: read %d of %d handle calls", len(registered), len(calls))
	}
	covered := map[string]bool{}
	for _, r := range authzRoutes {
		if covered[r.method+" "+r.pattern] {
			t.Errorf("authzRoutes: %s %s has two rows", r.method, r.pattern)
		}
		covered[r.method+" "+r.pattern] = true
	}
	for _, route := range registered {
		if !covered[route] {
			t.Errorf("routes.go registers %s: give it a row in authzRoutes", route)
		}
		delete(covered, route)
	}
	for route := range covered {
		t.Errorf("authzRoutes has %s, which routes.go does not register", route)
	}
	if t.Failed() {
		t.FailNow()
	}
}

// principal is someone logged in: its tokens, and for the AppUser the id of its key.
type principal struct {
	access, refresh string
	keyID           string
}

// authzFixture makes the matrix's callers when a row first needs them, and again after a
// row's success has ended them.
type authzFixture struct {
	e          *env
	signingKey *ecdsa.PrivateKey
	principals map[caller]*principal
	targetApp  bool // the app that admin routes name exists
	scopes     bool // the app has scopes for cScopedKey's key
}

const (
	authzOtherApp  = "authz-other"
	authzTargetApp = "authz-target"
)

func newAuthzFixture(t *testing.T) *authzFixture {
	t.Helper()
	e, _ := newAdminEnv(t)
	e.CreateApp(t, authzOtherApp, nil)
	var parsed any
	for _, k := range e.SigningKeys(t) {
		if k.Algorithm != "ES256" {
			continue
		}
		var err error
		if parsed, err = x509.ParsePKCS8PrivateKey(k.PrivateKey); err != nil {
			t.Fatal(err)
		}
	}
	return &authzFixture{e: e, signingKey: parsed.(*ecdsa.PrivateKey), principals: map[caller]*principal{}}
}

// forget drops what caller c logged in with, after a row's success ended it.
func (fx *authzFixture) forget(c caller) {
	delete(fx.principals, c)
	if c == cAdmin {
		fx.targetApp = false
	}
}

// principal returns caller c's principal, logging it in first if needed.
func (fx *authzFixture) principal(t *testing.T, c caller) *principal {
	t.Helper()
	if p := fx.principals[c]; p != nil {
		return p
	}
	e := fx.e
	fromLogin := func(l login) *principal { return &principal{access: l.AccessToken, refresh: l.RefreshToken} }
	var p *principal
	switch c {
	case cAppUser:
		u := e.newUser(t, e.AppID)
		p = fromLogin(u.login)
		p.keyID = e.createKey(t, u.RefreshToken, "owned").ID
	case cOtherUser:
		p = fromLogin(e.newUser(t, e.AppID).login)
	case cOtherApp:
		p = fromLogin(e.newUser(t, authzOtherApp).login)
	case cAnonymous:
		p = fromLogin(e.login(t, e.AppID, "anon-user", nil))
	case cKeySession:
		u := e.newUser(t, e.AppID)
		p = fromLogin(e.loginKey(t, e.AppID, e.createKey(t, u.RefreshToken, "session").Key))
	case cScopedKey:
		if !fx.scopes {
			e.patchSettings(t, fx.principal(t, cAdmin).access, e.AppID, map[string]any{"scopes": []string{"read", "write"}})
			fx.scopes = true
		}
		u := e.newUser(t, e.AppID)
		k := e.createKeyWith(t, u.RefreshToken, map[string]any{"name": "scoped", "scopes": []string{"read"}})
		p = fromLogin(e.loginKey(t, e.AppID, k.Key))
	case cDisabledKey:
		u := e.newUser(t, e.AppID)
		k := e.createKey(t, u.RefreshToken, "disabled")
		p = fromLogin(e.loginKey(t, e.AppID, k.Key))
		e.do(t, "PUT", keyPath(k.ID)+"/disable", u.RefreshToken, nil).wantEmpty(t, http.StatusNoContent)
	case cEndedSession:
		p = fromLogin(e.newUser(t, e.AppID).login)
		e.do(t, "DELETE", authPath+"/session", p.refresh, nil).wantEmpty(t, http.StatusNoContent)
	case cServerKeyUser:
		name := "server-" + strconv.FormatInt(e.seq.Add(1), 10)
		p = fromLogin(e.loginKey(t, e.AppID, e.createServerKey(t, fx.principal(t, cAdmin).access, e.App.ID, name).Key))
	case cDisabledUser:
		u := e.newUser(t, e.AppID)
		if err := e.Store.SetUserDisabled(context.Background(), e.App.ID, u.UserID, true); err != nil {
			t.Fatal(err)
		}
		p = fromLogin(u.login)
	case cDeletedUser:
		u := e.newUser(t, e.AppID)
		if err := e.Store.DeleteUser(context.Background(), e.App.ID, u.UserID); err != nil {
			t.Fatal(err)
		}
		p = fromLogin(u.login)
	case cAdmin:
		p = fromLogin(e.adminLogin(t, rootEmail, rootPassword))
	default:
		t.Fatalf("no principal for %s", c)
	}
	fx.principals[c] = p
	return p
}

// token returns the Authorization header caller c sends to route r, or "" for none.
func (fx *authzFixture) token(t *testing.T, r authzRoute, c caller) string {
	t.Helper()
	wantsRefresh := r.class == refresh || r.class == keys || r.class == keyByID || r.class == adminRefresh
	pick := func(p *principal, refresh bool) string {
		if refresh {
			return p.refresh
		}
		return p.access
	}
	// The principal whose tokens are tampered with: the route's own kind of caller.
	own := cAppUser
	if r.class == adminAccess || r.class == adminRefresh || r.class == leak {
		own = cAdmin
	}
	if r.class == backend {
		own = cServerKeyUser
	}
	switch c {
	case cNoToken:
		return ""
	case cEmptyBearer:
		return "Bearer "
	case cMalformed:
		return "Bearer not-a-jwt"
	case cBadSignature:
		forger, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + resign(t, pick(fx.principal(t, own), wantsRefresh), forger, nil)
	case cExpired:
		past := fx.e.Clock.Now().Add(-time.Minute).Unix()
		return "Bearer " + resign(t, pick(fx.principal(t, own), wantsRefresh), fx.signingKey, func(claims map[string]any) {
			claims["iat"], claims["exp"] = past-60, past
		})
	case cWrongType:
		return "Bearer " + pick(fx.principal(t, own), !wantsRefresh)
	}
	return "Bearer " + pick(fx.principal(t, c), wantsRefresh)
}

// resign signs token's header and claims (changed by edit, if not nil) with key.
func resign(t *testing.T, token string, key *ecdsa.PrivateKey, edit func(map[string]any)) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	payload := parts[1]
	if edit != nil {
		raw, err := base64.RawURLEncoding.DecodeString(payload)
		if err != nil {
			t.Fatal(err)
		}
		claims := map[string]any{}
		mustUnmarshal(t, raw, &claims)
		edit(claims)
		raw, err = json.Marshal(claims)
		if err != nil {
			t.Fatal(err)
		}
		payload = base64.RawURLEncoding.EncodeToString(raw)
	}
	sig, err := jwt.SigningMethodES256.Sign(parts[0]+"."+payload, key)
	if err != nil {
		t.Fatal(err)
	}
	return parts[0] + "." + payload + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// send sends route r's request as caller c.
func (fx *authzFixture) send(t *testing.T, r authzRoute, c caller) *response {
	t.Helper()
	e := fx.e
	fill := map[string]string{
		"{app}": e.AppID, "{provider}": latchkey.ProviderAnonymous, "{group}": latchkey.GroupID,
		"{appID}": authzTargetApp, "{userID}": fakeID, "{keyID}": fakeID,
	}
	if strings.Contains(r.pattern, "{id}") {
		fill["{id}"] = fx.principal(t, cAppUser).keyID
	}
	if strings.Contains(r.pattern, "{appID}") && !fx.targetApp {
		e.CreateApp(t, authzTargetApp, nil)
		fx.targetApp = true
	}
	path := r.pattern
	for k, v := range fill {
		path = strings.ReplaceAll(path, k, v)
	}
	header := fx.token(t, r, c)
	req := e.newRequest(t, r.method, path, r.body)
	if header != "" {
		req.Header.Set("Authorization", header)
	}
	return e.send(t, req)
}
