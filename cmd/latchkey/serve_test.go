package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

var binary string

// builtFrom is the revision the checkout was at when TestMain built the binary.
var builtFrom string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "latchkey-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "latchkey")
	if head, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
		builtFrom = strings.TrimSpace(string(head))
	}
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build latchkey: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// process is a running latchkey binary.
type process struct {
	cmd        *exec.Cmd
	url        string
	appID      string
	metricsURL string // with --metrics-addr: the metrics listener's /metrics
	stderr     *bytes.Buffer
}

// secretKeyEnv gives every node of a PostgreSQL test the one secret key they must share.
const secretKeyEnv = "LATCHKEY_SECRET_KEY=the cmd tests' shared secret key, 32+ bytes"

// privateDir is a fresh directory that Latchkey accepts as its data directory: t.TempDir
// makes them 0777 less the umask, which group and others may read.
func privateDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startPiped starts cmd and returns its standard output; the process is killed when the
// test ends.
func startPiped(t *testing.T, cmd *exec.Cmd) io.Reader {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return stdout
}

// start runs `latchkey serve` on a free loopback port and waits until it listens, and with
// --metrics-addr until its metrics listener does.
func start(t *testing.T, dataDir string, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dataDir}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	p := &process{cmd: cmd, stderr: &bytes.Buffer{}}
	cmd.Stderr = p.stderr
	stdout := startPiped(t, cmd)
	wantMetrics := slices.Contains(args, "--metrics-addr")
	lines := bufio.NewScanner(stdout)
	for p.url == "" || p.appID == "" || (wantMetrics && p.metricsURL == "") {
		if !lines.Scan() {
			t.Fatalf("latchkey exited before listening: %s", p.stderr)
		}
		line := lines.Text()
		if url, ok := strings.CutPrefix(line, "Latchkey listening on "); ok {
			p.url = url
		}
		if app, ok := strings.CutPrefix(line, "App ID: "); ok {
			p.appID, _, _ = strings.Cut(app, " ")
		}
		if url, ok := strings.CutPrefix(line, "Metrics on "); ok {
			p.metricsURL = url
		}
	}
	go io.Copy(io.Discard, stdout)
	return p
}

// stop sends SIGTERM and requires a clean exit.
func (p *process) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("latchkey exited with %v: %s", err, p.stderr)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("latchkey did not stop within 15s of SIGTERM")
	}
}

// call sends a JSON request and decodes a JSON answer into out (if not nil).
func (p *process) call(t *testing.T, method, path, token string, body any, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.url+path, r)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: status %d, decode: %v", method, path, resp.StatusCode, err)
		}
	}
	return resp.StatusCode
}

type login struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	UserID       string `json:"user_id"`
}

type apiKey struct {
	ID  string `json:"_id"`
	Key string `json:"key"`
}

func (p *process) app() string { return "/api/client/v2.0/app/" + p.appID }

func (p *process) registerAndLogIn(t *testing.T, email string) login {
	t.Helper()
	if got := p.call(t, "POST", p.app()+"/auth/providers/local-userpass/register", "", map[string]string{"email": email, "password": "s3cretpass"}, nil); got != 201 {
		t.Fatalf("register: status %d", got)
	}
	var l login
	if got := p.call(t, "POST", p.app()+"/auth/providers/local-userpass/login", "", map[string]string{"username": email, "password": "s3cretpass"}, &l); got != 200 {
		t.Fatalf("login: status %d", got)
	}
	return l
}

func TestServeRestart(t *testing.T) {
	data := privateDir(t)
	p := start(t, data, nil, "--app-id", "restart-app")
	if p.appID != "restart-app" {
		t.Fatalf("app id = %q, want restart-app", p.appID)
	}
	l := p.registerAndLogIn(t, "ann@example.com")
	var k apiKey
	if got := p.call(t, "POST", "/api/client/v2.0/auth/api_keys", l.RefreshToken, map[string]string{"name": "survivor"}, &k); got != 201 {
		t.Fatalf("create key: status %d", got)
	}
	p.stop(t)

	p = start(t, data, nil, "--app-id", "restart-app")
	var keyLogin login
	if got := p.call(t, "POST", p.app()+"/auth/providers/api-key/login", "", map[string]string{"key": k.Key}, &keyLogin); got != 200 || keyLogin.UserID != l.UserID {
		t.Fatalf("key login after restart: status %d, user %q; want 200 as %q", got, keyLogin.UserID, l.UserID)
	}
	if got := p.call(t, "POST", "/api/client/v2.0/auth/session", l.RefreshToken, nil, nil); got != 201 {
		t.Fatalf("refresh after restart: status %d, want 201", got)
	}
	if got := p.call(t, "GET", "/api/client/v2.0/auth/profile", l.AccessToken, nil, nil); got != 200 {
		t.Fatalf("profile with an access token from before the restart: status %d, want 200", got)
	}
	p.stop(t)
}

// TestServeKill9 checks that a write the server acknowledged survives SIGKILL right after
// the answer.
func TestServeKill9(t *testing.T) {
	data := privateDir(t)
	p := start(t, data, nil, "--app-id", "kill-app")
	l := p.registerAndLogIn(t, "ann@example.com")
	var keys []apiKey
	for i := range 10 {
		var k apiKey
		if got := p.call(t, "POST", "/api/client/v2.0/auth/api_keys", l.RefreshToken, map[string]string{"name": fmt.Sprintf("k%d", i)}, &k); got != 201 {
			t.Fatalf("create key: status %d", got)
		}
		keys = append(keys, k)
	}
	if got := p.call(t, "PUT", "/api/client/v2.0/auth/api_keys/"+keys[0].ID+"/disable", l.RefreshToken, nil, nil); got != 204 {
		t.Fatalf("disable: status %d", got)
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()

	p = start(t, data, nil, "--app-id", "kill-app")
	var listed []struct {
		ID       string `json:"_id"`
		Disabled bool   `json:"disabled"`
	}
	if got := p.call(t, "GET", "/api/client/v2.0/auth/api_keys", l.RefreshToken, nil, &listed); got != 200 || len(listed) != len(keys) {
		t.Fatalf("after SIGKILL: status %d, %d keys; want 200 and %d", got, len(listed), len(keys))
	}
	if !listed[0].Disabled {
		t.Fatal("the acknowledged disable was lost")
	}
	if got := p.call(t, "POST", p.app()+"/auth/providers/api-key/login", "", map[string]string{"key": keys[9].Key}, nil); got != 200 {
		t.Fatalf("login with the last acknowledged key: status %d", got)
	}
}

// TestServeMetrics checks that /metrics is never on the main listener: off by default, and
// with --metrics-addr only on a listener of its own.
func TestServeMetrics(t *testing.T) {
	wantNotFound := func(t *testing.T, p *process) {
		t.Helper()
		got := get(t, p.url+"/metrics")
		var body struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal([]byte(got.body), &body); got.status != 404 || err != nil || body.Error != "no route for GET /metrics" {
			t.Fatalf("GET /metrics on the main listener: %d %s, want 404 with a JSON error", got.status, got.body)
		}
	}
	t.Run("OffByDefault", func(t *testing.T) {
		p := start(t, privateDir(t), nil)
		p.registerAndLogIn(t, "ann@example.com")
		wantNotFound(t, p)
	})
	t.Run("OwnListener", func(t *testing.T) {
		p := start(t, privateDir(t), nil, "--metrics-addr", "127.0.0.1:0")
		p.registerAndLogIn(t, "ann@example.com")
		wantNotFound(t, p)
		m := get(t, p.metricsURL)
		if want := `latchkey_logins_total{outcome="success",provider="local-userpass"} 1`; m.status != 200 || !strings.Contains(m.body, want) {
			t.Fatalf("GET %s: %d, lacks %s", p.metricsURL, m.status, want)
		}
	})
	t.Run("ErrEmpty", func(t *testing.T) {
		// Empty once meant the main listener: refused, not quietly turned off.
		out, err := exec.Command(binary, "serve", "--metrics-addr", "", "--print-config").CombinedOutput()
		if err == nil || !strings.Contains(string(out), "metrics-addr") {
			t.Fatalf("--metrics-addr '': err %v, output %s", err, out)
		}
	})
}

func TestServeConfig(t *testing.T) {
	t.Run("EnvironmentVariables", func(t *testing.T) {
		data := privateDir(t)
		p := start(t, filepath.Join(data, "ignored"), []string{"LATCHKEY_APP_ID=env-app", "LATCHKEY_PUBLIC_URL=https://auth.example.com/"})
		if p.appID != "env-app" || p.url != "https://auth.example.com" {
			t.Fatalf("app %q, url %q; want env-app and https://auth.example.com", p.appID, p.url)
		}
	})
	t.Run("DefaultAppOnFirstStart", func(t *testing.T) {
		data := privateDir(t)
		p := start(t, data, nil)
		if !strings.HasPrefix(p.appID, "latchkey-") {
			t.Fatalf("default app id = %q, want latchkey-xxxxx", p.appID)
		}
		first := p.appID
		p.stop(t)
		if p = start(t, data, nil); p.appID != first {
			t.Fatalf("second start serves %q, want the first start's %q", p.appID, first)
		}
	})
	t.Run("ErrBadFlag", func(t *testing.T) {
		out, err := exec.Command(binary, "serve", "--log-level", "loud").CombinedOutput()
		if err == nil || !strings.Contains(string(out), "log level") {
			t.Fatalf("bad log level: err %v, output %s", err, out)
		}
	})
}
