package main

import (
	"context"
	"flag"
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
	fs := flag.NewFlagSet("latchkey migrate", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	c.DB.register(fs)
	if err := parseFlags(fs, args, dbEnv); err != nil {
		return err
	}
	store, err := c.DB.open(ctx, slog.New(slog.NewTextHandler(c.Stderr, nil)))
	if err != nil {
		return fmt.Errorf("migrate %s: %w", c.DB.kind(), err)
	}
	defer store.Close()
	fmt.Fprintf(c.Stdout, "%s schema is up to date\n", c.DB.kind())
	return nil
}
