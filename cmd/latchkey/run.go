package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Command is one subcommand of the latchkey binary.
type Command interface {
	Run(ctx context.Context, args []string) error
}

const usage = `Latchkey: a self-hosted authentication server with user API keys.

Usage:
  latchkey serve [flags]     run the server (see latchkey serve -h)
  latchkey migrate [flags]   apply the database schema and exit
  latchkey admin ...         create admin accounts; manage apps, server API keys, users and
                             the audit log through the admin API (see latchkey admin help)
  latchkey version           print the version

As a user of a server:
  latchkey register [flags]  register an email/password user
  latchkey login [flags]     log in with an email and password, or with an API key
  latchkey logout            end the session and forget it
  latchkey whoami            show the logged-in user
  latchkey keys COMMAND      manage your API keys: create, rotate, list, get, disable, enable, delete

As an app's backend:
  latchkey verify KEY        check a user API key with a server API key (LATCHKEY_SERVER_KEY)
`

// terminalCommands make, by name, the subcommands that may ask at the terminal (for a
// password, or to confirm a delete).
var terminalCommands = map[string]func(userSession) Command{
	"admin":    func(s userSession) Command { return &AdminCommand{userIO: s.userIO} },
	"register": func(s userSession) Command { return &RegisterCommand{userSession: s} },
	"login":    func(s userSession) Command { return &LoginCommand{userSession: s} },
	"logout":   func(s userSession) Command { return &LogoutCommand{userSession: s} },
	"whoami":   func(s userSession) Command { return &WhoamiCommand{userSession: s} },
	"keys":     func(s userSession) Command { return &KeysCommand{userSession: s} },
	"verify":   func(s userSession) Command { return &VerifyCommand{userSession: s} },
}

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
		cmd = &VersionCommand{Stdout: stdout}
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		newCmd, ok := terminalCommands[args[0]]
		if !ok {
			fmt.Fprint(stderr, usage)
			return fmt.Errorf("unknown command %q", args[0])
		}
		cmd = newCmd(userSession{userIO: newUserIO(stdout, stderr)})
	}
	err := cmd.Run(ctx, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return inCommand(args[0], err)
}

// parseFlags parses args, then sets every flag not given on the command line from its
// environment variable, LATCHKEY_ and the flag's name in upper case with '-' as '_' (or the
// name in rename). A flag wins over its variable; a bad value in either is an error.
func parseFlags(fs *flag.FlagSet, args []string, rename map[string]string) error {
	if err := parseCommandLine(fs, args); err != nil {
		return err
	}
	if err := checkNoArgs(fs); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name, ok := rename[f.Name]
		if !ok {
			name = "LATCHKEY_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		}
		v, set := os.LookupEnv(name)
		if given[f.Name] || !set || err != nil {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = badValue(fs, f, name+"="+shown(v), e)
		}
	})
	return err
}
