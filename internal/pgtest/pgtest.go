// Package pgtest gives tests a fresh PostgreSQL database each.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/latchkey/latchkey/internal/testenv"
)

// EnvURL names the environment variable with the URL of a PostgreSQL server on which the
// tests may create and drop databases.
const EnvURL = "LATCHKEY_TEST_DATABASE_URL"

// URL returns EnvURL's value, the server's. Without it the test fails, or under -short
// skips (see testenv.Missing).
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		testenv.Missing(t, EnvURL+" is not set: run ./scripts/test, which installs and starts PostgreSQL")
	}
	return u
}

// NewDatabase creates an empty database with a unique name, drops it when the test ends, and
// returns its URL. Without EnvURL set the test fails (a PostgreSQL suite that skips would
// pass without testing anything), or under -short skips (see testenv.Missing).
func NewDatabase(t testing.TB) string {
	t.Helper()
	adminURL := URL(t)
	u, err := url.Parse(adminURL)
	if err != nil {
		t.Fatalf("pgtest: parse %s: %v", EnvURL, err)
	}

	var b [8]byte
	rand.Read(b[:])
	name := "latchkey_test_" + hex.EncodeToString(b[:])

	exec(t, adminURL, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	t.Cleanup(func() {
		exec(t, adminURL, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})

	u.Path = "/" + name
	return u.String()
}

// exec runs one statement on a connection of its own: CREATE and DROP DATABASE cannot run
// in a transaction, and the admin database is shared by every test.
func exec(t testing.TB, connURL, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, connURL)
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", EnvURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("pgtest: %s: %v", sql, err)
	}
}
