package main

import (
	"encoding/base64"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

var keyPattern = regexp.MustCompile(`^` + latchkey.KeyPattern + `$`)

// setAppScopes declares the app's scopes through the admin API, with an admin account
// created by `latchkey admin create-user` on the server's data directory.
func setAppScopes(t *testing.T, p *process, data string, scopes ...string) {
	t.Helper()
	cmd := exec.Command(binary, "admin", "create-user", "--email", "root@example.com", "--data", data)
	cmd.Stdin = strings.NewReader("rootpassword1\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("admin create-user: %v\n%s", err, out)
	}
	var admin login
	if got := p.call(t, "POST", "/api/admin/v3.0/auth/providers/local-userpass/login", "",
		map[string]string{"username": "root@example.com", "password": "rootpassword1"}, &admin); got != 200 {
		t.Fatalf("admin login: status %d", got)
	}
	path := "/api/admin/v3.0/groups/" + latchkey.GroupID + "/apps/" + p.appID + "/settings"
	if got := p.call(t, "PATCH", path, admin.AccessToken, map[string]any{"scopes": scopes}, nil); got != 200 {
		t.Fatalf("set the app's scopes: status %d", got)
	}
}

// valueOf returns the key value in the text output of keys create or keys rotate.
func valueOf(t *testing.T, r result) string {
	t.Helper()
	for _, line := range strings.Split(r.stdout, "\n") {
		if v, ok := strings.CutPrefix(line, "key "); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no key line in %q", r.stdout)
	return ""
}

// scopeClaim returns the scope claim of the access token that u's config directory holds.
func scopeClaim(t *testing.T, u *cliUser) any {
	t.Helper()
	for _, app := range readCredentials(t, filepath.Join(u.dir, "credentials.json")) {
		for _, user := range app.Users {
			parts := strings.Split(user.AccessToken, ".")
			if len(parts) != 3 {
				continue
			}
			var claims map[string]any
			if err := json.NewDecoder(base64.NewDecoder(base64.RawURLEncoding, strings.NewReader(parts[1]))).Decode(&claims); err != nil {
				t.Fatal(err)
			}
			return claims["scope"]
		}
	}
	t.Fatalf("no access token in %s", u.dir)
	return nil
}

// TestCLIKeyControls runs Latchkey's key controls through the CLI: expiry and scopes at
// creation, the new columns of keys list and keys get, and keys rotate with and without a
// grace period.
func TestCLIKeyControls(t *testing.T) {
	data := privateDir(t)
	p := start(t, data, nil, "--app-id", "cli-app")
	setAppScopes(t, p, data, "read", "write", "billing")
	ann := newCLIUser(t)
	ann.ok("s3cretpass\n", "register", "--url", p.url, "--app", p.appID, "--email", "ann@example.com")
	ann.ok("s3cretpass\n", "login", "--email", "ann@example.com")
	var printed []result // outputs that must not show a key value
	keep := func(r result) result { printed = append(printed, r); return r }

	// create --expires-in --scopes
	var ci cliKey
	r := ann.okJSON(&ci, "", "keys", "create", "ci", "--expires-in", "90d", "--scopes", "read,write", "--json")
	if ci.Key == nil || !keyPattern.MatchString(*ci.Key) || !strings.HasPrefix(*ci.Key, "lk_") || !strings.HasPrefix(*ci.Key, ci.Start) {
		t.Fatalf("keys create --json = %+v", ci)
	}
	created, _ := time.Parse(time.RFC3339, ci.CreatedAt)
	if ci.ExpiresAt == nil || *ci.ExpiresAt != created.Add(90*24*time.Hour).Format(time.RFC3339) || !slices.Equal(ci.Scopes, []string{"read", "write"}) {
		t.Fatalf("keys create --json: expires %v, scopes %v; want 90 days after %s, [read write]", ci.ExpiresAt, ci.Scopes, ci.CreatedAt)
	}
	if !strings.Contains(r.stderr, "shown only once") {
		t.Fatalf("keys create printed no warning: %q", r.stderr)
	}
	r = ann.ok("", "keys", "create", "hourly", "--expires-in", "3600", "--scopes", "billing")
	hourly := valueOf(t, r)
	if !keyPattern.MatchString(hourly) || !regexp.MustCompile(`(?m)^expires +\d{4}-`).MatchString(r.stdout) ||
		!regexp.MustCompile(`(?m)^scopes +billing$`).MatchString(r.stdout) {
		t.Fatalf("keys create printed:\n%s", r.stdout)
	}
	plain := valueOf(t, ann.ok("", "keys", "create", "plain"))

	// list and get show start, expiry and scopes, never a value.
	var list []cliKey
	keep(ann.okJSON(&list, "", "keys", "list", "--json"))
	if len(list) != 3 || list[0].Start != ci.Start || list[0].ExpiresAt == nil || *list[0].ExpiresAt != *ci.ExpiresAt ||
		!slices.Equal(list[0].Scopes, ci.Scopes) || list[2].ExpiresAt != nil || list[2].Scopes != nil || list[0].Key != nil {
		t.Fatalf("keys list --json = %+v", list)
	}
	r = keep(ann.ok("", "keys", "list"))
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 4 || strings.Join(strings.Fields(lines[0]), " ") != "ID NAME START ENABLED CREATED LAST USED EXPIRES SCOPES" {
		t.Fatalf("keys list printed:\n%s", r.stdout)
	}
	if got, want := strings.Fields(lines[1]), []string{ci.ID, "ci", ci.Start, "yes", ci.CreatedAt, "never", *ci.ExpiresAt, "read,write"}; !slices.Equal(got, want) {
		t.Fatalf("keys list row %q, want %q", got, want)
	}
	if got := strings.Fields(lines[3]); len(got) != 8 || got[6] != "never" || got[7] != "-" {
		t.Fatalf("keys list row of a key without expiry or scopes: %q", got)
	}
	r = keep(ann.ok("", "keys", "get", ci.ID))
	for _, want := range []string{"start      " + ci.Start, "expires    " + *ci.ExpiresAt, "scopes     read,write"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("keys get printed:\n%s\nwant %q", r.stdout, want)
		}
	}

	// A session opened with the key carries its scopes.
	device := newCLIUser(t)
	device.ok(*ci.Key+"\n", "login", "--url", p.url, "--app", p.appID, "--api-key")
	if got := scopeClaim(t, device); got != "read write" {
		t.Fatalf("scope claim of the key's session = %v, want \"read write\"", got)
	}

	// rotate with a grace period: a new value; the old one still logs in.
	var rotated cliKey
	r = ann.okJSON(&rotated, "", "keys", "rotate", ci.ID, "--grace-period", "1h", "--json")
	if rotated.ID != ci.ID || rotated.Name != "ci" || rotated.Key == nil || *rotated.Key == *ci.Key || !keyPattern.MatchString(*rotated.Key) ||
		!slices.Equal(rotated.Scopes, ci.Scopes) || rotated.ExpiresAt == nil || *rotated.ExpiresAt != *ci.ExpiresAt {
		t.Fatalf("keys rotate --json = %+v, from %+v", rotated, ci)
	}
	if !strings.Contains(r.stderr, "shown only once") || !strings.Contains(r.stderr, "keeps working for 1h0m0s") {
		t.Fatalf("keys rotate warned %q", r.stderr)
	}
	newCLIUser(t).ok(*ci.Key+"\n", "login", "--url", p.url, "--app", p.appID, "--api-key")
	newCLIUser(t).ok(*rotated.Key+"\n", "login", "--url", p.url, "--app", p.appID, "--api-key")

	// rotate without one: the previous value stops at once.
	r = ann.ok("", "keys", "rotate", ci.ID)
	third := valueOf(t, r)
	if third == *rotated.Key || !keyPattern.MatchString(third) || !strings.Contains(r.stderr, "The old value no longer works.") {
		t.Fatalf("keys rotate printed %q, %q", r.stdout, r.stderr)
	}
	for _, old := range []string{*ci.Key, *rotated.Key} {
		newCLIUser(t).fails("unauthorized (AuthError)", old+"\n", "login", "--url", p.url, "--app", p.appID, "--api-key")
	}
	device = newCLIUser(t)
	device.ok(third+"\n", "login", "--url", p.url, "--app", p.appID, "--api-key")

	// Errors. (No subtests: the cliUsers fail the test they were made with.)
	ann.fails("latchkey: keys create: --expires-in soon: expected seconds (3600), a duration such as 90m or 720h, or days such as 90d\n", "", "keys", "create", "k", "--expires-in", "soon")
	ann.fails("expires_in must be a positive number of seconds (InvalidParameter)", "", "keys", "create", "k", "--expires-in", "0")
	ann.fails(`unknown scope "admin" (InvalidParameter)`, "", "keys", "create", "k", "--scopes", "read,admin")
	ann.fails("grace_period must be between 0 and 604800 seconds (InvalidParameter)", "", "keys", "rotate", ci.ID, "--grace-period", "8d")
	ann.fails("API key not found (APIKeyNotFound)", "", "keys", "rotate", "000000000000000000000000")
	ann.fails("missing KEY", "", "keys", "rotate")
	device.fails("API key sessions cannot manage API keys (AuthError)", "", "keys", "rotate", ci.ID)

	// The new flags say what one call does: the environment does not set them.
	cmd := exec.Command(binary, "keys", "create", "from-env", "--json")
	cmd.Env = append(ann.env(), "LATCHKEY_SCOPES=admin", "LATCHKEY_EXPIRES_IN=soon", "LATCHKEY_GRACE_PERIOD=8d")
	out, err := cmd.Output()
	var fromEnv cliKey
	if err != nil || json.Unmarshal(out, &fromEnv) != nil || fromEnv.Scopes != nil || fromEnv.ExpiresAt != nil {
		t.Fatalf("create with LATCHKEY_SCOPES and LATCHKEY_EXPIRES_IN set: %v, %s", err, out)
	}

	for _, r := range printed {
		for _, v := range []string{*ci.Key, *rotated.Key, third, hourly, plain} {
			if strings.Contains(r.stdout, v) || strings.Contains(r.stderr, v) {
				t.Fatalf("a key value was printed:\n%s%s", r.stdout, r.stderr)
			}
		}
	}
}
