package main

import (
	"context"
	"io"

	"github.com/latchkey/latchkey/client"
)

// AdminSigningKeysCommand lists the token signing keys or, with Rotate, makes new ones
// first.
type AdminSigningKeysCommand struct {
	adminSession
	Rotate bool
	jsonFlag
}

// Run lists the keys, newest first, after rotating them with Rotate.
func (c *AdminSigningKeysCommand) Run(ctx context.Context, args []string) error {
	verb, about, call := "list", "Lists the token signing keys that sign (current) or still verify (retired), newest\n"+
		"first. The keys themselves never leave the server.", (*client.Admin).SigningKeys
	if c.Rotate {
		verb, call = "rotate", (*client.Admin).RotateSigningKeys
		about = "Makes new signing keys for access tokens (ES256) and refresh tokens (HS256). They sign\n" +
			"at once, and on every node within seconds. The old access-token key stays in the JWKS\n" +
			"and verifies until the tokens it signed have expired (31 minutes); the old refresh-token\n" +
			"key verifies until its refresh tokens have expired (at most 180 days). Nobody is\n" +
			"logged out."
	}
	fs := c.flagSet("signing-keys "+verb, "signing-keys "+verb+" [--json]", about)
	c.jsonFlag.register(fs, "print a JSON array")
	return c.run(fs, args, func(a *client.Admin, _ []string) error {
		keys, err := call(a, ctx)
		if err != nil {
			return err
		}
		return printSigningKeys(c.Stdout, keys, c.JSON)
	})
}

// printSigningKeys lists signing keys; there is always one, so the table has no empty form.
func printSigningKeys(w io.Writer, keys []client.SigningKey, asJSON bool) error {
	return printList(w, keys, asJSON, "", []string{"ID", "ALGORITHM", "STATE", "CREATED", "VERIFIES UNTIL"},
		func(k client.SigningKey) []string {
			return []string{k.ID, k.Algorithm, k.State, formatTime(&k.CreatedAt, "-"), formatTime(k.VerifiesUntil, "-")}
		})
}
