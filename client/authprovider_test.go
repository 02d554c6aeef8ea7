package client_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
	"github.com/latchkey/latchkey/internal/testserver"
)

// The secrets the tests set: none may come back in any answer.
const (
	hsKey        = "an HS256 signing key of 32+ characters"
	newHSKey     = "another HS256 signing key, 32+ characters"
	webhookKey   = "whsec_dGhlIHdlYmhvb2sncyBzaWduaW5nIHNlY3JldA==" // "the webhook's signing secret"
	providersApp = "ext-app"
)

// recorder is a transport that keeps every answer's body, to check what the server showed.
type recorder struct {
	mu     sync.Mutex
	bodies []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	r.mu.Lock()
	r.bodies = append(r.bodies, string(b))
	r.mu.Unlock()
	return resp, nil
}

// showed reports whether any answer so far contained s.
func (r *recorder) showed(s string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.bodies {
		if strings.Contains(b, s) {
			return true
		}
	}
	return false
}

// hs256Token signs claims with key, as a custom JWT issuer would.
func hs256Token(t *testing.T, key string, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signed := enc(map[string]string{"alg": "HS256", "typ": "JWT"}) + "." + enc(claims)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(signed))
	return signed + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// customTokenLogin logs in to the app with a custom token signed with key, the way realm-web's
// Credentials.jwt does, and returns the status.
func customTokenLogin(t *testing.T, srv *testserver.Server, appID, key, audience string) int {
	t.Helper()
	now := srv.Clock.Now()
	token := hs256Token(t, key, map[string]any{"sub": "ext-user-1", "aud": audience, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"user": map[string]any{"name": "Ann"}})
	body, _ := json.Marshal(map[string]string{"token": token})
	resp, err := http.Post(srv.URL+"/api/client/v2.0/app/"+appID+"/auth/providers/custom-token/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestAdminAuthProviders configures each kind of external provider through the SDK and reads
// it back: settings shown, secrets never; a replacement keeps the secrets it leaves out.
func TestAdminAuthProviders(t *testing.T) {
	ctx := context.Background()
	srv := newAdminServer(t)
	var answers recorder
	a := mustLogInAdmin(t, srv, client.WithHTTPClient(&http.Client{Transport: &answers}))
	if _, err := a.CreateApp(ctx, providersApp, client.AppSettingsUpdate{}); err != nil {
		t.Fatal(err)
	}

	customToken := client.AuthProvider{
		Type:   latchkey.ProviderCustomToken,
		Config: latchkey.AuthProviderConfig{Audience: []string{"my-aud"}, SigningAlgorithm: latchkey.AlgHS256},
		MetadataFields: []latchkey.MetadataField{
			{Required: true, Name: "user.name", FieldName: "name"},
			{Name: "email"},
		},
		Secrets: &latchkey.AuthProviderSecrets{SigningKeys: []string{hsKey}},
	}
	customFunction := client.AuthProvider{
		Type:    latchkey.ProviderCustomFunction,
		Config:  latchkey.AuthProviderConfig{URL: "http://127.0.0.1:9/auth", TimeoutMS: 1000},
		Secrets: &latchkey.AuthProviderSecrets{Secret: webhookKey},
	}
	google := client.AuthProvider{Type: latchkey.ProviderGoogle, Config: latchkey.AuthProviderConfig{ClientID: "google-client", OpenID: true}}
	apple := client.AuthProvider{Type: latchkey.ProviderApple, Disabled: true,
		Config: latchkey.AuthProviderConfig{ClientIDs: []string{"com.example.app", "com.example.web"}, JWKURI: "http://127.0.0.1:9/keys"}}

	// What the server keeps and shows of each.
	shown := map[string]client.AuthProvider{
		latchkey.ProviderCustomToken: {ID: "custom-token", Name: "custom-token", Type: "custom-token",
			Config: customToken.Config,
			MetadataFields: []latchkey.MetadataField{
				{Required: true, Name: "user.name", FieldName: "name"},
				{Name: "email", FieldName: "email"},
			},
			SecretsSet: true},
		latchkey.ProviderCustomFunction: {ID: "custom-function", Name: "custom-function", Type: "custom-function",
			Config: customFunction.Config, SecretsSet: true},
		latchkey.ProviderGoogle: {ID: "oauth2-google", Name: "oauth2-google", Type: "oauth2-google",
			Config: latchkey.AuthProviderConfig{ClientID: "google-client", OpenID: true, Issuer: latchkey.GoogleIssuer, JWKURI: latchkey.GoogleJWKURI}},
		latchkey.ProviderApple: {ID: "oauth2-apple", Name: "oauth2-apple", Type: "oauth2-apple", Disabled: true,
			Config: latchkey.AuthProviderConfig{ClientIDs: []string{"com.example.app", "com.example.web"}, Issuer: latchkey.AppleIssuer, JWKURI: "http://127.0.0.1:9/keys"}},
	}

	t.Run("OK", func(t *testing.T) {
		for _, p := range []client.AuthProvider{customToken, customFunction, google, apple} {
			created, err := a.CreateAuthProvider(ctx, providersApp, p)
			if err != nil {
				t.Fatalf("CreateAuthProvider(%s): %v", p.Type, err)
			}
			if diff := cmp.Diff(shown[p.Type], created); diff != "" {
				t.Fatalf("CreateAuthProvider(%s) (-want +got):\n%s", p.Type, diff)
			}
			got, err := a.AuthProvider(ctx, providersApp, p.Type)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(shown[p.Type], got); diff != "" {
				t.Fatalf("AuthProvider(%s) (-want +got):\n%s", p.Type, diff)
			}
		}

		ps, err := a.AuthProviders(ctx, providersApp)
		if err != nil {
			t.Fatal(err)
		}
		want := []client.AuthProvider{
			{ID: "anon-user", Name: "anon-user", Type: "anon-user"},
			{ID: "local-userpass", Name: "local-userpass", Type: "local-userpass"},
			{ID: "api-key", Name: "api-key", Type: "api-key"},
			shown[latchkey.ProviderCustomFunction], shown[latchkey.ProviderCustomToken],
			shown[latchkey.ProviderApple], shown[latchkey.ProviderGoogle],
		}
		if diff := cmp.Diff(want, ps); diff != "" {
			t.Fatalf("AuthProviders (-want +got):\n%s", diff)
		}
		if status := customTokenLogin(t, srv, providersApp, hsKey, "my-aud"); status != http.StatusOK {
			t.Fatalf("custom token login: status %d, want 200", status)
		}
	})
	t.Run("Replace", func(t *testing.T) {
		// Without Secrets the signing key stays: tokens it signs for the new audience log in.
		replaced, err := a.ReplaceAuthProvider(ctx, providersApp, client.AuthProvider{
			Type:   latchkey.ProviderCustomToken,
			Config: latchkey.AuthProviderConfig{Audience: []string{"new-aud"}, SigningAlgorithm: latchkey.AlgHS256},
		})
		if err != nil {
			t.Fatal(err)
		}
		want := client.AuthProvider{ID: "custom-token", Name: "custom-token", Type: "custom-token",
			Config: latchkey.AuthProviderConfig{Audience: []string{"new-aud"}, SigningAlgorithm: latchkey.AlgHS256}, SecretsSet: true}
		if diff := cmp.Diff(want, replaced); diff != "" {
			t.Fatalf("ReplaceAuthProvider (-want +got):\n%s", diff)
		}
		if got, _ := a.AuthProvider(ctx, providersApp, latchkey.ProviderCustomToken); !cmp.Equal(want, got) {
			t.Fatalf("AuthProvider after the replacement = %+v", got)
		}
		if status := customTokenLogin(t, srv, providersApp, hsKey, "new-aud"); status != http.StatusOK {
			t.Fatalf("login with the kept key: status %d, want 200", status)
		}
		if status := customTokenLogin(t, srv, providersApp, hsKey, "my-aud"); status != http.StatusUnauthorized {
			t.Fatalf("login for the replaced audience: status %d, want 401", status)
		}

		// With Secrets the key is replaced.
		_, err = a.ReplaceAuthProvider(ctx, providersApp, client.AuthProvider{
			Type:    latchkey.ProviderCustomToken,
			Config:  latchkey.AuthProviderConfig{Audience: []string{"new-aud"}, SigningAlgorithm: latchkey.AlgHS256},
			Secrets: &latchkey.AuthProviderSecrets{SigningKeys: []string{newHSKey}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if status := customTokenLogin(t, srv, providersApp, newHSKey, "new-aud"); status != http.StatusOK {
			t.Fatalf("login with the new key: status %d, want 200", status)
		}
		if status := customTokenLogin(t, srv, providersApp, hsKey, "new-aud"); status != http.StatusUnauthorized {
			t.Fatalf("login with the replaced key: status %d, want 401", status)
		}
	})
	t.Run("DisableEnable", func(t *testing.T) {
		if err := a.DisableAuthProvider(ctx, providersApp, latchkey.ProviderCustomToken); err != nil {
			t.Fatal(err)
		}
		if got, _ := a.AuthProvider(ctx, providersApp, latchkey.ProviderCustomToken); !got.Disabled || !got.SecretsSet {
			t.Fatalf("AuthProvider after DisableAuthProvider = %+v", got)
		}
		if status := customTokenLogin(t, srv, providersApp, newHSKey, "new-aud"); status != http.StatusBadRequest {
			t.Fatalf("login with a disabled provider: status %d, want 400", status)
		}
		if err := a.EnableAuthProvider(ctx, providersApp, latchkey.ProviderCustomToken); err != nil {
			t.Fatal(err)
		}
		if got, _ := a.AuthProvider(ctx, providersApp, latchkey.ProviderCustomToken); got.Disabled {
			t.Fatalf("AuthProvider after EnableAuthProvider = %+v", got)
		}
		if status := customTokenLogin(t, srv, providersApp, newHSKey, "new-aud"); status != http.StatusOK {
			t.Fatalf("login after EnableAuthProvider: status %d, want 200", status)
		}
		if err := a.EnableAuthProvider(ctx, providersApp, latchkey.ProviderApple); err != nil {
			t.Fatal(err)
		}
		if got, _ := a.AuthProvider(ctx, providersApp, latchkey.ProviderApple); got.Disabled {
			t.Fatalf("oauth2-apple is disabled after EnableAuthProvider: %+v", got)
		}
	})
	t.Run("ErrConflict", func(t *testing.T) {
		_, err := a.CreateAuthProvider(ctx, providersApp, google)
		wantError(t, err, http.StatusConflict, nil)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for name, p := range map[string]client.AuthProvider{
			"short HS256 key": {Type: latchkey.ProviderCustomToken, Config: latchkey.AuthProviderConfig{SigningAlgorithm: latchkey.AlgHS256},
				Secrets: &latchkey.AuthProviderSecrets{SigningKeys: []string{"short"}}},
			"alg none": {Type: latchkey.ProviderCustomToken, Config: latchkey.AuthProviderConfig{SigningAlgorithm: "none"},
				Secrets: &latchkey.AuthProviderSecrets{SigningKeys: []string{hsKey}}},
			"no webhook secret": {Type: latchkey.ProviderCustomFunction, Config: latchkey.AuthProviderConfig{URL: "https://fn.example.com/auth"}},
			"http to another host": {Type: latchkey.ProviderCustomFunction, Config: latchkey.AuthProviderConfig{URL: "http://fn.example.com/auth"},
				Secrets: &latchkey.AuthProviderSecrets{Secret: webhookKey}},
			"unknown type": {Type: "oauth2-facebook", Config: latchkey.AuthProviderConfig{ClientID: "fb"}},
		} {
			// Into an app that has none, so that only the settings can be wrong.
			_, err := a.CreateAuthProvider(ctx, srv.AppID, p)
			if e := wantError(t, err, http.StatusBadRequest, client.ErrInvalidParameter); t.Failed() {
				t.Fatalf("%s: %v", name, e)
			}
		}
		_, err := a.ReplaceAuthProvider(ctx, providersApp, client.AuthProvider{Type: latchkey.ProviderGoogle})
		wantError(t, err, http.StatusBadRequest, client.ErrInvalidParameter)
		if got, _ := a.AuthProvider(ctx, providersApp, latchkey.ProviderGoogle); !cmp.Equal(shown[latchkey.ProviderGoogle], got) {
			t.Fatalf("a refused replacement changed the provider: %+v", got)
		}
		if ps, err := a.AuthProviders(ctx, srv.AppID); err != nil || len(ps) != 3 {
			t.Fatalf("AuthProviders after refused creations = %+v, %v; want the built-in ones", ps, err)
		}
		_, err = a.CreateAuthProvider(ctx, srv.AppID, client.AuthProvider{})
		if err == nil || !strings.Contains(err.Error(), "needs its type") {
			t.Fatalf("CreateAuthProvider without a type: %v", err)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if err := a.DeleteAuthProvider(ctx, providersApp, latchkey.ProviderCustomFunction); err != nil {
			t.Fatal(err)
		}
		_, err := a.AuthProvider(ctx, providersApp, latchkey.ProviderCustomFunction)
		wantError(t, err, http.StatusNotFound, nil)
		wantError(t, a.DeleteAuthProvider(ctx, providersApp, latchkey.ProviderCustomFunction), http.StatusNotFound, nil)
		_, err = a.ReplaceAuthProvider(ctx, providersApp, customFunction)
		wantError(t, err, http.StatusNotFound, nil)
		wantError(t, a.DeleteAuthProvider(ctx, providersApp, latchkey.ProviderAnonymous), http.StatusBadRequest, client.ErrInvalidParameter)
		if ps, _ := a.AuthProviders(ctx, providersApp); len(ps) != 6 {
			t.Fatalf("AuthProviders after the delete = %+v, want 6", ps)
		}
		// Configured again, it is new.
		if _, err := a.CreateAuthProvider(ctx, providersApp, customFunction); err != nil {
			t.Fatal(err)
		}
	})

	for _, secret := range []string{hsKey, newHSKey, webhookKey, strings.TrimPrefix(webhookKey, "whsec_")} {
		if answers.showed(secret) {
			t.Errorf("an answer showed the secret %q", secret)
		}
	}
}
