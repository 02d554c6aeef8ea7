package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/latchkey/latchkey/sqlite"
)

// MigrateCommand applies pending schema migrations and exits.
type MigrateCommand struct {
	Stdout, Stderr io.Writer
	DataDir        string
}

// Run applies the migrations.
func (c *MigrateCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("latchkey migrate", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.StringVar(&c.DataDir, "data", envOr("LATCHKEY_DATA", "./latchkey-data"), "data directory for the embedded database (LATCHKEY_DATA)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	store, err := sqlite.Open(ctx, filepath.Join(c.DataDir, "latchkey.db"))
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer store.Close()
	fmt.Fprintln(c.Stdout, "migrations applied")
	return nil
}
