package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
	"github.com/latchkey/latchkey/internal/testidp"
	"github.com/latchkey/latchkey/internal/testserver"
	"github.com/latchkey/latchkey/webhook"
)

const (
	hsSecret      = "an-hs256-secret-of-at-least-32-characters"
	webhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
)

// idToken is an ID token of p for the issuer, audience and subject, valid at the server's
// clock, with the extra claims.
func idToken(t *testing.T, p *testidp.Provider, srv *testserver.Server, iss, aud, sub string, extra jwt.MapClaims) string {
	t.Helper()
	c := claims(srv, sub, aud)
	c["iss"] = iss
	for k, v := range extra {
		c[k] = v
	}
	return p.Sign(t, c)
}

// claims are valid claims for sub and aud at the server's clock.
func claims(srv *testserver.Server, sub, aud string) jwt.MapClaims {
	now := srv.Clock.Now()
	return jwt.MapClaims{"sub": sub, "aud": aud, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

// customToken is a JWT for sub that the app's custom-token provider accepts, with the extra
// claims.
func customToken(t *testing.T, srv *testserver.Server, sub string, extra jwt.MapClaims) string {
	t.Helper()
	c := claims(srv, sub, "my-aud")
	for k, v := range extra {
		c[k] = v
	}
	return testidp.SignHS(t, hsSecret, c)
}

// functionReceiver is the app's custom function: a webhook that checks the server's
// signature and logs the payload's username in as "fn-<username>", with the payload's
// custom_data. It records the payloads it gets.
func functionReceiver(t *testing.T, srv *testserver.Server, payloads chan<- map[string]any) string {
	t.Helper()
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(webhookSecret, r.Header, body, srv.Clock.Now(), 5*time.Minute); err != nil {
			t.Errorf("webhook signature: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var payload map[string]any
		json.Unmarshal(body, &payload)
		select {
		case payloads <- payload:
		default:
		}
		name, _ := payload["username"].(string)
		json.NewEncoder(w).Encode(map[string]any{"id": "fn-" + name, "name": name, "custom_data": payload["custom_data"]})
	}))
	t.Cleanup(fn.Close)
	return fn.URL + "/login"
}

// newExternalServer starts a server whose default app has the four external providers: a
// custom token (HS256, audience my-aud, the email claim mapped), the custom function of
// functionReceiver, and Google and Apple checked against p's key set.
func newExternalServer(t *testing.T, p *testidp.Provider, payloads chan<- map[string]any) *testserver.Server {
	t.Helper()
	srv := newAdminServer(t)
	admin := mustLogInAdmin(t, srv)
	for _, ap := range []client.AuthProvider{{
		Type:           client.ProviderCustomToken,
		Config:         latchkey.AuthProviderConfig{Audience: []string{"my-aud"}, SigningAlgorithm: latchkey.AlgHS256},
		MetadataFields: []latchkey.MetadataField{{Name: "email"}},
		Secrets:        &latchkey.AuthProviderSecrets{SigningKeys: []string{hsSecret}},
	}, {
		Type:    client.ProviderCustomFunction,
		Config:  latchkey.AuthProviderConfig{URL: functionReceiver(t, srv, payloads)},
		Secrets: &latchkey.AuthProviderSecrets{Secret: webhookSecret},
	}, {
		Type:   client.ProviderGoogle,
		Config: latchkey.AuthProviderConfig{ClientID: "google-client", JWKURI: p.URL("/jwks")},
	}, {
		Type:   client.ProviderApple,
		Config: latchkey.AuthProviderConfig{ClientID: "com.example.app", JWKURI: p.URL("/jwks")},
	}} {
		if _, err := admin.CreateAuthProvider(context.Background(), srv.AppID, ap); err != nil {
			t.Fatalf("configure %s: %v", ap.Type, err)
		}
	}
	return srv
}

// mustIdentity returns the user's identity of the provider, as its profile lists it.
func mustIdentity(t *testing.T, u *client.User, provider string) client.Identity {
	t.Helper()
	p, err := u.Profile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range p.Identities {
		if id.ProviderType == provider {
			return id
		}
	}
	t.Fatalf("identities %+v: none of %s", p.Identities, provider)
	return client.Identity{}
}

func TestLogIn_External(t *testing.T) {
	p := testidp.New(t)
	payloads := make(chan map[string]any, 1)
	srv := newExternalServer(t, p, payloads)

	for _, tc := range []struct {
		name       string
		creds      func() client.Credentials
		provider   string
		externalID string
		data       map[string]any // the identity's provider_data
	}{{
		"JWT", func() client.Credentials {
			return client.JWTCredentials(customToken(t, srv, "jwt-1", jwt.MapClaims{"email": "jay@example.com"}))
		}, client.ProviderCustomToken, "jwt-1", map[string]any{"email": "jay@example.com"},
	}, {
		"Function", func() client.Credentials {
			return client.FunctionCredentials(map[string]any{"username": "fay"})
		}, client.ProviderCustomFunction, "fn-fay", map[string]any{"name": "fay"},
	}, {
		"Google", func() client.Credentials {
			return client.GoogleCredentials(idToken(t, p, srv, latchkey.GoogleIssuer, "google-client", "g-1", jwt.MapClaims{"email": "gee@example.com"}))
		}, client.ProviderGoogle, "g-1", map[string]any{"email": "gee@example.com"},
	}, {
		"Apple", func() client.Credentials {
			return client.AppleCredentials(idToken(t, p, srv, latchkey.AppleIssuer, "com.example.app", "a-1", nil))
		}, client.ProviderApple, "a-1", nil,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			creds := tc.creds()
			if creds.Provider() != tc.provider {
				t.Fatalf("Provider() = %q, want %q", creds.Provider(), tc.provider)
			}
			app := mustNewApp(t, srv)
			u := mustLogIn(t, app, creds)
			if u.Provider() != tc.provider || app.CurrentUser() != u {
				t.Errorf("logged in as %s with %s, current %v; want the current user, with %s", u.ID(), u.Provider(), app.CurrentUser(), tc.provider)
			}
			id := mustIdentity(t, u, tc.provider)
			if id.ID != tc.externalID {
				t.Errorf("identity id = %q, want %q", id.ID, tc.externalID)
			}
			for k, v := range tc.data {
				if id.ProviderData[k] != v {
					t.Errorf("provider_data = %v, want %s: %v", id.ProviderData, k, v)
				}
			}
			// The same identity logs in as the same user.
			if again := mustLogIn(t, mustNewApp(t, srv), tc.creds()); again.ID() != u.ID() {
				t.Errorf("second login: user %s, want %s", again.ID(), u.ID())
			}
		})
	}

	t.Run("FunctionPayloadAtTopLevel", func(t *testing.T) {
		for len(payloads) > 0 {
			<-payloads
		}
		mustLogIn(t, mustNewApp(t, srv), client.FunctionCredentials(map[string]any{"username": "top", "pin": 1234}))
		got := <-payloads
		if got["username"] != "top" || got["pin"] != float64(1234) {
			t.Errorf("the function got %v; want username and pin at the top level", got)
		}
	})
}

func TestUser_LinkCredentials(t *testing.T) {
	ctx := context.Background()
	srv := newExternalServer(t, testidp.New(t), nil)

	t.Run("OK", func(t *testing.T) {
		app := mustNewApp(t, srv)
		anon := mustLogIn(t, app, client.AnonymousCredentials())
		access, refresh := anon.AccessToken(), anon.RefreshToken()
		if _, err := anon.APIKeys().Create(ctx, "before"); err == nil {
			t.Fatal("an anonymous user created a key")
		}
		srv.Clock.Advance(time.Second) // a new iat, so a new access token

		if err := anon.LinkCredentials(ctx, client.JWTCredentials(customToken(t, srv, "linked", nil))); err != nil {
			t.Fatal(err)
		}
		if anon.RefreshToken() != refresh || anon.AccessToken() == access || anon.AccessToken() == "" {
			t.Error("want the new access token and the same refresh token")
		}
		if anon.Provider() != client.ProviderCustomToken {
			t.Errorf("Provider() = %q, want %q", anon.Provider(), client.ProviderCustomToken)
		}
		if id := mustIdentity(t, anon, client.ProviderCustomToken); id.ID != "linked" {
			t.Errorf("linked identity %+v, want id linked", id)
		}
		// No longer anonymous: it may create keys, and the token logs in as it.
		mustCreateKey(t, anon, "after")
		if u := mustLogIn(t, mustNewApp(t, srv), client.JWTCredentials(customToken(t, srv, "linked", nil))); u.ID() != anon.ID() {
			t.Errorf("login with the linked token: user %s, want %s", u.ID(), anon.ID())
		}
		// Logging out keeps the user, who can log in again.
		if err := anon.LogOut(ctx); err != nil {
			t.Fatal(err)
		}
		if all := app.AllUsers(); len(all) != 1 || all[0] != anon {
			t.Errorf("AllUsers after logging out = %v, want the linked user kept", all)
		}
	})

	t.Run("EmailPassword", func(t *testing.T) {
		app := mustNewApp(t, srv)
		email := newEmail()
		if err := app.EmailPasswordAuth().RegisterUser(ctx, email, password); err != nil {
			t.Fatal(err)
		}
		anon := mustLogIn(t, app, client.AnonymousCredentials())
		if err := anon.LinkCredentials(ctx, client.EmailPasswordCredentials(email, password)); err != nil {
			t.Fatal(err)
		}
		p, err := anon.Profile(ctx)
		if err != nil || p.Email() != email {
			t.Fatalf("profile = %+v, %v; want the email %s", p, err, email)
		}
		if u := mustLogIn(t, mustNewApp(t, srv), client.EmailPasswordCredentials(email, password)); u.ID() != anon.ID() {
			t.Errorf("login with the linked email: user %s, want %s", u.ID(), anon.ID())
		}
	})

	t.Run("ExpiredAccessToken", func(t *testing.T) {
		anon := mustLogIn(t, mustNewApp(t, srv), client.AnonymousCredentials())
		srv.Clock.Advance(31 * time.Minute)
		if err := anon.LinkCredentials(ctx, client.JWTCredentials(customToken(t, srv, "late", nil))); err != nil {
			t.Fatalf("link with an expired access token: %v; want it refreshed and sent again", err)
		}
		if id := mustIdentity(t, anon, client.ProviderCustomToken); id.ID != "late" {
			t.Errorf("linked identity %+v, want id late", id)
		}
	})

	t.Run("ErrAccountNameInUse", func(t *testing.T) {
		taken := mustLogIn(t, mustNewApp(t, srv), client.JWTCredentials(customToken(t, srv, "taken", nil)))
		anon := mustLogIn(t, mustNewApp(t, srv), client.AnonymousCredentials())
		access := anon.AccessToken()
		err := anon.LinkCredentials(ctx, client.JWTCredentials(customToken(t, srv, "taken", nil)))
		wantError(t, err, http.StatusConflict, client.ErrAccountNameInUse)
		if anon.AccessToken() != access || anon.Provider() != client.ProviderAnonymous || !anon.IsLoggedIn() {
			t.Error("a refused link changed the user's session")
		}
		if u := mustLogIn(t, mustNewApp(t, srv), client.JWTCredentials(customToken(t, srv, "taken", nil))); u.ID() != taken.ID() {
			t.Errorf("the identity moved to %s, want it kept by %s", u.ID(), taken.ID())
		}
	})

	t.Run("RefusedCredentialSentOnce", func(t *testing.T) {
		var requests atomic.Int64
		app := mustNewApp(t, srv, client.WithHTTPClient(&http.Client{Transport: countingTransport{&requests}}))
		anon := mustLogIn(t, app, client.AnonymousCredentials())
		before := requests.Load()
		bad, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(srv, "x", "my-aud")).SignedString([]byte("another-secret-of-at-least-32-characters"))
		if err != nil {
			t.Fatal(err)
		}
		err = anon.LinkCredentials(ctx, client.JWTCredentials(bad))
		wantError(t, err, http.StatusUnauthorized, client.ErrAuth)
		if n := requests.Load() - before; n != 1 {
			t.Errorf("%d requests for a refused link, want 1: a refused credential is not refreshed and sent again", n)
		}
		if !anon.IsLoggedIn() {
			t.Error("a refused credential logged the user out")
		}
	})

	t.Run("AnonymousRefusedBeforeSending", func(t *testing.T) {
		var requests atomic.Int64
		app := mustNewApp(t, srv, client.WithHTTPClient(&http.Client{Transport: countingTransport{&requests}}))
		u := mustRegister(t, app)
		before := requests.Load()
		err := u.LinkCredentials(ctx, client.AnonymousCredentials())
		var e *client.Error
		if err == nil || errors.As(err, &e) || !strings.Contains(err.Error(), "anonymous credentials cannot be linked") {
			t.Errorf("err = %v, want the SDK's own refusal of anonymous credentials", err)
		}
		if n := requests.Load() - before; n != 0 {
			t.Errorf("%d requests sent, want none", n)
		}
	})

	t.Run("ErrNotLoggedIn", func(t *testing.T) {
		u := mustRegister(t, mustNewApp(t, srv))
		if err := u.LogOut(ctx); err != nil {
			t.Fatal(err)
		}
		if err := u.LinkCredentials(ctx, client.JWTCredentials(customToken(t, srv, "nobody", nil))); !errors.Is(err, client.ErrNotLoggedIn) {
			t.Errorf("err = %v, want ErrNotLoggedIn", err)
		}
	})

	t.Run("AnotherUserAnswered", func(t *testing.T) {
		// A front that answers the link for another user id; the real server never does.
		back, _ := url.Parse(srv.URL)
		proxy := httputil.NewSingleHostReverseProxy(back)
		proxy.ModifyResponse = func(r *http.Response) error {
			if r.Request.URL.Query().Get("link") != "true" {
				return nil
			}
			var body map[string]any
			json.NewDecoder(r.Body).Decode(&body)
			body["user_id"] = "000000000000000000000001"
			b, _ := json.Marshal(body)
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
			r.Header.Del("Content-Length")
			return nil
		}
		var front *httptest.Server
		front = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/location") {
				json.NewEncoder(w).Encode(map[string]string{"hostname": front.URL})
				return
			}
			proxy.ServeHTTP(w, r)
		}))
		defer front.Close()
		app, err := client.NewApp(front.URL, srv.AppID)
		if err != nil {
			t.Fatal(err)
		}
		anon := mustLogIn(t, app, client.AnonymousCredentials())
		access := anon.AccessToken()
		err = anon.LinkCredentials(ctx, client.JWTCredentials(customToken(t, srv, "elsewhere", nil)))
		if err == nil || !strings.Contains(err.Error(), "answered for user") {
			t.Errorf("err = %v, want the answer for another user refused", err)
		}
		if anon.AccessToken() != access {
			t.Error("the access token of another user's answer was taken")
		}
	})
}
