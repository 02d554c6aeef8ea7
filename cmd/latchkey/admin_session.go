package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

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

func loadAdminTarget(dir string) (adminTarget, error) {
	var t adminTarget
	path := filepath.Join(dir, adminConfigFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return t, nil
	} else if err != nil {
		return t, err
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return t, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

func saveAdminTarget(dir string, t adminTarget) error {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, adminConfigFile), append(b, '\n'), 0o600)
}

// openAdmin returns the admin client of the server at url, with its session in
// dir/admin-credentials.json.
func openAdmin(dir, url string) (*client.Admin, error) {
	store := client.NewFileStore(filepath.Join(dir, adminCredentialsFile))
	// A bound on each request, so a server that stops answering does not hang the terminal.
	httpClient := &http.Client{Timeout: 30 * time.Second}
	return client.NewAdmin(url, client.WithTokenStore(store), client.WithHTTPClient(httpClient))
}

// currentAdmin returns the admin client of the latest admin login, logged in.
func currentAdmin(c configDir) (*client.Admin, error) {
	dir, err := c.path()
	if err != nil {
		return nil, err
	}
	t, err := loadAdminTarget(dir)
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
	switch {
	case err == nil:
		return nil
	case errors.Is(err, client.ErrNotLoggedIn):
		return errAdminNotLoggedIn
	case !a.IsLoggedIn():
		return fmt.Errorf("%w; the admin session has ended, so you are logged out: run latchkey admin login again", err)
	}
	return err
}

// adminCommand is one command of the admin API: its flag set, and what it does as the
// logged-in admin. Builders (adminAppsList, ...) fill it with closures over their flags.
type adminCommand struct {
	userIO
	name     string   // e.g. "apps create"
	synopsis string   // after "latchkey admin "
	about    string   // the help text
	args     []string // names of the positional arguments
	flags    func(fs *flag.FlagSet)
	// required are the flags that must be given, by name.
	required map[string]*string
	run      func(ctx context.Context, a *client.Admin, args []string) error
}

// Run parses the flags, checks the required ones, and runs the command as the logged-in
// admin.
func (c *adminCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("latchkey admin "+c.name, "latchkey admin "+c.synopsis, c.about, c.Stderr)
	var cfg configDir
	cfg.register(fs)
	if c.flags != nil {
		c.flags(fs)
	}
	pos, err := parseArgsEnv(fs, args, adminEnv(fs), c.args...)
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(c.required)) {
		if *c.required[name] == "" {
			return fmt.Errorf("--%s is required", name)
		}
	}
	a, err := currentAdmin(cfg)
	if err != nil {
		return err
	}
	return explainAdmin(a, c.run(ctx, a, pos))
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

// canConfirm refuses a delete without --yes when there is no terminal to ask on, before
// anything is sent to the server.
func (c *adminCommand) canConfirm(yes bool) error {
	if !yes && !isTerminal(c.Stdin) {
		return errors.New("refusing to delete without confirmation: standard input is not a terminal; pass --yes")
	}
	return nil
}

// confirmDelete asks before a delete, unless yes.
func (c *adminCommand) confirmDelete(yes bool, question string) error {
	if yes {
		return nil
	}
	ok, err := c.confirm(question)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("not confirmed; nothing was deleted")
	}
	return nil
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
	userIO
	Config configDir
	URL    string
	Email  string
}

// Run logs in and keeps the session in admin-credentials.json.
func (c *AdminLoginCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("latchkey admin login", "latchkey admin login --url URL --email EMAIL",
		"Logs in to the admin API and keeps the admin session in <config dir>/admin-credentials.json\n"+
			"(mode 0600), apart from the user commands' session. The password is asked for on a\n"+
			"terminal, or read from the first line of standard input. The session lasts 24 hours.", c.Stderr)
	c.Config.register(fs)
	fs.StringVar(&c.URL, "url", "", "base URL of the server, e.g. http://127.0.0.1:9090; default the latest admin login's (LATCHKEY_URL)")
	fs.StringVar(&c.Email, "email", "", "the admin's email")
	if _, err := parseArgsEnv(fs, args, adminEnv(fs)); err != nil {
		return err
	}
	if c.Email == "" {
		return errors.New("--email is required")
	}
	dir, err := c.Config.path()
	if err != nil {
		return err
	}
	if c.URL == "" {
		saved, err := loadAdminTarget(dir)
		if err != nil {
			return err
		}
		if c.URL = saved.URL; c.URL == "" {
			return errors.New("--url is required (there is no earlier admin login to take it from)")
		}
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
	if err := saveAdminTarget(dir, adminTarget{URL: a.BaseURL()}); err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "Logged in to %s as admin %s (%s).\n", a.BaseURL(), c.Email, a.UserID())
	return nil
}

// AdminLogoutCommand ends the admin session.
type AdminLogoutCommand struct {
	userIO
	Config configDir
}

// Run logs the admin out on the server and removes the tokens from admin-credentials.json.
func (c *AdminLogoutCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("latchkey admin logout", "latchkey admin logout",
		"Ends the admin session on the server and removes it from admin-credentials.json.", c.Stderr)
	c.Config.register(fs)
	if _, err := parseArgsEnv(fs, args, adminEnv(fs)); err != nil {
		return err
	}
	a, err := currentAdmin(c.Config)
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

func adminWhoami(io userIO) Command {
	var asJSON bool
	c := &adminCommand{userIO: io, name: "whoami", synopsis: "whoami [--json]",
		about: "Shows the logged-in admin, as the server knows it."}
	c.flags = func(fs *flag.FlagSet) { fs.BoolVar(&asJSON, "json", false, "print JSON") }
	c.run = func(ctx context.Context, a *client.Admin, _ []string) error {
		p, err := a.Profile(ctx)
		if err != nil {
			return err
		}
		w := adminWhoamiOutput{UserID: p.UserID, Email: p.Email(), GroupID: p.GroupID(), URL: a.BaseURL()}
		if asJSON {
			return printJSON(c.Stdout, w)
		}
		tw := tabwriter.NewWriter(c.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "admin\t%s\nemail\t%s\nserver\t%s\ngroup\t%s\n", w.UserID, orDash(w.Email), w.URL, w.GroupID)
		return tw.Flush()
	}
	return c
}
