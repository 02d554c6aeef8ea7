package main

import (
	"strings"
	"testing"
)

// TestAdminCLICustomData prints, sets (from an argument and from standard input) and clears
// a user's custom data with `latchkey admin users custom-data`, and checks its refusals.
func TestAdminCLICustomData(t *testing.T) {
	dir := privateDir(t)
	root := newCLIUser(t)
	root.ok("", "migrate", "--data", dir)
	root.ok(adminPassword+"\n", "admin", "create-user", "--email", adminEmail, "--data", dir)
	p := start(t, dir, nil, "--app-id", "cli-app")
	root.ok(adminPassword+"\n", "admin", "login", "--url", p.url, "--email", adminEmail)
	ann := newCLIUser(t)
	ann.ok("s3cretpass\n", "register", "--url", p.url, "--app", "cli-app", "--email", "ann@example.com")
	var users []cliUserInfo
	root.okJSON(&users, "", "admin", "users", "list", "--app", "cli-app", "--json")
	if len(users) != 1 {
		t.Fatalf("users = %+v, want ann", users)
	}
	id := users[0].ID
	show := func() string {
		t.Helper()
		return strings.Join(strings.Fields(root.ok("", "admin", "users", "custom-data", id, "--app", "cli-app").stdout), "")
	}

	if got := show(); got != "{}" {
		t.Fatalf("custom-data before = %q, want {}", got)
	}
	if r := root.ok("", "admin", "users", "custom-data", id, "--app", "cli-app", "--set", `{"plan":"pro"}`); r.stdout != "Set the custom data of user "+id+".\n" {
		t.Fatalf("--set printed %q", r.stdout)
	}
	if got := show(); got != `{"plan":"pro"}` {
		t.Fatalf("custom-data = %q, want {\"plan\":\"pro\"}", got)
	}
	root.ok(`{"plan": "team", "seats": 3}`+"\n", "admin", "users", "custom-data", id, "--app", "cli-app", "--set", "-")
	if got := show(); got != `{"plan":"team","seats":3}` {
		t.Fatalf("custom-data after --set - = %q", got)
	}

	root.fails("custom data must be a JSON object (InvalidParameter)", "", "admin", "users", "custom-data", id, "--app", "cli-app", "--set", "[1]")
	root.fails("--set: not valid JSON", "", "admin", "users", "custom-data", id, "--app", "cli-app", "--set", "{nope")
	root.fails("give --set or --clear, not both", "", "admin", "users", "custom-data", id, "--app", "cli-app", "--set", "{}", "--clear")
	root.fails("user not found (UserNotFound)", "", "admin", "users", "custom-data", "000000000000000000000000", "--app", "cli-app")
	if got := show(); got != `{"plan":"team","seats":3}` {
		t.Fatalf("custom-data after refusals = %q, want it unchanged", got)
	}

	if r := root.ok("", "admin", "users", "custom-data", id, "--app", "cli-app", "--clear"); r.stdout != "Cleared the custom data of user "+id+".\n" {
		t.Fatalf("--clear printed %q", r.stdout)
	}
	if got := show(); got != "{}" {
		t.Fatalf("custom-data after --clear = %q, want {}", got)
	}
}
