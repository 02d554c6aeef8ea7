package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
)

// cliLeakResult is one line of `admin leak-report --json`.
type cliLeakResult struct {
	Token string `json:"token_raw"`
	Label string `json:"label"`
}

// tableRow returns the fields of the table line that contains id, failing if none does.
func tableRow(t *testing.T, out, id string) []string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, id) {
			return strings.Fields(line)
		}
	}
	t.Fatalf("no line with %q in:\n%s", id, out)
	return nil
}

// TestAdminCLIKeyControls runs the key controls through the admin CLI: an app's key
// settings, the key tables, the leak-report secret and a leak report.
func TestAdminCLIKeyControls(t *testing.T) {
	p := start(t, privateDir(t), bootstrapEnv, "--app-id", "kc-app")
	root := newCLIUser(t)
	root.ok(adminPassword+"\n", "admin", "login", "--url", p.url, "--email", adminEmail)

	// Settings.
	var settings client.AppSettings
	root.okJSON(&settings, "", "admin", "apps", "settings", "kc-app", "--json",
		"--set", "key_prefix=acme", "--set", "max_key_lifetime_seconds=7776000", "--set", "scopes=read, write")
	if settings.KeyPrefix != "acme" || settings.MaxKeyLifetime() != 90*24*time.Hour || !slices.Equal(settings.Scopes, []string{"read", "write"}) || settings.LeakSecretSet {
		t.Fatalf("apps settings --set --json = %+v", settings)
	}
	r := root.ok("", "admin", "apps", "settings", "kc-app")
	if valueLine(t, r.stdout, "key_prefix") != "acme" || valueLine(t, r.stdout, "max_key_lifetime_seconds") != "7776000 (90d)" ||
		valueLine(t, r.stdout, "scopes") != "read,write" || valueLine(t, r.stdout, "leak_secret_set") != "false" {
		t.Fatalf("apps settings printed:\n%s", r.stdout)
	}
	root.fails(`"soon" is not a whole number of seconds`, "", "admin", "apps", "settings", "kc-app", "--set", "max_key_lifetime_seconds=soon")
	root.fails("key prefix must be 2 to 10 lowercase letters (InvalidParameter)", "", "admin", "apps", "settings", "kc-app", "--set", "key_prefix=ACME")

	// The key tables show start, expiry and scopes.
	ann := newCLIUser(t)
	ann.ok("s3cretpass\n", "register", "--url", p.url, "--app", "kc-app", "--email", "ann@example.com")
	ann.ok("s3cretpass\n", "login", "--email", "ann@example.com")
	var annKey cliKey
	ann.okJSON(&annKey, "", "keys", "create", "ci", "--scopes", "read", "--json")
	if !strings.HasPrefix(*annKey.Key, "acme_") || annKey.ExpiresAt == nil {
		t.Fatalf("keys create --json = %+v; want an acme_ key that expires", annKey)
	}
	var users []cliUserInfo
	root.okJSON(&users, "", "admin", "users", "list", "--app", "kc-app", "--json")
	annID := users[0].ID
	const header = "ID NAME START ENABLED CREATED LAST USED EXPIRES SCOPES"
	r = root.ok("", "admin", "user-keys", "list", "--app", "kc-app", "--user", annID)
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 2 || strings.Join(strings.Fields(lines[0]), " ") != header {
		t.Fatalf("user-keys list printed:\n%s", r.stdout)
	}
	if got, want := tableRow(t, r.stdout, annKey.ID), []string{annKey.ID, "ci", annKey.Start, "yes", annKey.CreatedAt, "never", *annKey.ExpiresAt, "read"}; !slices.Equal(got, want) {
		t.Fatalf("user-keys list row %q, want %q", got, want)
	}
	r = root.ok("", "admin", "server-keys", "create", "backend", "--app", "kc-app")
	serverKeyID, serverKey := valueLine(t, r.stdout, "id"), valueLine(t, r.stdout, "key")
	if !strings.HasPrefix(serverKey, "acme_") {
		t.Fatalf("server-keys create printed:\n%s", r.stdout)
	}
	// The app's maximum key lifetime applies to server keys too: the EXPIRES column is a date.
	r = root.ok("", "admin", "server-keys", "list", "--app", "kc-app")
	if row := tableRow(t, r.stdout, serverKeyID); !strings.HasPrefix(r.stdout, "ID ") || !strings.Contains(r.stdout, "START") ||
		row[2] != latchkey.KeyStart(serverKey) || row[len(row)-2] == "never" || row[len(row)-1] != "-" {
		t.Fatalf("server-keys list printed:\n%s", r.stdout)
	}
	if r := root.ok("", "admin", "server-keys", "get", serverKeyID, "--app", "kc-app"); valueLine(t, r.stdout, "start") != latchkey.KeyStart(serverKey) {
		t.Fatalf("server-keys get printed:\n%s", r.stdout)
	}

	// The leak-report secret: printed once, with a warning; a new one replaces it.
	r = root.ok("", "admin", "apps", "leak-secret", "kc-app")
	oldSecret := strings.TrimSpace(r.stdout)
	if strings.Count(r.stdout, "\n") != 1 || len(oldSecret) < 32 || !strings.Contains(r.stderr, "shown only once") {
		t.Fatalf("apps leak-secret printed %q, %q", r.stdout, r.stderr)
	}
	var rotated struct{ Secret string }
	root.okJSON(&rotated, "", "admin", "apps", "leak-secret", "kc-app", "--json")
	if rotated.Secret == "" || rotated.Secret == oldSecret {
		t.Fatalf("apps leak-secret --json = %+v", rotated)
	}
	secret := rotated.Secret
	if r := root.ok("", "admin", "apps", "settings", "kc-app"); valueLine(t, r.stdout, "leak_secret_set") != "true" {
		t.Fatalf("apps settings after leak-secret printed:\n%s", r.stdout)
	}
	root.fails("(InvalidParameter)", "", "admin", "apps", "leak-secret", "nope")

	// A leak report, from someone with the secret and no admin session: the secret, then
	// the values, on stdin.
	scanner := newCLIUser(t)
	ku := newCLIUser(t)
	ku.ok(*annKey.Key+"\n", "login", "--url", p.url, "--app", "kc-app", "--api-key")
	r = scanner.ok(secret+"\n"+*annKey.Key+"\nnot-a-key\n\n"+serverKey+"\n", "admin", "leak-report", "--url", p.url, "--app", "kc-app")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 4 || strings.Join(strings.Fields(lines[0]), " ") != "# LABEL START" ||
		!slices.Equal(strings.Fields(lines[1]), []string{"1", "true_positive", annKey.Start}) ||
		!slices.Equal(strings.Fields(lines[2])[:2], []string{"2", "false_positive"}) ||
		!slices.Equal(strings.Fields(lines[3]), []string{"3", "true_positive", latchkey.KeyStart(serverKey)}) {
		t.Fatalf("leak-report printed:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "2 of 3 values are keys of app kc-app") {
		t.Fatalf("leak-report stderr %q", r.stderr)
	}
	for _, s := range []string{secret, *annKey.Key, serverKey} {
		if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
			t.Fatalf("leak-report printed a secret:\n%s\n%s", r.stdout, r.stderr)
		}
	}
	// The keys are disabled and the key session ended.
	newCLIUser(t).fails("(AuthError)", *annKey.Key+"\n", "login", "--url", p.url, "--app", "kc-app", "--api-key")
	if got := p.call(t, "POST", "/api/client/v2.0/auth/session", fileTokens(t, filepath.Join(ku.dir, "credentials.json"))[1], nil, nil); got != 401 {
		t.Fatalf("refresh of the leaked key's session: status %d, want 401", got)
	}
	r = root.ok("", "admin", "server-keys", "get", serverKeyID, "--app", "kc-app")
	if valueLine(t, r.stdout, "enabled") != "no" {
		t.Fatalf("server-keys get after the leak report printed:\n%s", r.stdout)
	}

	// Values as arguments, --json, and the URL of the admin login.
	var results []cliLeakResult
	root.okJSON(&results, secret+"\n", "admin", "leak-report", "--app", "kc-app", "--json", *annKey.Key, "lk_nothing")
	if len(results) != 2 || results[0].Token != *annKey.Key || results[0].Label != client.LeakTruePositive || results[1].Label != client.LeakFalsePositive {
		t.Fatalf("leak-report --json = %+v", results)
	}

	// Errors.
	scanner.fails("invalid leak report secret (InvalidSession)", oldSecret+"\nx\n", "admin", "leak-report", "--url", p.url, "--app", "kc-app")
	scanner.fails("no leak secret on standard input", "", "admin", "leak-report", "--url", p.url, "--app", "kc-app", "x")
	scanner.fails("no values to report", secret+"\n\n", "admin", "leak-report", "--url", p.url, "--app", "kc-app")
	scanner.fails("--app is required", secret+"\nx\n", "admin", "leak-report", "--url", p.url)
	scanner.fails("--url is required", secret+"\nx\n", "admin", "leak-report", "--app", "kc-app")
	scanner.fails("(InvalidParameter)", secret+"\nx\n", "admin", "leak-report", "--url", p.url, "--app", "nope")

	// Clearing the scopes and the maximum.
	r = root.ok("", "admin", "apps", "settings", "kc-app", "--set", "scopes=", "--set", "max_key_lifetime_seconds=0")
	if valueLine(t, r.stdout, "scopes") != "(none)" || valueLine(t, r.stdout, "max_key_lifetime_seconds") != "0 (no maximum)" {
		t.Fatalf("apps settings clearing printed:\n%s", r.stdout)
	}
}
