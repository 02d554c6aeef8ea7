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
	if len(builtFrom) < 12 {
		t.Fatalf("git rev-parse HEAD gave %q when the binary was built", builtFrom)
	}
	got := string(out)
	if !strings.HasPrefix(got, "latchkey v") || !strings.Contains(got, "(revision "+builtFrom[:12]) {
		t.Fatalf("latchkey version = %q, want the module version and revision %s", got, builtFrom[:12])
	}
}
