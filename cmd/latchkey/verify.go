package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/latchkey/latchkey/client"
)

// VerifyCommand checks a user API key as the app's backend would, with a server API key.
type VerifyCommand struct {
	userSession
	URL, App  string
	ServerKey string
	Scopes    listFlag
	Cost      int64
	jsonFlag
}

// verifyEnv says which of verify's flags come from the environment: --url, --app,
// --server-key (LATCHKEY_SERVER_KEY) and --config-dir do; what one check asks does not.
var verifyEnv = map[string]string{"json": "", "scopes": "", "cost": ""}

// Run verifies the key and prints the answer; any answer but VALID is an error (exit 1).
func (c *VerifyCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("verify", "verify KEY [--server-key VALUE] [--scopes a,b] [--cost N] [--url URL] [--app APP] [--json]",
		"Checks a user API key as the app's own backend does: whose key it is, whether it has the\n"+
			"scopes, whether it is over its limits. It calls the server with one of the app's server\n"+
			"API keys (latchkey admin server-keys create), from --server-key or, better, from\n"+
			"LATCHKEY_SERVER_KEY, which no process listing shows. A valid check counts as a use of\n"+
			"the key and takes --cost from its limits. KEY - reads the key from standard input.\n"+
			"Exits 0 for VALID, 1 for any other answer or error.")
	fs.StringVar(&c.URL, "url", "", "base URL of the server; default the latest login's (LATCHKEY_URL)")
	fs.StringVar(&c.App, "app", "", "the app's client app id; default the latest login's (LATCHKEY_APP)")
	fs.StringVar(&c.ServerKey, "server-key", "", "a server API key value of the app (LATCHKEY_SERVER_KEY)")
	fs.Var(&c.Scopes, "scopes", "comma-separated scopes the key must have, e.g. read,write")
	fs.Int64Var(&c.Cost, "cost", 1, "what the check takes from the key's rate limit and remaining uses, 0 to 1000; 0 takes nothing")
	c.jsonFlag.register(fs, "print the answer as JSON")
	pos, err := parseArgsEnv(fs, args, verifyEnv, "KEY")
	if err != nil {
		return err
	}
	if c.URL == "" || c.App == "" {
		var t target
		if _, err := c.Config.load(configFile, &t); err != nil {
			return err
		}
		if c.URL == "" {
			c.URL = t.URL
		}
		if c.App == "" {
			c.App = t.App
		}
		if c.URL == "" || c.App == "" {
			return errors.New("--url and --app are required (there is no earlier login to take them from)")
		}
	}
	if c.ServerKey == "" {
		return errors.New("no server key: set LATCHKEY_SERVER_KEY or give --server-key")
	}
	key := pos[0]
	if key == "-" {
		if key, err = c.readSecret("API key: "); err != nil {
			return err
		}
	}
	v := client.NewVerifier(c.URL, c.App, c.ServerKey, client.WithHTTPClient(cliHTTPClient()))
	res, err := v.Verify(ctx, key, client.VerifyScopes(c.Scopes...), client.VerifyCost(c.Cost))
	if errors.Is(err, client.ErrInvalidSession) {
		return fmt.Errorf("%w: the server refused the server key; is it a live server API key of app %s?", err, c.App)
	} else if err != nil {
		return err
	}
	if err := printOne(c.Stdout, res, c.JSON, printVerifyResult); err != nil {
		return err
	}
	if !res.Valid {
		return fmt.Errorf("the key is not valid: %s", res.Code)
	}
	return nil
}

// printVerifyResult prints a verify answer as name/value lines: the code, then what the
// server told of the key.
func printVerifyResult(w io.Writer, r *client.VerifyResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "code\t%s\nvalid\t%s\n", r.Code, yesNo(r.Valid))
	if r.KeyID != "" {
		fmt.Fprintf(tw, "key\t%s\nname\t%s\nuser\t%s\nscopes\t%s\nexpires\t%s\n",
			r.KeyID, r.Name, r.UserID, formatScopes(r.Scopes), formatTime(r.ExpiresAt, "never"))
		fmt.Fprintf(tw, "remaining\t%s\n", formatRemaining(r.Remaining))
		rate := "-"
		if l := r.RateLimit; l != nil {
			rate = strconv.FormatInt(l.Remaining, 10) + " of " + strconv.FormatInt(l.Limit, 10) + " left until " + formatTime(&l.Reset, "-")
		}
		fmt.Fprintf(tw, "ratelimit\t%s\nmeta\t%s\n", rate, formatMeta(r.Meta))
	}
	tw.Flush()
}
