package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
)

const keysUsage = `Usage: latchkey keys COMMAND [flags]

Manages the API keys of the logged-in user (see latchkey login).

Commands:
  create NAME [--expires-in DURATION] [--scopes a,b] [--json]
                         create a key; prints its value, which is shown only this once
  rotate KEY [--grace-period DURATION] [--json]
                         give a key a new value, shown only this once; the old value
                         keeps working for the grace period (default none)
  list [--json]          list the keys: id, name, start, enabled, dates, scopes
  get KEY [--json]       show one key
  disable KEY            disable a key: it stops logging in and its sessions end
  enable KEY             enable a disabled key
  delete KEY [--yes]     delete a key; asks first on a terminal, --yes for scripts

KEY is a key's id, or its name.
DURATION is a number of seconds (3600), a Go duration (90m, 720h) or days (90d).

Each command takes --config-dir DIR (LATCHKEY_CONFIG_DIR) and -h for help.
`

// KeysCommand runs the keys subcommand named by its first argument.
type KeysCommand struct {
	userSession
}

// keysCommands make each keys subcommand, by name.
var keysCommands = map[string]func(userSession) Command{
	"create":  func(s userSession) Command { return &KeysCreateCommand{userSession: s} },
	"rotate":  func(s userSession) Command { return &KeysRotateCommand{userSession: s} },
	"list":    func(s userSession) Command { return &KeysListCommand{userSession: s} },
	"get":     func(s userSession) Command { return &KeysGetCommand{userSession: s} },
	"disable": func(s userSession) Command { return &KeysToggleCommand{userSession: s, toggle: toggle{Disable: true}} },
	"enable":  func(s userSession) Command { return &KeysToggleCommand{userSession: s} },
	"delete":  func(s userSession) Command { return &KeysDeleteCommand{userSession: s} },
}

// Run dispatches to the subcommand.
func (c *KeysCommand) Run(ctx context.Context, args []string) error {
	if none, err := c.noCommand(args, keysUsage); none {
		return err
	}
	newCmd, ok := keysCommands[args[0]]
	if !ok {
		fmt.Fprint(c.Stderr, keysUsage)
		return fmt.Errorf("unknown command %q", args[0])
	}
	return inCommand("keys "+args[0], newCmd(c.userSession).Run(ctx, args[1:]))
}

// keyWarning is printed with every new key: the server keeps only the key's hash.
const keyWarning = "Store this key now, somewhere safe: it is shown only once and cannot be retrieved again."

// KeysCreateCommand creates a key and prints its value.
type KeysCreateCommand struct {
	userSession
	ExpiresIn durationFlag
	Scopes    listFlag
	jsonFlag
}

// Run creates the key.
func (c *KeysCreateCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("keys create", "keys create NAME [--expires-in DURATION] [--scopes a,b] [--json]",
		"Creates an API key and prints it with its value. The value is shown only this once.\n"+
			"NAME: ASCII letters, digits, '_' and '-', at most 64 characters, unique per user.\n"+
			"Without --expires-in the key lives as long as the app allows (forever, unless the app\n"+
			"sets a maximum); without --scopes it acts with your full rights.")
	fs.Var(&c.ExpiresIn, "expires-in", "the key expires after `DURATION`: seconds (3600), a Go duration (90m, 720h) or days (90d)")
	fs.Var(&c.Scopes, "scopes", "comma-separated `SCOPES` from the app's vocabulary, carried in the access tokens of the key's sessions")
	c.jsonFlag.register(fs, "print the key as JSON, value included")
	u, pos, err := c.login(fs, args, "NAME")
	if err != nil {
		return err
	}
	var opts []client.KeyOption
	if c.ExpiresIn.Given {
		opts = append(opts, client.KeyExpiresIn(c.ExpiresIn.D))
	}
	if len(c.Scopes) > 0 {
		opts = append(opts, client.KeyScopes(c.Scopes...))
	}
	k, err := u.APIKeys().Create(ctx, pos[0], opts...)
	if err != nil {
		return explain(u, err)
	}
	if err := printNewKey(c.Stdout, k, c.JSON); err != nil {
		return err
	}
	fmt.Fprintln(c.Stderr, keyWarning)
	return nil
}

// printNewKey prints a key with its value, as JSON or as name/value lines.
func printNewKey(w io.Writer, k client.APIKey, asJSON bool) error {
	if asJSON {
		return printJSON(w, k)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "id\t%s\nname\t%s\nkey\t%s\n", k.ID, k.Name, k.Value)
	if k.ExpiresAt != nil {
		fmt.Fprintf(tw, "expires\t%s\n", formatTime(k.ExpiresAt, "never"))
	}
	if len(k.Scopes) > 0 {
		fmt.Fprintf(tw, "scopes\t%s\n", formatScopes(k.Scopes))
	}
	return tw.Flush()
}

// KeysRotateCommand gives a key a new value and prints it.
type KeysRotateCommand struct {
	userSession
	GracePeriod durationFlag
	jsonFlag
}

// Run rotates the key.
func (c *KeysRotateCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("keys rotate", "keys rotate KEY [--grace-period DURATION] [--json]",
		"Gives an API key a new value and prints it; the value is shown only this once. The key\n"+
			"keeps its id, name, expiry and scopes. The old value, and the sessions opened with it,\n"+
			"keep working for the grace period (at most 7 days), so you can roll out the new value\n"+
			"first; without --grace-period they stop at once. KEY is the key's id or its name.")
	fs.Var(&c.GracePeriod, "grace-period", "how long the old value keeps working: `DURATION` in seconds (3600), a Go duration (90m, 24h) or days (7d)")
	c.jsonFlag.register(fs, "print the key as JSON, new value included")
	u, id, err := c.loginKey(ctx, fs, args)
	if err != nil {
		return err
	}
	k, err := u.APIKeys().Rotate(ctx, id, c.GracePeriod.D)
	if err != nil {
		return explain(u, err)
	}
	if err := printNewKey(c.Stdout, k, c.JSON); err != nil {
		return err
	}
	fmt.Fprintln(c.Stderr, keyWarning)
	if grace := c.GracePeriod.D.Truncate(time.Second); grace > 0 {
		fmt.Fprintf(c.Stderr, "The old value keeps working for %s, then stops.\n", grace)
	} else {
		fmt.Fprintln(c.Stderr, "The old value no longer works.")
	}
	return nil
}

// KeysListCommand lists the keys.
type KeysListCommand struct {
	userSession
	jsonFlag
}

// Run lists the keys in creation order.
func (c *KeysListCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("keys list", "keys list [--json]",
		"Lists your API keys, oldest first, without their values.")
	c.jsonFlag.register(fs, "print a JSON array")
	u, _, err := c.login(fs, args)
	if err != nil {
		return err
	}
	keys, err := u.APIKeys().FetchAll(ctx)
	if err != nil {
		return explain(u, err)
	}
	return printKeys(c.Stdout, keys, c.JSON)
}

// printKeys lists keys: a JSON array with --json, else a table with a column for each
// field beyond the known ones.
func printKeys(w io.Writer, keys []client.APIKey, asJSON bool) error {
	extra := extraFields(keys...)
	head := []string{"ID", "NAME", "START", "ENABLED", "CREATED", "LAST USED", "EXPIRES", "SCOPES"}
	limits := hasLimits(keys)
	if limits {
		head = append(head, "RATELIMIT", "REMAINING", "REFILL", "META")
	}
	head = append(head, upper(extra)...)
	return printList(w, keys, asJSON, "No API keys.", head, func(k client.APIKey) []string {
		row := []string{
			k.ID, k.Name, orDash(k.Start), yesNo(k.Enabled()), formatTime(&k.CreatedAt, "-"), formatTime(k.LastUsedAt, "never"),
			formatTime(k.ExpiresAt, "never"), formatScopes(k.Scopes),
		}
		if limits {
			row = append(row, formatRateLimit(k.RateLimit), formatRemaining(k.Remaining), formatRefill(k.Refill), formatMeta(k.Meta))
		}
		for _, name := range extra {
			row = append(row, formatRaw(k.Extra[name]))
		}
		return row
	})
}

// KeysGetCommand shows one key.
type KeysGetCommand struct {
	userSession
	jsonFlag
}

// Run fetches the key.
func (c *KeysGetCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("keys get", "keys get KEY [--json]",
		"Shows one of your API keys, without its value. KEY is the key's id or its name.")
	c.jsonFlag.register(fs, "print JSON")
	u, id, err := c.loginKey(ctx, fs, args)
	if err != nil {
		return err
	}
	k, err := u.APIKeys().Fetch(ctx, id)
	if err != nil {
		return explain(u, err)
	}
	return printOne(c.Stdout, k, c.JSON, printKey)
}

// KeysToggleCommand disables or enables a key.
type KeysToggleCommand struct {
	userSession
	toggle
}

// Run disables or enables the key; doing it twice is no error.
func (c *KeysToggleCommand) Run(ctx context.Context, args []string) error {
	about := pick(c.toggle, "Enables an API key, so that it logs in again.",
		"Disables an API key: it stops logging in, and every session opened with it ends.")
	fs := c.flagSet("keys "+c.verb(), "keys "+c.verb()+" KEY", about+" KEY is the key's id or its name.")
	u, id, err := c.loginKey(ctx, fs, args)
	if err != nil {
		return err
	}
	if err := pick(c.toggle, u.APIKeys().Enable, u.APIKeys().Disable)(ctx, id); err != nil {
		return explain(u, err)
	}
	fmt.Fprintf(c.Stdout, "%sd API key %s.\n", capitalize(c.verb()), id)
	return nil
}

// KeysDeleteCommand deletes a key, after asking.
type KeysDeleteCommand struct {
	userSession
	yesFlag
}

// Run asks for confirmation on a terminal, refuses without one unless --yes, and deletes.
func (c *KeysDeleteCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("keys delete", "keys delete KEY [--yes]",
		"Deletes an API key; every session opened with it ends. Asks first on a terminal;\n"+
			"from a script (no terminal), --yes is required. KEY is the key's id or its name.")
	c.yesFlag.register(fs)
	pos, err := parseArgs(fs, args, "KEY")
	if err != nil {
		return err
	}
	if err := c.canConfirm(c.Yes); err != nil {
		return err
	}
	u, err := currentUser(c.Config)
	if err != nil {
		return err
	}
	id, err := keyID(ctx, u, pos[0])
	if err != nil {
		return err
	}
	question := func() (string, error) {
		k, err := u.APIKeys().Fetch(ctx, id)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("Delete API key %s (%s)? This cannot be undone.", k.Name, k.ID), nil
	}
	del := func() error { return u.APIKeys().Delete(ctx, id) }
	return explain(u, c.deleteAfterAsking(c.Yes, question, del, "Deleted API key "+id+"."))
}

// keyID returns the id of the user's key that arg names: arg itself when it is an id (24
// hexadecimal digits), else the id of the one key with that name.
func keyID(ctx context.Context, u *client.User, arg string) (string, error) {
	if isObjectID(arg) {
		return arg, nil
	}
	keys, err := u.APIKeys().FetchAll(ctx)
	if err != nil {
		return "", explain(u, err)
	}
	var ids []string
	for _, k := range keys {
		if k.Name == arg {
			ids = append(ids, k.ID)
		}
	}
	switch len(ids) {
	case 0:
		return "", fmt.Errorf("no key named %s: see latchkey keys list", shown(arg))
	case 1:
		return ids[0], nil
	}
	return "", fmt.Errorf("%d keys are named %s (%s): give the id", len(ids), shown(arg), strings.Join(ids, ", "))
}

// isObjectID reports whether s has the form of an id: 24 lowercase hexadecimal digits.
func isObjectID(s string) bool {
	if len(s) != 24 {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

// printKey prints one key as name/value lines.
func printKey(w io.Writer, k client.APIKey) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "id\t%s\nname\t%s\nstart\t%s\nenabled\t%s\ncreated\t%s\nlast used\t%s\nexpires\t%s\nscopes\t%s\n",
		k.ID, k.Name, orDash(k.Start), yesNo(k.Enabled()), formatTime(&k.CreatedAt, "-"), formatTime(k.LastUsedAt, "never"),
		formatTime(k.ExpiresAt, "never"), formatScopes(k.Scopes))
	printKeyLimits(tw, k)
	for _, name := range extraFields(k) {
		fmt.Fprintf(tw, "%s\t%s\n", strings.ReplaceAll(name, "_", " "), formatRaw(k.Extra[name]))
	}
	tw.Flush()
}

// extraFields returns the names of the fields beyond the known ones that any of keys has,
// sorted, so that a newer server's additions show up as columns.
func extraFields(keys ...client.APIKey) []string {
	names := map[string]bool{}
	for _, k := range keys {
		for name := range k.Extra {
			names[name] = true
		}
	}
	return slices.Sorted(maps.Keys(names))
}

func upper(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.ToUpper(strings.ReplaceAll(n, "_", " "))
	}
	return out
}

// formatScopes writes a key's scopes for a table, "-" for none (the user's full rights).
func formatScopes(scopes []string) string {
	return orDash(strings.Join(scopes, ","))
}

// orDash shows an empty value as "-" in a table.
// orDash is how text output shows a value: "-" when empty, and with its hidden runes (bidi
// controls, terminal escapes) written out, so that a stored email or audit detail cannot
// show as something else.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return latchkey.Visible(s)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// formatTime writes a time in UTC, or none for no time.
func formatTime(t *time.Time, none string) string {
	if t == nil || t.IsZero() {
		return none
	}
	return t.UTC().Format(time.RFC3339)
}

// formatRaw writes a JSON value for a table: strings without quotes, others as JSON, "-" for
// none.
func formatRaw(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return "-"
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// durationFlag is a length of time given as whole seconds ("3600"), a Go duration ("90m",
// "720h") or whole days ("90d"): key lifetimes are usually counted in days, which Go
// durations lack.
type durationFlag struct {
	D     time.Duration
	Given bool
}

func (f *durationFlag) String() string {
	if f == nil || !f.Given {
		return ""
	}
	return f.D.String()
}

// Set parses the flag's value.
func (f *durationFlag) Set(s string) error {
	d, err := parseDuration(s)
	if err != nil {
		return err
	}
	f.D, f.Given = d, true
	return nil
}

func parseDuration(s string) (time.Duration, error) {
	const maxSeconds = int64(1<<63-1) / int64(time.Second)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > maxSeconds || n < -maxSeconds {
			return 0, errors.New("expected fewer seconds")
		}
		return time.Duration(n) * time.Second, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n > maxSeconds/86400 || n < -maxSeconds/86400 {
			return 0, errors.New("expected a whole number of days such as 90d")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("expected seconds (3600), a duration such as 90m or 720h, or days such as 90d")
	}
	return d, nil
}

// listFlag is a comma-separated list; given twice, the lists add up.
type listFlag []string

func (f *listFlag) String() string {
	if f == nil {
		return ""
	}
	return strings.Join(*f, ",")
}

// Set adds the flag's items.
func (f *listFlag) Set(s string) error {
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			*f = append(*f, item)
		}
	}
	return nil
}
