package httpapi_test

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestBadJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t, e.AppID)

	routes := []struct {
		name, method, path, token string
	}{
		{"Login", "POST", loginPath(e.AppID, "local-userpass"), ""},
		{"LoginAPIKey", "POST", loginPath(e.AppID, "api-key"), ""},
		{"Register", "POST", userpassPath(e.AppID, "/register"), ""},
		{"Confirm", "POST", userpassPath(e.AppID, "/confirm"), ""},
		{"ConfirmSend", "POST", userpassPath(e.AppID, "/confirm/send"), ""},
		{"ResetSend", "POST", userpassPath(e.AppID, "/reset/send"), ""},
		{"Reset", "POST", userpassPath(e.AppID, "/reset"), ""},
		{"CreateAPIKey", "POST", keysPath, u.RefreshToken},
	}
	for _, body := range []struct {
		name string
		body string
	}{
		{"Truncated", `{"username":`},
		{"NotJSON", `username=a&password=b`},
		{"TrailingGarbage", `{"email":"a@example.com"} x`},
		{"SingleQuotes", `{'email':'a@example.com'}`},
	} {
		for _, r := range routes {
			t.Run("Malformed"+body.name+"/"+r.name, func(t *testing.T) {
				e.do(t, r.method, r.path, r.token, body.body).wantErrorBody(t, http.StatusBadRequest, "BadRequest")
			})
		}
	}

	for _, tt := range []struct {
		name, method, path string
		body               string
	}{
		{"PasswordNumber", "POST", userpassPath(e.AppID, "/register"), `{"email":"typed@example.com","password":5}`},
		{"EmailObject", "POST", userpassPath(e.AppID, "/register"), `{"email":{"a":1},"password":"typed password!"}`},
		{"RegisterArray", "POST", userpassPath(e.AppID, "/register"), `[]`},
		{"RegisterString", "POST", userpassPath(e.AppID, "/register"), `"email"`},
		{"RegisterNumber", "POST", userpassPath(e.AppID, "/register"), `5`},
		{"LoginPasswordNumber", "POST", loginPath(e.AppID, "local-userpass"), `{"username":"` + u.Email + `","password":5}`},
		{"LoginUsernameArray", "POST", loginPath(e.AppID, "local-userpass"), `{"username":["` + u.Email + `"],"password":"x"}`},
		{"LoginArray", "POST", loginPath(e.AppID, "anon-user"), `[]`},
		{"LoginKeyNumber", "POST", loginPath(e.AppID, "api-key"), `{"key":5}`},
		{"LoginOptionsString", "POST", loginPath(e.AppID, "anon-user"), `{"options":"device"}`},
		{"ConfirmTokenNumber", "POST", userpassPath(e.AppID, "/confirm"), `{"token":5,"tokenId":"0123456789abcdef01234567"}`},
		{"ResetSendArray", "POST", userpassPath(e.AppID, "/reset/send"), `[]`},
		{"CreateAPIKeyArray", "POST", keysPath, `[]`},
	} {
		t.Run("WrongType"+tt.name, func(t *testing.T) {
			e.do(t, tt.method, tt.path, u.RefreshToken, tt.body).wantErrorBody(t, http.StatusBadRequest, "BadRequest")
		})
	}

	t.Run("NothingCreated", func(t *testing.T) {
		e.do(t, "POST", loginPath(e.AppID, "local-userpass"), "", map[string]string{"username": "typed@example.com", "password": "typed password!"}).
			wantError(t, http.StatusUnauthorized, "InvalidPassword", "unauthorized")
		keys := e.listKeys(t, u.RefreshToken)
		if len(keys) != 0 {
			t.Errorf("keys = %+v, want none", keys)
		}
	})
}

// onlyReader hides a reader's length, so that the client sends the body chunked.
type onlyReader struct{ io.Reader }

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t, e.AppID)

	// body returns a valid create request of exactly n bytes, padded with spaces.
	body := func(name string, n int) []byte {
		b := []byte(`{"name":"` + name + `"}`)
		return append(b, bytes.Repeat([]byte(" "), n-len(b))...)
	}
	const limit = 64 << 10

	for _, tt := range []struct {
		name    string
		chunked bool
	}{
		{"ContentLength", false},
		{"Chunked", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			send := func(t *testing.T, b []byte) *response {
				t.Helper()
				var r io.Reader = bytes.NewReader(b)
				if tt.chunked {
					r = onlyReader{r}
				}
				req := e.newRequest(t, "POST", keysPath, r)
				req.Header.Set("Authorization", "Bearer "+u.RefreshToken)
				if got := req.ContentLength; (got == 0) != tt.chunked {
					t.Fatalf("ContentLength = %d, chunked = %v", got, tt.chunked)
				}
				return e.send(t, req)
			}
			name := strings.ToLower(tt.name)
			send(t, body(name+"-at-limit", limit)).wantJSON(t, http.StatusCreated, nil)
			send(t, body(name+"-over-limit", limit+1)).wantErrorBody(t, http.StatusRequestEntityTooLarge, "BadRequest")
			send(t, body(name+"-far-over", 4*limit)).wantErrorBody(t, http.StatusRequestEntityTooLarge, "BadRequest")

			keys := e.listKeys(t, u.RefreshToken)
			for _, k := range keys {
				if strings.Contains(k.Name, "over") {
					t.Errorf("an oversized request created key %q", k.Name)
				}
			}
		})
	}

	t.Run("Register", func(t *testing.T) {
		b := append([]byte(`{"email":"big@example.com","password":"big password!"}`), bytes.Repeat([]byte(" "), limit)...)
		e.do(t, "POST", userpassPath(e.AppID, "/register"), "", b).wantErrorBody(t, http.StatusRequestEntityTooLarge, "BadRequest")
		e.do(t, "POST", userpassPath(e.AppID, "/register"), "", onlyReader{bytes.NewReader(b)}).wantErrorBody(t, http.StatusRequestEntityTooLarge, "BadRequest")
	})
}

func TestRequestFormat(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t, e.AppID)
	k := e.createKey(t, u.RefreshToken, "format")

	t.Run("ContentTypeCharset", func(t *testing.T) {
		for _, ct := range []string{"application/json;charset=utf-8", "application/json; charset=UTF-8"} {
			req := e.newRequest(t, "POST", loginPath(e.AppID, "local-userpass"), map[string]string{"username": u.Email, "password": u.Password})
			req.Header.Set("Content-Type", ct)
			e.send(t, req).wantJSON(t, http.StatusOK, nil)

			email, pw := e.newEmail(), e.newPassword()
			req = e.newRequest(t, "POST", userpassPath(e.AppID, "/register"), map[string]string{"email": email, "password": pw})
			req.Header.Set("Content-Type", ct)
			e.send(t, req).wantEmpty(t, http.StatusCreated)

			req = e.newRequest(t, "POST", keysPath, map[string]string{"name": "charset-" + string(rune('a'+len(ct)%26))})
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Authorization", "Bearer "+u.RefreshToken)
			e.send(t, req).wantJSON(t, http.StatusCreated, nil)
		}
	})

	t.Run("EmptyBodyWithJSONContentType", func(t *testing.T) {
		for _, tt := range []struct {
			method, path, token string
			status              int
		}{
			{"GET", authPath + "/profile", u.AccessToken, 200},
			{"GET", keysPath, u.RefreshToken, 200},
			{"GET", keyPath(k.ID), u.RefreshToken, 200},
			{"PUT", keyPath(k.ID) + "/disable", u.RefreshToken, 204},
			{"PUT", keyPath(k.ID) + "/enable", u.RefreshToken, 204},
			{"GET", appPath(e.AppID, "/location"), "", 200},
			{"DELETE", keyPath(k.ID), u.RefreshToken, 204},
			{"DELETE", authPath + "/session", e.loginPassword(t, e.AppID, u.Email, u.Password).RefreshToken, 204},
		} {
			for _, ct := range []string{"application/json", "application/json;charset=utf-8"} {
				req := e.newRequest(t, tt.method, tt.path, "")
				req.Header.Set("Content-Type", ct)
				if tt.token != "" {
					req.Header.Set("Authorization", "Bearer "+tt.token)
				}
				r := e.send(t, req)
				if tt.status == 204 {
					r.wantEmpty(t, 204)
					break // a repeat would be a different case
				}
				r.wantJSON(t, tt.status, nil)
			}
		}
	})

	t.Run("UnknownFieldsIgnored", func(t *testing.T) {
		email, pw := e.newEmail(), e.newPassword()
		e.do(t, "POST", userpassPath(e.AppID, "/register"), "", map[string]any{"email": email, "password": pw, "extra": map[string]int{"x": 1}, "list": []int{1}}).
			wantEmpty(t, http.StatusCreated)
		e.do(t, "POST", loginPath(e.AppID, "local-userpass"), "", map[string]any{"username": email, "password": pw, "provider": "local-userpass", "unknown": true, "options": map[string]any{"device": map[string]any{"whatever": []string{"a"}}}}).
			wantJSON(t, http.StatusOK, nil)
		var got apiKey
		e.do(t, "POST", keysPath, u.RefreshToken, map[string]any{"name": "extra-fields", "disabled": true, "_id": "0123456789abcdef01234567", "foo": 1}).
			wantJSON(t, http.StatusCreated, &got)
		e.remember(&e.keys, got.Key)
		if got.Name != "extra-fields" || got.Disabled || got.ID == "0123456789abcdef01234567" {
			t.Errorf("key = %+v, want the request's extra fields ignored", got)
		}
	})
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t, e.AppID)

	t.Run("ErrNotFound", func(t *testing.T) {
		for _, tt := range []struct{ method, path string }{
			{"GET", "/nope"},
			{"POST", "/api/client/v2.0/nope"},
			{"GET", authPath + "/nope"},
			{"GET", appPath(e.AppID, "/nope")},
			{"POST", appPath(e.AppID, "/auth/providers/anon-user/nope")},
			{"GET", "/api/client/v1.0/app/" + e.AppID + "/location"},
		} {
			e.do(t, tt.method, tt.path, u.RefreshToken, nil).wantError(t, http.StatusNotFound, "InvalidParameter", "no route for "+tt.method+" "+tt.path)
		}
	})

	t.Run("ErrMethodNotAllowed", func(t *testing.T) {
		for _, tt := range []struct {
			method, path string
			allow        []string
		}{
			{"POST", appPath(e.AppID, "/location"), []string{"GET"}},
			{"PUT", loginPath(e.AppID, "anon-user"), []string{"GET", "POST"}},
			{"GET", userpassPath(e.AppID, "/register"), []string{"POST"}},
			{"PUT", authPath + "/profile", []string{"GET"}},
			{"GET", authPath + "/session", []string{"POST", "DELETE"}},
			{"POST", authPath + "/delete", []string{"DELETE"}},
			{"PATCH", keysPath, []string{"GET", "POST"}},
			{"PATCH", keyPath("0123456789abcdef01234567"), []string{"GET", "DELETE"}},
			{"POST", keyPath("0123456789abcdef01234567") + "/enable", []string{"PUT"}},
			{"GET", keyPath("0123456789abcdef01234567") + "/disable", []string{"PUT"}},
			{"POST", "/.well-known/jwks.json", []string{"GET"}},
		} {
			r := e.do(t, tt.method, tt.path, u.RefreshToken, nil)
			r.wantError(t, http.StatusMethodNotAllowed, "BadRequest", "method "+tt.method+" not allowed")
			allow := strings.Split(r.Header.Get("Allow"), ",")
			for i := range allow {
				allow[i] = strings.TrimSpace(allow[i])
			}
			for _, m := range tt.allow {
				if !slices.Contains(allow, m) {
					t.Errorf("%v: Allow = %q, want it to list %s", r, r.Header.Get("Allow"), m)
				}
			}
			if slices.Contains(allow, tt.method) {
				t.Errorf("%v: Allow = %q lists the refused method", r, r.Header.Get("Allow"))
			}
		}
	})
}

// noCodeOrAny is for rows where the contract fixes the status but not the error_code.
const noCodeOrAny = "*"

func TestCORS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t, e.AppID)
	const origin = "https://app.example.com"

	allowsOrigin := func(t *testing.T, r *response) {
		t.Helper()
		if got := r.Header.Get("Access-Control-Allow-Origin"); got != origin && got != "*" {
			t.Errorf("%v: Access-Control-Allow-Origin = %q, want %q or *", r, got, origin)
		}
	}

	t.Run("Preflight", func(t *testing.T) {
		for _, tt := range []struct{ method, path string }{
			{"POST", loginPath(e.AppID, "local-userpass")},
			{"GET", appPath(e.AppID, "/location")},
			{"POST", authPath + "/session"},
			{"DELETE", authPath + "/session"},
			{"PUT", keyPath("0123456789abcdef01234567") + "/disable"},
			{"DELETE", keyPath("0123456789abcdef01234567")},
		} {
			req := e.newRequest(t, "OPTIONS", tt.path, nil)
			req.Header.Set("Origin", origin)
			req.Header.Set("Access-Control-Request-Method", tt.method)
			req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
			r := e.send(t, req)
			r.wantEmpty(t, http.StatusNoContent)
			allowsOrigin(t, r)
			if got := r.Header.Get("Access-Control-Allow-Methods"); !strings.Contains(got, tt.method) {
				t.Errorf("%v: Access-Control-Allow-Methods = %q, want %s", r, got, tt.method)
			}
			got := strings.ToLower(r.Header.Get("Access-Control-Allow-Headers"))
			for _, h := range []string{"authorization", "content-type"} {
				if !strings.Contains(got, h) && got != "*" {
					t.Errorf("%v: Access-Control-Allow-Headers = %q, want %s", r, got, h)
				}
			}
		}
	})

	t.Run("Responses", func(t *testing.T) {
		for _, tt := range []struct {
			method, path, token string
			status              int
		}{
			{"GET", appPath(e.AppID, "/location"), "", 200},
			{"GET", authPath + "/profile", u.AccessToken, 200},
			{"POST", authPath + "/session", u.RefreshToken, 201},
			{"GET", keysPath, "", 401},
			{"GET", appPath("no-such-app", "/location"), "", 404},
		} {
			req := e.newRequest(t, tt.method, tt.path, nil)
			req.Header.Set("Origin", origin)
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			r := e.send(t, req)
			r.wantStatus(t, tt.status)
			allowsOrigin(t, r)
		}
	})
}

func TestErrorLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t, e.AppID)

	for _, tt := range []struct {
		name, method, path, token string
		body                      any
		prefix                    string
	}{
		{"AppRoute", "POST", loginPath(e.AppID, "local-userpass"), "", map[string]string{"username": u.Email, "password": "wrong password!"}, e.URL + "/app/" + e.AppID + "/logs?co_id="},
		{"TokenRoute", "GET", keyPath("0123456789abcdef01234567"), u.RefreshToken, nil, e.URL + "/app/" + e.AppID + "/logs?co_id="},
		{"UnknownApp", "GET", appPath("no-such-app", "/location"), "", nil, e.URL + "/"},
		{"NoToken", "GET", keysPath, "", nil, e.URL + "/"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, tt.method, tt.path, tt.token, tt.body)
			r.wantErrorBody(t, r.Status, noCodeOrAny)
			if !strings.HasPrefix(r.Link, tt.prefix) {
				t.Errorf("link = %q, want prefix %q", r.Link, tt.prefix)
			}
			if r.Header.Get("X-Request-Id") == e.do(t, tt.method, tt.path, tt.token, tt.body).Header.Get("X-Request-Id") {
				t.Errorf("two requests share a request id")
			}
		})
	}
}
