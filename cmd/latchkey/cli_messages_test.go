package main

import (
	"strings"
	"testing"
)

// TestCLIServerDown checks that a server that does not answer is named as such, with its
// URL, rather than as a dial error.
func TestCLIServerDown(t *testing.T) {
	p := start(t, privateDir(t), nil, "--app-id", "down-app")
	u := newCLIUser(t)
	u.ok("s3cretpass\n", "register", "--url", p.url, "--app", p.appID, "--email", "ann@example.com")
	u.ok("s3cretpass\n", "login", "--email", "ann@example.com")
	p.stop(t)

	want := "latchkey: keys list: cannot reach Latchkey at " + p.url + ": is it running?\n"
	if r := u.run("", "keys", "list"); r.code == 0 || r.stderr != want {
		t.Fatalf("keys list with the server down: exit %d, stderr %q; want %q", r.code, r.stderr, want)
	}
	want = "latchkey: logout: logged out here, but the server could not be told: cannot reach Latchkey at " + p.url + ": is it running?\n"
	if r := u.run("", "logout"); r.code == 0 || r.stderr != want {
		t.Fatalf("logout with the server down: exit %d, stderr %q; want %q", r.code, r.stderr, want)
	}
}

// TestCLILockedAccount checks that a locked account (429 with Retry-After) says how long to
// wait.
func TestCLILockedAccount(t *testing.T) {
	p := start(t, privateDir(t), nil, "--app-id", "lock-app", "--lockout-failures", "2", "--lockout-duration", "15m")
	u := newCLIUser(t)
	u.ok("s3cretpass\n", "register", "--url", p.url, "--app", p.appID, "--email", "ann@example.com")
	for range 2 {
		u.fails("unauthorized (InvalidPassword)", "wrong-password\n", "login", "--email", "ann@example.com")
	}
	// Retry-After is whole seconds rounded up, so 15 minutes at most; shown rounded up.
	want := "latchkey: login: too many attempts; try again in 15 minutes\n"
	if r := u.run("s3cretpass\n", "login", "--email", "ann@example.com"); r.code == 0 || r.stderr != want {
		t.Fatalf("login to a locked account: exit %d, stderr %q; want %q", r.code, r.stderr, want)
	}
}

// TestCLIKeysByName checks that the key commands take a key's name where they take its id.
func TestCLIKeysByName(t *testing.T) {
	p := start(t, privateDir(t), nil, "--app-id", "name-app")
	u := newCLIUser(t)
	u.ok("s3cretpass\n", "register", "--url", p.url, "--app", p.appID, "--email", "ann@example.com")
	u.ok("s3cretpass\n", "login", "--email", "ann@example.com")
	var ci, laptop cliKey
	u.okJSON(&ci, "", "keys", "create", "ci", "--json")
	u.okJSON(&laptop, "", "keys", "create", "laptop", "--json")

	var got cliKey
	u.okJSON(&got, "", "keys", "get", "ci", "--json")
	if got.ID != ci.ID || got.Name != "ci" {
		t.Fatalf("keys get ci = %+v, want the key %s", got, ci.ID)
	}
	if r := u.ok("", "keys", "disable", "ci"); r.stdout != "Disabled API key "+ci.ID+".\n" {
		t.Fatalf("keys disable ci printed %q", r.stdout)
	}
	u.okJSON(fresh(&got), "", "keys", "get", ci.ID, "--json")
	if !got.Disabled {
		t.Fatal("keys disable ci left the key enabled")
	}
	if r := u.ok("", "keys", "enable", "ci"); r.stdout != "Enabled API key "+ci.ID+".\n" {
		t.Fatalf("keys enable ci printed %q", r.stdout)
	}
	var rotated cliKey
	u.okJSON(&rotated, "", "keys", "rotate", "ci", "--json")
	if rotated.ID != ci.ID || rotated.Key == nil || *rotated.Key == *ci.Key {
		t.Fatalf("keys rotate ci = %+v", rotated)
	}
	if r := u.ok("", "keys", "delete", "ci", "--yes"); r.stdout != "Deleted API key "+ci.ID+".\n" {
		t.Fatalf("keys delete ci printed %q", r.stdout)
	}
	u.fails("latchkey: keys get: no key named ci: see latchkey keys list\n", "", "keys", "get", "ci")
	u.fails("latchkey: keys disable: no key named ci: see latchkey keys list\n", "", "keys", "disable", "ci")
	// The other key is untouched, and an id is still an id.
	u.okJSON(fresh(&got), "", "keys", "get", laptop.ID, "--json")
	if got.Name != "laptop" || got.Disabled {
		t.Fatalf("keys get %s = %+v", laptop.ID, got)
	}
}

// TestAdminCLIAppIDs checks that the admin commands speak of apps by their client app ids:
// the audit log's APP column, and a duplicate app's error, which carries no status.
func TestAdminCLIAppIDs(t *testing.T) {
	p := start(t, privateDir(t), bootstrapEnv, "--app-id", "audit-app")
	root := newCLIUser(t)
	root.ok(adminPassword+"\n", "admin", "login", "--url", p.url, "--email", adminEmail)
	var app cliApp
	root.okJSON(&app, "", "admin", "apps", "get", "audit-app", "--json")
	u := newCLIUser(t)
	u.ok("s3cretpass\n", "register", "--url", p.url, "--app", p.appID, "--email", "ann@example.com")

	r := root.ok("", "admin", "audit", "--app", "audit-app", "--event", "register")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 || strings.Fields(lines[1])[5] != "audit-app" || strings.Contains(r.stdout, app.ID) {
		t.Fatalf("admin audit printed, want the APP column to be audit-app, not %s:\n%s", app.ID, r.stdout)
	}

	want := "latchkey: admin apps create: an app with client app id 'audit-app' already exists\n"
	if r := root.run("", "admin", "apps", "create", "--client-app-id", "audit-app"); r.code == 0 || r.stderr != want {
		t.Fatalf("apps create of an existing app: exit %d, stderr %q; want %q", r.code, r.stderr, want)
	}
}
