package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/latchkey/latchkey/client"
)

// usersPageSize is the server's page size when --limit is left out.
const usersPageSize = 100

// AdminUsersListCommand lists an app's users, a page at a time.
type AdminUsersListCommand struct {
	adminSession
	appFlag
	Filter   client.UserFilter
	Disabled optionalBool
	jsonFlag
}

// Run lists one page of the users, in creation order.
func (c *AdminUsersListCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("users list",
		"users list --app APP [--email E] [--provider P] [--type T] [--disabled[=false]] [--limit N] [--after ID] [--json]",
		"Lists an app's users in creation order, a page at a time (100 unless --limit says\n"+
			"otherwise, at most 1000): the next page is --after the last id.")
	c.appFlag.register(&c.adminSession, fs)
	fs.StringVar(&c.Filter.Email, "email", "", "only the user with this email")
	fs.StringVar(&c.Filter.Provider, "provider", "", "only users with an identity of this provider: local-userpass, anon-user, api-key")
	fs.StringVar(&c.Filter.Type, "type", "", "only users of this type: normal or server")
	fs.Var(&c.Disabled, "disabled", "only disabled users; --disabled=false: only enabled ones")
	pageFlags(fs, &c.Filter.Limit, &c.Filter.After, "after", "the page after the user with this id")
	c.jsonFlag.register(fs, "print a JSON array")
	return c.run(fs, args, func(a *client.Admin, _ []string) error {
		if err := checkLimit(c.Filter.Limit); err != nil {
			return err
		}
		c.Filter.Disabled = c.Disabled.v
		users, err := a.Users(c.App).Find(ctx, c.Filter)
		if err != nil {
			return err
		}
		notePage(c.Stderr, users, c.Filter.Limit, usersPageSize, "users", "after", func(u client.UserInfo) string { return u.ID })
		return printList(c.Stdout, users, c.JSON, "No users.", []string{"ID", "EMAIL", "TYPE", "PROVIDERS", "DISABLED", "CREATED"},
			func(u client.UserInfo) []string {
				created := u.CreatedAt()
				return []string{u.ID, orDash(u.Email()), u.Type, providers(u), yesNo(u.Disabled), formatTime(&created, "-")}
			})
	})
}

// AdminUsersGetCommand shows one user.
type AdminUsersGetCommand struct {
	adminSession
	appFlag
	jsonFlag
}

// Run fetches the user.
func (c *AdminUsersGetCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("users get", "users get USER --app APP [--json]",
		"Shows one user: identities, number of API keys and of live sessions.", "USER")
	c.appFlag.register(&c.adminSession, fs)
	c.jsonFlag.register(fs, "print JSON")
	return c.run(fs, args, func(a *client.Admin, pos []string) error {
		u, err := a.Users(c.App).Fetch(ctx, pos[0])
		if err != nil {
			return err
		}
		return printOne(c.Stdout, u, c.JSON, printUser)
	})
}

func printUser(w io.Writer, u client.UserInfo) {
	count := func(n *int) string {
		if n == nil {
			return "-"
		}
		return strconv.Itoa(*n)
	}
	created := u.CreatedAt()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "id\t%s\nemail\t%s\ntype\t%s\nconfirmed\t%s\ndisabled\t%s\ncreated\t%s\nproviders\t%s\napi keys\t%s\nlive sessions\t%s\n",
		u.ID, orDash(u.Email()), u.Type, yesNo(u.Confirmed), yesNo(u.Disabled), formatTime(&created, "-"),
		providers(u), count(u.APIKeyCount), count(u.SessionCount))
	tw.Flush()
}

// providers lists the provider types of a user's identities.
func providers(u client.UserInfo) string {
	var names []string
	for _, id := range u.Identities {
		names = append(names, id.ProviderType)
	}
	return orDash(strings.Join(names, ","))
}

// userActions are the users commands that act on one user without asking.
var userActions = map[string]struct {
	about string
	done  string
	call  func(u *client.AppUsers, ctx context.Context, id string) error
}{
	"disable": {"Disables a user: its sessions end at once and its logins are refused until enabled.", "Disabled", (*client.AppUsers).Disable},
	"enable":  {"Enables a disabled user.", "Enabled", (*client.AppUsers).Enable},
	"logout":  {"Ends every session of a user; the user may log in again.", "Logged out", (*client.AppUsers).LogOut},
}

// AdminUsersActionCommand disables, enables or logs out a user: one of userActions, by
// Verb.
type AdminUsersActionCommand struct {
	adminSession
	Verb string
	appFlag
}

// Run does the action.
func (c *AdminUsersActionCommand) Run(ctx context.Context, args []string) error {
	action := userActions[c.Verb]
	fs := c.flagSet("users "+c.Verb, "users "+c.Verb+" USER --app APP", action.about, "USER")
	c.appFlag.register(&c.adminSession, fs)
	return c.run(fs, args, func(a *client.Admin, pos []string) error {
		if err := action.call(a.Users(c.App), ctx, pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "%s user %s.\n", action.done, pos[0])
		return nil
	})
}

// AdminUsersDeleteCommand deletes a user, after asking.
type AdminUsersDeleteCommand struct {
	adminSession
	appFlag
	yesFlag
}

// Run asks on a terminal, refuses without one unless --yes, and deletes.
func (c *AdminUsersDeleteCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("users delete", "users delete USER --app APP [--yes]",
		"Deletes a user with its identities, API keys and sessions. Asks first on a terminal;\n"+
			"from a script (no terminal), --yes is required.", "USER")
	c.appFlag.register(&c.adminSession, fs)
	c.yesFlag.register(fs)
	return c.run(fs, args, func(a *client.Admin, pos []string) error {
		if err := c.canConfirm(c.Yes); err != nil {
			return err
		}
		users := a.Users(c.App)
		question := func() (string, error) {
			u, err := users.Fetch(ctx, pos[0])
			if err != nil {
				return "", err
			}
			who := u.ID
			if u.Email() != "" {
				who = orDash(u.Email()) + " (" + u.ID + ")"
			}
			return fmt.Sprintf("Delete user %s with its keys and sessions? This cannot be undone.", who), nil
		}
		del := func() error { return users.Delete(ctx, pos[0]) }
		return c.deleteAfterAsking(c.Yes, question, del, "Deleted user "+pos[0]+".")
	})
}

// AdminUsersCustomDataCommand shows, replaces or clears a user's custom data.
type AdminUsersCustomDataCommand struct {
	adminSession
	appFlag
	Set   string
	Clear bool
}

// Run prints the custom data, or replaces it with --set (a JSON object, or - for standard
// input) or clears it with --clear.
func (c *AdminUsersCustomDataCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("users custom-data", "users custom-data USER --app APP [--set JSON|- | --clear]",
		"Prints a user's custom data, the JSON object its access tokens carry as user_data\n"+
			"(the Realm SDKs' customData). --set replaces it with a JSON object of at most 16 KiB\n"+
			"(- reads it from standard input); --clear, or --set '{}', removes it. The user's\n"+
			"tokens carry the change from their next login or refresh.", "USER")
	c.appFlag.register(&c.adminSession, fs)
	fs.StringVar(&c.Set, "set", "", "the new custom data: a JSON object, or - to read it from standard input")
	fs.BoolVar(&c.Clear, "clear", false, "remove the custom data")
	return c.run(fs, args, func(a *client.Admin, pos []string) error {
		users, id := a.Users(c.App), pos[0]
		switch {
		case c.Clear && c.Set != "":
			return errors.New("give --set or --clear, not both")
		case c.Clear:
			if err := users.ClearCustomData(ctx, id); err != nil {
				return err
			}
			fmt.Fprintf(c.Stdout, "Cleared the custom data of user %s.\n", id)
			return nil
		case c.Set != "":
			data := []byte(c.Set)
			if c.Set == "-" {
				var err error
				if data, err = io.ReadAll(io.LimitReader(c.Stdin, 1<<20)); err != nil {
					return fmt.Errorf("read standard input: %w", err)
				}
			}
			if !json.Valid(data) {
				return errors.New("--set: not valid JSON")
			}
			if err := users.SetCustomData(ctx, id, data); err != nil {
				return err
			}
			fmt.Fprintf(c.Stdout, "Set the custom data of user %s.\n", id)
			return nil
		}
		data, err := users.CustomData(ctx, id)
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := json.Indent(&b, data, "", "  "); err != nil {
			return fmt.Errorf("custom data: %w", err)
		}
		fmt.Fprintln(c.Stdout, b.String())
		return nil
	})
}
