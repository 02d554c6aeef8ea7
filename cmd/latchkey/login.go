package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/latchkey/latchkey/client"
)

// serverFlags are the --url and --app of register and login. Left out, they are the latest
// login's.
type serverFlags struct {
	URL string
	App string
}

func (s *serverFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.URL, "url", "", "base URL of the server, e.g. http://127.0.0.1:9090; default the latest login's (LATCHKEY_URL)")
	fs.StringVar(&s.App, "app", "", "client app id, e.g. latchkey-qmzvx; default the latest login's (LATCHKEY_APP)")
}

// resolve returns the config directory and the server and app: the flags, and for those
// left out the latest login's.
func (s *serverFlags) resolve(c configDir) (string, target, error) {
	var saved target
	dir, err := c.load(configFile, &saved)
	if err != nil {
		return "", target{}, err
	}
	t := target{URL: s.URL, App: s.App}
	if t.URL == "" {
		t.URL = saved.URL
	}
	if t.App == "" {
		t.App = saved.App
	}
	if t.URL == "" || t.App == "" {
		return "", t, errors.New("--url and --app are required (there is no earlier login to take them from)")
	}
	return dir, t, nil
}

// RegisterCommand registers an email/password user.
type RegisterCommand struct {
	userSession
	Server serverFlags
	Email  string
}

// Run registers the user; the password comes from the terminal or stdin.
func (c *RegisterCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("register", "register --url URL --app APP_ID --email EMAIL",
		"Registers an email/password user. The password is asked for on a terminal, or read\nfrom the first line of standard input.")
	c.Server.register(fs)
	fs.StringVar(&c.Email, "email", "", "email address of the new user (LATCHKEY_EMAIL)")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	if c.Email == "" {
		return errors.New("--email is required")
	}
	dir, t, err := c.Server.resolve(c.Config)
	if err != nil {
		return err
	}
	password, err := c.readSecret("Password: ")
	if err != nil {
		return err
	}
	app, err := openApp(dir, t)
	if err != nil {
		return err
	}
	if err := app.EmailPasswordAuth().RegisterUser(ctx, c.Email, password); err != nil {
		return err
	}
	if err := saveConfigFile(dir, configFile, t); err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "Registered %s with %s (app %s).\n", c.Email, t.URL, t.App)
	return nil
}

// LoginCommand logs in with an email and password, or with an API key.
type LoginCommand struct {
	userSession
	Server serverFlags
	Email  string
	APIKey bool
}

// Run logs in and saves the session in the credentials file.
func (c *LoginCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("login", "login --url URL --app APP_ID (--email EMAIL | --api-key)",
		"Logs in and keeps the session in <config dir>/credentials.json (mode 0600). The password,\n"+
			"or the key with --api-key, is asked for on a terminal, or read from the first line of\n"+
			"standard input. A session opened with an API key cannot manage API keys.")
	c.Server.register(fs)
	fs.StringVar(&c.Email, "email", "", "log in with this email and a password (LATCHKEY_EMAIL)")
	fs.BoolVar(&c.APIKey, "api-key", false, "log in with a user API key instead")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	if (c.Email == "") == !c.APIKey {
		return errors.New("give --email EMAIL or --api-key (one of them)")
	}
	dir, t, err := c.Server.resolve(c.Config)
	if err != nil {
		return err
	}
	var creds client.Credentials
	if c.APIKey {
		key, err := c.readSecret("API key: ")
		if err != nil {
			return err
		}
		creds = client.APIKeyCredentials(key)
	} else {
		password, err := c.readSecret("Password: ")
		if err != nil {
			return err
		}
		creds = client.EmailPasswordCredentials(c.Email, password)
	}
	app, err := openApp(dir, t)
	if err != nil {
		return err
	}
	u, err := app.LogIn(ctx, creds)
	if err != nil {
		return err
	}
	if err := saveConfigFile(dir, configFile, t); err != nil {
		return err
	}
	who := c.Email
	if c.APIKey {
		who = "the owner of the API key"
	}
	fmt.Fprintf(c.Stdout, "Logged in to %s (app %s) as %s, user %s.\n", t.URL, t.App, who, u.ID())
	if c.APIKey {
		fmt.Fprintln(c.Stdout, "This session was opened with an API key: it cannot manage API keys.")
	}
	return nil
}

// LogoutCommand ends the current user's session and forgets it.
type LogoutCommand struct {
	userSession
}

// Run logs the current user out on the server and removes its tokens from the credentials
// file.
func (c *LogoutCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("logout", "logout", "Ends the current session on the server and removes it from the credentials file.")
	u, _, err := c.login(fs, args)
	if errors.Is(err, errNotLoggedIn) {
		fmt.Fprintln(c.Stdout, "Not logged in.")
		return nil
	} else if err != nil {
		return err
	}
	if err := u.App().RemoveUser(ctx, u); err != nil {
		return fmt.Errorf("logged out here, but the server could not be told: %w", err)
	}
	fmt.Fprintln(c.Stdout, "Logged out.")
	return nil
}
