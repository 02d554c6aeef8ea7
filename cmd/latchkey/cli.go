package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/latchkey/latchkey/client"
)

// This file holds what the user-side commands (register, login, logout, whoami, keys) share.
// They reach the server only through the client package.

// userIO is the terminal of a user-side command.
type userIO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

func newUserIO(stdout, stderr io.Writer) userIO {
	return userIO{Stdin: os.Stdin, Stdout: stdout, Stderr: stderr}
}

// perCallFlags are flags that say what one invocation does rather than configure the CLI, so
// no environment variable sets them: LATCHKEY_YES must not delete keys unasked. The empty
// variable name is never set.
var perCallFlags = map[string]string{"json": "", "yes": "", "api-key": "", "expires-in": "", "scopes": "", "grace-period": ""}

// configDir is the --config-dir flag: where the CLI keeps its files.
type configDir struct {
	Dir string
}

func (c *configDir) register(fs *flag.FlagSet) {
	fs.StringVar(&c.Dir, "config-dir", "", "directory of the CLI's credentials; default <user config dir>/latchkey (LATCHKEY_CONFIG_DIR)")
}

func (c *configDir) path() (string, error) {
	if c.Dir != "" {
		return c.Dir, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("config directory: %w (set --config-dir)", err)
	}
	return filepath.Join(dir, "latchkey"), nil
}

// The user commands' files in the config directory.
const (
	credentialsFile = "credentials.json" // the sessions' tokens (a client.FileStore)
	configFile      = "config.json"      // the server and app of the latest login
)

// jsonFlag is --json: print JSON, for scripts, rather than text.
type jsonFlag struct{ JSON bool }

func (f *jsonFlag) register(fs *flag.FlagSet, usage string) {
	fs.BoolVar(&f.JSON, "json", false, usage)
}

// yesFlag is the --yes of the delete commands.
type yesFlag struct{ Yes bool }

func (f *yesFlag) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.Yes, "yes", false, "delete without asking")
}

// toggle is what an enable command and its disable command share: which of the two it is.
type toggle struct{ Disable bool }

// verb is the command's name: enable or disable.
func (t toggle) verb() string {
	return pick(t, "enable", "disable")
}

// pick returns what the command needs of the two, the enable or the disable one.
func pick[T any](t toggle, enable, disable T) T {
	if t.Disable {
		return disable
	}
	return enable
}

// target is the server and app of the latest login, kept in config.json beside the
// credentials so that later commands need no --url and --app.
type target struct {
	URL string `json:"url"`
	App string `json:"app"`
}

// load reads the JSON file name of the directory into v, and returns the directory; a file
// that is not there leaves v as it is.
func (c *configDir) load(name string, v any) (string, error) {
	dir, err := c.path()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return dir, nil
	} else if err != nil {
		return "", err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return dir, nil
}

// saveConfigFile writes v as the JSON file name in the config directory dir, readable by
// its owner only.
func saveConfigFile(dir, name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name), append(b, '\n'), 0o600)
}

// clientOptions are the client package options of the CLI: the session's tokens in the file
// name of the config directory dir, and a bound on each request, so that a server that
// stops answering does not hang the terminal.
func clientOptions(dir, name string) []client.Option {
	return []client.Option{client.WithTokenStore(client.NewFileStore(filepath.Join(dir, name))), client.WithHTTPClient(cliHTTPClient())}
}

// cliHTTPClient is the HTTP client of every call to the server.
func cliHTTPClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second}
}

// openApp returns the client of t's app, with its users in dir/credentials.json.
func openApp(dir string, t target) (*client.App, error) {
	return client.NewApp(t.URL, t.App, clientOptions(dir, credentialsFile)...)
}

var errNotLoggedIn = errors.New("not logged in: run latchkey login --url URL --app APP_ID --email EMAIL")

// currentUser returns the logged-in user of the latest login's app.
func currentUser(c configDir) (*client.User, error) {
	var t target
	dir, err := c.load(configFile, &t)
	if err != nil {
		return nil, err
	}
	if t.URL == "" || t.App == "" {
		return nil, errNotLoggedIn
	}
	app, err := openApp(dir, t)
	if err != nil {
		return nil, err
	}
	u := app.CurrentUser()
	if u == nil {
		return nil, errNotLoggedIn
	}
	return u, nil
}

// userSession is what the user commands embed: the terminal, --config-dir, and so the way
// to the logged-in user.
type userSession struct {
	userIO
	Config configDir
}

// flagSet returns the flag set of the command name (`latchkey name`), with --config-dir.
func (s *userSession) flagSet(name, synopsis, about string) *flag.FlagSet {
	fs := newFlagSet("latchkey "+name, "latchkey "+synopsis, about, s.Stderr)
	s.Config.register(fs)
	return fs
}

// login parses args with fs (see parseArgs), then returns the logged-in user and the
// positional arguments, as many as names.
func (s *userSession) login(fs *flag.FlagSet, args []string, names ...string) (*client.User, []string, error) {
	pos, err := parseArgs(fs, args, names...)
	if err != nil {
		return nil, nil, err
	}
	u, err := currentUser(s.Config)
	return u, pos, err
}

// loginKey is login for a command whose one argument, KEY, names one of the user's keys: it
// returns the key's id (see keyID).
func (s *userSession) loginKey(ctx context.Context, fs *flag.FlagSet, args []string) (*client.User, string, error) {
	u, pos, err := s.login(fs, args, "KEY")
	if err != nil {
		return nil, "", err
	}
	id, err := keyID(ctx, u, pos[0])
	if err != nil {
		return nil, "", err
	}
	return u, id, nil
}

// explain adds what the user can do about an error of a call made as u.
func explain(u *client.User, err error) error {
	return explainCall(err, u.IsLoggedIn, errNotLoggedIn, "the session has ended, so you are logged out: run latchkey login again")
}

// explainCall is explain and explainAdmin: an error for want of a session is notLoggedIn,
// and any error after which the session is gone (loggedIn is false) says so with ended.
func explainCall(err error, loggedIn func() bool, notLoggedIn error, ended string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, client.ErrNotLoggedIn):
		return notLoggedIn
	case !loggedIn():
		return fmt.Errorf("%w; %s", err, ended)
	}
	return err
}

// parseArgs parses flags given anywhere among args, so `keys create NAME --json` works as
// well as `keys create --json NAME`, and returns the positional arguments, which must be as
// many as names; a last name ending in "..." (VALUE...) takes any number more. A "--" ends
// the flags.
func parseArgs(fs *flag.FlagSet, args []string, names ...string) ([]string, error) {
	return parseArgsEnv(fs, args, perCallFlags, names...)
}

// parseArgsEnv is parseArgs with rename telling parseFlags which variable sets which flag.
func parseArgsEnv(fs *flag.FlagSet, args []string, rename map[string]string, names ...string) ([]string, error) {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil && !isBoolFlag(f) && i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	if err := parseFlags(fs, flags, rename); err != nil {
		return nil, err
	}
	fixed, more := names, false
	if n := len(names); n > 0 && strings.HasSuffix(names[n-1], "...") {
		fixed, more = names[:n-1], true
	}
	if len(pos) < len(fixed) {
		return nil, &flagError{msg: "missing " + fixed[len(pos)], cmd: fs.Name(), args: true}
	}
	if !more && len(pos) > len(fixed) {
		return nil, &flagError{msg: fmt.Sprintf("unexpected argument %q", pos[len(fixed)]), cmd: fs.Name(), args: true}
	}
	return pos, nil
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// isTerminal reports whether r is a terminal: only then does the CLI prompt.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// readSecret reads a password or an API key: typed at a prompt without echo when stdin is a
// terminal, else the first line of stdin, so scripts can pipe it in. Never from a flag,
// which would leave it in the shell history and the process list.
func (c userIO) readSecret(prompt string) (string, error) {
	if isTerminal(c.Stdin) {
		fmt.Fprint(c.Stderr, prompt)
		b, err := term.ReadPassword(int(c.Stdin.(*os.File).Fd()))
		fmt.Fprintln(c.Stderr)
		if err != nil {
			return "", fmt.Errorf("read %s: %w", strings.TrimSuffix(prompt, ": "), err)
		}
		if len(b) == 0 {
			return "", fmt.Errorf("no %s given", strings.ToLower(strings.TrimSuffix(prompt, ": ")))
		}
		return string(b), nil
	}
	line, err := readLine(c.Stdin)
	if err != nil {
		return "", fmt.Errorf("read %s from standard input: %w", strings.ToLower(strings.TrimSuffix(prompt, ": ")), err)
	}
	if line == "" {
		return "", fmt.Errorf("no %s on standard input: pipe it in, or run on a terminal to be asked", strings.ToLower(strings.TrimSuffix(prompt, ": ")))
	}
	return line, nil
}

// confirm asks a yes/no question on the terminal; without one it refuses, so a script never
// deletes by accident.
func (c userIO) confirm(question string) (bool, error) {
	if !isTerminal(c.Stdin) {
		return false, errors.New("standard input is not a terminal, so there is no one to confirm: pass --yes to do it anyway")
	}
	fmt.Fprintf(c.Stderr, "%s [y/N] ", question)
	answer, err := readLine(c.Stdin)
	if err != nil {
		return false, err
	}
	answer = strings.ToLower(strings.TrimSpace(answer))
	return answer == "y" || answer == "yes", nil
}

// canConfirm refuses a delete without --yes when there is no terminal to ask on, before
// anything is sent to the server.
func (c userIO) canConfirm(yes bool) error {
	if !yes && !isTerminal(c.Stdin) {
		return errors.New("refusing to delete without confirmation: standard input is not a terminal; pass --yes")
	}
	return nil
}

// deleteAfterAsking is how every delete command ends. Unless yes, question fetches the
// thing to name it in the question (so that a thing already gone fails before asking) and
// the person at the terminal must confirm; then del deletes it and done is printed.
func (c userIO) deleteAfterAsking(yes bool, question func() (string, error), del func() error, done string) error {
	if !yes {
		q, err := question()
		if err != nil {
			return err
		}
		ok, err := c.confirm(q)
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("not confirmed; nothing was deleted")
		}
	}
	if err := del(); err != nil {
		return err
	}
	fmt.Fprintln(c.Stdout, done)
	return nil
}

// readLine reads one line without its line ending, a byte at a time so that nothing after it
// is consumed from a shared stdin.
func readLine(r io.Reader) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for {
		n, err := r.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				break
			}
			b.WriteByte(buf[0])
		}
		if err == io.EOF {
			break
		} else if err != nil {
			return "", err
		}
	}
	return strings.TrimSuffix(b.String(), "\r"), nil
}

// printJSON writes v as indented JSON, for scripts.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printList shows what a list command fetched: a JSON array with --json; else none when
// there is nothing (unless none is empty), or a table of head and a row for each item.
func printList[T any](w io.Writer, items []T, asJSON bool, none string, head []string, row func(T) []string) error {
	if asJSON {
		return printJSON(w, items)
	}
	if len(items) == 0 && none != "" {
		fmt.Fprintln(w, none)
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, item := range items {
		fmt.Fprintln(tw, strings.Join(row(item), "\t"))
	}
	return tw.Flush()
}

// notePage tells, on w, how to get the next page when a list filled its page (limit, or
// def when no --limit was given): there may be more.
func notePage[T any](w io.Writer, items []T, limit, def int, noun, flag string, id func(T) string) {
	if limit <= 0 {
		limit = def
	}
	if len(items) > 0 && len(items) == limit {
		fmt.Fprintf(w, "There may be more %s: add --%s %s for the next page.\n", noun, flag, id(items[len(items)-1]))
	}
}

// printOne shows the one thing a get command fetched: as JSON with --json, else with text.
func printOne[T any](w io.Writer, v T, asJSON bool, text func(io.Writer, T)) error {
	if asJSON {
		return printJSON(w, v)
	}
	text(w, v)
	return nil
}
