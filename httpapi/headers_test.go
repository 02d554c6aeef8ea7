package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/httpapi"
)

// wrongSecurityHeaders returns how r's security headers differ from what every answer must
// carry. env.check applies it to every response of the HTTP tests.
func wrongSecurityHeaders(r *response) []string {
	var msgs []string
	want := map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"X-Frame-Options":        "DENY",
		"Cache-Control":          "no-store",
	}
	if r.Status == http.StatusOK && strings.HasSuffix(r.Path, "/.well-known/jwks.json") {
		want["Cache-Control"] = "public, max-age=300" // public keys, meant to be cached
	}
	for name, v := range want {
		if got := r.Header.Values(name); len(got) != 1 || got[0] != v {
			msgs = append(msgs, fmt.Sprintf("%s = %q, want %q", name, got, v))
		}
	}
	// The test servers listen on plain HTTP.
	if got := r.Header.Get("Strict-Transport-Security"); got != "" {
		msgs = append(msgs, fmt.Sprintf("Strict-Transport-Security = %q over plain HTTP", got))
	}
	return msgs
}

// TestNoStoreOnCredentials names the answers that carry a credential; each must forbid
// caching (env.check also holds every other answer to it).
func TestNoStoreOnCredentials(t *testing.T) {
	t.Parallel()
	e, admin := newAdminEnv(t)
	u := e.newUser(t, e.AppID) // password login
	k := e.createKey(t, u.RefreshToken, "k")
	answers := []*response{
		e.do(t, "POST", loginPath(e.AppID, "local-userpass"), "", map[string]string{"username": u.Email, "password": u.Password}),
		e.do(t, "POST", loginPath(e.AppID, "api-key"), "", map[string]string{"key": k.Key}),
		e.do(t, "POST", loginPath(e.AppID, "anon-user"), "", nil),
		e.do(t, "POST", authPath+"/session", u.RefreshToken, nil),
		e.do(t, "POST", keysPath, u.RefreshToken, map[string]string{"name": "k2"}),
		e.do(t, "POST", keyPath(k.ID)+"/rotate", u.RefreshToken, nil),
		e.do(t, "POST", adminLoginPath, "", map[string]string{"username": rootEmail, "password": rootPassword}),
		e.do(t, "POST", adminPath+"/auth/session", admin.RefreshToken, nil),
		e.do(t, "POST", adminAppPath(e.App.ID, "/leak_secret"), admin.AccessToken, nil),
		e.do(t, "POST", adminAppPath(e.App.ID, "/api_keys"), admin.AccessToken, map[string]string{"name": "server"}),
	}
	for _, r := range answers {
		if r.Status >= 300 {
			t.Errorf("%v: want a success", r)
		}
		if got := r.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%v: Cache-Control = %q, want no-store", r, got)
		}
	}
}

// TestHSTS checks that Strict-Transport-Security is sent over TLS, or when the public URL is
// https (a proxy terminates TLS), and not otherwise.
func TestHSTS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tt := range []struct {
		name, publicURL, target string
		want                    bool
	}{
		{"PlainHTTP", "http://auth.example.com", "http://auth.example.com/.well-known/jwks.json", false},
		{"TLS", "http://auth.example.com", "https://auth.example.com/.well-known/jwks.json", true},
		{"BehindTLSProxy", "https://auth.example.com", "http://auth.example.com/.well-known/jwks.json", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := httpapi.New(httpapi.Config{Apps: e.Service.Apps, Auth: e.Service.Auth, Userpass: e.Service.Userpass, APIKeys: e.Service.APIKeys, PublicURL: tt.publicURL})
			for _, target := range []string{tt.target, strings.Replace(tt.target, ".well-known/jwks.json", "nowhere", 1)} {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest("GET", target, nil)) // an https target sets r.TLS
				got := w.Header().Get("Strict-Transport-Security")
				if tt.want && got != "max-age=31536000" || !tt.want && got != "" {
					t.Errorf("GET %s: %d, Strict-Transport-Security = %q, want it: %v", target, w.Code, got, tt.want)
				}
				if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
					t.Errorf("GET %s: X-Content-Type-Options = %q", target, got)
				}
			}
		})
	}
}
