package main

import (
	"context"
	"io"

	"github.com/latchkey/latchkey/client"
)

// AdminSigningKeysListCommand lists the token signing keys.
type AdminSigningKeysListCommand struct {
	adminSession
	JSON bool
}

// Run lists the keys, newest first.
func (c *AdminSigningKeysListCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("signing-keys list", "signing-keys list [--json]",
		"Lists the token signing keys that sign (current) or still verify (retired), newest\n"+
			"first. The keys themselves never leave the server.")
	fs.BoolVar(&c.JSON, "json", false, "print a JSON array")
	a, _, err := c.login(fs, args)
	if err != nil {
		return err
	}
	keys, err := a.SigningKeys(ctx)
	if err != nil {
		return explainAdmin(a, err)
	}
	return printSigningKeys(c.Stdout, keys, c.JSON)
}

// AdminSigningKeysRotateCommand makes new token signing keys.
type AdminSigningKeysRotateCommand struct {
	adminSession
	JSON bool
}

// Run rotates the keys and lists them.
func (c *AdminSigningKeysRotateCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("signing-keys rotate", "signing-keys rotate [--json]",
		"Makes new signing keys for access tokens (ES256) and refresh tokens (HS256). They sign\n"+
			"at once, and on every node within seconds. The old access-token key stays in the JWKS\n"+
			"and verifies until the tokens it signed have expired (31 minutes); the old refresh-token\n"+
			"key verifies until its refresh tokens have expired (at most 180 days). Nobody is\n"+
			"logged out.")
	fs.BoolVar(&c.JSON, "json", false, "print a JSON array")
	a, _, err := c.login(fs, args)
	if err != nil {
		return err
	}
	keys, err := a.RotateSigningKeys(ctx)
	if err != nil {
		return explainAdmin(a, err)
	}
	return printSigningKeys(c.Stdout, keys, c.JSON)
}

// printSigningKeys lists signing keys; there is always one, so the table has no empty form.
func printSigningKeys(w io.Writer, keys []client.SigningKey, asJSON bool) error {
	return printList(w, keys, asJSON, "", []string{"ID", "ALGORITHM", "STATE", "CREATED", "VERIFIES UNTIL"},
		func(k client.SigningKey) []string {
			return []string{k.ID, k.Algorithm, k.State, formatTime(&k.CreatedAt, "-"), formatTime(k.VerifiesUntil, "-")}
		})
}
