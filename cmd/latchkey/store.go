package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/postgres"
	"github.com/latchkey/latchkey/sqlite"
)

// dbConfig says which store to open: PostgreSQL for a postgres:// URL, else SQLite.
type dbConfig struct {
	DataDir          string
	Database         string
	MaxConns         int
	StatementTimeout time.Duration
	MaxConnLifetime  time.Duration
	MaxConnIdleTime  time.Duration
	AcquireTimeout   time.Duration
	ConnectTimeout   time.Duration
	PgBouncer        bool
	// SecretKeyFile holds the secret key that seals the signing keys (secret.go).
	SecretKeyFile string
}

func (c *dbConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data", "./latchkey-data", "data directory for the embedded database (LATCHKEY_DATA)")
	fs.StringVar(&c.Database, "database", "", "postgres://user:pass@host:5432/db for PostgreSQL; a sqlite: URL or a file path for SQLite; default <data>/latchkey.db (LATCHKEY_DATABASE_URL)")
	fs.IntVar(&c.MaxConns, "db-max-conns", 0, "PostgreSQL: connections in the pool; 0 takes the URL's pool_max_conns, else 10 (LATCHKEY_DB_MAX_CONNS)")
	fs.DurationVar(&c.StatementTimeout, "db-statement-timeout", postgres.DefaultStatementTimeout, "PostgreSQL: statement_timeout of each transaction and statement; 0 sets none, leaving the database's own (LATCHKEY_DB_STATEMENT_TIMEOUT)")
	fs.DurationVar(&c.MaxConnLifetime, "db-max-conn-lifetime", 0, "PostgreSQL: close pooled connections this old; 0 takes the URL's pool_max_conn_lifetime, else 1h (LATCHKEY_DB_MAX_CONN_LIFETIME)")
	fs.DurationVar(&c.MaxConnIdleTime, "db-max-conn-idle-time", 0, "PostgreSQL: close pooled connections idle this long; 0 takes the URL's pool_max_conn_idle_time, else 30m (LATCHKEY_DB_MAX_CONN_IDLE_TIME)")
	fs.DurationVar(&c.AcquireTimeout, "db-acquire-timeout", postgres.DefaultAcquireTimeout, "PostgreSQL: longest wait for a connection, while the pool is busy or the server has no free slot, before a request fails as unavailable (LATCHKEY_DB_ACQUIRE_TIMEOUT)")
	fs.DurationVar(&c.ConnectTimeout, "db-connect-timeout", postgres.DefaultWaitForDatabase, "PostgreSQL: how long a starting node waits for the database, trying again with backoff; 0 tries once (LATCHKEY_DB_CONNECT_TIMEOUT)")
	fs.BoolVar(&c.PgBouncer, "db-pgbouncer", false, "PostgreSQL: the URL leads to PgBouncer in transaction pooling mode; use statements that survive it (LATCHKEY_DB_PGBOUNCER)")
}

// dbEnv names the variables of the flags whose names differ from their variables'.
var dbEnv = map[string]string{"database": "LATCHKEY_DATABASE_URL"}

// dbURLParams maps the pool flags whose zero value defers to the database URL to the URL's
// parameter, for --print-config.
var dbURLParams = map[string]string{
	"db-max-conns":          "pool_max_conns",
	"db-max-conn-lifetime":  "pool_max_conn_lifetime",
	"db-max-conn-idle-time": "pool_max_conn_idle_time",
}

// urlParam returns a parameter of the PostgreSQL URL, and whether it is there.
func (c *dbConfig) urlParam(name string) (string, bool) {
	if !c.isPostgres() {
		return "", false
	}
	cfg, err := pgconn.ParseConfig(c.Database)
	if err != nil {
		return "", false
	}
	v, ok := cfg.RuntimeParams[name]
	return v, ok
}

// kind names the store for logs, without the URL's credentials.
func (c *dbConfig) kind() string {
	if c.isPostgres() {
		return "postgres"
	}
	return "sqlite"
}

func (c *dbConfig) isPostgres() bool {
	return strings.HasPrefix(c.Database, "postgres://") || strings.HasPrefix(c.Database, "postgresql://")
}

// open opens the store and applies pending migrations. The logger gets a line for each
// failed try of the first connection.
func (c *dbConfig) open(ctx context.Context, logger *slog.Logger) (latchkey.Store, error) {
	if c.isPostgres() {
		return postgres.Open(ctx, postgres.Config{
			URL:              c.Database,
			MaxConns:         int32(c.MaxConns),
			StatementTimeout: c.StatementTimeout,
			MaxConnLifetime:  c.MaxConnLifetime,
			MaxConnIdleTime:  c.MaxConnIdleTime,
			AcquireTimeout:   c.AcquireTimeout,
			WaitForDatabase:  c.ConnectTimeout,
			PgBouncer:        c.PgBouncer,
			Logger:           logger.With("database", redactURL(c.Database)),
		})
	}
	return sqlite.Open(ctx, c.sqliteFile())
}

// openWithKey is open, then the secret key that seals the store's signing keys (see
// secretKey); the store is closed again if there is no key.
func (c *dbConfig) openWithKey(ctx context.Context, logger *slog.Logger) (latchkey.Store, []byte, error) {
	store, err := c.open(ctx, logger)
	if err != nil {
		return nil, nil, fmt.Errorf("open database: %w", err)
	}
	secretKey, err := c.secretKey()
	if err != nil {
		store.Close()
		return nil, nil, fmt.Errorf("secret key: %w", err)
	}
	return store, secretKey, nil
}
