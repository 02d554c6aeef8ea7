package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/latchkey/latchkey/service"
)

// AdminCommand runs the `latchkey admin` command named by its arguments. create-user works
// on the database directly, to make the first admin; every other command calls the admin API
// through the client package, as the admin logged in with `latchkey admin login`.
type AdminCommand struct {
	userIO
}

const adminUsage = `Usage: latchkey admin COMMAND [flags]

Bootstrap (on the server's machine, against its database):
  create-user --email EMAIL [--data DIR | --database URL] [--secret-key-file FILE]
      create an admin account; the password is read from the terminal, or stdin when piped

Session (through the admin API):
  login --url URL --email EMAIL     log in as an admin; the password is asked for or piped
  logout                            end the admin session and forget it
  whoami [--json]                   show the logged-in admin

Apps:
  apps list [--json]
  apps get APP [--json]
  apps create [--client-app-id ID] [--name NAME] [--json]
  apps delete APP [--yes]
  apps settings APP [--set KEY=VALUE ...] [--json]
  apps leak-secret APP [--json]                make the app's leak-report secret; prints it once

Auth providers of an app (secrets read from files, - for stdin; never printed):
  providers list --app APP [--json]
  providers show PROVIDER --app APP [--json]
  providers set --app APP --type TYPE [--audience A] [--alg HS256|RS256] [--jwk-uri URL]
                [--client-id ID] [--issuer URL] [--open-id] [--url URL] [--timeout 3s]
                [--metadata-field NAME[:FIELD_NAME][:required] ...] [--disabled[=false]]
                [--signing-key-file FILE ...] [--secret-file FILE] [--json]
                                               configure an external provider, or replace its settings
  providers enable|disable PROVIDER --app APP
  providers delete PROVIDER --app APP [--yes]

Server API keys of an app:
  server-keys list --app APP [--json]
  server-keys create NAME --app APP [--json]   prints the key's value, this once only
  server-keys get|enable|disable KEY --app APP
  server-keys delete KEY --app APP [--yes]

Users of an app:
  users list --app APP [--email E] [--provider P] [--type T] [--disabled[=false]] [--limit N] [--after ID] [--json]
  users get USER --app APP [--json]
  users disable|enable|logout USER --app APP
  users delete USER --app APP [--yes]
  users custom-data USER --app APP [--set JSON|- | --clear]
                                               print, replace or clear the user's custom data (user_data)

A user's API keys ("keys" is short for "user-keys"):
  user-keys list --app APP --user USER [--json]
  user-keys disable|enable KEY --app APP --user USER
  user-keys delete KEY --app APP --user USER [--yes]
  user-keys limit KEY --app APP --user USER [--ratelimit LIMIT/DURATION|none] [--remaining N|none]
                  [--refill AMOUNT/daily|AMOUNT/monthly|none] [--meta JSON|none] [--json]
                                               set or remove the limits that verify calls enforce
  user-keys usage KEY --app APP --user USER [--from T] [--to T] [--json]
                                               the key's verify calls by hour and outcome

Leaked keys (with the app's leak-report secret, not the admin session):
  leak-report --app APP [--url URL] [--json] [VALUE ...]
      disable keys found in public; the secret is asked for or piped, then the values
      come from the arguments or, one a line, from stdin

Token signing keys:
  signing-keys list [--json]
  signing-keys rotate [--json]                 new keys sign at once; old ones verify until their tokens expire

Audit log:
  audit [--app APP] [--event E] [--user ID] [--from T] [--to T] [--limit N] [--before ID] [--json]

APP is a client app id or an app id. Each command takes --config-dir DIR
(LATCHKEY_CONFIG_DIR) and -h for help. The admin session is kept in
<config dir>/admin-credentials.json (mode 0600), apart from the user commands' session.
`

// adminCommand is a command of `latchkey admin`: it embeds an adminSession, which the
// dispatcher fills in.
type adminCommand interface {
	Command
	session() *adminSession
}

// adminCommands makes each command of `latchkey admin` but create-user, by its one- or
// two-word name.
var adminCommands = map[string]func() adminCommand{
	"login":  func() adminCommand { return &AdminLoginCommand{} },
	"logout": func() adminCommand { return &AdminLogoutCommand{} },
	"whoami": func() adminCommand { return &AdminWhoamiCommand{} },

	"apps list":        func() adminCommand { return &AdminAppsListCommand{} },
	"apps get":         func() adminCommand { return &AdminAppsGetCommand{} },
	"apps create":      func() adminCommand { return &AdminAppsCreateCommand{} },
	"apps delete":      func() adminCommand { return &AdminAppsDeleteCommand{} },
	"apps settings":    func() adminCommand { return &AdminAppsSettingsCommand{} },
	"apps leak-secret": func() adminCommand { return &AdminAppsLeakSecretCommand{} },

	"providers list":    func() adminCommand { return &AdminProvidersListCommand{} },
	"providers show":    func() adminCommand { return &AdminProvidersShowCommand{} },
	"providers set":     func() adminCommand { return &AdminProvidersSetCommand{} },
	"providers enable":  func() adminCommand { return &AdminProvidersToggleCommand{} },
	"providers disable": func() adminCommand { return &AdminProvidersToggleCommand{toggle: toggle{Disable: true}} },
	"providers delete":  func() adminCommand { return &AdminProvidersDeleteCommand{} },

	"server-keys list":    func() adminCommand { return &AdminServerKeysListCommand{} },
	"server-keys create":  func() adminCommand { return &AdminServerKeysCreateCommand{} },
	"server-keys get":     func() adminCommand { return &AdminServerKeysGetCommand{} },
	"server-keys enable":  func() adminCommand { return &AdminServerKeysToggleCommand{} },
	"server-keys disable": func() adminCommand { return &AdminServerKeysToggleCommand{toggle: toggle{Disable: true}} },
	"server-keys delete":  func() adminCommand { return &AdminServerKeysDeleteCommand{} },

	"users list":        func() adminCommand { return &AdminUsersListCommand{} },
	"users get":         func() adminCommand { return &AdminUsersGetCommand{} },
	"users disable":     func() adminCommand { return &AdminUsersActionCommand{Verb: "disable"} },
	"users enable":      func() adminCommand { return &AdminUsersActionCommand{Verb: "enable"} },
	"users logout":      func() adminCommand { return &AdminUsersActionCommand{Verb: "logout"} },
	"users delete":      func() adminCommand { return &AdminUsersDeleteCommand{} },
	"users custom-data": func() adminCommand { return &AdminUsersCustomDataCommand{} },

	"user-keys list":    func() adminCommand { return &AdminUserKeysListCommand{} },
	"user-keys disable": func() adminCommand { return &AdminUserKeysToggleCommand{toggle: toggle{Disable: true}} },
	"user-keys enable":  func() adminCommand { return &AdminUserKeysToggleCommand{} },
	"user-keys delete":  func() adminCommand { return &AdminUserKeysDeleteCommand{} },
	"user-keys limit":   func() adminCommand { return &AdminUserKeysLimitCommand{} },
	"user-keys usage":   func() adminCommand { return &AdminUserKeysUsageCommand{} },

	"leak-report": func() adminCommand { return &AdminLeakReportCommand{} },

	"audit": func() adminCommand { return &AdminAuditCommand{} },

	"signing-keys list":   func() adminCommand { return &AdminSigningKeysCommand{} },
	"signing-keys rotate": func() adminCommand { return &AdminSigningKeysCommand{Rotate: true} },
}

// adminGroups are the first words of the two-word commands.
var adminGroups = map[string]bool{"apps": true, "providers": true, "server-keys": true, "users": true, "user-keys": true, "signing-keys": true}

// adminGroupAliases are other names of groups: `admin keys limit` is `admin user-keys limit`.
var adminGroupAliases = map[string]string{"keys": "user-keys"}

// Run dispatches to the admin subcommand.
func (c *AdminCommand) Run(ctx context.Context, args []string) error {
	if none, err := c.noCommand(args, adminUsage); none {
		return err
	}
	if args[0] == "create-user" {
		return inCommand("admin create-user", (&AdminCreateUserCommand{userIO: c.userIO}).Run(ctx, args[1:]))
	}
	name, rest := args[0], args[1:]
	if group, ok := adminGroupAliases[name]; ok {
		name = group
	}
	if adminGroups[name] {
		if none, err := c.noCommand(rest, groupUsage(name)); none {
			return inCommand("admin "+name, err)
		}
		name, rest = name+" "+rest[0], rest[1:]
	}
	newCmd, ok := adminCommands[name]
	if !ok {
		fmt.Fprint(c.Stderr, adminUsage)
		return fmt.Errorf("unknown command %q", name)
	}
	cmd := newCmd()
	cmd.session().userIO = c.userIO
	return inCommand("admin "+name, cmd.Run(ctx, rest))
}

// noCommand reports whether args name no command, and then shows usage: on standard error
// with an error when args are empty, on standard output for help.
func (c userIO) noCommand(args []string, usage string) (bool, error) {
	if len(args) == 0 {
		fmt.Fprint(c.Stderr, usage)
		return true, errors.New("no command given")
	}
	if isHelp(args[0]) {
		fmt.Fprint(c.Stdout, usage)
		return true, nil
	}
	return false, nil
}

func isHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "-help" || arg == "--help"
}

// groupUsage is the part of the usage that lists the commands of one group.
func groupUsage(group string) string {
	var b strings.Builder
	b.WriteString("Usage: latchkey admin " + group + " COMMAND [flags]\n\n")
	in := false // in a command of the group, whose further lines are indented deeper
	for _, line := range strings.Split(adminUsage, "\n") {
		if strings.HasPrefix(line, "  "+group+" ") || in && strings.HasPrefix(line, "   ") {
			b.WriteString(line + "\n")
			in = true
			continue
		}
		in = false
	}
	b.WriteString("\nEach command takes -h for help.\n")
	return b.String()
}

// AdminCreateUserCommand creates an admin account in the database, to make the first admin.
type AdminCreateUserCommand struct {
	userIO
	DB    dbConfig
	Email string
}

// Run reads the password and creates the admin through the service, as the server would.
func (c *AdminCreateUserCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("latchkey admin create-user", "latchkey admin create-user --email EMAIL [--data DIR | --database URL]",
		"Creates an admin account in the server's database; run it where the server runs. The\n"+
			"password (at least 10 characters) is asked for on a terminal, or read from the first\n"+
			"line of standard input.", c.Stderr)
	c.DB.register(fs)
	c.DB.registerSecret(fs)
	fs.StringVar(&c.Email, "email", "", "the admin's email")
	if err := parseFlags(fs, args, dbEnv); err != nil {
		return err
	}
	if c.Email == "" {
		return errors.New("--email is required")
	}
	if err := c.DB.requireDatabase(); err != nil {
		return err
	}
	password, err := c.readSecret("Password: ")
	if err != nil {
		return err
	}
	store, secretKey, err := c.DB.openWithKey(ctx, slog.New(slog.NewTextHandler(c.Stderr, nil)))
	if err != nil {
		return err
	}
	defer store.Close()
	svc, err := service.New(ctx, service.Config{Store: store, Logger: slog.New(slog.DiscardHandler), SecretKey: secretKey})
	if err != nil {
		return err
	}
	defer svc.Close()
	a, err := svc.Admins.CreateAdmin(ctx, c.Email, password)
	if err != nil {
		return fmt.Errorf("create admin: %w", err)
	}
	fmt.Fprintf(c.Stdout, "created admin %s (%s)\n", a.Email, a.ID)
	return nil
}
