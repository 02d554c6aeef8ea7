// Command seed fills a store for the load benchmark (bench/run): users with API keys in bulk
// transactions, past the Store interface (internal/bulk), and a few email/password users
// registered through the service, so with real argon2id hashes. Key values are made and
// hashed as the server makes and hashes them (latchkey.NewKeyValue, latchkey.HashKeyValue).
// It writes the key values of the first users, and nothing else secret, to a file of mode
// 0600.
//
// It is no part of the latchkey binary: it writes rows no request path may write.
//
//	go run ./bench/seed --data DIR | --database URL [flags]
//
// The store is opened first, which creates and migrates its database; LATCHKEY_SECRET_KEY
// seals the signing keys as the server's does.
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
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/bulk"
	"github.com/latchkey/latchkey/postgres"
	"github.com/latchkey/latchkey/service"
	"github.com/latchkey/latchkey/sqlite"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	c := &Command{Stdout: os.Stdout, Stderr: os.Stderr}
	if err := c.Run(ctx, os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "seed:", err)
		}
		os.Exit(2)
	}
}

// Command is the seeder.
type Command struct {
	Stdout, Stderr io.Writer

	DataDir       string
	Database      string
	AppID         string
	Users         int
	KeysPerUser   int
	PasswordUsers int
	Password      string
	KeysOut       string
	SaveUsers     int
	Batch         int

	// The verify scenarios' flags: a server key of the app, and users whose keys carry a
	// rate limit.
	ServerKeyOut    string
	LimitedUsers    int
	LimitedKeysOut  string
	KeyRateLimit    latchkey.KeyRateLimit
	keyRateLimitArg string
}

func (c *Command) parse(args []string) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.StringVar(&c.DataDir, "data", envOr("LATCHKEY_DATA", "./latchkey-data"), "data directory of the SQLite database (LATCHKEY_DATA)")
	fs.StringVar(&c.Database, "database", os.Getenv("LATCHKEY_DATABASE_URL"), "postgres:// URL for PostgreSQL; default <data>/latchkey.db (LATCHKEY_DATABASE_URL)")
	fs.StringVar(&c.AppID, "app-id", os.Getenv("LATCHKEY_APP_ID"), "client app id to seed, created with the quickstart settings if missing; default the oldest app (LATCHKEY_APP_ID)")
	fs.IntVar(&c.Users, "users", 1000, "users with API keys to add")
	fs.IntVar(&c.KeysPerUser, "keys-per-user", 5, "API keys of each user (at most 20)")
	fs.IntVar(&c.PasswordUsers, "password-users", 0, "email/password users bench-N@example.com to register (argon2id), each with 5 keys")
	fs.StringVar(&c.Password, "password", "bench-password", "password of the email/password users")
	fs.StringVar(&c.KeysOut, "keys-out", "bench-keys.txt", "file for the key values of the first --save-users users, one a line (mode 0600)")
	fs.IntVar(&c.SaveUsers, "save-users", 1000, "how many users' key values go to --keys-out")
	fs.IntVar(&c.Batch, "batch", 10000, "users per transaction")
	fs.StringVar(&c.ServerKeyOut, "server-key-out", "", "create a server API key of the app and write its value to this file (mode 0600)")
	fs.IntVar(&c.LimitedUsers, "limited-users", 0, "further users with API keys that carry --key-ratelimit; all their key values go to --limited-keys-out")
	fs.StringVar(&c.LimitedKeysOut, "limited-keys-out", "bench-limited-keys.txt", "file for the key values of the --limited-users users, one a line (mode 0600)")
	fs.StringVar(&c.keyRateLimitArg, "key-ratelimit", "10000000/1m", "the rate limit of the --limited-users users' keys: LIMIT/DURATION")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := c.parseRateLimit(); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	case c.Users < 0 || c.PasswordUsers < 0 || c.SaveUsers < 0 || c.LimitedUsers < 0:
		return errors.New("counts must not be negative")
	case c.KeysPerUser < 1 || c.KeysPerUser > latchkey.MaxAPIKeysPerUser:
		return fmt.Errorf("--keys-per-user must be 1 to %d", latchkey.MaxAPIKeysPerUser)
	case c.Batch < 1:
		return errors.New("--batch must be positive")
	}
	return nil
}

// parseRateLimit reads --key-ratelimit, LIMIT/DURATION (10000000/1m), into KeyRateLimit.
func (c *Command) parseRateLimit() error {
	limit, dur, ok := strings.Cut(c.keyRateLimitArg, "/")
	n, err := strconv.ParseInt(limit, 10, 64)
	if !ok || err != nil {
		return fmt.Errorf("--key-ratelimit %q: want LIMIT/DURATION, e.g. 10000000/1m", c.keyRateLimitArg)
	}
	d, err := time.ParseDuration(dur)
	if err != nil {
		return fmt.Errorf("--key-ratelimit %q: %w", c.keyRateLimitArg, err)
	}
	c.KeyRateLimit = latchkey.KeyRateLimit{Limit: n, Duration: d}
	if err := c.KeyRateLimit.Validate(); err != nil {
		return fmt.Errorf("--key-ratelimit: %w", err)
	}
	return nil
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// dsn is the database the flags name: the PostgreSQL URL, or the SQLite file.
func (c *Command) dsn() string {
	if c.Database != "" {
		return c.Database
	}
	return filepath.Join(c.DataDir, "latchkey.db")
}

// open opens the store, which creates and migrates the database, and then a bulk connection
// beside it.
func (c *Command) open(ctx context.Context) (latchkey.Store, *bulk.DB, error) {
	var (
		store latchkey.Store
		err   error
	)
	if strings.HasPrefix(c.dsn(), "postgres://") || strings.HasPrefix(c.dsn(), "postgresql://") {
		store, err = postgres.Open(ctx, postgres.Config{URL: c.dsn(), StatementTimeout: postgres.DefaultStatementTimeout,
			Logger: slog.New(slog.NewTextHandler(c.Stderr, nil))})
	} else {
		store, err = sqlite.Open(ctx, c.dsn())
	}
	if err != nil {
		return nil, nil, fmt.Errorf("open database: %w", err)
	}
	db, err := bulk.Open(c.dsn())
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	return store, db, nil
}

// Run seeds the store.
func (c *Command) Run(ctx context.Context, args []string) error {
	if err := c.parse(args); err != nil {
		return err
	}
	secretKey := strings.TrimRight(os.Getenv("LATCHKEY_SECRET_KEY"), "\r\n")
	if len(secretKey) < service.MinSecretKeyLen {
		return fmt.Errorf("LATCHKEY_SECRET_KEY must hold the server's secret key (at least %d bytes)", service.MinSecretKeyLen)
	}
	store, db, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	defer db.Close()
	svc, err := service.New(ctx, service.Config{Store: store, SecretKey: []byte(secretKey)})
	if err != nil {
		return err
	}
	defer svc.Close()
	app, _, err := svc.EnsureApp(ctx, c.AppID)
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}

	start := time.Now()
	if err := c.seedKeyUsers(ctx, db, app, c.Users, c.SaveUsers, c.KeysOut, nil); err != nil {
		return err
	}
	if err := c.seedPasswordUsers(ctx, svc, store, db, app); err != nil {
		return err
	}
	if c.LimitedUsers > 0 {
		if err := c.seedKeyUsers(ctx, db, app, c.LimitedUsers, c.LimitedUsers, c.LimitedKeysOut, &c.KeyRateLimit); err != nil {
			return err
		}
	}
	if c.ServerKeyOut != "" {
		// The seeder makes the key as an admin would; no admin needs to exist for it.
		now := time.Now().UTC()
		admin := &latchkey.AdminAuth{Admin: &latchkey.Admin{ID: latchkey.NewID(now), Email: "bench-seed@example.com", CreatedAt: now},
			TokenType: latchkey.AdminAccessToken}
		k, err := svc.ServerKeys.CreateServerAPIKey(latchkey.NewContextWithAdmin(ctx, admin), app.ID,
			latchkey.APIKeyInput{Name: fmt.Sprintf("bench-%d", now.UnixNano())})
		if err != nil {
			return fmt.Errorf("server key: %w", err)
		}
		if err := writeSecret(c.ServerKeyOut, k.Value+"\n"); err != nil {
			return err
		}
	}
	fmt.Fprintf(c.Stdout, "App ID: %s\nSeeded %d users with %d keys each, %d with rate-limited keys and %d email/password users in %s; key values of %d users in %s\n",
		app.ClientAppID, c.Users, c.KeysPerUser, c.LimitedUsers, c.PasswordUsers, time.Since(start).Round(time.Millisecond),
		min(c.SaveUsers, c.Users), c.KeysOut)
	return nil
}

// seedKeyUsers adds n users with --keys-per-user keys each, limit on every key when it is
// not nil, in bulk transactions, and writes the key values of the first save users to the
// file keysOut.
func (c *Command) seedKeyUsers(ctx context.Context, db *bulk.DB, app *latchkey.App, n, save int, keysOut string, limit *latchkey.KeyRateLimit) error {
	out, err := os.OpenFile(keysOut, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
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
	for added < n {
		batch := min(c.Batch, n-added)
		users, keys = users[:0], keys[:0]
		now := time.Now().UTC()
		for i := range batch {
			u := newUser(app, now)
			ks := newKeys(app, u, now, c.KeysPerUser)
			for _, k := range ks {
				k.RateLimit = limit
			}
			users, keys = append(users, u), append(keys, ks...)
			if added+i < save {
				for _, k := range ks {
					fmt.Fprintln(w, k.Value)
				}
			}
		}
		if err := db.Insert(ctx, users, keys); err != nil {
			return err
		}
		added += batch
		if added%100000 < c.Batch || added == n {
			elapsed := time.Since(start)
			fmt.Fprintf(c.Stderr, "seed: %d users, %d keys (%.0f rows/s)\n", added, added*c.KeysPerUser,
				float64(added*(2+c.KeysPerUser))/elapsed.Seconds())
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return out.Close()
}

// writeSecret writes s to a new file of mode 0600.
func writeSecret(path, s string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(s); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// seedPasswordUsers registers bench-N@example.com through the service, so that password
// logins hash as they do in production, and gives each 5 keys for the key listing. Users
// that exist already are kept.
func (c *Command) seedPasswordUsers(ctx context.Context, svc *service.Service, store latchkey.Store, db *bulk.DB, app *latchkey.App) error {
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
		if err := db.Insert(ctx, nil, newKeys(app, u, time.Now().UTC(), 5)); err != nil {
			return err
		}
	}
	return nil
}

// newUser returns a confirmed user of the app with an api-key identity, as a key's first
// creation leaves one.
func newUser(app *latchkey.App, now time.Time) *latchkey.User {
	u := &latchkey.User{ID: latchkey.NewID(now), AppID: app.ID, Type: latchkey.UserTypeNormal, Confirmed: true, CreatedAt: now}
	u.Identities = []*latchkey.Identity{{
		ID: latchkey.NewID(now), UserID: u.ID, ProviderType: latchkey.ProviderAPIKey,
		ProviderID: latchkey.ProviderID(app.ID, latchkey.ProviderAPIKey), CreatedAt: now,
	}}
	return u
}

// newKeys returns n enabled keys of the user named seed-0, seed-1, …, each with its value
// set (Value) and hashed as logins hash it.
func newKeys(app *latchkey.App, u *latchkey.User, now time.Time, n int) []*latchkey.APIKey {
	keys := make([]*latchkey.APIKey, n)
	for i := range keys {
		v := latchkey.NewKeyValue(app.KeyPrefix)
		keys[i] = &latchkey.APIKey{ID: latchkey.NewID(now), AppID: app.ID, UserID: u.ID, Name: fmt.Sprintf("seed-%d", i),
			Hash: latchkey.HashKeyValue(v), Start: latchkey.KeyStart(v), Value: v, CreatedAt: now}
	}
	return keys
}
