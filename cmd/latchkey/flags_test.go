package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestServeConfigErrors checks that a bad setting is one line naming where it came from, the
// value and the form expected, then where every flag is described: no usage, no error
// twice, no "parse error", no domain error's code.
func TestServeConfigErrors(t *testing.T) {
	const hint = "Run 'latchkey serve -h' for every flag.\n"
	dir := t.TempDir()
	file := filepath.Join(dir, "latchkey.toml")
	if err := os.WriteFile(file, []byte("read-timeout = 30\n[smtp]\nport = \"smtp\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"DurationFlag", nil, []string{"--read-timeout", "30"},
			"--read-timeout 30: expected a duration such as 30s or 2m\n" + hint},
		{"DurationFlagWithEquals", nil, []string{"--lockout-duration=15"},
			"--lockout-duration 15: expected a duration such as 30s or 2m\n" + hint},
		{"IntFlag", nil, []string{"--lockout-failures", "ten"},
			"--lockout-failures ten: expected a whole number such as 10\n" + hint},
		{"RateFlag", nil, []string{"--rate-limit-ip", "fast"},
			"--rate-limit-ip fast: expected N/DURATION such as 300/1m, or 0\n" + hint},
		{"UnknownFlag", nil, []string{"--read-timeot", "30s"},
			"flag provided but not defined: -read-timeot\n" + hint},
		{"Argument", nil, []string{"30s"},
			"unexpected argument \"30s\"\nRun 'latchkey serve -h' for usage.\n"},
		{"Environment", []string{"LATCHKEY_READ_TIMEOUT=30"}, nil,
			"LATCHKEY_READ_TIMEOUT=30: expected a duration such as 30s or 2m\n" + hint},
		{"ConfigFile", nil, []string{"--config", file, "--smtp-port", "25"},
			file + ": read-timeout = 30: expected a duration such as 30s or 2m\n" + hint},
		{"ConfigFileString", nil, []string{"--config", file, "--read-timeout", "30s"},
			file + ": smtp.port = \"smtp\": expected a whole number such as 10\n" + hint},
		{"AppID", nil, []string{"--app-id", "Bad App"},
			"--app-id \"Bad App\": client app id must be 2 to 64 lowercase letters, digits, '-' or '_', starting with a letter or digit\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runServe(t, tt.env, append([]string{"--data", filepath.Join(dir, tt.name)}, tt.args...)...)
			if want := "latchkey: serve: " + tt.want; r.code == 0 || r.stderr != want {
				t.Fatalf("serve %v: exit %d, stderr:\n%s\nwant:\n%s", tt.args, r.code, r.stderr, want)
			}
		})
	}
}

// TestCLIFlagErrors checks the same one-line errors in the client commands, which name the
// command once.
func TestCLIFlagErrors(t *testing.T) {
	u := newCLIUser(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"keys", "get"}, "latchkey: keys get: missing KEY\nRun 'latchkey keys get -h' for usage.\n"},
		{[]string{"keys", "create", "ci", "--expires-in", "soon"},
			"latchkey: keys create: --expires-in soon: expected seconds (3600), a duration such as 90m or 720h, or days such as 90d\nRun 'latchkey keys create -h' for every flag.\n"},
		{[]string{"admin", "apps", "get"}, "latchkey: admin apps get: missing APP\nRun 'latchkey admin apps get -h' for usage.\n"},
		{[]string{"admin", "audit", "--limit", "many"},
			"latchkey: admin audit: --limit many: expected a whole number such as 10\nRun 'latchkey admin audit -h' for every flag.\n"},
		{[]string{"migrate", "--db-max-conns", "x"},
			"latchkey: migrate: --db-max-conns x: expected a whole number such as 10\nRun 'latchkey migrate -h' for every flag.\n"},
	} {
		if r := u.run("", tt.args...); r.code == 0 || r.stderr != tt.want {
			t.Errorf("latchkey %v: exit %d, stderr:\n%s\nwant:\n%s", tt.args, r.code, r.stderr, tt.want)
		}
	}
}
