package httpapi_test

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/testenv"
)

// problems matches the summary line of a rule that fired.
var problems = regexp.MustCompile(`(?m)^(warning|error) [a-z0-9-]+: \d+`)

// lintDir holds the linters' npm packages (package-lock.json pins them).
const lintDir = "testdata/openapi-lint"

// TestOpenAPILint checks openapi.json with two independent tools: Redocly's linter with its
// recommended rules, which must report neither an error nor a warning (every operation has an
// operationId and a 4xx answer, no component is unused), and swagger-parser's validation.
// They need Node and npm; `npm ci` installs the pinned packages when they are missing.
func TestOpenAPILint(t *testing.T) {
	for _, tool := range []string{"node", "npm", "npx"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Missing(t, "%s is needed to lint openapi.json (install Node.js 20+): %v", tool, err)
		}
	}
	if _, err := os.Stat(filepath.Join(lintDir, "node_modules", "@redocly", "cli")); err != nil {
		npm := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		npm.Dir = lintDir
		if out, err := npm.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", lintDir, err, out)
		}
	}
	doc, err := filepath.Abs("openapi.json")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("Redocly", func(t *testing.T) {
		cmd := exec.Command("npx", "--no-install", "redocly", "lint", "--format=summary", doc)
		cmd.Dir = lintDir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("redocly lint: %v\n%s", err, out)
		}
		// The summary lists each rule that fired as "warning <rule>: N" or "error <rule>: N".
		if !strings.Contains(string(out), "Your API description is valid") || problems.Match(out) {
			t.Fatalf("redocly lint reports problems:\n%s", out)
		}
	})
	t.Run("SwaggerParser", func(t *testing.T) {
		cmd := exec.Command("node", "validate.mjs", doc)
		cmd.Dir = lintDir
		if out, err := cmd.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "valid" {
			t.Fatalf("swagger-parser: %v\n%s", err, out)
		}
	})
	t.Run("UniqueOperationIDs", func(t *testing.T) {
		ids := map[string]string{}
		for path, ops := range mustOpenAPI(t).doc.Paths {
			for method, op := range ops {
				where := strings.ToUpper(method) + " " + path
				if op.OperationID == "" {
					t.Errorf("%s has no operationId", where)
				} else if other, ok := ids[op.OperationID]; ok {
					t.Errorf("%s and %s share the operationId %s", where, other, op.OperationID)
				}
				ids[op.OperationID] = where
			}
		}
	})
}

// TestOpenAPIServers checks that the served document names the server's public URL, so that
// tools that read it from a server call that server.
func TestOpenAPIServers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var doc struct {
		Servers []struct {
			URL string `json:"url"`
		} `json:"servers"`
	}
	resp, err := http.Get(e.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != e.URL {
		t.Fatalf("servers = %+v, want only %s", doc.Servers, e.URL)
	}
}
