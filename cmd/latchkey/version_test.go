package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestVersion checks that `latchkey version` names the build: the binary that TestMain built
// from this checkout (with VCS stamping, whatever GOFLAGS says) gives its module version and
// the revision it was built from.
func TestVersion(t *testing.T) {
	out, err := exec.Command(binary, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("latchkey version: %v\n%s", err, out)
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatalf("git rev-parse HEAD: %v", err)
	}
	got := string(out)
	if !strings.HasPrefix(got, "latchkey v") || !strings.Contains(got, "(revision "+string(head[:12])) {
		t.Fatalf("latchkey version = %q, want the module version and revision %s", got, head[:12])
	}
}
