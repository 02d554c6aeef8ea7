// Package bulk fills a migrated store fast, for the load benchmark's seeder (bench/seed), the
// store benchmarks and the query plan tests: users with their identities and API keys in one
// transaction, with prepared statements on SQLite and COPY on PostgreSQL. Through the Store
// interface every user and key would be a transaction (and an fsync) of its own.
//
// It writes the tables directly, past the per-user key cap and the checks of CreateAPIKey
// that every request path keeps: that is why it is no part of latchkey.Store and no package of
// the server imports it. The UNIQUE indexes and foreign keys still hold.
package bulk

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

// DB is a connection to a store's database, opened beside the store after the store has
// migrated it.
type DB struct {
	db       *sql.DB
	postgres bool
}

// Open connects to the database of a store: PostgreSQL for a postgres:// URL, else the
// SQLite file at dsn.
func Open(dsn string) (*DB, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db, err := sql.Open("pgx", dsn)
		return &DB{db: db, postgres: true}, err
	}
	// The store's own connections may hold the write lock for a moment: wait for them, as
	// they wait for each other.
	db, err := sql.Open("sqlite", dsn+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)")
	return &DB{db: db}, err
}

// Close closes the connection.
func (b *DB) Close() error {
	return b.db.Close()
}

// Insert inserts users (with their identities) and keys in one transaction: all or none.
// Each key is written with its limits and meta (RateLimit, Remaining, Refill, RefilledAt,
// Meta), so that a seeder gives its keys a rate limit by setting RateLimit on them.
func (b *DB) Insert(ctx context.Context, users []*latchkey.User, keys []*latchkey.APIKey) error {
	var err error
	if b.postgres {
		err = insertPostgres(ctx, b.db, users, keys)
	} else {
		err = insertSQLite(ctx, b.db, users, keys)
	}
	if err != nil {
		return fmt.Errorf("bulk insert: %w", err)
	}
	return nil
}

// MustOpen is Open for tests and benchmarks: it fails tb on error and closes the connection
// when tb ends.
func MustOpen(tb testing.TB, dsn string) *DB {
	tb.Helper()
	db, err := Open(dsn)
	if err != nil {
		tb.Fatalf("bulk: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
