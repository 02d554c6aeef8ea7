package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/service"
)

// AdminCommand groups the admin subcommands that work on the database directly.
type AdminCommand struct {
	userIO
}

const adminUsage = `Usage:
  latchkey admin create-user --email EMAIL [--data DIR | --database URL]
      create an admin account; the password is read from the terminal, or from stdin when piped
`

// Run dispatches to the admin subcommand.
func (c *AdminCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(c.Stdout, adminUsage)
		return nil
	}
	switch args[0] {
	case "create-user":
		return c.createUser(ctx, args[1:])
	}
	fmt.Fprint(c.Stderr, adminUsage)
	return fmt.Errorf("unknown admin command %q", args[0])
}

func (c *AdminCommand) createUser(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("latchkey admin create-user", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	var db dbConfig
	db.register(fs)
	email := fs.String("email", "", "the admin's email")
	if err := parseFlags(fs, args, dbEnv); err != nil {
		return err
	}
	if *email == "" {
		return errors.New("--email is required")
	}
	password, err := c.readSecret("Password: ")
	if err != nil {
		return err
	}
	store, err := db.open(ctx)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer store.Close()
	svc, err := service.New(ctx, service.Config{Store: store, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	defer svc.Close()
	a, err := svc.CreateAdmin(ctx, *email, password)
	if err != nil {
		return fmt.Errorf("create admin: %s", latchkey.ErrorMessage(err))
	}
	fmt.Fprintf(c.Stdout, "created admin %s (%s)\n", a.Email, a.ID)
	return nil
}
