package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/latchkey/latchkey/client"
)

func adminSigningKeysList(io userIO) Command {
	var asJSON bool
	c := &adminCommand{userIO: io, name: "signing-keys list", synopsis: "signing-keys list [--json]",
		about: "Lists the token signing keys that sign (current) or still verify (retired), newest\n" +
			"first. The keys themselves never leave the server."}
	c.flags = func(fs *flag.FlagSet) { fs.BoolVar(&asJSON, "json", false, "print a JSON array") }
	c.run = func(ctx context.Context, a *client.Admin, _ []string) error {
		keys, err := a.SigningKeys(ctx)
		if err != nil {
			return err
		}
		return printSigningKeys(c.userIO, keys, asJSON)
	}
	return c
}

func adminSigningKeysRotate(io userIO) Command {
	var asJSON bool
	c := &adminCommand{userIO: io, name: "signing-keys rotate", synopsis: "signing-keys rotate [--json]",
		about: "Makes new signing keys for access tokens (ES256) and refresh tokens (HS256). They sign\n" +
			"at once, and on every node within seconds. The old access-token key stays in the JWKS\n" +
			"and verifies until the tokens it signed have expired (31 minutes); the old refresh-token\n" +
			"key verifies until its refresh tokens have expired (at most 180 days). Nobody is\n" +
			"logged out."}
	c.flags = func(fs *flag.FlagSet) { fs.BoolVar(&asJSON, "json", false, "print a JSON array") }
	c.run = func(ctx context.Context, a *client.Admin, _ []string) error {
		keys, err := a.RotateSigningKeys(ctx)
		if err != nil {
			return err
		}
		return printSigningKeys(c.userIO, keys, asJSON)
	}
	return c
}

func printSigningKeys(io userIO, keys []client.SigningKey, asJSON bool) error {
	if asJSON {
		return printJSON(io.Stdout, keys)
	}
	tw := tabwriter.NewWriter(io.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tALGORITHM\tSTATE\tCREATED\tVERIFIES UNTIL")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, k.State, formatTime(&k.CreatedAt, "-"), formatTime(k.VerifiesUntil, "-"))
	}
	return tw.Flush()
}
