package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/latchkey/latchkey/internal/testserver"
)

// Paths of the client API.
const (
	clientPath = "/api/client/v2.0"
	authPath   = clientPath + "/auth"
	keysPath   = authPath + "/api_keys"
)

func appPath(app, rest string) string { return clientPath + "/app/" + app + rest }

func loginPath(app, provider string) string {
	return appPath(app, "/auth/providers/"+provider+"/login")
}

func userpassPath(app, rest string) string {
	return appPath(app, "/auth/providers/local-userpass"+rest)
}

func keyPath(id string) string { return keysPath + "/" + id }

// noCode is the error_code of the rows that the contract answers without one.
const noCode = ""

var hex24 = regexp.MustCompile(`^[0-9a-f]{24}$`)

// env is a running server plus a small client. The client remembers every password and key
// value it has seen, and fails the test when a response body shows one where it must not.
type env struct {
	*testserver.Server
	seq atomic.Int64

	mu        sync.Mutex
	passwords []string
	keys      []string
}

// newEnv starts a server on a fresh SQLite file.
func newEnv(t *testing.T) *env {
	t.Helper()
	return &env{Server: testserver.New(t, testserver.Options{})}
}

// response is what the server answered, with the error body's fields decoded.
type response struct {
	Method, Path string
	Status       int
	Header       http.Header
	Body         []byte

	// Error body fields; HasErrorCode tells an absent error_code from an empty one.
	Error        string
	HasError     bool
	ErrorCode    string
	HasErrorCode bool
	Link         string
}

func (r *response) String() string {
	return fmt.Sprintf("%s %s: %d %s", r.Method, r.Path, r.Status, r.Body)
}

// do sends a request with an optional bearer token. body is nil (no body), a string or
// []byte (sent as is), or a value sent as JSON; any body is labelled application/json.
func (e *env) do(t *testing.T, method, path, token string, body any) *response {
	t.Helper()
	req := e.newRequest(t, method, path, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.send(t, req)
}

// newRequest builds a request for path on the test server.
func (e *env) newRequest(t *testing.T, method, path string, body any) *http.Request {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	case io.Reader:
		r = b
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("marshal body: %v", err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.URL+path, r)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// send sends req and checks the rules that hold for every response.
func (e *env) send(t *testing.T, req *http.Request) *response {
	t.Helper()
	r, err := e.trySend(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	for _, msg := range e.check(r) {
		t.Error(msg)
	}
	return r
}

// trySend sends req without a *testing.T, for use from several goroutines.
func (e *env) trySend(req *http.Request) (*response, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	r := &response{Method: req.Method, Path: req.URL.Path, Status: resp.StatusCode, Header: resp.Header, Body: body}
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) == nil {
		if raw, ok := fields["error"]; ok {
			r.HasError = true
			json.Unmarshal(raw, &r.Error)
		}
		json.Unmarshal(fields["link"], &r.Link)
		if raw, ok := fields["error_code"]; ok {
			r.HasErrorCode = true
			json.Unmarshal(raw, &r.ErrorCode)
		}
	}
	return r, nil
}

// check returns the wire rules that r breaks: the exact JSON content type on every body,
// none on an empty answer, a request id, no error keys in a success, and no password or key
// value where one must not be.
func (e *env) check(r *response) []string {
	var msgs []string
	fail := func(format string, args ...any) { msgs = append(msgs, r.String()+": "+fmt.Sprintf(format, args...)) }
	ct, hasCT := r.Header["Content-Type"]
	if len(r.Body) > 0 && (len(ct) != 1 || ct[0] != "application/json") {
		fail("Content-Type = %q, want exactly application/json", ct)
	}
	if len(r.Body) == 0 && hasCT {
		fail("empty body with Content-Type %q", ct)
	}
	if id := r.Header.Get("X-Request-Id"); !hex24.MatchString(id) {
		fail("X-Request-Id = %q, want 24 hex", id)
	}
	if r.Status < 400 && (r.HasError || r.HasErrorCode) {
		fail("success body holds an error key")
	}
	msgs = append(msgs, checkOpenAPI(r)...)
	for _, msg := range wrongSecurityHeaders(r) {
		fail("%s", msg)
	}
	var header bytes.Buffer
	r.Header.Write(&header)
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, pw := range e.passwords {
		if bytes.Contains(r.Body, []byte(pw)) || bytes.Contains(header.Bytes(), []byte(pw)) {
			fail("response holds the password %q", pw)
		}
	}
	for _, k := range e.keys {
		if bytes.Contains(header.Bytes(), []byte(k)) {
			fail("header holds the key value %q", k)
		}
	}
	if !(r.Method == http.MethodPost && r.Path == keysPath && r.Status == http.StatusCreated) {
		for _, k := range e.keys {
			if bytes.Contains(r.Body, []byte(k)) {
				fail("body holds the key value %q", k)
			}
		}
	}
	return msgs
}

func (e *env) remember(list *[]string, secret string) {
	if secret == "" {
		return
	}
	e.mu.Lock()
	*list = append(*list, secret)
	e.mu.Unlock()
}

// wantStatus checks the status.
func (r *response) wantStatus(t *testing.T, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%v: status = %d, want %d", r, r.Status, status)
	}
}

// wantJSON checks the status and the exact content type and decodes the body into v.
func (r *response) wantJSON(t *testing.T, status int, v any) {
	t.Helper()
	r.wantStatus(t, status)
	if got := r.Header.Values("Content-Type"); len(got) != 1 || got[0] != "application/json" {
		t.Errorf("%v: Content-Type = %q, want application/json", r, got)
	}
	if v != nil {
		if err := json.Unmarshal(r.Body, v); err != nil {
			t.Fatalf("%v: decode: %v", r, err)
		}
	}
}

// wantEmpty checks the status of an answer without a body or a Content-Type.
func (r *response) wantEmpty(t *testing.T, status int) {
	t.Helper()
	r.wantStatus(t, status)
	if got := r.Header.Values("Content-Type"); len(got) != 0 {
		t.Errorf("%v: Content-Type = %q, want none", r, got)
	}
	if len(r.Body) != 0 {
		t.Errorf("%v: body = %q, want empty", r, r.Body)
	}
}

// wantError checks a contract error: status, error_code (noCode: absent), the exact error
// text and the link.
func (r *response) wantError(t *testing.T, status int, code, msg string) {
	t.Helper()
	r.wantErrorBody(t, status, code)
	if r.Error != msg {
		t.Errorf("%v: error = %q, want %q", r, r.Error, msg)
	}
}

// wantErrorContains is wantError for rows that fix only part of the text.
func (r *response) wantErrorContains(t *testing.T, status int, code, substr string) {
	t.Helper()
	r.wantErrorBody(t, status, code)
	if !strings.Contains(r.Error, substr) {
		t.Errorf("%v: error = %q, want it to contain %q", r, r.Error, substr)
	}
}

// errCase is a request body and the contract error it must get.
type errCase struct {
	name   string
	body   any
	status int
	code   string
	msg    string
}

// wantErrors sends each case's body to path and checks its error, one subtest a case.
func (e *env) wantErrors(t *testing.T, method, path, token string, cases []errCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			e.do(t, method, path, token, tt.body).wantError(t, tt.status, tt.code, tt.msg)
		})
	}
}

// keyNameErrCases are the name rules that user and server API keys share; a key named
// "taken" must already exist where the cases are sent.
var keyNameErrCases = []errCase{
	{"ErrNameMissing", map[string]any{}, 400, noCode, "'name' is a required string"},
	{"ErrNameEmpty", map[string]any{"name": ""}, 400, noCode, "'name' is a required string"},
	{"ErrNameNull", map[string]any{"name": nil}, 400, noCode, "'name' is a required string"},
	{"ErrNameNumber", map[string]any{"name": 5}, 400, noCode, "'name' is a required string"},
	{"ErrNameObject", map[string]any{"name": map[string]string{"a": "b"}}, 400, noCode, "'name' is a required string"},
	{"ErrNoBody", nil, 400, noCode, "'name' is a required string"},
	{"ErrNameSpace", map[string]any{"name": "my key"}, 400, "InvalidParameter", "can only contain ASCII letters, numbers, underscores, and hyphens"},
	{"ErrNameDot", map[string]any{"name": "my.key"}, 400, "InvalidParameter", "can only contain ASCII letters, numbers, underscores, and hyphens"},
	{"ErrNameSlash", map[string]any{"name": "a/b"}, 400, "InvalidParameter", "can only contain ASCII letters, numbers, underscores, and hyphens"},
	{"ErrNameNonASCII", map[string]any{"name": "clé"}, 400, "InvalidParameter", "can only contain ASCII letters, numbers, underscores, and hyphens"},
	{"ErrNameOnlySpaces", map[string]any{"name": "   "}, 400, "InvalidParameter", "can only contain ASCII letters, numbers, underscores, and hyphens"},
	{"ErrName65", map[string]any{"name": strings.Repeat("a", 65)}, 400, "InvalidParameter", "name must be at most 64 characters"},
	{"ErrAPIKeyExists", map[string]any{"name": "taken"}, 409, "APIKeyAlreadyExists", "API key with name already exists"},
}

func (r *response) wantErrorBody(t *testing.T, status int, code string) {
	t.Helper()
	r.wantJSON(t, status, nil)
	if code == noCodeOrAny {
		// The contract fixes no error_code for this row.
	} else if code == noCode && r.HasErrorCode {
		t.Errorf("%v: error_code = %q, want none", r, r.ErrorCode)
	} else if code != noCode && r.ErrorCode != code {
		t.Errorf("%v: error_code = %q, want %q", r, r.ErrorCode, code)
	}
	if r.Error == "" {
		t.Errorf("%v: error is empty", r)
	}
	r.wantLink(t)
}

// wantLink checks that the error link names the request id of the X-Request-Id header.
func (r *response) wantLink(t *testing.T) {
	t.Helper()
	id := r.Header.Get("X-Request-Id")
	if !strings.Contains(r.Link, "/logs?co_id=") || !strings.HasSuffix(r.Link, "co_id="+id) || id == "" {
		t.Errorf("%v: link = %q, want .../logs?co_id=%s", r, r.Link, id)
	}
}

// login is a login response.
type login struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	UserID       string `json:"user_id"`
	DeviceID     string `json:"device_id"`
}

// apiKey is a key object.
type apiKey struct {
	ID       string `json:"_id"`
	Key      string `json:"key"`
	Name     string `json:"name"`
	Disabled bool   `json:"disabled"`
}

// profile is a profile response.
type profile struct {
	UserID     string         `json:"user_id"`
	DomainID   string         `json:"domain_id"`
	Type       string         `json:"type"`
	Identities []identity     `json:"identities"`
	Data       map[string]any `json:"data"`
}

type identity struct {
	ID           string `json:"id"`
	ProviderType string `json:"provider_type"`
	ProviderID   string `json:"provider_id"`
}

// newEmail returns an email address not used before on this server.
func (e *env) newEmail() string {
	return fmt.Sprintf("user%d@example.com", e.seq.Add(1))
}

// newPassword returns a password not used before. Its space and '!' never occur in tokens,
// ids or base62 keys, so finding it in a body is a real leak.
func (e *env) newPassword() string {
	pw := fmt.Sprintf("pass word!%d", e.seq.Add(1))
	e.remember(&e.passwords, pw)
	return pw
}

// register registers an email user in app.
func (e *env) register(t *testing.T, app, email, password string) {
	t.Helper()
	e.do(t, "POST", userpassPath(app, "/register"), "", map[string]string{"email": email, "password": password}).
		wantEmpty(t, http.StatusCreated)
}

// login logs in with a provider and a body.
func (e *env) login(t *testing.T, app, provider string, body any) login {
	t.Helper()
	var l login
	e.do(t, "POST", loginPath(app, provider), "", body).wantJSON(t, http.StatusOK, &l)
	return l
}

// loginPassword logs in an email user of app.
func (e *env) loginPassword(t *testing.T, app, email, password string) login {
	t.Helper()
	return e.login(t, app, "local-userpass", map[string]string{"username": email, "password": password})
}

// user is a registered user logged in with its password.
type user struct {
	login
	Email, Password string
}

// newUser registers and logs in a new email user of app.
func (e *env) newUser(t *testing.T, app string) user {
	t.Helper()
	email, pw := e.newEmail(), e.newPassword()
	e.register(t, app, email, pw)
	return user{login: e.loginPassword(t, app, email, pw), Email: email, Password: pw}
}

// createKey creates a key with the refresh token.
func (e *env) createKey(t *testing.T, refresh, name string) apiKey {
	t.Helper()
	var k apiKey
	e.do(t, "POST", keysPath, refresh, map[string]string{"name": name}).wantJSON(t, http.StatusCreated, &k)
	if k.Key == "" {
		t.Fatalf("create %q: no key value", name)
	}
	e.remember(&e.keys, k.Key)
	return k
}

// listKeys lists the API keys of the refresh token's user.
func (e *env) listKeys(t *testing.T, refresh string) []apiKey {
	t.Helper()
	var keys []apiKey
	e.do(t, "GET", keysPath, refresh, nil).wantJSON(t, http.StatusOK, &keys)
	return keys
}

// loginKey logs in with an API key.
func (e *env) loginKey(t *testing.T, app, key string) login {
	t.Helper()
	return e.login(t, app, "api-key", map[string]string{"key": key})
}

// wantLive checks that a refresh token still opens its session.
func (e *env) wantLive(t *testing.T, refresh string) {
	t.Helper()
	e.do(t, "POST", authPath+"/session", refresh, nil).wantJSON(t, http.StatusCreated, nil)
}

// wantEnded checks that a refresh token's session is over.
func (e *env) wantEnded(t *testing.T, refresh string) {
	t.Helper()
	e.do(t, "POST", authPath+"/session", refresh, nil).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
}

// getProfile reads the profile with an access token.
func (e *env) getProfile(t *testing.T, access string) profile {
	t.Helper()
	var p profile
	e.do(t, "GET", authPath+"/profile", access, nil).wantJSON(t, http.StatusOK, &p)
	return p
}

func mustUnmarshal(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("unmarshal %s: %v", data, err)
	}
}
