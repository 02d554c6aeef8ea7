package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// cliUser runs the built binary's user-side commands with its own config directory, as one
// person at one terminal would.
type cliUser struct {
	t   *testing.T
	dir string
}

func newCLIUser(t *testing.T) *cliUser {
	return &cliUser{t: t, dir: privateDir(t)}
}

// result is what one run of the binary did.
type result struct {
	stdout, stderr string
	code           int
}

// env is the environment of the user's commands: the user's config directory and no other
// LATCHKEY_ variable, so that the caller's cannot leak in.
func (u *cliUser) env() []string {
	env := []string{"LATCHKEY_CONFIG_DIR=" + u.dir}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LATCHKEY_") {
			env = append(env, kv)
		}
	}
	return env
}

// run runs the binary with stdin (a pipe, not a terminal) and the user's config directory.
func (u *cliUser) run(stdin string, args ...string) result {
	u.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = u.env()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		u.t.Fatalf("latchkey %v: %v", args, err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
}

// ok runs the binary and requires exit code 0.
func (u *cliUser) ok(stdin string, args ...string) result {
	u.t.Helper()
	r := u.run(stdin, args...)
	if r.code != 0 {
		u.t.Fatalf("latchkey %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// fails runs the binary and requires a non-zero exit code and an error message on stderr
// that contains want.
func (u *cliUser) fails(want, stdin string, args ...string) result {
	u.t.Helper()
	r := u.run(stdin, args...)
	if r.code == 0 {
		u.t.Fatalf("latchkey %s: exit 0, want failure\nstdout: %s", strings.Join(args, " "), r.stdout)
	}
	if !strings.Contains(r.stderr, want) {
		u.t.Fatalf("latchkey %s: stderr %q, want it to contain %q", strings.Join(args, " "), r.stderr, want)
	}
	return r
}

// okJSON runs the binary, requires exit 0, and decodes its stdout into out.
func (u *cliUser) okJSON(out any, stdin string, args ...string) result {
	u.t.Helper()
	r := u.ok(stdin, args...)
	if err := json.Unmarshal([]byte(r.stdout), out); err != nil {
		u.t.Fatalf("latchkey %s: stdout is not JSON (%v): %s", strings.Join(args, " "), err, r.stdout)
	}
	return r
}

// cliKey is a key as `keys ... --json` prints it.
type cliKey struct {
	ID         string   `json:"_id"`
	Key        *string  `json:"key"`
	Name       string   `json:"name"`
	Disabled   bool     `json:"disabled"`
	Start      string   `json:"start"`
	Scopes     []string `json:"scopes"`
	CreatedAt  string   `json:"created_at"`
	LastUsedAt *string  `json:"last_used_at"`
	ExpiresAt  *string  `json:"expires_at"`
}

// TestCLISeedFlow runs the Realm "Manage User API Keys" flow through the CLI: register, log
// in, create, list, fetch, disable, enable, log in with the key, delete.
func TestCLISeedFlow(t *testing.T) {
	p := start(t, privateDir(t), nil, "--app-id", "cli-app")
	ann := newCLIUser(t)
	var outputs []result // everything printed, to check that no secret leaked
	keep := func(r result) result { outputs = append(outputs, r); return r }

	r := keep(ann.ok("s3cretpass\n", "register", "--url", p.url, "--app", p.appID, "--email", "ann@example.com"))
	if !strings.Contains(r.stdout, "Registered ann@example.com") {
		t.Fatalf("register printed %q", r.stdout)
	}
	// The password comes piped on stdin; --url and --app are remembered from register.
	r = keep(ann.ok("s3cretpass\n", "login", "--email", "ann@example.com"))
	if !strings.Contains(r.stdout, "Logged in to "+p.url+" (app cli-app) as ann@example.com") {
		t.Fatalf("login printed %q", r.stdout)
	}
	creds := filepath.Join(ann.dir, "credentials.json")
	if fi, err := os.Stat(creds); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}

	var who whoami
	keep(ann.okJSON(&who, "", "whoami", "--json"))
	if who.Email != "ann@example.com" || who.Provider != "local-userpass" || who.URL != p.url || who.App != "cli-app" || len(who.UserID) != 24 {
		t.Fatalf("whoami = %+v", who)
	}
	r = keep(ann.ok("", "whoami"))
	if !strings.Contains(r.stdout, who.UserID) || !strings.Contains(r.stdout, "ann@example.com") {
		t.Fatalf("whoami printed %q", r.stdout)
	}

	// create: the value once, with a warning.
	var build cliKey
	r = ann.okJSON(&build, "", "keys", "create", "build-server", "--json")
	if build.Key == nil || len(*build.Key) < 27 || build.Name != "build-server" || build.Disabled || build.CreatedAt == "" ||
		build.Start == "" || !strings.HasPrefix(*build.Key, build.Start) || build.ExpiresAt != nil || build.Scopes != nil {
		t.Fatalf("keys create --json = %+v", build)
	}
	if !strings.Contains(r.stderr, "shown only once") {
		t.Fatalf("keys create printed no warning: %q", r.stderr)
	}
	r = ann.ok("", "keys", "create", "--json=false", "laptop")
	laptopValue := ""
	for _, line := range strings.Split(r.stdout, "\n") {
		if v, ok := strings.CutPrefix(line, "key"); ok {
			laptopValue = strings.TrimSpace(v)
		}
	}
	if len(laptopValue) < 27 || !strings.Contains(r.stderr, "shown only once") {
		t.Fatalf("keys create printed %q, %q", r.stdout, r.stderr)
	}

	// fetchAll and fetch: no values.
	var list []cliKey
	keep(ann.okJSON(&list, "", "keys", "list", "--json"))
	if len(list) != 2 || list[0].ID != build.ID || list[1].Name != "laptop" || list[0].Key != nil || list[1].Key != nil {
		t.Fatalf("keys list --json = %+v", list)
	}
	r = keep(ann.ok("", "keys", "list"))
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "ID NAME START ENABLED CREATED LAST USED EXPIRES SCOPES" ||
		!strings.HasPrefix(lines[1], build.ID) || !strings.Contains(lines[1], "build-server") || !strings.Contains(lines[1], build.Start) ||
		!strings.Contains(lines[1], "yes") || !strings.Contains(lines[1], "never") {
		t.Fatalf("keys list printed:\n%s", r.stdout)
	}
	var got cliKey
	keep(ann.okJSON(&got, "", "keys", "get", build.ID, "--json"))
	if got.ID != build.ID || got.Name != "build-server" || got.Key != nil {
		t.Fatalf("keys get --json = %+v", got)
	}
	r = keep(ann.ok("", "keys", "get", build.ID))
	if !strings.Contains(r.stdout, "build-server") || !strings.Contains(r.stdout, "enabled    yes") {
		t.Fatalf("keys get printed:\n%s", r.stdout)
	}

	// disable: the key stops logging in.
	r = keep(ann.ok("", "keys", "disable", build.ID))
	if r.stdout != "Disabled API key "+build.ID+".\n" {
		t.Fatalf("keys disable printed %q", r.stdout)
	}
	keep(ann.okJSON(&got, "", "keys", "get", build.ID, "--json"))
	if !got.Disabled {
		t.Fatal("the key is enabled after keys disable")
	}
	server := newCLIUser(t) // the build server, with its own config directory
	keep(server.fails("unauthorized (AuthError)", *build.Key+"\n", "login", "--url", p.url, "--app", p.appID, "--api-key"))

	// enable, then log in with the key as its owner.
	keep(ann.ok("", "keys", "enable", build.ID))
	r = keep(server.ok(*build.Key+"\n", "login", "--url", p.url, "--app", p.appID, "--api-key"))
	if !strings.Contains(r.stdout, who.UserID) {
		t.Fatalf("key login printed %q, want the owner's id %s", r.stdout, who.UserID)
	}
	var keyWho whoami
	keep(server.okJSON(&keyWho, "", "whoami", "--json"))
	if keyWho.UserID != who.UserID || keyWho.Provider != "api-key" {
		t.Fatalf("whoami of the key session = %+v", keyWho)
	}
	keep(server.fails("API key sessions cannot manage API keys (AuthError)", "", "keys", "list"))
	keep(ann.okJSON(&got, "", "keys", "get", build.ID, "--json"))
	if got.LastUsedAt == nil {
		t.Fatal("last_used_at is unset after a key login")
	}

	// delete: refused without a terminal or --yes, then done with --yes.
	keep(ann.fails("refusing to delete without confirmation", "y\n", "keys", "delete", build.ID))
	keep(ann.ok("", "keys", "get", build.ID))
	r = keep(ann.ok("", "keys", "delete", build.ID, "--yes"))
	if r.stdout != "Deleted API key "+build.ID+".\n" {
		t.Fatalf("keys delete printed %q", r.stdout)
	}
	keep(ann.fails("latchkey: keys get: API key not found (APIKeyNotFound)", "", "keys", "get", build.ID))
	keep(ann.fails("API key not found (APIKeyNotFound)", "", "keys", "delete", build.ID, "--yes"))

	// Deleting the key ended its session: the build server's next key call logs it out.
	keep(server.fails("the session has ended", "", "keys", "list"))
	keep(server.fails("not logged in", "", "whoami"))

	// No output ever showed a token or the password.
	apps := readCredentials(t, creds)
	secrets := []string{"s3cretpass", *build.Key, laptopValue}
	for _, app := range apps {
		for _, u := range app.Users {
			secrets = append(secrets, u.AccessToken, u.RefreshToken)
		}
	}
	if len(secrets) < 5 {
		t.Fatalf("the credentials file holds no tokens: %+v", apps)
	}
	for _, r := range outputs {
		for _, s := range secrets {
			if s != "" && (strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s)) {
				t.Fatalf("a secret was printed:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
			}
		}
	}

	// logout ends the session and forgets it.
	refresh := apps["cli-app@"+p.url].Users[0].RefreshToken
	if r := ann.ok("", "logout"); r.stdout != "Logged out.\n" {
		t.Fatalf("logout printed %q", r.stdout)
	}
	if got := p.call(t, "POST", "/api/client/v2.0/auth/session", refresh, nil, nil); got != 401 {
		t.Fatalf("refresh after logout: status %d, want 401", got)
	}
	if b, _ := os.ReadFile(creds); strings.Contains(string(b), refresh) {
		t.Fatal("the refresh token is still in the credentials file after logout")
	}
	ann.fails("not logged in", "", "whoami")
	ann.fails("not logged in", "", "keys", "list")
	if r := ann.ok("", "logout"); r.stdout != "Not logged in.\n" {
		t.Fatalf("second logout printed %q", r.stdout)
	}
}

func TestCLIErrors(t *testing.T) {
	p := start(t, privateDir(t), nil, "--app-id", "cli-app")
	u := newCLIUser(t)
	u.ok("s3cretpass\n", "register", "--url", p.url, "--app", p.appID, "--email", "ann@example.com")

	t.Run("NotLoggedIn", func(t *testing.T) {
		u.fails("not logged in", "", "keys", "list")
		u.fails("not logged in", "", "whoami")
	})
	t.Run("Login", func(t *testing.T) {
		u.fails("unauthorized (InvalidPassword)", "wrong-password\n", "login", "--email", "ann@example.com")
		u.fails("no password on standard input", "", "login", "--email", "ann@example.com")
		u.fails("give --email EMAIL or --api-key", "", "login")
		u.fails("give --email EMAIL or --api-key", "", "login", "--email", "ann@example.com", "--api-key")
		u.fails("unauthorized (AuthError)", "not-a-key\n", "login", "--api-key")
		newCLIUser(t).fails("--url and --app are required", "s3cretpass\n", "login", "--email", "ann@example.com")
		newCLIUser(t).fails("cannot find app using Client App ID 'nope' (InvalidParameter)", "s3cretpass\n",
			"login", "--url", p.url, "--app", "nope", "--email", "ann@example.com")
	})
	t.Run("Register", func(t *testing.T) {
		u.fails("name already in use (AccountNameInUse)", "s3cretpass\n", "register", "--email", "ann@example.com")
		u.fails("password must be between 6 and 128 characters (BadRequest)", "short\n", "register", "--email", "bob@example.com")
		u.fails("--email is required", "s3cretpass\n", "register")
	})
	t.Run("ServerDown", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		newCLIUser(t).fails("latchkey: login: cannot reach Latchkey at http://"+addr+": is it running?\n", "s3cretpass\n", "login", "--url", "http://"+addr, "--app", "x", "--email", "ann@example.com")
	})

	u.ok("s3cretpass\n", "login", "--email", "ann@example.com")
	t.Run("Keys", func(t *testing.T) {
		u.ok("", "keys", "create", "dup")
		u.fails("API key with name already exists (APIKeyAlreadyExists)", "", "keys", "create", "dup")
		u.fails("can only contain ASCII letters, numbers, underscores, and hyphens (InvalidParameter)", "", "keys", "create", "bad name")
		u.fails("keys create: 'name' is a required string\n", "", "keys", "create", "")
		for _, cmd := range []string{"get", "enable", "disable"} {
			u.fails("API key not found (APIKeyNotFound)", "", "keys", cmd, "000000000000000000000000")
		}
		u.fails("missing KEY", "", "keys", "get")
		u.fails("missing NAME", "", "keys", "create")
		u.fails(`unexpected argument "b"`, "", "keys", "get", "a", "b")
		u.fails("flag provided but not defined: -nope", "", "keys", "list", "--nope")
		u.fails(`latchkey: keys: unknown command "renew"`, "", "keys", "renew")
		u.fails("latchkey: keys: no command given", "", "keys")
		if r := u.ok("", "keys", "list"); !strings.Contains(r.stdout, "dup") {
			t.Fatalf("keys list after the errors: %q", r.stdout)
		}
	})
	t.Run("PerCallFlagsIgnoreTheEnvironment", func(t *testing.T) {
		// LATCHKEY_YES must not confirm a delete.
		cmd := exec.Command(binary, "keys", "delete", "000000000000000000000000")
		cmd.Env = append(os.Environ(), "LATCHKEY_CONFIG_DIR="+u.dir, "LATCHKEY_YES=true")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "refusing to delete without confirmation") {
			t.Fatalf("delete with LATCHKEY_YES=true: %v, %s", err, out)
		}
	})
}

func TestCLIHelp(t *testing.T) {
	u := newCLIUser(t)
	for _, args := range [][]string{
		{"register"}, {"login"}, {"logout"}, {"whoami"},
		{"keys", "create"}, {"keys", "rotate"}, {"keys", "list"}, {"keys", "get"}, {"keys", "disable"}, {"keys", "enable"}, {"keys", "delete"},
	} {
		for _, help := range []string{"--help", "-h"} {
			r := u.ok("", append(args, help)...)
			if want := "Usage: latchkey " + strings.Join(args, " "); !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "-config-dir") {
				t.Errorf("latchkey %s %s printed %q, want %q and the flags", strings.Join(args, " "), help, r.stderr, want)
			}
		}
	}
	if r := u.ok("", "keys", "--help"); !strings.Contains(r.stdout, "create NAME") || !strings.Contains(r.stdout, "rotate KEY") || !strings.Contains(r.stdout, "delete KEY") {
		t.Errorf("keys --help printed %q", r.stdout)
	}
	if r := u.ok("", "help"); !strings.Contains(r.stdout, "latchkey login") || !strings.Contains(r.stdout, "latchkey keys") {
		t.Errorf("help printed %q", r.stdout)
	}
}
