package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/client"
)

// runEnv runs the binary as u with more environment variables.
func (u *cliUser) runEnv(env []string, stdin string, args ...string) result {
	u.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(u.env(), env...)
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

// TestCLIVerifyAndKeyLimits runs verification through the CLI: an app's default key rate
// limit, a server key, `verify` of a user's key, the key's limits set and removed with
// `admin keys limit`, and its use by hour with `admin keys usage`.
func TestCLIVerifyAndKeyLimits(t *testing.T) {
	p := start(t, privateDir(t), bootstrapEnv, "--app-id", "vk-app")
	root := newCLIUser(t)
	root.ok(adminPassword+"\n", "admin", "login", "--url", p.url, "--email", adminEmail)

	// The app's default rate limit of new keys, set and removed.
	r := root.ok("", "admin", "apps", "settings", "vk-app", "--set", "scopes=read,write", "--set", "key_ratelimit=100/1m")
	if valueLine(t, r.stdout, "key_ratelimit") != "100/1m" {
		t.Fatalf("apps settings --set key_ratelimit printed:\n%s", r.stdout)
	}
	var settings client.AppSettings
	root.okJSON(&settings, "", "admin", "apps", "settings", "vk-app", "--json")
	if settings.KeyRateLimit == nil || *settings.KeyRateLimit != (client.KeyRateLimit{Limit: 100, Duration: time.Minute}) {
		t.Fatalf("apps settings --json key_ratelimit = %+v", settings.KeyRateLimit)
	}
	root.fails(`--set key_ratelimit: "100" is not LIMIT/DURATION`, "", "admin", "apps", "settings", "vk-app", "--set", "key_ratelimit=100")
	if r := root.ok("", "admin", "apps", "settings", "vk-app", "--set", "key_ratelimit="); valueLine(t, r.stdout, "key_ratelimit") != "(none)" {
		t.Fatalf("apps settings removing key_ratelimit printed:\n%s", r.stdout)
	}

	r = root.ok("", "admin", "server-keys", "create", "backend", "--app", "vk-app")
	serverKey := valueLine(t, r.stdout, "key")
	serverEnv := []string{"LATCHKEY_SERVER_KEY=" + serverKey}

	ann := newCLIUser(t)
	ann.ok("s3cretpass\n", "register", "--url", p.url, "--app", "vk-app", "--email", "ann@example.com")
	ann.ok("s3cretpass\n", "login", "--email", "ann@example.com")
	var key cliKey
	ann.okJSON(&key, "", "keys", "create", "ci", "--scopes", "read", "--json")
	var users []cliUserInfo
	root.okJSON(&users, "", "admin", "users", "list", "--app", "vk-app", "--email", "ann@example.com", "--json")
	annID := users[0].ID

	// verify, with the server key from the environment and the URL and app of ann's login.
	r = ann.runEnv(serverEnv, "", "verify", *key.Key)
	if r.code != 0 || valueLine(t, r.stdout, "code") != "VALID" || valueLine(t, r.stdout, "key") != key.ID ||
		valueLine(t, r.stdout, "user") != annID || valueLine(t, r.stdout, "scopes") != "read" || valueLine(t, r.stdout, "remaining") != "-" {
		t.Fatalf("verify: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// From anywhere, with flags; the key from stdin.
	backend := newCLIUser(t)
	var res client.VerifyResult
	backend.okJSON(&res, *key.Key+"\n", "verify", "-", "--url", p.url, "--app", "vk-app", "--server-key", serverKey, "--scopes", "read", "--cost", "0", "--json")
	if !res.Valid || res.Code != "VALID" || res.KeyID != key.ID || res.UserID != annID || res.Name != "ci" {
		t.Fatalf("verify --json = %+v", res)
	}
	// Any other answer exits 1, after printing it.
	r = ann.runEnv(serverEnv, "", "verify", *key.Key, "--scopes", "read,write")
	if r.code != 1 || valueLine(t, r.stdout, "code") != "INSUFFICIENT_SCOPES" || !strings.Contains(r.stderr, "latchkey: verify: the key is not valid: INSUFFICIENT_SCOPES") {
		t.Fatalf("verify --scopes read,write: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = ann.runEnv(serverEnv, "", "verify", "lk_nothing", "--json")
	if r.code != 1 || !strings.Contains(r.stderr, "the key is not valid: NOT_FOUND") || json.Unmarshal([]byte(r.stdout), fresh(&res)) != nil || res.Code != "NOT_FOUND" {
		t.Fatalf("verify of no key: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	ann.fails("no server key: set LATCHKEY_SERVER_KEY or give --server-key", "", "verify", *key.Key)
	ann.fails("the server refused the server key", "", "verify", *key.Key, "--server-key", *key.Key)
	backend.fails("--url and --app are required", "", "verify", *key.Key, "--server-key", serverKey)
	if r := ann.runEnv(serverEnv, "", "verify", *key.Key, "--cost", "1001"); r.code != 1 || !strings.Contains(r.stderr, "latchkey: verify: ") || r.stdout != "" {
		t.Fatalf("verify --cost 1001: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	ann.fails("--cost x: expected a whole number", "", "verify", *key.Key, "--cost", "x")
	ann.fails("missing KEY", "", "verify")

	// Limits, through the alias and the group's own name.
	r = root.ok("", "admin", "keys", "limit", key.ID, "--app", "vk-app", "--user", annID,
		"--ratelimit", "10/1m", "--remaining", "1", "--refill", "5/daily", "--meta", `{"plan": "pro"}`)
	if valueLine(t, r.stdout, "ratelimit") != "10/1m" || valueLine(t, r.stdout, "remaining") != "1" ||
		valueLine(t, r.stdout, "refill") != "5/daily" || valueLine(t, r.stdout, "meta") != `{"plan":"pro"}` {
		t.Fatalf("keys limit printed:\n%s", r.stdout)
	}
	var limited client.APIKey
	root.okJSON(&limited, "", "admin", "user-keys", "limit", key.ID, "--app", "vk-app", "--user", annID, "--meta", `{"plan":"team"}`, "--json")
	if limited.RateLimit == nil || limited.RateLimit.Limit != 10 || limited.Remaining == nil || *limited.Remaining != 1 || formatMeta(limited.Meta) != `{"plan":"team"}` {
		t.Fatalf("user-keys limit --json = %+v", limited)
	}
	r = root.ok("", "admin", "user-keys", "list", "--app", "vk-app", "--user", annID)
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 2 ||
		!strings.HasSuffix(strings.Join(strings.Fields(lines[0]), " "), "SCOPES RATELIMIT REMAINING REFILL META") {
		t.Fatalf("user-keys list with limits printed:\n%s", r.stdout)
	}
	if row := tableRow(t, r.stdout, key.ID); !slices.Equal(row[len(row)-4:], []string{"10/1m", "1", "5/daily", `{"plan":"team"}`}) {
		t.Fatalf("user-keys list row %q", row)
	}
	// The owner sees them too.
	if r := ann.ok("", "keys", "get", "ci"); valueLine(t, r.stdout, "remaining") != "1" || valueLine(t, r.stdout, "meta") != `{"plan":"team"}` {
		t.Fatalf("keys get of a limited key printed:\n%s", r.stdout)
	}

	r = ann.runEnv(serverEnv, "", "verify", *key.Key)
	if r.code != 0 || valueLine(t, r.stdout, "remaining") != "0" || !strings.HasPrefix(valueLine(t, r.stdout, "ratelimit"), "9 of 10 left until ") ||
		valueLine(t, r.stdout, "meta") != `{"plan":"team"}` {
		t.Fatalf("verify of a limited key: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = ann.runEnv(serverEnv, "", "verify", *key.Key)
	if r.code != 1 || valueLine(t, r.stdout, "code") != "USAGE_EXCEEDED" {
		t.Fatalf("verify with no uses left: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Removing.
	r = root.ok("", "admin", "keys", "limit", key.ID, "--app", "vk-app", "--user", annID, "--remaining", "none", "--ratelimit", "none", "--meta", "none")
	for _, name := range []string{"ratelimit", "remaining", "refill", "meta"} {
		if strings.Contains(r.stdout, "\n"+name+" ") {
			t.Fatalf("keys limit removing everything printed:\n%s", r.stdout)
		}
	}
	if r := ann.runEnv(serverEnv, "", "verify", *key.Key); r.code != 0 {
		t.Fatalf("verify after removing the limits: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Usage by hour: 4 valid (one of cost 0), 1 insufficient scopes, 1 usage exceeded. The
	// server writes its counts about once a second.
	var usage []client.KeyUsage
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		root.okJSON(fresh(&usage), "", "admin", "keys", "usage", key.ID, "--app", "vk-app", "--user", annID, "--json")
		if len(usage) == 1 && usage[0].Valid+usage[0].Other+usage[0].UsageExceeded >= 6 || time.Now().After(deadline) {
			break
		}
	}
	if len(usage) != 1 || usage[0].Valid != 4 || usage[0].Other != 1 || usage[0].UsageExceeded != 1 || usage[0].RateLimited != 0 ||
		!usage[0].Time.Equal(usage[0].Time.Truncate(time.Hour)) {
		t.Fatalf("keys usage --json = %+v", usage)
	}
	r = root.ok("", "admin", "user-keys", "usage", key.ID, "--app", "vk-app", "--user", annID, "--from", "2h")
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 2 || strings.Join(strings.Fields(lines[0]), " ") != "HOUR VALID RATE LIMITED USAGE EXCEEDED OTHER" ||
		!slices.Equal(strings.Fields(lines[1]), []string{usage[0].Time.UTC().Format(time.RFC3339), "4", "0", "1", "1"}) {
		t.Fatalf("user-keys usage printed:\n%s", r.stdout)
	}
	if r := root.ok("", "admin", "user-keys", "usage", key.ID, "--app", "vk-app", "--user", annID, "--to", "2h"); r.stdout != "No use in this time.\n" {
		t.Fatalf("user-keys usage --to 2h printed %q", r.stdout)
	}

	// Errors.
	const zeroID = "000000000000000000000000"
	root.fails("nothing to change: give --ratelimit, --remaining, --refill or --meta", "", "admin", "keys", "limit", key.ID, "--app", "vk-app", "--user", annID)
	root.fails("--ratelimit 10: expected LIMIT/DURATION", "", "admin", "keys", "limit", key.ID, "--app", "vk-app", "--user", annID, "--ratelimit", "10")
	root.fails("--remaining lots: expected a whole number", "", "admin", "keys", "limit", key.ID, "--app", "vk-app", "--user", annID, "--remaining", "lots")
	root.fails("--refill 5/weekly: expected AMOUNT/daily", "", "admin", "keys", "limit", key.ID, "--app", "vk-app", "--user", annID, "--refill", "5/weekly")
	root.fails("--meta [1]: expected a JSON object", "", "admin", "keys", "limit", key.ID, "--app", "vk-app", "--user", annID, "--meta", "[1]")
	root.fails("(InvalidParameter)", "", "admin", "keys", "limit", key.ID, "--app", "vk-app", "--user", annID, "--ratelimit", "10/1ms")
	root.fails("API key not found (APIKeyNotFound)", "", "admin", "keys", "limit", zeroID, "--app", "vk-app", "--user", annID, "--remaining", "5")
	root.fails("API key not found (APIKeyNotFound)", "", "admin", "keys", "usage", zeroID, "--app", "vk-app", "--user", annID)
	root.fails("admin user-keys usage: --user is required", "", "admin", "keys", "usage", key.ID, "--app", "vk-app")
	root.fails("admin user-keys limit: missing KEY", "", "admin", "keys", "limit", "--app", "vk-app", "--user", annID)
	root.fails(`latchkey: admin: unknown command "user-keys renew"`, "", "admin", "keys", "renew")

	// No output showed the server key but where it was given.
	for _, r := range []result{root.ok("", "admin", "server-keys", "list", "--app", "vk-app"), ann.runEnv(serverEnv, "", "verify", *key.Key)} {
		if strings.Contains(r.stdout+r.stderr, serverKey) {
			t.Fatalf("the server key was printed:\n%s%s", r.stdout, r.stderr)
		}
	}
}

func TestCLIVerifyHelp(t *testing.T) {
	u := newCLIUser(t)
	for _, help := range []string{"--help", "-h"} {
		r := u.ok("", "verify", help)
		if !strings.Contains(r.stderr, "Usage: latchkey verify KEY") || !strings.Contains(r.stderr, "LATCHKEY_SERVER_KEY") || !strings.Contains(r.stderr, "-config-dir") {
			t.Errorf("verify %s printed %q", help, r.stderr)
		}
	}
	if r := u.ok("", "help"); !strings.Contains(r.stdout, "latchkey verify KEY") {
		t.Errorf("help printed %q", r.stdout)
	}
	if r := u.ok("", "admin", "keys", "--help"); !strings.Contains(r.stdout, "user-keys limit KEY") || !strings.Contains(r.stdout, "[--refill AMOUNT/daily") ||
		!strings.Contains(r.stdout, "user-keys usage KEY") {
		t.Errorf("admin keys --help printed %q", r.stdout)
	}
}
