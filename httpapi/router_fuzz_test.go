package httpapi_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/httpapi"
	"github.com/latchkey/latchkey/internal/testserver"
	"github.com/latchkey/latchkey/internal/teststore"
	"github.com/latchkey/latchkey/service"
)

// FuzzRouter sends random methods, paths, tokens and bodies through the whole handler (a
// real service over a real store) and checks that it never fails internally (a recovered
// panic answers 500) and always answers with the contract's JSON, or nothing at all.
func FuzzRouter(f *testing.F) {
	ctx := context.Background()
	logs := &syncBuffer{}
	svc, err := service.New(ctx, service.Config{
		Store: teststore.Open(f), Logger: slog.New(slog.NewJSONHandler(logs, nil)),
		Issuer: "http://latchkey.test", Limits: testserver.GenerousLimits(), SecretKey: testserver.SecretKey,
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { svc.Close() })
	app, _, err := svc.EnsureApp(ctx, "fuzz-app")
	if err != nil {
		f.Fatal(err)
	}
	cfg := testserver.APIConfig(svc)
	cfg.Logger, cfg.PublicURL = slog.New(slog.NewJSONHandler(logs, nil)), "http://latchkey.test"
	h := httpapi.New(cfg)
	anon, err := svc.Auth.LogIn(ctx, app, latchkey.Credentials{Provider: latchkey.ProviderAnonymous})
	if err != nil {
		f.Fatal(err)
	}

	for _, seed := range []struct{ method, path, token, body string }{
		{"GET", "/api/client/v2.0/app/fuzz-app/location", "", ""},
		{"POST", "/api/client/v2.0/app/fuzz-app/auth/providers/anon-user/login", "", `{"options":{"device":{"deviceId":{"$oid":"6b0800000000000000000001"}}}}`},
		{"POST", "/api/client/v2.0/app/fuzz-app/auth/providers/local-userpass/login", "", `{"username":"a@example.com","password":"x"}`},
		{"POST", "/api/client/v2.0/auth/api_keys", anon.RefreshToken, `{"name":"k"}`},
		{"GET", "/api/client/v2.0/auth/profile", anon.AccessToken, ""},
		{"PUT", "/api/client/v2.0/auth/api_keys/6b0800000000000000000001/disable", "x.y.z", ""},
		{"PATCH", "/api/admin/v3.0/groups/6c617463686b657900000001/apps/fuzz-app/settings", "", `{"name":1}`},
		{"OPTIONS", "/api/client/v2.0/app/fuzz-app/location", "", ""},
		{"GET", "/api//client/../v2.0", "", ""},
		{"DELETE", "/%2e%2e/%00", "Bearer", "[]"},
	} {
		f.Add(seed.method, seed.path, seed.token, seed.body)
	}
	f.Fuzz(func(t *testing.T, method, path, token, body string) {
		// Only what net/http's server would hand the handler: a method token, a request
		// URI, header values without line breaks.
		if method == "" || strings.ContainsFunc(method, func(r rune) bool { return r <= ' ' || r >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) }) {
			return
		}
		u, err := url.ParseRequestURI(path)
		if err != nil || !strings.HasPrefix(path, "/") || strings.ContainsAny(token, "\r\n\x00") {
			return
		}
		req := httptest.NewRequest("GET", "/", strings.NewReader(body))
		req.Method, req.URL, req.RequestURI = method, u, path
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)

		if w.Code >= 500 {
			t.Fatalf("%s %q: %d %s\nlog: %s", method, path, w.Code, w.Body, logs.String())
		}
		ct := w.Header().Values("Content-Type")
		if w.Body.Len() == 0 {
			if len(ct) != 0 || (w.Code != http.StatusNoContent && w.Code != http.StatusCreated) {
				t.Fatalf("%s %q: %d with an empty body and Content-Type %q", method, path, w.Code, ct)
			}
		} else if len(ct) != 1 || ct[0] != "application/json" || !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %q: %d, Content-Type %q, body %q: want JSON", method, path, w.Code, ct, w.Body)
		}
		if w.Header().Get("X-Request-Id") == "" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%s %q: headers %v", method, path, w.Header())
		}
	})
}
