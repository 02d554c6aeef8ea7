package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
)

// MigrateCommand applies pending schema migrations and exits.
type MigrateCommand struct {
	Stdout, Stderr io.Writer
	DB             dbConfig
}

// Run applies the migrations: opening a store migrates it.
func (c *MigrateCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("latchkey migrate", "latchkey migrate [flags]",
		"Applies the database schema and exits; the server also does this when it starts.", c.Stderr)
	c.DB.register(fs)
	if err := parseFlags(fs, args, dbEnv); err != nil {
		return err
	}
	store, err := c.DB.open(ctx, slog.New(slog.NewTextHandler(c.Stderr, nil)))
	if err != nil {
		return fmt.Errorf("%s: %w", c.DB.kind(), err)
	}
	defer store.Close()
	fmt.Fprintf(c.Stdout, "%s schema is up to date\n", c.DB.kind())
	return nil
}
