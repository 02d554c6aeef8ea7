package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/service"
)

const benchUsage = `Usage:
  latchkey bench seed [flags]   fill a store with users and API keys for the load benchmark (bench/run)
`

// BenchCommand holds the helpers of the load benchmark in bench/.
type BenchCommand struct {
	Stdout, Stderr io.Writer
}

// Run runs the bench subcommand named by args[0].
func (c *BenchCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.Stderr, benchUsage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "seed":
		return inCommand("bench seed", (&BenchSeedCommand{Stdout: c.Stdout, Stderr: c.Stderr}).Run(ctx, args[1:]))
	case "help", "-h", "-help", "--help":
		fmt.Fprint(c.Stdout, benchUsage)
		return nil
	}
	fmt.Fprint(c.Stderr, benchUsage)
	return fmt.Errorf("unknown command %q", args[0])
}

// bulkStore is what the seed needs beyond latchkey.Store: both stores have it (BulkInsert
// in sqlite/bulk.go and postgres/bulk.go), outside the Store interface because it skips the
// key cap that every request path must keep.
type bulkStore interface {
	BulkInsert(ctx context.Context, users []*latchkey.User, keys []*latchkey.APIKey) error
}

// BenchSeedCommand fills a store fast: users with API keys in bulk transactions, and a few
// email/password users registered through the service (so with real argon2id hashes). It
// writes the key values of the first users, and nothing else secret, to a file of mode 0600.
type BenchSeedCommand struct {
	Stdout, Stderr io.Writer

	DB            dbConfig
	AppID         string
	Users         int
	KeysPerUser   int
	PasswordUsers int
	Password      string
	KeysOut       string
	SaveUsers     int
	Batch         int
}

func (c *BenchSeedCommand) parse(args []string) error {
	fs := newFlagSet("latchkey bench seed", "latchkey bench seed [flags]",
		"Fills a store for the load benchmark (see bench/run).", c.Stderr)
	c.DB.register(fs)
	c.DB.registerSecret(fs)
	fs.StringVar(&c.AppID, "app-id", "", "client app id to seed, created with the quickstart settings if missing; default the oldest app (LATCHKEY_APP_ID)")
	fs.IntVar(&c.Users, "users", 1000, "users with API keys to add")
	fs.IntVar(&c.KeysPerUser, "keys-per-user", 5, "API keys of each user (at most 20)")
	fs.IntVar(&c.PasswordUsers, "password-users", 0, "email/password users bench-N@example.com to register (argon2id), each with 5 keys")
	fs.StringVar(&c.Password, "password", "bench-password", "password of the email/password users")
	fs.StringVar(&c.KeysOut, "keys-out", "bench-keys.txt", "file for the key values of the first --save-users users, one a line (mode 0600)")
	fs.IntVar(&c.SaveUsers, "save-users", 1000, "how many users' key values go to --keys-out")
	fs.IntVar(&c.Batch, "batch", 10000, "users per transaction")
	// Only the database flags come from the environment: the sizes are this run's.
	if err := parseCommandLine(fs, args); err != nil {
		return err
	}
	if err := checkNoArgs(fs); err != nil {
		return err
	}
	for _, env := range []struct{ flag, name string }{{"database", "LATCHKEY_DATABASE_URL"}, {"data", "LATCHKEY_DATA"}, {"app-id", "LATCHKEY_APP_ID"}} {
		given := false
		fs.Visit(func(f *flag.Flag) { given = given || f.Name == env.flag })
		if v, ok := os.LookupEnv(env.name); ok && !given {
			if err := fs.Set(env.flag, v); err != nil {
				return badValue(fs, fs.Lookup(env.flag), env.name+"="+shown(v), err)
			}
		}
	}
	switch {
	case c.Users < 0 || c.PasswordUsers < 0 || c.SaveUsers < 0:
		return errors.New("counts must not be negative")
	case c.KeysPerUser < 1 || c.KeysPerUser > latchkey.MaxAPIKeysPerUser:
		return fmt.Errorf("--keys-per-user must be 1 to %d", latchkey.MaxAPIKeysPerUser)
	case c.Batch < 1:
		return errors.New("--batch must be positive")
	}
	return nil
}

// Run seeds the store.
func (c *BenchSeedCommand) Run(ctx context.Context, args []string) error {
	if err := c.parse(args); err != nil {
		return err
	}
	store, err := c.DB.open(ctx, slog.New(slog.NewTextHandler(c.Stderr, nil)))
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer store.Close()
	bulk, ok := store.(bulkStore)
	if !ok {
		return fmt.Errorf("the %s store cannot bulk insert", c.DB.kind())
	}
	secretKey, err := c.DB.secretKey()
	if err != nil {
		return fmt.Errorf("secret key: %w", err)
	}
	svc, err := service.New(ctx, service.Config{Store: store, SecretKey: secretKey})
	if err != nil {
		return err
	}
	defer svc.Close()
	app, _, err := svc.EnsureApp(ctx, c.AppID)
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}

	out, err := os.OpenFile(c.KeysOut, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()
	w := bufio.NewWriter(out)

	start := time.Now()
	var (
		users []*latchkey.User
		keys  []*latchkey.APIKey
		added int
	)
	for added < c.Users {
		n := min(c.Batch, c.Users-added)
		users, keys = users[:0], keys[:0]
		now := time.Now().UTC()
		for i := range n {
			u, ks := service.NewSeedUser(app, now, c.KeysPerUser)
			users, keys = append(users, u), append(keys, ks...)
			if added+i < c.SaveUsers {
				for _, k := range ks {
					fmt.Fprintln(w, k.Value)
				}
			}
		}
		if err := bulk.BulkInsert(ctx, users, keys); err != nil {
			return err
		}
		added += n
		if added%100000 < c.Batch || added == c.Users {
			elapsed := time.Since(start)
			fmt.Fprintf(c.Stderr, "bench seed: %d users, %d keys (%.0f rows/s)\n", added, added*c.KeysPerUser,
				float64(added*(2+c.KeysPerUser))/elapsed.Seconds())
		}
	}
	if err := c.seedPasswordUsers(ctx, svc, store, bulk, app); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "App ID: %s\nSeeded %d users with %d keys each and %d email/password users in %s; key values of %d users in %s\n",
		app.ClientAppID, c.Users, c.KeysPerUser, c.PasswordUsers, time.Since(start).Round(time.Millisecond),
		min(c.SaveUsers, c.Users), c.KeysOut)
	return nil
}

// seedPasswordUsers registers bench-N@example.com through the service, so that password
// logins hash as they do in production, and gives each 5 keys for the key listing. Users
// that exist already are kept.
func (c *BenchSeedCommand) seedPasswordUsers(ctx context.Context, svc *service.Service, store latchkey.Store, bulk bulkStore, app *latchkey.App) error {
	for i := range c.PasswordUsers {
		email := fmt.Sprintf("bench-%d@example.com", i)
		err := svc.Userpass.Register(ctx, app, email, c.Password)
		if latchkey.ErrorCode(err) == latchkey.EAccountNameInUse {
			continue
		} else if err != nil {
			return fmt.Errorf("register %s: %w", email, err)
		}
		u, err := store.FindUserByEmail(ctx, app.ID, email)
		if err != nil {
			return err
		}
		_, keys := service.NewSeedUser(app, time.Now().UTC(), 5)
		for _, k := range keys {
			k.UserID = u.ID
		}
		if err := bulk.BulkInsert(ctx, nil, keys); err != nil {
			return err
		}
	}
	return nil
}
