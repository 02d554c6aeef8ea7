package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/latchkey/latchkey/client"
)

// This file holds the server-keys and user-keys commands.

// AdminServerKeysListCommand lists an app's server API keys.
type AdminServerKeysListCommand struct {
	adminSession
	appFlag
	jsonFlag
}

// Run lists the keys, oldest first, without their values.
func (c *AdminServerKeysListCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("server-keys list", "server-keys list --app APP [--json]",
		"Lists an app's server API keys, oldest first, without their values.")
	c.appFlag.register(&c.adminSession, fs)
	c.jsonFlag.register(fs, "print a JSON array")
	return c.run(fs, args, func(a *client.Admin, _ []string) error {
		keys, err := a.ServerAPIKeys(c.App).FetchAll(ctx)
		if err != nil {
			return err
		}
		return printKeys(c.Stdout, keys, c.JSON)
	})
}

// AdminServerKeysCreateCommand creates a server API key and prints its value.
type AdminServerKeysCreateCommand struct {
	adminSession
	appFlag
	jsonFlag
}

// Run creates the key.
func (c *AdminServerKeysCreateCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("server-keys create", "server-keys create NAME --app APP [--json]",
		"Creates a server API key and prints it with its value, which is shown only this once.\n"+
			"Logging in with it (api-key provider) gives a user of type \"server\". At most 100 per app.\n"+
			"NAME: ASCII letters, digits, '_' and '-', at most 64 characters, unique per app.", "NAME")
	c.appFlag.register(&c.adminSession, fs)
	c.jsonFlag.register(fs, "print the key as JSON, value included")
	return c.run(fs, args, func(a *client.Admin, pos []string) error {
		k, err := a.ServerAPIKeys(c.App).Create(ctx, pos[0])
		if err != nil {
			return err
		}
		err = printNewKey(c.Stdout, k, c.JSON)
		fmt.Fprintln(c.Stderr, keyWarning)
		return err
	})
}

// AdminServerKeysGetCommand shows one server API key.
type AdminServerKeysGetCommand struct {
	adminSession
	appFlag
	jsonFlag
}

// Run fetches the key.
func (c *AdminServerKeysGetCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("server-keys get", "server-keys get KEY --app APP [--json]",
		"Shows one server API key, without its value.", "KEY")
	c.appFlag.register(&c.adminSession, fs)
	c.jsonFlag.register(fs, "print JSON")
	return c.run(fs, args, func(a *client.Admin, pos []string) error {
		k, err := a.ServerAPIKeys(c.App).Fetch(ctx, pos[0])
		if err != nil {
			return err
		}
		return printOne(c.Stdout, k, c.JSON, printKey)
	})
}

// AdminServerKeysToggleCommand disables or enables a server API key.
type AdminServerKeysToggleCommand struct {
	adminSession
	toggle
	appFlag
}

// Run disables or enables the key.
func (c *AdminServerKeysToggleCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("server-keys "+c.verb(), "server-keys "+c.verb()+" KEY --app APP",
		pick(c.toggle, "Enables a server API key, so that it logs in again.",
			"Disables a server API key: it stops logging in, and its sessions end."), "KEY")
	c.appFlag.register(&c.adminSession, fs)
	return c.run(fs, args, func(a *client.Admin, pos []string) error {
		keys := a.ServerAPIKeys(c.App)
		if err := pick(c.toggle, keys.Enable, keys.Disable)(ctx, pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "%sd server API key %s.\n", capitalize(c.verb()), pos[0])
		return nil
	})
}

// AdminServerKeysDeleteCommand deletes a server API key, after asking.
type AdminServerKeysDeleteCommand struct {
	adminSession
	appFlag
	yesFlag
}

// Run asks on a terminal, refuses without one unless --yes, and deletes.
func (c *AdminServerKeysDeleteCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("server-keys delete", "server-keys delete KEY --app APP [--yes]",
		"Deletes a server API key; its sessions end. Asks first on a terminal; from a script\n"+
			"(no terminal), --yes is required.", "KEY")
	c.appFlag.register(&c.adminSession, fs)
	c.yesFlag.register(fs)
	return c.run(fs, args, func(a *client.Admin, pos []string) error {
		if err := c.canConfirm(c.Yes); err != nil {
			return err
		}
		keys := a.ServerAPIKeys(c.App)
		question := func() (string, error) {
			k, err := keys.Fetch(ctx, pos[0])
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("Delete server API key %s (%s)? This cannot be undone.", k.Name, k.ID), nil
		}
		del := func() error { return keys.Delete(ctx, pos[0]) }
		return c.deleteAfterAsking(c.Yes, question, del, "Deleted server API key "+pos[0]+".")
	})
}

// userKeyFlags are the --app and --user of the user-keys commands, both required.
type userKeyFlags struct {
	appFlag
	User string
}

func (f *userKeyFlags) register(s *adminSession, fs *flag.FlagSet) {
	f.appFlag.register(s, fs)
	s.require(fs, &f.User, "user", "the id of the user whose keys these are (required)")
}

// AdminUserKeysListCommand lists a user's API keys.
type AdminUserKeysListCommand struct {
	adminSession
	userKeyFlags
	jsonFlag
}

// Run lists the keys, oldest first, without their values.
func (c *AdminUserKeysListCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("user-keys list", "user-keys list --app APP --user USER [--json]",
		"Lists a user's API keys, oldest first: metadata only, never values.")
	c.jsonFlag.register(fs, "print a JSON array")
	c.userKeyFlags.register(&c.adminSession, fs)
	return c.run(fs, args, func(a *client.Admin, _ []string) error {
		keys, err := a.Users(c.App).APIKeys(ctx, c.User)
		if err != nil {
			return err
		}
		return printKeys(c.Stdout, keys, c.JSON)
	})
}

// AdminUserKeysToggleCommand disables or enables a user's API key.
type AdminUserKeysToggleCommand struct {
	adminSession
	userKeyFlags
	toggle
}

// Run disables or enables the key.
func (c *AdminUserKeysToggleCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("user-keys "+c.verb(), "user-keys "+c.verb()+" KEY --app APP --user USER",
		pick(c.toggle, "Enables a user's API key, so that it logs in again.",
			"Disables a user's API key: it stops logging in, and its sessions end."), "KEY")
	c.userKeyFlags.register(&c.adminSession, fs)
	return c.run(fs, args, func(a *client.Admin, pos []string) error {
		users := a.Users(c.App)
		if err := pick(c.toggle, users.EnableAPIKey, users.DisableAPIKey)(ctx, c.User, pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "%sd API key %s of user %s.\n", capitalize(c.verb()), pos[0], c.User)
		return nil
	})
}

// AdminUserKeysDeleteCommand deletes a user's API key, after asking.
type AdminUserKeysDeleteCommand struct {
	adminSession
	userKeyFlags
	yesFlag
}

// Run asks on a terminal, refuses without one unless --yes, and deletes.
func (c *AdminUserKeysDeleteCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("user-keys delete", "user-keys delete KEY --app APP --user USER [--yes]",
		"Deletes a user's API key; its sessions end. Asks first on a terminal; from a script\n"+
			"(no terminal), --yes is required.", "KEY")
	c.yesFlag.register(fs)
	c.userKeyFlags.register(&c.adminSession, fs)
	return c.run(fs, args, func(a *client.Admin, pos []string) error {
		if err := c.canConfirm(c.Yes); err != nil {
			return err
		}
		users, id := a.Users(c.App), pos[0]
		question := func() (string, error) {
			// There is no endpoint for one user key: find it in the list to name it.
			keys, err := users.APIKeys(ctx, c.User)
			if err != nil {
				return "", err
			}
			name := ""
			for _, k := range keys {
				if k.ID == id {
					name = k.Name
				}
			}
			if name == "" {
				return "", fmt.Errorf("user %s has no API key %s", c.User, id)
			}
			return fmt.Sprintf("Delete API key %s (%s) of user %s? This cannot be undone.", name, id, c.User), nil
		}
		del := func() error { return users.DeleteAPIKey(ctx, c.User, id) }
		return c.deleteAfterAsking(c.Yes, question, del, "Deleted API key "+id+" of user "+c.User+".")
	})
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
