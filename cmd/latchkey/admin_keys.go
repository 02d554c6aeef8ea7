package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/latchkey/latchkey/client"
)

// This file holds the server-keys and user-keys commands.

// appFlag registers the --app flag that every per-app command requires.
func appFlag(fs *flag.FlagSet, app *string) {
	fs.StringVar(app, "app", "", "the app: its client app id or its id (required)")
}

func adminServerKeysList(io userIO) Command {
	var app string
	var asJSON bool
	c := &adminCommand{userIO: io, name: "server-keys list", synopsis: "server-keys list --app APP [--json]",
		about: "Lists an app's server API keys, oldest first, without their values.", required: map[string]*string{"app": &app}}
	c.flags = func(fs *flag.FlagSet) {
		appFlag(fs, &app)
		fs.BoolVar(&asJSON, "json", false, "print a JSON array")
	}
	c.run = func(ctx context.Context, a *client.Admin, _ []string) error {
		keys, err := a.ServerAPIKeys(app).FetchAll(ctx)
		if err != nil {
			return err
		}
		if asJSON {
			return printJSON(c.Stdout, keys)
		}
		return printKeys(c.Stdout, keys)
	}
	return c
}

func adminServerKeysCreate(io userIO) Command {
	var app string
	var asJSON bool
	c := &adminCommand{userIO: io, name: "server-keys create", synopsis: "server-keys create NAME --app APP [--json]",
		about: "Creates a server API key and prints it with its value, which is shown only this once.\n" +
			"Logging in with it (api-key provider) gives a user of type \"server\". At most 100 per app.\n" +
			"NAME: ASCII letters, digits, '_' and '-', at most 64 characters, unique per app.",
		args: []string{"NAME"}, required: map[string]*string{"app": &app}}
	c.flags = func(fs *flag.FlagSet) {
		appFlag(fs, &app)
		fs.BoolVar(&asJSON, "json", false, "print the key as JSON, value included")
	}
	c.run = func(ctx context.Context, a *client.Admin, args []string) error {
		k, err := a.ServerAPIKeys(app).Create(ctx, args[0])
		if err != nil {
			return err
		}
		err = printNewKey(c.Stdout, k, asJSON)
		fmt.Fprintln(c.Stderr, keyWarning)
		return err
	}
	return c
}

func adminServerKeysGet(io userIO) Command {
	var app string
	var asJSON bool
	c := &adminCommand{userIO: io, name: "server-keys get", synopsis: "server-keys get KEY --app APP [--json]",
		about: "Shows one server API key, without its value.", args: []string{"KEY"}, required: map[string]*string{"app": &app}}
	c.flags = func(fs *flag.FlagSet) {
		appFlag(fs, &app)
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	}
	c.run = func(ctx context.Context, a *client.Admin, args []string) error {
		k, err := a.ServerAPIKeys(app).Fetch(ctx, args[0])
		if err != nil {
			return err
		}
		return printOne(c.Stdout, k, asJSON, printKey)
	}
	return c
}

func adminServerKeysToggle(io userIO, disable bool) Command {
	var app string
	verb, about := "enable", "Enables a server API key, so that it logs in again."
	if disable {
		verb, about = "disable", "Disables a server API key: it stops logging in, and its sessions end."
	}
	c := &adminCommand{userIO: io, name: "server-keys " + verb, synopsis: "server-keys " + verb + " KEY --app APP",
		about: about, args: []string{"KEY"}, required: map[string]*string{"app": &app}}
	c.flags = func(fs *flag.FlagSet) { appFlag(fs, &app) }
	c.run = func(ctx context.Context, a *client.Admin, args []string) error {
		keys := a.ServerAPIKeys(app)
		var err error
		if disable {
			err = keys.Disable(ctx, args[0])
		} else {
			err = keys.Enable(ctx, args[0])
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "%sd server API key %s.\n", capitalize(verb), args[0])
		return nil
	}
	return c
}

func adminServerKeysDelete(io userIO) Command {
	var app string
	var yes bool
	c := &adminCommand{userIO: io, name: "server-keys delete", synopsis: "server-keys delete KEY --app APP [--yes]",
		about: "Deletes a server API key; its sessions end. Asks first on a terminal; from a script\n" +
			"(no terminal), --yes is required.", args: []string{"KEY"}, required: map[string]*string{"app": &app}}
	c.flags = func(fs *flag.FlagSet) {
		appFlag(fs, &app)
		fs.BoolVar(&yes, "yes", false, "delete without asking")
	}
	c.run = func(ctx context.Context, a *client.Admin, args []string) error {
		if err := c.canConfirm(yes); err != nil {
			return err
		}
		keys := a.ServerAPIKeys(app)
		if !yes {
			k, err := keys.Fetch(ctx, args[0])
			if err != nil {
				return err
			}
			if err := c.confirmDelete(yes, fmt.Sprintf("Delete server API key %s (%s)? This cannot be undone.", k.Name, k.ID)); err != nil {
				return err
			}
		}
		if err := keys.Delete(ctx, args[0]); err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "Deleted server API key %s.\n", args[0])
		return nil
	}
	return c
}

// userKeyFlags registers --app and --user, both required.
func userKeyFlags(c *adminCommand, app, user *string) {
	c.required = map[string]*string{"app": app, "user": user}
	flags := c.flags
	c.flags = func(fs *flag.FlagSet) {
		appFlag(fs, app)
		fs.StringVar(user, "user", "", "the id of the user whose keys these are (required)")
		if flags != nil {
			flags(fs)
		}
	}
}

func adminUserKeysList(io userIO) Command {
	var app, user string
	var asJSON bool
	c := &adminCommand{userIO: io, name: "user-keys list", synopsis: "user-keys list --app APP --user USER [--json]",
		about: "Lists a user's API keys, oldest first: metadata only, never values."}
	c.flags = func(fs *flag.FlagSet) { fs.BoolVar(&asJSON, "json", false, "print a JSON array") }
	userKeyFlags(c, &app, &user)
	c.run = func(ctx context.Context, a *client.Admin, _ []string) error {
		keys, err := a.Users(app).APIKeys(ctx, user)
		if err != nil {
			return err
		}
		if asJSON {
			return printJSON(c.Stdout, keys)
		}
		return printKeys(c.Stdout, keys)
	}
	return c
}

func adminUserKeysToggle(io userIO, disable bool) Command {
	var app, user string
	verb, about := "enable", "Enables a user's API key, so that it logs in again."
	if disable {
		verb, about = "disable", "Disables a user's API key: it stops logging in, and its sessions end."
	}
	c := &adminCommand{userIO: io, name: "user-keys " + verb, synopsis: "user-keys " + verb + " KEY --app APP --user USER",
		about: about, args: []string{"KEY"}}
	userKeyFlags(c, &app, &user)
	c.run = func(ctx context.Context, a *client.Admin, args []string) error {
		var err error
		if disable {
			err = a.Users(app).DisableAPIKey(ctx, user, args[0])
		} else {
			err = a.Users(app).EnableAPIKey(ctx, user, args[0])
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "%sd API key %s of user %s.\n", capitalize(verb), args[0], user)
		return nil
	}
	return c
}

func adminUserKeysDelete(io userIO) Command {
	var app, user string
	var yes bool
	c := &adminCommand{userIO: io, name: "user-keys delete", synopsis: "user-keys delete KEY --app APP --user USER [--yes]",
		about: "Deletes a user's API key; its sessions end. Asks first on a terminal; from a script\n" +
			"(no terminal), --yes is required.", args: []string{"KEY"}}
	c.flags = func(fs *flag.FlagSet) { fs.BoolVar(&yes, "yes", false, "delete without asking") }
	userKeyFlags(c, &app, &user)
	c.run = func(ctx context.Context, a *client.Admin, args []string) error {
		if err := c.canConfirm(yes); err != nil {
			return err
		}
		if !yes {
			// There is no endpoint for one user key: find it in the list to name it.
			keys, err := a.Users(app).APIKeys(ctx, user)
			if err != nil {
				return err
			}
			name := ""
			for _, k := range keys {
				if k.ID == args[0] {
					name = k.Name
				}
			}
			if name == "" {
				return fmt.Errorf("user %s has no API key %s", user, args[0])
			}
			if err := c.confirmDelete(yes, fmt.Sprintf("Delete API key %s (%s) of user %s? This cannot be undone.", name, args[0], user)); err != nil {
				return err
			}
		}
		if err := a.Users(app).DeleteAPIKey(ctx, user, args[0]); err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "Deleted API key %s of user %s.\n", args[0], user)
		return nil
	}
	return c
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
