package compat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/testenv"
)

// readmeBaseURL and readmeAppID are the address and app id the README's examples name.
const (
	readmeBaseURL = "http://127.0.0.1:9090"
	readmeAppID   = "latchkey-qmzvx"
)

// TestREADME runs the README's curl, realm-web and Go examples as they are written, each
// against a fresh server serving the app id they name, with only the base URL changed to the
// server's. The curl block needs curl and jq, the realm-web block Node and realm-web from npm.
func TestREADME(t *testing.T) {
	root := moduleRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	bin := buildServer(t, root)
	block := func(t *testing.T, section, lang string) string {
		t.Helper()
		code, ok := codeBlock(string(readme), section, lang)
		if !ok {
			t.Fatalf("README.md: no ```%s block under %q", lang, section)
		}
		return code
	}
	serve := func(t *testing.T) string {
		t.Helper()
		srv := startServer(t, bin, "--app-id", readmeAppID)
		t.Cleanup(func() { srv.Stop(t) })
		return srv.URL
	}

	t.Run("Curl", func(t *testing.T) {
		for _, tool := range []string{"bash", "curl", "jq"} {
			if _, err := exec.LookPath(tool); err != nil {
				testenv.Missing(t, "%s is needed for the README's curl example (./scripts/test installs it): %v", tool, err)
			}
		}
		code := strings.ReplaceAll(block(t, "## The user API key flow with curl", "sh"), readmeBaseURL, serve(t))
		out := run(t, exec.Command("bash", "-euo", "pipefail", "-c", code))
		// The block prints the profile, the key list, the key, and the key login's answer.
		var values []map[string]any
		dec := json.NewDecoder(bytes.NewReader(out))
		for {
			var v any
			if err := dec.Decode(&v); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("output is not JSON values: %v\n%s", err, out)
			}
			if list, ok := v.([]any); ok {
				if len(list) != 1 {
					t.Fatalf("fetchAll printed %d keys, want 1:\n%s", len(list), out)
				}
				v = list[0]
			}
			values = append(values, v.(map[string]any))
		}
		if len(values) != 4 {
			t.Fatalf("printed %d JSON values, want 4 (profile, list, key, key login):\n%s", len(values), out)
		}
		for _, v := range values {
			if _, ok := v["error_code"]; ok {
				t.Fatalf("a call failed:\n%s", out)
			}
		}
		profile, listed, fetched, keyLogin := values[0], values[1], values[2], values[3]
		if profile["user_id"] == nil || keyLogin["user_id"] != profile["user_id"] {
			t.Errorf("the key login's user_id %v is not the profile's %v", keyLogin["user_id"], profile["user_id"])
		}
		if listed["name"] != "build-server" || fetched["name"] != "build-server" || fetched["key"] != nil {
			t.Errorf("listed %v, fetched %v: want the key build-server, without its value", listed, fetched)
		}
	})

	t.Run("RealmWeb", func(t *testing.T) {
		flowDir := filepath.Join(root, "compat", "realm-web")
		ensureNodeModules(t, flowDir)
		code := strings.ReplaceAll(block(t, "## The same flow with realm-web", "js"), readmeBaseURL, serve(t))
		// Beside flow.mjs, so that node finds realm-web in its node_modules.
		file, err := os.CreateTemp(flowDir, "readme-*.mjs")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(file.Name()) })
		if _, err := file.WriteString(code); err != nil {
			t.Fatal(err)
		}
		file.Close()
		if out := run(t, exec.Command("node", file.Name())); string(out) != "true\n" {
			t.Fatalf("printed %q, want \"true\\n\"", out)
		}
	})

	t.Run("Go", func(t *testing.T) {
		code := strings.ReplaceAll(block(t, "## The same flow in Go", "go"), readmeBaseURL, serve(t))
		// A module of its own, as a user's program would be, in a workspace with this one.
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(code), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module readme\n\ngo 1.26.8\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		work := exec.Command("go", "work", "init", ".", root)
		work.Dir = dir
		run(t, work)
		build := exec.Command("go", "build", "-o", "readme", ".")
		build.Dir = dir
		run(t, build)
		example := exec.Command(filepath.Join(dir, "readme"))
		example.Dir = t.TempDir()
		if out := run(t, example); string(out) != "1 build-server\ntrue\n" {
			t.Fatalf("printed %q, want \"1 build-server\\ntrue\\n\"", out)
		}
	})
}

// codeBlock returns the first fenced block of lang after the line that starts section.
func codeBlock(doc, section, lang string) (string, bool) {
	i := strings.Index(doc, "\n"+section)
	if i < 0 {
		return "", false
	}
	rest := doc[i+1:]
	if next := strings.Index(rest[len(section):], "\n## "); next >= 0 {
		rest = rest[:len(section)+next]
	}
	_, after, ok := strings.Cut(rest, "\n```"+lang+"\n")
	if !ok {
		return "", false
	}
	code, _, ok := strings.Cut(after, "\n```\n")
	return code + "\n", ok
}

// run runs cmd with a deadline and returns its standard output, failing the test with its
// standard error when it fails.
func run(t *testing.T, cmd *exec.Cmd) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), flowTimeout)
	defer cancel()
	c := exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
	c.Dir, c.Env = cmd.Dir, cmd.Env
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		t.Fatalf("%s: %v\n%s\n%s", strings.Join(cmd.Args, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes()
}
