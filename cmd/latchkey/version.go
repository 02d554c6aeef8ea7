package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// VersionCommand prints the version. It takes no flags, and ignores arguments, as it
// always has: scripts may run `latchkey version` with anything after it.
type VersionCommand struct {
	Stdout io.Writer
}

// Run prints "latchkey" and the version.
func (c *VersionCommand) Run(ctx context.Context, args []string) error {
	fmt.Fprintln(c.Stdout, "latchkey", versionString())
	return nil
}

// version is set at build time with -ldflags "-X main.version=..."; otherwise the build
// info says it.
var version = ""

// versionString names the build: the module version ("v1.2.0" from go install …@v1.2.0,
// "(devel)" from a checkout) and, where the build recorded them, the VCS revision, its time
// and whether the tree had uncommitted changes.
func versionString() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, at string
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	var details []string
	if rev != "" {
		details = append(details, "revision "+rev[:min(len(rev), 12)])
	}
	if at != "" {
		details = append(details, at)
	}
	if modified {
		details = append(details, "modified")
	}
	details = append(details, info.GoVersion)
	return v + " (" + strings.Join(details, ", ") + ")"
}
