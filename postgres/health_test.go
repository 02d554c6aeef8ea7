package postgres_test

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/latchkey/latchkey/internal/pgtest"
)

func TestCheckReady(t *testing.T) {
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		s := MustOpen(t, pgtest.NewDatabase(t))
		if err := s.CheckReady(ctx); err != nil {
			t.Fatalf("CheckReady: %v", err)
		}
	})

	t.Run("ErrMigrationMissing", func(t *testing.T) {
		url := pgtest.NewDatabase(t)
		s := MustOpen(t, url)
		if _, err := MustConnect(t, url).Exec(ctx, `DELETE FROM schema_migrations WHERE version = '0003_key_controls'`); err != nil {
			t.Fatal(err)
		}
		if err := s.CheckReady(ctx); err == nil {
			t.Fatal("CheckReady with a migration unrecorded = nil, want an error")
		}
	})

	t.Run("ErrConnectionsTerminated", func(t *testing.T) {
		dbURL := pgtest.NewDatabase(t)
		s := MustOpen(t, dbURL)
		u, err := url.Parse(dbURL)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(u.Path, "/")
		// As when the server stops: the store's connections end and no new one may open.
		admin := MustConnect(t, os.Getenv(pgtest.EnvURL))
		if _, err := admin.Exec(ctx, `ALTER DATABASE `+pgx.Identifier{name}.Sanitize()+` ALLOW_CONNECTIONS false`); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, name); err != nil {
			t.Fatal(err)
		}
		if err := s.CheckReady(ctx); err == nil {
			t.Fatal("CheckReady with the database refusing connections = nil, want an error")
		}
	})
}
