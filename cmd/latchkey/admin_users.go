package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/latchkey/latchkey/client"
)

// usersPageSize is the server's page size when --limit is left out.
const usersPageSize = 100

func adminUsersList(io userIO) Command {
	var app, after string
	var filter client.UserFilter
	var disabled optionalBool
	var asJSON bool
	c := &adminCommand{userIO: io, name: "users list",
		synopsis: "users list --app APP [--email E] [--provider P] [--type T] [--disabled[=false]] [--limit N] [--after ID] [--json]",
		about: "Lists an app's users in creation order, a page at a time (100 unless --limit says\n" +
			"otherwise, at most 1000): the next page is --after the last id.",
		required: map[string]*string{"app": &app}}
	c.flags = func(fs *flag.FlagSet) {
		appFlag(fs, &app)
		fs.StringVar(&filter.Email, "email", "", "only the user with this email")
		fs.StringVar(&filter.Provider, "provider", "", "only users with an identity of this provider: local-userpass, anon-user, api-key")
		fs.StringVar(&filter.Type, "type", "", "only users of this type: normal or server")
		fs.Var(&disabled, "disabled", "only disabled users; --disabled=false: only enabled ones")
		fs.IntVar(&filter.Limit, "limit", 0, "page size, 1 to 1000 (default 100)")
		fs.StringVar(&after, "after", "", "the page after the user with this id")
		fs.BoolVar(&asJSON, "json", false, "print a JSON array")
	}
	c.run = func(ctx context.Context, a *client.Admin, _ []string) error {
		if err := checkLimit(filter.Limit); err != nil {
			return err
		}
		filter.Disabled, filter.After = disabled.v, after
		users, err := a.Users(app).Find(ctx, filter)
		if err != nil {
			return err
		}
		page := filter.Limit
		if page <= 0 {
			page = usersPageSize
		}
		if len(users) > 0 && len(users) == page {
			fmt.Fprintf(c.Stderr, "There may be more users: add --after %s for the next page.\n", users[len(users)-1].ID)
		}
		if asJSON {
			return printJSON(c.Stdout, users)
		}
		if len(users) == 0 {
			fmt.Fprintln(c.Stdout, "No users.")
			return nil
		}
		tw := tabwriter.NewWriter(c.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEMAIL\tTYPE\tPROVIDERS\tDISABLED\tCREATED")
		for _, u := range users {
			created := u.CreatedAt()
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.ID, orDash(u.Email()), u.Type, providers(u), yesNo(u.Disabled), formatTime(&created, "-"))
		}
		return tw.Flush()
	}
	return c
}

func adminUsersGet(io userIO) Command {
	var app string
	var asJSON bool
	c := &adminCommand{userIO: io, name: "users get", synopsis: "users get USER --app APP [--json]",
		about: "Shows one user: identities, number of API keys and of live sessions.",
		args:  []string{"USER"}, required: map[string]*string{"app": &app}}
	c.flags = func(fs *flag.FlagSet) {
		appFlag(fs, &app)
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	}
	c.run = func(ctx context.Context, a *client.Admin, args []string) error {
		u, err := a.Users(app).Fetch(ctx, args[0])
		if err != nil {
			return err
		}
		return printOne(c.Stdout, u, asJSON, printUser)
	}
	return c
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

func adminUsersAction(io userIO, verb string) Command {
	var app string
	action := userActions[verb]
	c := &adminCommand{userIO: io, name: "users " + verb, synopsis: "users " + verb + " USER --app APP",
		about: action.about, args: []string{"USER"}, required: map[string]*string{"app": &app}}
	c.flags = func(fs *flag.FlagSet) { appFlag(fs, &app) }
	c.run = func(ctx context.Context, a *client.Admin, args []string) error {
		if err := action.call(a.Users(app), ctx, args[0]); err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "%s user %s.\n", action.done, args[0])
		return nil
	}
	return c
}

func adminUsersDelete(io userIO) Command {
	var app string
	var yes bool
	c := &adminCommand{userIO: io, name: "users delete", synopsis: "users delete USER --app APP [--yes]",
		about: "Deletes a user with its identities, API keys and sessions. Asks first on a terminal;\n" +
			"from a script (no terminal), --yes is required.",
		args: []string{"USER"}, required: map[string]*string{"app": &app}}
	c.flags = func(fs *flag.FlagSet) {
		appFlag(fs, &app)
		fs.BoolVar(&yes, "yes", false, "delete without asking")
	}
	c.run = func(ctx context.Context, a *client.Admin, args []string) error {
		if err := c.canConfirm(yes); err != nil {
			return err
		}
		users := a.Users(app)
		if !yes {
			u, err := users.Fetch(ctx, args[0])
			if err != nil {
				return err
			}
			who := u.ID
			if u.Email() != "" {
				who = orDash(u.Email()) + " (" + u.ID + ")"
			}
			if err := c.confirmDelete(yes, fmt.Sprintf("Delete user %s with its keys and sessions? This cannot be undone.", who)); err != nil {
				return err
			}
		}
		if err := users.Delete(ctx, args[0]); err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "Deleted user %s.\n", args[0])
		return nil
	}
	return c
}
