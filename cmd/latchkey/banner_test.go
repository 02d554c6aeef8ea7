package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// serveBanner runs `latchkey serve` on dataDir and returns the lines it prints up to the
// self-service line, with the running process.
func serveBanner(t *testing.T, dataDir string) ([]string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--data", dataDir)
	cmd.Env = os.Environ()
	stdout := startPiped(t, cmd)
	var lines []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.HasPrefix(sc.Text(), "Self-service keys: ") {
			go io.Copy(io.Discard, stdout)
			return lines, cmd
		}
	}
	t.Fatalf("latchkey exited before its banner ended: %q", lines)
	return nil, nil
}

// TestServeBanner checks that the start banner points at the console and the app's
// self-service page, which answer, and gives the exact command that makes the first admin
// until one exists.
func TestServeBanner(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my data")
	lines, cmd := serveBanner(t, dir)
	url, _ := strings.CutPrefix(lines[0], "Latchkey listening on ")
	app, _, _ := strings.Cut(strings.TrimPrefix(lines[1], "App ID: "), " ")
	want := []string{
		"Latchkey listening on " + url,
		"App ID: " + app + " (created)",
		"No admin yet. Create one (it asks for a password):",
		"  latchkey admin create-user --email you@example.com --data '" + dir + "'",
		"Console: " + url + "/console/",
		"Self-service keys: " + url + "/app/" + app + "/account/",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("banner:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	for _, page := range []string{url + "/console/", url + "/app/" + app + "/account/"} {
		resp, err := http.Get(page)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d, want 200", page, resp.StatusCode)
		}
	}
	cmd.Process.Kill()
	cmd.Wait()

	// The printed command, run as printed (with the email filled in), makes the admin; the
	// next start no longer asks for one.
	args := strings.Fields(strings.TrimSpace(strings.SplitN(want[3], " --data ", 2)[0]))[1:]
	args = append(args, "--data", dir)
	create := exec.Command(binary, args...)
	create.Stdin = strings.NewReader("a-long-admin-password\n")
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
	lines, _ = serveBanner(t, dir)
	if strings.Join(lines, "\n") != strings.Join([]string{lines[0], "App ID: " + app + " (serving)", "Console: " + strings.TrimPrefix(lines[0], "Latchkey listening on ") + "/console/", lines[3]}, "\n") || len(lines) != 4 {
		t.Fatalf("banner with an admin:\n%s", strings.Join(lines, "\n"))
	}
}

// TestServeHelpAppID checks that serve's help says what --app-id does: it names the app
// created and printed at start, and does not limit which apps are served.
func TestServeHelpAppID(t *testing.T) {
	out, _ := exec.Command(binary, "serve", "-h").CombinedOutput()
	help := string(out)
	i := strings.Index(help, "-app-id")
	if i < 0 {
		t.Fatalf("serve -h does not list --app-id:\n%s", help)
	}
	entry, _, _ := strings.Cut(help[i:], "\n  -")
	for _, want := range []string{"create", "print", "every app is served"} {
		if !strings.Contains(entry, want) {
			t.Errorf("--app-id's help %q does not say %q", entry, want)
		}
	}
}
