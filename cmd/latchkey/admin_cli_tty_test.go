//go:build linux

package main

import (
	"strings"
	"testing"
)

func TestAdminCLITerminal(t *testing.T) {
	p := start(t, privateDir(t), bootstrapEnv, "--app-id", "tty-app")
	root := newCLIUser(t)

	t.Run("PasswordPromptWithoutEcho", func(t *testing.T) {
		code, stdout, _, echoed := root.runOnTerminal("Password: ", true, adminPassword+"\n", "admin", "login", "--url", p.url, "--email", adminEmail)
		if code != 0 || !strings.Contains(stdout, "Logged in") {
			t.Fatalf("admin login on a terminal: exit %d, stdout %q", code, stdout)
		}
		if strings.Contains(echoed, adminPassword) {
			t.Fatalf("the terminal echoed the password: %q", echoed)
		}
	})

	root.ok("", "admin", "apps", "create", "--client-app-id", "doomed")
	t.Run("DeleteAnsweredNo", func(t *testing.T) {
		code, _, stderr, _ := root.runOnTerminal("[y/N]", false, "n\n", "admin", "apps", "delete", "doomed")
		if code == 0 || !strings.Contains(stderr, "Delete app doomed (") || !strings.Contains(stderr, "nothing was deleted") {
			t.Fatalf("delete answered no: exit %d, stderr %q", code, stderr)
		}
		root.ok("", "admin", "apps", "get", "doomed")
	})
	t.Run("DeleteAnsweredYes", func(t *testing.T) {
		code, stdout, stderr, _ := root.runOnTerminal("[y/N]", false, "y\n", "admin", "apps", "delete", "doomed")
		if code != 0 || stdout != "Deleted app doomed.\n" {
			t.Fatalf("delete answered yes: exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		root.fails("(InvalidParameter)", "", "admin", "apps", "get", "doomed")
	})
}
