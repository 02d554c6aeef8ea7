package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/latchkey/latchkey/client"
)

// This file holds the admin session commands (login, logout, whoami) and what every admin
// API command shares. They reach the server only through the client package.

// The admin CLI's files in the config directory, apart from the user commands' files so
// that an admin session and a user session never mix.
const (
	adminCredentialsFile = "admin-credentials.json" // the session's tokens (a client.FileStore)
	adminConfigFile      = "admin-config.json"      // the server of the latest admin login
)

var errAdminNotLoggedIn = errors.New("not logged in as an admin: run latchkey admin login --url URL --email EMAIL")

// adminTarget is the server of the latest admin login.
type adminTarget struct {
	URL string `json:"url"`
}

// openAdmin returns the admin client of the server at url, with its session in
// dir/admin-credentials.json.
func openAdmin(dir, url string) (*client.Admin, error) {
	return client.NewAdmin(url, clientOptions(dir, adminCredentialsFile)...)
}

// currentAdmin returns the admin client of the latest admin login, logged in.
func currentAdmin(c configDir) (*client.Admin, error) {
	var t adminTarget
	dir, err := c.load(adminConfigFile, &t)
	if err != nil {
		return nil, err
	}
	if t.URL == "" {
		return nil, errAdminNotLoggedIn
	}
	a, err := openAdmin(dir, t.URL)
	if err != nil {
		return nil, err
	}
	if !a.IsLoggedIn() {
		return nil, errAdminNotLoggedIn
	}
	return a, nil
}

// explainAdmin adds what the admin can do about an error of a call made through a.
func explainAdmin(a *client.Admin, err error) error {
	return explainCall(err, a.IsLoggedIn, errAdminNotLoggedIn, "the admin session has ended, so you are logged out: run latchkey admin login again")
}

// adminSession is what every admin command embeds: the terminal, --config-dir, the flags
// the command requires, and so the way to the logged-in admin.
type adminSession struct {
	userIO
	Config   configDir
	args     []string // names of the positional arguments
	required []requiredFlag
}

// requiredFlag is a string flag that must be given.
type requiredFlag struct {
	name  string
	value *string
}

// session gives the dispatcher the session to fill in.
func (s *adminSession) session() *adminSession { return s }

// flagSet returns the flag set of the admin command name, with --config-dir, and names its
// positional arguments; a last name ending in "..." takes any number.
func (s *adminSession) flagSet(name, synopsis, about string, args ...string) *flag.FlagSet {
	fs := newFlagSet("latchkey admin "+name, "latchkey admin "+synopsis, about, s.Stderr)
	s.Config.register(fs)
	s.args = args
	return fs
}

// require registers a string flag that the command cannot do without.
func (s *adminSession) require(fs *flag.FlagSet, p *string, name, usage string) {
	fs.StringVar(p, name, "", usage)
	s.required = append(s.required, requiredFlag{name, p})
}

// appFlag is --app, which every per-app command requires.
type appFlag struct{ App string }

func (f *appFlag) register(s *adminSession, fs *flag.FlagSet) {
	s.require(fs, &f.App, "app", "the app: its client app id or its id (required)")
}

// parse parses args with fs (flags anywhere among them, see parseArgs), then checks the
// required flags, and returns the positional arguments.
func (s *adminSession) parse(fs *flag.FlagSet, args []string) ([]string, error) {
	pos, err := parseArgsEnv(fs, args, adminEnv(fs), s.args...)
	if err != nil {
		return nil, err
	}
	for _, r := range s.required {
		if *r.value == "" {
			return nil, fmt.Errorf("--%s is required", r.name)
		}
	}
	return pos, nil
}

// login is parse, then the admin client of the latest admin login, logged in.
func (s *adminSession) login(fs *flag.FlagSet, args []string) (*client.Admin, []string, error) {
	pos, err := s.parse(fs, args)
	if err != nil {
		return nil, nil, err
	}
	a, err := currentAdmin(s.Config)
	if err != nil {
		return nil, nil, err
	}
	return a, pos, nil
}

// run is login, then what the command does as the admin, given the positional arguments;
// its error says what the admin can do about it (explainAdmin).
func (s *adminSession) run(fs *flag.FlagSet, args []string, do func(a *client.Admin, pos []string) error) error {
	a, pos, err := s.login(fs, args)
	if err != nil {
		return err
	}
	return explainAdmin(a, do(a, pos))
}

// latestURL fills in url, if it was left out, with the server of the latest admin login;
// missing is the error when there was none.
func (s *adminSession) latestURL(url *string, missing string) error {
	if *url != "" {
		return nil
	}
	var saved adminTarget
	if _, err := s.Config.load(adminConfigFile, &saved); err != nil {
		return err
	}
	if *url = saved.URL; *url == "" {
		return errors.New(missing)
	}
	return nil
}

// adminEnv says that of an admin command's flags only --config-dir and --url come from the
// environment: every other flag says what one invocation does, and LATCHKEY_APP (the user
// commands' app) or LATCHKEY_YES must never pick what an admin deletes.
func adminEnv(fs *flag.FlagSet) map[string]string {
	rename := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name != "config-dir" && f.Name != "url" {
			rename[f.Name] = ""
		}
	})
	return rename
}

// optionalBool is a flag that may be left out: nil, or --name (true), or --name=false.
type optionalBool struct{ v *bool }

func (b *optionalBool) String() string {
	if b == nil || b.v == nil {
		return ""
	}
	return strconv.FormatBool(*b.v)
}

func (b *optionalBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("expected true or false")
	}
	b.v = &v
	return nil
}

func (b *optionalBool) IsBoolFlag() bool { return true }

// pageFlags registers --limit, the page size, and the flag name (--after or --before) that
// picks the next page by the last id of the one before.
func pageFlags(fs *flag.FlagSet, limit *int, cursor *string, name, usage string) {
	fs.IntVar(limit, "limit", 0, "page size, 1 to 1000 (default 100)")
	fs.StringVar(cursor, name, "", usage)
}

// checkLimit refuses a --limit outside 1..1000 (0: left out), which the server would
// replace by its default.
func checkLimit(n int) error {
	if n < 0 || n > 1000 {
		return errors.New("--limit must be from 1 to 1000")
	}
	return nil
}

// stringList is a flag that may be given many times.
type stringList []string

func (l *stringList) String() string { return fmt.Sprint(*l) }

func (l *stringList) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// AdminLoginCommand logs in as an admin.
type AdminLoginCommand struct {
	adminSession
	URL   string
	Email string
}

// Run logs in and keeps the session in admin-credentials.json.
func (c *AdminLoginCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("login", "login --url URL --email EMAIL",
		"Logs in to the admin API and keeps the admin session in <config dir>/admin-credentials.json\n"+
			"(mode 0600), apart from the user commands' session. The password is asked for on a\n"+
			"terminal, or read from the first line of standard input. The session lasts 24 hours.")
	fs.StringVar(&c.URL, "url", "", "base URL of the server, e.g. http://127.0.0.1:9090; default the latest admin login's (LATCHKEY_URL)")
	c.require(fs, &c.Email, "email", "the admin's email")
	if _, err := c.parse(fs, args); err != nil {
		return err
	}
	if err := c.latestURL(&c.URL, "--url is required (there is no earlier admin login to take it from)"); err != nil {
		return err
	}
	dir, err := c.Config.path()
	if err != nil {
		return err
	}
	password, err := c.readSecret("Password: ")
	if err != nil {
		return err
	}
	a, err := openAdmin(dir, c.URL)
	if err != nil {
		return err
	}
	if err := a.LogIn(ctx, c.Email, password); err != nil {
		return err
	}
	if err := saveConfigFile(dir, adminConfigFile, adminTarget{URL: a.BaseURL()}); err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "Logged in to %s as admin %s (%s).\n", a.BaseURL(), c.Email, a.UserID())
	return nil
}

// AdminLogoutCommand ends the admin session.
type AdminLogoutCommand struct {
	adminSession
}

// Run logs the admin out on the server and removes the tokens from admin-credentials.json.
func (c *AdminLogoutCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("logout", "logout",
		"Ends the admin session on the server and removes it from admin-credentials.json.")
	a, _, err := c.login(fs, args)
	if errors.Is(err, errAdminNotLoggedIn) {
		fmt.Fprintln(c.Stdout, "Not logged in.")
		return nil
	} else if err != nil {
		return err
	}
	if err := a.LogOut(ctx); err != nil {
		return fmt.Errorf("logged out here, but the server could not be told: %w", err)
	}
	fmt.Fprintln(c.Stdout, "Logged out.")
	return nil
}

// adminWhoamiOutput is what `admin whoami --json` prints.
type adminWhoamiOutput struct {
	UserID  string `json:"user_id"`
	Email   string `json:"email"`
	GroupID string `json:"group_id"`
	URL     string `json:"url"`
}

// AdminWhoamiCommand shows the logged-in admin.
type AdminWhoamiCommand struct {
	adminSession
	jsonFlag
}

// Run asks the server for the admin's profile, which also checks the session.
func (c *AdminWhoamiCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("whoami", "whoami [--json]", "Shows the logged-in admin, as the server knows it.")
	c.jsonFlag.register(fs, "print JSON")
	return c.run(fs, args, func(a *client.Admin, _ []string) error {
		p, err := a.Profile(ctx)
		if err != nil {
			return err
		}
		w := adminWhoamiOutput{UserID: p.UserID, Email: p.Email(), GroupID: p.GroupID(), URL: a.BaseURL()}
		if c.JSON {
			return printJSON(c.Stdout, w)
		}
		tw := tabwriter.NewWriter(c.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "admin\t%s\nemail\t%s\nserver\t%s\ngroup\t%s\n", w.UserID, orDash(w.Email), w.URL, w.GroupID)
		return tw.Flush()
	})
}
