package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/latchkey/latchkey/httpapi"
	"github.com/latchkey/latchkey/internal/testserver"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The OpenAPI document, and a checker that every HTTP test sends its responses through
// (env.check): a response to an operation of the document must have a status the operation
// declares, and a body that its schema accepts.

type openAPIDoc struct {
	Paths map[string]map[string]struct {
		OperationID string   `json:"operationId"`
		Tags        []string `json:"tags"`
		Responses   map[string]struct {
			Ref     string `json:"$ref"`
			Content map[string]json.RawMessage
		}
	}
	Components struct {
		Responses map[string]struct {
			Content map[string]json.RawMessage
		}
	}
}

// openAPI is the loaded document: its operations in a mux, to find the one a request calls,
// and the compiled schemas of their answers.
type openAPI struct {
	doc     openAPIDoc
	mux     *http.ServeMux
	schemas sync.Map // schema location -> *jsonschema.Schema
	comp    *jsonschema.Compiler
	compMu  sync.Mutex
	checked atomic.Int64 // responses validated against a schema
}

const openAPIURL = "file:///openapi.json"

var loadOpenAPI = sync.OnceValues(func() (*openAPI, error) {
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		return nil, err
	}
	o := &openAPI{mux: http.NewServeMux(), comp: jsonschema.NewCompiler()}
	if err := json.Unmarshal(raw, &o.doc); err != nil {
		return nil, err
	}
	for path, ops := range o.doc.Paths {
		for method := range ops {
			o.mux.HandleFunc(strings.ToUpper(method)+" "+path, func(http.ResponseWriter, *http.Request) {})
		}
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	o.comp.DefaultDraft(jsonschema.Draft2020)
	if err := o.comp.AddResource(openAPIURL, doc); err != nil {
		return nil, err
	}
	return o, nil
})

func mustOpenAPI(t *testing.T) *openAPI {
	t.Helper()
	o, err := loadOpenAPI()
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	return o
}

// pointer escapes a JSON pointer token.
func pointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func (o *openAPI) schema(location string) (*jsonschema.Schema, error) {
	if s, ok := o.schemas.Load(location); ok {
		return s.(*jsonschema.Schema), nil
	}
	o.compMu.Lock()
	defer o.compMu.Unlock()
	s, err := o.comp.Compile(openAPIURL + "#" + location)
	if err != nil {
		return nil, err
	}
	o.schemas.Store(location, s)
	return s, nil
}

// check returns how r breaks the document; nothing for requests that match no operation
// (the tests of unknown routes and methods).
func (o *openAPI) check(r *response) []string {
	req := &http.Request{Method: r.Method, URL: &url.URL{Path: r.Path}, Host: "latchkey.test"}
	_, pattern := o.mux.Handler(req)
	if pattern == "" {
		return nil
	}
	method, path, _ := strings.Cut(pattern, " ")
	op := o.doc.Paths[path][strings.ToLower(method)]
	code := strconv.Itoa(r.Status)
	resp, ok := op.Responses[code]
	if !ok {
		return []string{fmt.Sprintf("%v: openapi.json declares no %s answer for %s", r, code, pattern)}
	}
	location := "/paths/" + pointer(path) + "/" + strings.ToLower(method) + "/responses/" + code + "/content/application~1json/schema"
	content := resp.Content
	if resp.Ref != "" {
		name := strings.TrimPrefix(resp.Ref, "#/components/responses/")
		content = o.doc.Components.Responses[name].Content
		location = "/components/responses/" + pointer(name) + "/content/application~1json/schema"
	}
	if _, ok := content["application/json"]; !ok {
		if len(content) == 0 && len(r.Body) > 0 {
			return []string{fmt.Sprintf("%v: openapi.json declares no body for %s %s", r, pattern, code)}
		}
		return nil
	}
	s, err := o.schema(location)
	if err != nil {
		return []string{fmt.Sprintf("compile %s: %v", location, err)}
	}
	body, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.Body))
	if err != nil {
		return []string{fmt.Sprintf("%v: body is not JSON: %v", r, err)}
	}
	o.checked.Add(1)
	if err := s.Validate(body); err != nil {
		return []string{fmt.Sprintf("%v: openapi.json schema of %s %s refuses the body: %v", r, pattern, code, err)}
	}
	return nil
}

// checkOpenAPI is env.check's hook.
func checkOpenAPI(r *response) []string {
	o, err := loadOpenAPI()
	if err != nil {
		return []string{"load openapi.json: " + err.Error()}
	}
	return o.check(r)
}

// TestOpenAPIRoutes checks that the document and routes.go list the same operations, and
// that the server answers the pages it documents (package ui serves them) with HTML.
func TestOpenAPIRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := testserver.APIConfig(e.Service)
	cfg.Health = e.Service
	srv := httpapi.New(cfg)
	routes := srv.Routes()
	var documented []string
	for path, ops := range mustOpenAPI(t).doc.Paths {
		for method, op := range ops {
			if slices.Contains(op.Tags, "pages") {
				if method == "get" {
					resp, err := http.Get(e.URL + strings.ReplaceAll(path, "{app}", e.AppID))
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
						t.Errorf("GET %s: %d %s, want 200 and a page", path, resp.StatusCode, resp.Header.Get("Content-Type"))
					}
				}
				continue
			}
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(routes)
	slices.Sort(documented)
	for _, r := range routes {
		if _, found := slices.BinarySearch(documented, r); !found {
			t.Errorf("routes.go registers %s; openapi.json lacks it", r)
		}
	}
	for _, d := range documented {
		if _, found := slices.BinarySearch(routes, d); !found {
			t.Errorf("openapi.json documents %s; routes.go lacks it", d)
		}
	}
	if len(routes) < 60 {
		t.Errorf("only %d routes registered", len(routes))
	}
}

// TestOpenAPIResponses runs a flow across the client and admin APIs and checks that every
// answer was validated against the document, and that the checker refuses wrong answers.
func TestOpenAPIResponses(t *testing.T) {
	t.Parallel()
	o := mustOpenAPI(t)
	e, admin := newAdminEnv(t)
	before := o.checked.Load()

	e.do(t, "GET", appPath(e.AppID, "/location"), "", nil).wantJSON(t, http.StatusOK, nil)
	e.do(t, "GET", appPath(e.AppID, "/.well-known/jwks.json"), "", nil).wantJSON(t, http.StatusOK, nil)
	u := e.newUser(t, e.AppID)
	e.getProfile(t, u.AccessToken)
	k := e.createKey(t, u.RefreshToken, "ci")
	e.do(t, "GET", keysPath, u.RefreshToken, nil).wantJSON(t, http.StatusOK, nil)
	e.do(t, "GET", keyPath(k.ID), u.RefreshToken, nil).wantJSON(t, http.StatusOK, nil)
	e.do(t, "POST", keyPath(k.ID)+"/rotate", u.RefreshToken, map[string]int{"grace_period": 60}).wantJSON(t, http.StatusOK, nil)
	e.do(t, "POST", keysPath, u.RefreshToken, map[string]string{"name": "ci"}).wantErrorBody(t, http.StatusConflict, "APIKeyAlreadyExists")
	e.do(t, "POST", authPath+"/session", u.RefreshToken, nil).wantJSON(t, http.StatusCreated, nil)
	e.do(t, "GET", authPath+"/profile", "", nil).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")

	e.do(t, "GET", adminPath+"/auth/profile", admin.AccessToken, nil).wantJSON(t, http.StatusOK, nil)
	e.do(t, "GET", appsPath(), admin.AccessToken, nil).wantJSON(t, http.StatusOK, nil)
	e.do(t, "GET", adminAppPath(e.AppID, ""), admin.AccessToken, nil).wantJSON(t, http.StatusOK, nil)
	e.do(t, "GET", adminAppPath(e.AppID, "/settings"), admin.AccessToken, nil).wantJSON(t, http.StatusOK, nil)
	e.do(t, "GET", adminAppPath(e.AppID, "/auth_providers"), admin.AccessToken, nil).wantJSON(t, http.StatusOK, nil)
	e.do(t, "GET", adminAppPath(e.AppID, "/users"), admin.AccessToken, nil).wantJSON(t, http.StatusOK, nil)
	e.do(t, "GET", adminUserPath(e.AppID, u.UserID, ""), admin.AccessToken, nil).wantJSON(t, http.StatusOK, nil)
	e.do(t, "GET", adminUserPath(e.AppID, u.UserID, "/api_keys"), admin.AccessToken, nil).wantJSON(t, http.StatusOK, nil)
	e.do(t, "POST", adminAppPath(e.AppID, "/users/verify_token"), admin.AccessToken, map[string]string{"token": u.AccessToken}).wantJSON(t, http.StatusOK, nil)
	e.do(t, "GET", adminPath+"/audit", admin.AccessToken, nil).wantJSON(t, http.StatusOK, nil)
	e.do(t, "GET", adminAppPath("no-such-app", ""), admin.AccessToken, nil).wantErrorBody(t, http.StatusNotFound, "InvalidParameter")
	e.do(t, "GET", "/readyz", "", nil).wantJSON(t, http.StatusOK, nil)

	if got := o.checked.Load() - before; got < 20 {
		t.Errorf("%d answers validated against openapi.json, want every one of the 21 with a body", got)
	}

	t.Run("ErrWrongAnswers", func(t *testing.T) {
		for _, r := range []*response{
			{Method: "GET", Path: keyPath(k.ID), Status: 200, Body: []byte(`{"_id":"x","name":"ci"}`)},
			{Method: "GET", Path: keyPath(k.ID), Status: 201, Body: []byte(`{}`)},
			{Method: "POST", Path: loginPath(e.AppID, "anon-user"), Status: 401, Body: []byte(`{"error_code":"AuthError"}`)},
			{Method: "PUT", Path: keyPath(k.ID) + "/disable", Status: 204, Body: []byte(`{"done":true}`)},
		} {
			if len(o.check(r)) == 0 {
				t.Errorf("%v: the checker accepts it", r)
			}
		}
	})
}
