package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// Command is one subcommand of the latchkey binary.
type Command interface {
	Run(ctx context.Context, args []string) error
}

const usage = `Latchkey: a self-hosted authentication server with user API keys.

Usage:
  latchkey serve [flags]     run the server (see latchkey serve -h)
  latchkey migrate [flags]   apply the database schema and exit
  latchkey version           print the version
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Run runs the subcommand named by args[0].
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	var cmd Command
	switch args[0] {
	case "serve":
		cmd = &ServeCommand{Stdout: stdout, Stderr: stderr}
	case "migrate":
		cmd = &MigrateCommand{Stdout: stdout, Stderr: stderr}
	case "version":
		fmt.Fprintln(stdout, "latchkey", version)
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
	err := cmd.Run(ctx, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// envOr returns the environment variable's value, or def when it is unset.
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}
