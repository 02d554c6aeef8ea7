package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestOddText sends ids, query parameters, JSON strings and user agents that are not valid
// UTF-8 or hold NUL, which PostgreSQL refuses to store or compare: each gets the answer a
// well-formed unknown value gets, or 400, never a 500, and the audit log loses nothing.
func TestOddText(t *testing.T) {
	t.Parallel()
	e, admin := newAdminEnv(t)

	t.Run("AppIDs", func(t *testing.T) {
		for _, id := range []string{"%ff", "a%00b", "%c3"} {
			r := e.do(t, "GET", appPath(id, "/location"), "", nil)
			r.wantErrorBody(t, http.StatusNotFound, "InvalidParameter")
			e.do(t, "GET", adminAppPath(id, "/settings"), admin.AccessToken, nil).wantErrorBody(t, http.StatusNotFound, "InvalidParameter")
		}
	})
	t.Run("QueryParameters", func(t *testing.T) {
		for _, q := range []string{"?email=%ff", "?provider=a%00", "?%fe=1"} {
			e.do(t, "GET", adminAppPath(e.AppID, "/users"+q), admin.AccessToken, nil).
				wantError(t, http.StatusBadRequest, "BadRequest", "query parameters must be UTF-8 text")
		}
		e.do(t, "GET", adminPath+"/audit?event=%00", admin.AccessToken, nil).wantErrorBody(t, http.StatusBadRequest, "BadRequest")
	})
	t.Run("NULInJSON", func(t *testing.T) {
		const msg = "invalid JSON: strings may not contain NUL characters"
		e.do(t, "POST", loginPath(e.AppID, "local-userpass"), "", `{"username":"a\u0000@example.com","password":"s3cretpass"}`).
			wantError(t, http.StatusBadRequest, "BadRequest", msg)
		e.do(t, "POST", adminLoginPath, "", `{"username":"\u0000","password":"x"}`).wantError(t, http.StatusBadRequest, "BadRequest", msg)
		e.do(t, "PATCH", adminAppPath(e.AppID, "/settings"), admin.AccessToken, `{"name":"a\u0000"}`).
			wantError(t, http.StatusBadRequest, "BadRequest", msg)
		e.do(t, "POST", adminAppPath(e.AppID, "/security/allowed_request_origins"), admin.AccessToken, `["https://a.example.com\u0000"]`).
			wantError(t, http.StatusBadRequest, "BadRequest", msg)
		// An escaped backslash before u0000 is text, not NUL.
		e.do(t, "POST", loginPath(e.AppID, "local-userpass"), "", `{"username":"a\\u0000@example.com","password":"s3cretpass"}`).
			wantErrorBody(t, http.StatusUnauthorized, "InvalidPassword")
	})
	t.Run("UserAgents", func(t *testing.T) {
		// A user agent that is not UTF-8, and one cut at 256 bytes in the middle of a
		// character: the failed logins they send are still in the audit log.
		for i, ua := range []string{"\xff\xfe agent", strings.Repeat("é", 200)} {
			email := e.newEmail()
			req := e.newRequest(t, "POST", loginPath(e.AppID, "local-userpass"), map[string]string{"username": email, "password": "wrongpass"})
			req.Header.Set("User-Agent", ua)
			e.send(t, req).wantErrorBody(t, http.StatusUnauthorized, "InvalidPassword")
			events, _ := e.findAudit(t, admin.AccessToken, adminPath+"/audit?event=login")
			found := false
			for _, ev := range events {
				found = found || ev.Details["email"] == email
			}
			if !found {
				t.Errorf("user agent %d: the failed login is not in the audit log", i)
			}
		}
	})
}
