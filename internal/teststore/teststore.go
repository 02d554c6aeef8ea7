// Package teststore opens the store that tests run against: a fresh SQLite file by default,
// or a fresh PostgreSQL database when LATCHKEY_TEST_STORE=postgres, so that the same tests
// cover both stores (the test command runs them both ways).
package teststore

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver of OpenSharedRaw
	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/postgres"
	"github.com/latchkey/latchkey/sqlite"
)

// Open returns a fresh, migrated store that is closed when the test ends.
func Open(t testing.TB) latchkey.Store {
	t.Helper()
	return OpenNodes(t, 1)[0]
}

// OpenNodes returns n stores over one fresh, migrated database, as n nodes would open it
// (on SQLite, n stores over one file), each closed when the test ends.
func OpenNodes(t testing.TB, n int) []latchkey.Store {
	t.Helper()
	stores, _ := openNodes(t, n, false)
	return stores
}

// OpenSharedRaw is OpenNodes with a plain database/sql connection to the same database, for
// tests that read rows as they are stored. Its queries are the store's dialect.
func OpenSharedRaw(t testing.TB, n int) ([]latchkey.Store, *sql.DB) {
	t.Helper()
	return openNodes(t, n, true)
}

// openNodes opens n stores over one fresh database and, with raw, a database/sql connection
// to it, opened after the stores so that the database exists and is migrated.
func openNodes(t testing.TB, n int, raw bool) ([]latchkey.Store, *sql.DB) {
	t.Helper()
	var (
		open            func() (latchkey.Store, error)
		driver, rawName string
	)
	switch kind := os.Getenv("LATCHKEY_TEST_STORE"); kind {
	case "", "sqlite":
		path := filepath.Join(t.TempDir(), "data", "latchkey.db")
		open = func() (latchkey.Store, error) { return sqlite.Open(context.Background(), path) }
		// The raw connection waits for the stores' write lock, as another process would,
		// rather than failing with SQLITE_BUSY while a node writes.
		driver, rawName = "sqlite", path+"?_pragma=busy_timeout(10000)"
	case "postgres":
		url := pgtest.NewDatabase(t)
		open = func() (latchkey.Store, error) {
			return postgres.Open(context.Background(), postgres.Config{URL: url, StatementTimeout: postgres.DefaultStatementTimeout})
		}
		driver, rawName = "pgx", url
	default:
		t.Fatalf("LATCHKEY_TEST_STORE=%q: want sqlite or postgres", kind)
	}
	stores := make([]latchkey.Store, n)
	for i := range stores {
		s, err := open()
		if err != nil {
			t.Fatalf("open store: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	if !raw {
		return stores, nil
	}
	db, err := sql.Open(driver, rawName)
	if err != nil {
		t.Fatalf("open raw database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return stores, db
}
