// Package compat_test runs unmodified Realm SDKs against a real Latchkey server binary.
//
// TestRealmWeb needs Node.js 20+ and npm on PATH; it fails (never skips) without them.
package compat_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/internal/testenv"
)

const (
	compatAppID = "compat-app"

	flowTimeout     = 2 * time.Minute
	startTimeout    = 30 * time.Second
	shutdownTimeout = 15 * time.Second
)

var summaryLine = regexp.MustCompile(`^\d+ passed, 0 failed$`)

// TestRealmWeb runs the realm-web flows against a freshly built server on the embedded SQLite
// database and on PostgreSQL: compat/realm-web/flow.mjs (the user API keys flow, linking an
// email/password identity, and custom user data set by an admin), then
// compat/realm-web/external.mjs (the external providers: custom tokens by HS256 key, RS256 PEM
// key and JWK set URL, a custom function's webhook, Google and Apple ID tokens, and linking
// each of them to an anonymous user), which serves its JWK sets and webhook itself, on loopback.
func TestRealmWeb(t *testing.T) {
	root := moduleRoot(t)
	flowDir := filepath.Join(root, "compat", "realm-web")
	ensureNodeModules(t, flowDir)
	bin := buildServer(t, root)

	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			var args []string
			if store == "postgres" {
				args = []string{"--database", pgtest.NewDatabase(t)}
			}
			srv := startServerEnv(t, bin, compatAdminEnv, args...)
			runRealmWebFlow(t, flowDir, "flow.mjs", srv.URL, compatAdminEnv)
			runRealmWebFlow(t, flowDir, "external.mjs", srv.URL, compatAdminEnv)
			srv.Stop(t)
		})
	}
}

// moduleRoot is the directory above this package (go test runs in the package directory).
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatalf("module root: %v", err)
	}
	if !strings.Contains(string(data), "module github.com/latchkey/latchkey") {
		t.Fatalf("%s/go.mod is not the latchkey module", root)
	}
	return root
}

// ensureNodeModules checks for node (20+) and npm and runs `npm ci` when realm-web is not installed.
func ensureNodeModules(t *testing.T, dir string) {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Missing(t, "%s is required for the realm-web compatibility test (install Node.js 20+): %v", tool, err)
		}
	}
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		t.Fatalf("node --version: %v", err)
	}
	version := strings.TrimSpace(string(out))
	major, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(version, "v"), ".", 2)[0])
	if err != nil || major < 20 {
		t.Fatalf("Node.js 20 or newer is required (global fetch), found %q", version)
	}

	if _, err := os.Stat(filepath.Join(dir, "node_modules", "realm-web", "package.json")); err == nil {
		return
	}
	t.Logf("installing %s/node_modules with npm ci", dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
	}
}

// buildServer builds ./cmd/latchkey once into the test's temporary directory.
func buildServer(t *testing.T, root string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "latchkey")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/latchkey")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/latchkey: %v\n%s", err, out)
	}
	return bin
}

// server is a running latchkey binary.
type server struct {
	URL string

	cmd     *exec.Cmd
	stderr  string        // path of the file holding the server's JSON log
	exited  chan struct{} // closed once cmd.Wait has returned
	waitErr error         // cmd.Wait's result, valid after exited is closed
	stdout  chan struct{} // closed once stdout has been drained
}

// startServer starts `latchkey serve` on a free loopback port with a fresh data directory and
// the app id compatAppID; extraArgs are appended to the command line. The server is killed at
// the end of the test unless Stop has ended it.
func startServer(t *testing.T, bin string, extraArgs ...string) *server {
	t.Helper()
	return startServerEnv(t, bin, nil, extraArgs...)
}

// compatAdminEnv makes the flow's server create its first admin, whom the flow signs in as
// to set a user's custom data through the admin API.
var compatAdminEnv = []string{
	"LATCHKEY_ADMIN_EMAIL=compat-admin@example.com",
	"LATCHKEY_ADMIN_PASSWORD=the compatibility tests' admin password",
}

// startServerEnv is startServer with env added to the server's environment.
func startServerEnv(t *testing.T, bin string, env []string, extraArgs ...string) *server {
	t.Helper()
	dir := t.TempDir()
	args := append([]string{"serve",
		"--addr", "127.0.0.1:0",
		"--data", filepath.Join(dir, "data"),
		"--app-id", compatAppID,
	}, extraArgs...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(serverEnv(), env...)

	s := &server{
		cmd:    cmd,
		stderr: filepath.Join(dir, "server.log"),
		exited: make(chan struct{}),
		stdout: make(chan struct{}),
	}
	logFile, err := os.Create(s.stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}

	// Read stdout until the listening line; keep draining it (into t.Log) after that.
	urlc := make(chan string, 1)
	go func() {
		defer close(s.stdout)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			t.Logf("server stdout: %s", line)
			if rest, ok := strings.CutPrefix(line, "Latchkey listening on "); ok {
				select {
				case urlc <- strings.TrimSpace(rest):
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() {
		<-s.stdout // Wait closes the pipe, so stdout is drained first
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()

	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			_ = cmd.Process.Kill()
			<-s.exited
		}
		if t.Failed() {
			s.logServerLog(t)
		}
	})

	select {
	case s.URL = <-urlc:
	case <-s.exited:
		t.Fatalf("server exited before listening: %v", s.waitErr)
	case <-time.After(startTimeout):
		t.Fatalf("server printed no \"Latchkey listening on\" line within %v", startTimeout)
	}
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Fatalf("unexpected listening URL %q", s.URL)
	}
	t.Logf("server %v listening on %s", args, s.URL)
	return s
}

// Stop sends SIGTERM and requires a graceful exit with status 0 within shutdownTimeout.
func (s *server) Stop(t *testing.T) {
	t.Helper()
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-s.exited:
	case <-time.After(shutdownTimeout):
		t.Fatalf("server still running %v after SIGTERM", shutdownTimeout)
	}
	if s.waitErr != nil {
		t.Fatalf("server did not exit cleanly after SIGTERM: %v", s.waitErr)
	}
	t.Logf("server stopped gracefully in %v", time.Since(start).Round(time.Millisecond))
}

func (s *server) logServerLog(t *testing.T) {
	t.Helper()
	data, err := os.ReadFile(s.stderr)
	if err != nil {
		t.Logf("server log: %v", err)
		return
	}
	t.Logf("server log (stderr):\n%s", data)
}

// serverEnv is the server's environment: none of the test's LATCHKEY_ settings, so that a
// developer's (LATCHKEY_PUBLIC_URL, LATCHKEY_DATA, ...) cannot change the server under test,
// and the secret key that encrypts the signing keys (required on PostgreSQL, shared by every
// node of a database; SQLite would make one).
func serverEnv() []string {
	env := []string{"LATCHKEY_SECRET_KEY=the compatibility tests' secret key, 32+ bytes"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LATCHKEY_") {
			env = append(env, kv)
		}
	}
	return env
}

// runRealmWebFlow runs `node <script>` (a flow in flowDir) against baseURL, streaming its
// output into t.Log, and fails unless it exits 0 after printing its "N passed, 0 failed"
// summary. adminEnv holds LATCHKEY_ADMIN_EMAIL and LATCHKEY_ADMIN_PASSWORD of an admin of the
// server, which the flow signs in as to use the admin API.
func runRealmWebFlow(t *testing.T, flowDir, script, baseURL string, adminEnv []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), flowTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Dir = flowDir
	cmd.Env = append(append(serverEnv(), adminEnv...), "LATCHKEY_URL="+baseURL, "LATCHKEY_APP_ID="+compatAppID)
	cmd.WaitDelay = 5 * time.Second

	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	cmd.Stdout = pw
	cmd.Stderr = pw
	start := time.Now()
	if err := cmd.Start(); err != nil {
		pw.Close()
		t.Fatalf("start node %s: %v", script, err)
	}
	pw.Close()

	var last string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		t.Log(line)
		if strings.TrimSpace(line) != "" {
			last = line
		}
	}
	err = cmd.Wait()
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		t.Fatalf("node %s did not finish within %v", script, flowTimeout)
	case err != nil:
		t.Fatalf("node %s failed after %v: %v", script, time.Since(start).Round(time.Millisecond), err)
	case !summaryLine.MatchString(last):
		t.Fatalf("node %s exited 0 but its last line is %q, not \"N passed, 0 failed\"", script, last)
	}
	t.Logf("realm-web %s passed in %v", script, time.Since(start).Round(time.Millisecond))
}
