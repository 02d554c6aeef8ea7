package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
)

// This file holds the leak response commands: apps leak-secret and leak-report.

// leakSecretWarning is printed with every new leak-report secret.
const leakSecretWarning = "Store this secret now, where your secret scanner or its relay can read it: it is shown only once.\n" +
	"Any earlier secret of the app no longer works."

// AdminAppsLeakSecretCommand makes an app's leak-report secret and prints it.
type AdminAppsLeakSecretCommand struct {
	adminSession
	jsonFlag
}

// Run rotates the secret.
func (c *AdminAppsLeakSecretCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("apps leak-secret", "apps leak-secret APP [--json]",
		"Makes a new leak-report secret for an app and prints it, this once only; any earlier\n"+
			"secret stops working at once. With it a secret scanner, or latchkey admin leak-report,\n"+
			"reports key values found in public, and the server disables those keys.", "APP")
	c.jsonFlag.register(fs, `print {"secret": ...}`)
	return c.run(fs, args, func(a *client.Admin, pos []string) error {
		secret, err := a.RotateLeakSecret(ctx, pos[0])
		if err != nil {
			return err
		}
		if c.JSON {
			err = printJSON(c.Stdout, struct {
				Secret string `json:"secret"`
			}{secret})
		} else {
			_, err = fmt.Fprintln(c.Stdout, secret)
		}
		fmt.Fprintln(c.Stderr, leakSecretWarning)
		return err
	})
}

// AdminLeakReportCommand reports key values found in public with an app's leak-report
// secret, as a secret scanner does, rather than with the admin session.
type AdminLeakReportCommand struct {
	adminSession
	URL string
	appFlag
	jsonFlag
}

// Run reads the secret and the values, reports them and prints each value's label.
func (c *AdminLeakReportCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("leak-report", "leak-report --app APP [--url URL] [--json] [VALUE ...]",
		"Reports API key values found in public, as a secret scanner does: the server disables each\n"+
			"value that is a key of the app, ends its sessions at once, and labels every value\n"+
			"true_positive or false_positive. It authenticates with the app's leak-report secret (see\n"+
			"latchkey admin apps leak-secret), not the admin session. The secret is asked for on a\n"+
			"terminal, or read from the first line of standard input; the values are the arguments,\n"+
			"or else the following lines of standard input, one a line:\n\n"+
			"  (echo \"$LEAK_SECRET\"; cat found.txt) | latchkey admin leak-report --app shop", "VALUE...")
	fs.StringVar(&c.URL, "url", "", "base URL of the server; default the latest admin login's (LATCHKEY_URL)")
	c.require(fs, &c.App, "app", "the app's client app id (required)")
	c.jsonFlag.register(fs, "print the server's answer as JSON, values included")
	values, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if err := c.latestURL(&c.URL, "--url is required (there is no admin login to take it from)"); err != nil {
		return err
	}
	secret, err := c.readSecret("Leak secret: ")
	if err != nil {
		return err
	}
	if len(values) == 0 {
		if values, err = c.readValues(); err != nil {
			return err
		}
	}
	if len(values) == 0 {
		return errors.New("no values to report: give them as arguments or on standard input")
	}
	results, err := client.ReportLeakedKeys(ctx, c.URL, c.App, secret, values, client.WithHTTPClient(cliHTTPClient()))
	if err != nil {
		return err
	}
	if c.JSON {
		if err := printJSON(c.Stdout, results); err != nil {
			return err
		}
	} else {
		// The start of each value is enough to tell them apart, and keeps whole keys out of
		// terminals and logs.
		tw := tabwriter.NewWriter(c.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "#\tLABEL\tSTART")
		for i, r := range results {
			fmt.Fprintf(tw, "%d\t%s\t%s\n", i+1, r.Label, orDash(latchkey.KeyStart(r.Token)))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	found := 0
	for _, r := range results {
		if r.Found() {
			found++
		}
	}
	fmt.Fprintf(c.Stderr, "%d of %d values are keys of app %s: they are disabled now, and their sessions ended.\n", found, len(results), c.App)
	return nil
}

// readValues reads the values to report, one a line, until the end of standard input.
func (c *AdminLeakReportCommand) readValues() ([]string, error) {
	if isTerminal(c.Stdin) {
		fmt.Fprintln(c.Stderr, "Values, one a line; end with Ctrl-D:")
	}
	var values []string
	lines := bufio.NewScanner(c.Stdin)
	lines.Buffer(make([]byte, 0, 4096), 1<<20)
	for lines.Scan() {
		if v := strings.TrimSpace(lines.Text()); v != "" {
			values = append(values, v)
		}
	}
	if err := lines.Err(); err != nil {
		return nil, fmt.Errorf("read values from standard input: %w", err)
	}
	return values, nil
}
