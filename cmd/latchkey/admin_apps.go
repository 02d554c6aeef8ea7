package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
)

// AdminAppsListCommand lists every app.
type AdminAppsListCommand struct {
	adminSession
	jsonFlag
}

// Run lists the apps, oldest first.
func (c *AdminAppsListCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("apps list", "apps list [--json]", "Lists every app, oldest first.")
	c.jsonFlag.register(fs, "print a JSON array")
	return c.run(fs, args, func(a *client.Admin, _ []string) error {
		apps, err := a.Apps(ctx)
		if err != nil {
			return err
		}
		return printList(c.Stdout, apps, c.JSON, "No apps.", []string{"ID", "CLIENT APP ID", "NAME", "CREATED"},
			func(app client.AppInfo) []string {
				return []string{app.ID, app.ClientAppID, app.Name, formatTime(&app.CreatedAt, "-")}
			})
	})
}

// AdminAppsGetCommand shows one app.
type AdminAppsGetCommand struct {
	adminSession
	jsonFlag
}

// Run fetches the app.
func (c *AdminAppsGetCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("apps get", "apps get APP [--json]", "Shows one app. APP is its client app id or its id.", "APP")
	c.jsonFlag.register(fs, "print JSON")
	return c.run(fs, args, func(a *client.Admin, pos []string) error {
		app, err := a.App(ctx, pos[0])
		if err != nil {
			return err
		}
		return printOne(c.Stdout, app, c.JSON, printApp)
	})
}

func printApp(w io.Writer, app client.AppInfo) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "id\t%s\nclient app id\t%s\nname\t%s\ngroup\t%s\nlocation\t%s\ndeployment model\t%s\ncreated\t%s\n",
		app.ID, app.ClientAppID, app.Name, app.GroupID, app.Location, app.DeploymentModel, formatTime(&app.CreatedAt, "-"))
	tw.Flush()
}

// AdminAppsCreateCommand creates an app.
type AdminAppsCreateCommand struct {
	adminSession
	ClientAppID string
	Name        string
	jsonFlag
}

// Run creates the app with the quickstart settings.
func (c *AdminAppsCreateCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("apps create", "apps create [--client-app-id ID] [--name NAME] [--json]",
		"Creates an app with the quickstart settings: every provider enabled and auto-confirm on\n"+
			"(change them with latchkey admin apps settings APP --set). Without --client-app-id the\n"+
			"server makes one up, like latchkey-qmzvx.")
	fs.StringVar(&c.ClientAppID, "client-app-id", "", "the id SDKs will be configured with: 2 to 64 lowercase letters, digits, '-', '_'")
	fs.StringVar(&c.Name, "name", "", "display name; default the client app id")
	c.jsonFlag.register(fs, "print the app as JSON")
	return c.run(fs, args, func(a *client.Admin, _ []string) error {
		var settings client.AppSettingsUpdate
		if c.Name != "" {
			settings.Name = &c.Name
		}
		app, err := a.CreateApp(ctx, c.ClientAppID, settings)
		if err != nil {
			return err
		}
		if c.JSON {
			return printJSON(c.Stdout, app)
		}
		fmt.Fprintf(c.Stdout, "Created app %s (%s).\n", app.ClientAppID, app.ID)
		return nil
	})
}

// AdminAppsDeleteCommand deletes an app, after asking.
type AdminAppsDeleteCommand struct {
	adminSession
	yesFlag
}

// Run asks on a terminal, refuses without one unless --yes, and deletes.
func (c *AdminAppsDeleteCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("apps delete", "apps delete APP [--yes]",
		"Deletes an app with all its users, keys, sessions and audit events. Asks first on a\n"+
			"terminal; from a script (no terminal), --yes is required.", "APP")
	c.yesFlag.register(fs)
	return c.run(fs, args, func(a *client.Admin, pos []string) error {
		if err := c.canConfirm(c.Yes); err != nil {
			return err
		}
		id := pos[0]
		question := func() (string, error) {
			app, err := a.App(ctx, id)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("Delete app %s (%s) with all its users, keys and sessions? This cannot be undone.", app.ClientAppID, app.ID), nil
		}
		del := func() error { return a.DeleteApp(ctx, id) }
		return c.deleteAfterAsking(c.Yes, question, del, "Deleted app "+id+".")
	})
}

// settingNames are the keys of --set, as the settings endpoint names them.
var settingNames = []string{
	"name", "auto_confirm", "anon_user_enabled", "local_userpass_enabled", "api_key_enabled",
	"password_min_length", "refresh_token_lifetime_seconds", "allowed_origins",
	"hide_account_existence", "key_prefix", "max_key_lifetime_seconds", "scopes", "key_ratelimit",
}

// AdminAppsSettingsCommand shows an app's settings, and changes them with --set.
type AdminAppsSettingsCommand struct {
	adminSession
	Set stringList
	jsonFlag
}

// Run changes the settings given with --set, all or none, then shows them.
func (c *AdminAppsSettingsCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("apps settings", "apps settings APP [--set KEY=VALUE ...] [--json]",
		"Shows an app's settings; with --set, changes them first (all or none) and shows the\n"+
			"result. KEY is one of:\n"+
			"  name                            display name\n"+
			"  auto_confirm                    true: email/password users are confirmed at registration\n"+
			"  anon_user_enabled               true or false: the anon-user provider\n"+
			"  local_userpass_enabled          true or false: the local-userpass provider\n"+
			"  api_key_enabled                 true or false: the api-key provider\n"+
			"  password_min_length             6 to 128\n"+
			"  refresh_token_lifetime_seconds  1800 (30 minutes) to 15552000 (180 days)\n"+
			"  allowed_origins                 comma-separated, e.g. https://app.example.com; empty allows any\n"+
			"  hide_account_existence          true: reset/send and confirm/send answer unknown emails as known ones\n"+
			"  key_prefix                      2 to 10 lowercase letters starting new key values (default lk)\n"+
			"  max_key_lifetime_seconds        longest and default lifetime of new user keys; 0: no maximum\n"+
			"  scopes                          comma-separated scopes keys may carry, e.g. read,write; empty: none\n"+
			"  key_ratelimit                   rate limit of new user keys, LIMIT/DURATION such as 100/1m; empty: none\n"+
			"The output also shows leak_secret_set (see latchkey admin apps leak-secret).", "APP")
	fs.Var(&c.Set, "set", "KEY=VALUE to change; may be repeated")
	c.jsonFlag.register(fs, "print JSON")
	return c.run(fs, args, func(a *client.Admin, pos []string) error {
		upd, err := parseSettings(c.Set)
		if err != nil {
			return err
		}
		var s client.AppSettings
		if len(c.Set) > 0 {
			s, err = a.UpdateAppSettings(ctx, pos[0], upd)
		} else {
			s, err = a.AppSettings(ctx, pos[0])
		}
		if err != nil {
			return err
		}
		return printOne(c.Stdout, s, c.JSON, printSettings)
	})
}

// printSettings prints an app's settings as name/value lines, named as --set names them.
func printSettings(w io.Writer, s client.AppSettings) {
	origins := strings.Join(s.AllowedOrigins, ",")
	if origins == "" {
		origins = "(any origin)"
	}
	maxKey := "0 (no maximum)"
	if s.MaxKeyLifetimeSeconds > 0 {
		maxKey = fmt.Sprintf("%d (%s)", s.MaxKeyLifetimeSeconds, latchkey.FormatDuration(s.MaxKeyLifetime()))
	}
	scopes := strings.Join(s.Scopes, ",")
	if scopes == "" {
		scopes = "(none)"
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "name\t%s\nauto_confirm\t%t\nanon_user_enabled\t%t\nlocal_userpass_enabled\t%t\napi_key_enabled\t%t\n",
		s.Name, s.AutoConfirm, s.AnonUserEnabled, s.LocalUserpassEnabled, s.APIKeyEnabled)
	fmt.Fprintf(tw, "password_min_length\t%d\nrefresh_token_lifetime_seconds\t%d (%s)\nallowed_origins\t%s\n",
		s.PasswordMinLength, s.RefreshTokenLifetimeSeconds, latchkey.FormatDuration(s.RefreshTokenLifetime()), origins)
	fmt.Fprintf(tw, "hide_account_existence\t%t\n", s.HideAccountExistence)
	fmt.Fprintf(tw, "key_prefix\t%s\nmax_key_lifetime_seconds\t%s\nscopes\t%s\nleak_secret_set\t%t\n",
		s.KeyPrefix, maxKey, scopes, s.LeakSecretSet)
	keyRateLimit := "(none)"
	if s.KeyRateLimit != nil {
		keyRateLimit = formatRateLimit(s.KeyRateLimit)
	}
	fmt.Fprintf(tw, "key_ratelimit\t%s\n", keyRateLimit)
	tw.Flush()
}

// commaList splits a comma-separated --set value, dropping blanks: "" is the empty list.
func commaList(value string) []string {
	items := []string{}
	for _, item := range strings.Split(value, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}

// parseSettings reads --set KEY=VALUE pairs into an update.
func parseSettings(sets []string) (client.AppSettingsUpdate, error) {
	var upd client.AppSettingsUpdate
	for _, kv := range sets {
		key, value, ok := strings.Cut(kv, "=")
		if !ok {
			return upd, fmt.Errorf("--set %q: want KEY=VALUE", kv)
		}
		bad := func(want string) error { return fmt.Errorf("--set %s: %q is not %s", key, value, want) }
		boolean := func(dst **bool) error {
			b, err := strconv.ParseBool(value)
			if err != nil {
				return bad("true or false")
			}
			*dst = &b
			return nil
		}
		seconds := func(dst **int64) error {
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				return bad("a whole number of seconds")
			}
			*dst = &n
			return nil
		}
		list := func(dst **[]string) {
			items := commaList(value)
			*dst = &items
		}
		var err error
		switch key {
		case "name":
			upd.Name = &value
		case "auto_confirm":
			err = boolean(&upd.AutoConfirm)
		case "anon_user_enabled":
			err = boolean(&upd.AnonUserEnabled)
		case "local_userpass_enabled":
			err = boolean(&upd.LocalUserpassEnabled)
		case "api_key_enabled":
			err = boolean(&upd.APIKeyEnabled)
		case "password_min_length":
			n, perr := strconv.Atoi(value)
			if perr != nil {
				return upd, bad("a whole number")
			}
			upd.PasswordMinLength = &n
		case "refresh_token_lifetime_seconds":
			err = seconds(&upd.RefreshTokenLifetimeSeconds)
		case "allowed_origins":
			list(&upd.AllowedOrigins)
		case "hide_account_existence":
			err = boolean(&upd.HideAccountExistence)
		case "key_prefix":
			upd.KeyPrefix = &value
		case "max_key_lifetime_seconds":
			err = seconds(&upd.MaxKeyLifetimeSeconds)
		case "scopes":
			list(&upd.Scopes)
		case "key_ratelimit":
			if value == "" || value == none {
				upd.KeyRateLimit, upd.RemoveKeyRateLimit = nil, true
				break
			}
			l, perr := parseRateLimit(value)
			if perr != nil {
				return upd, bad("LIMIT/DURATION such as 100/1m, or empty")
			}
			upd.KeyRateLimit, upd.RemoveKeyRateLimit = l, false
		default:
			return upd, fmt.Errorf("--set: unknown setting %q; the settings are %s", key, strings.Join(settingNames, ", "))
		}
		if err != nil {
			return upd, err
		}
	}
	return upd, nil
}
