package main

import (
	"context"
	"flag"
	"path/filepath"
	"strings"
	"time"

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
	// SecretKeyFile holds the secret key that seals the signing keys (secret.go).
	SecretKeyFile string
}

func (c *dbConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data", "./latchkey-data", "data directory for the embedded database (LATCHKEY_DATA)")
	fs.StringVar(&c.Database, "database", "", "postgres://user:pass@host:5432/db for PostgreSQL; a sqlite: URL or a file path for SQLite; default <data>/latchkey.db (LATCHKEY_DATABASE_URL)")
	fs.IntVar(&c.MaxConns, "db-max-conns", postgres.DefaultMaxConns, "PostgreSQL: connections in the pool (LATCHKEY_DB_MAX_CONNS)")
	fs.DurationVar(&c.StatementTimeout, "db-statement-timeout", postgres.DefaultStatementTimeout, "PostgreSQL: statement_timeout of each connection (LATCHKEY_DB_STATEMENT_TIMEOUT)")
}

// dbEnv names the variables of the flags whose names differ from their variables'.
var dbEnv = map[string]string{"database": "LATCHKEY_DATABASE_URL"}

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

// open opens the store and applies pending migrations.
func (c *dbConfig) open(ctx context.Context) (latchkey.Store, error) {
	if c.isPostgres() {
		return postgres.Open(ctx, postgres.Config{
			URL:              c.Database,
			MaxConns:         int32(c.MaxConns),
			StatementTimeout: c.StatementTimeout,
		})
	}
	path := strings.TrimPrefix(strings.TrimPrefix(c.Database, "sqlite:"), "//")
	if path == "" {
		path = filepath.Join(c.DataDir, "latchkey.db")
	}
	return sqlite.Open(ctx, path)
}
