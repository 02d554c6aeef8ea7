package postgres_test

import (
	"context"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/postgres"
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

	t.Run("OKPoolBusy", func(t *testing.T) {
		// Every pool connection waits on a lock, as under a burst of slow requests: the
		// database still answers, so the node is ready.
		url := pgtest.NewDatabase(t)
		s, err := postgres.Open(ctx, postgres.Config{URL: url, MaxConns: 2, StatementTimeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		tx, err := MustConnect(t, url).Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, `LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE`); err != nil {
			t.Fatal(err)
		}
		blockedCtx, unblock := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.FindAPIKeys(blockedCtx, "user")
			}()
		}
		defer wg.Wait()
		defer unblock()
		for s.PoolStats()["main"].InUse < 2 {
			time.Sleep(10 * time.Millisecond)
		}
		probeCtx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if err := s.CheckReady(probeCtx); err != nil {
			t.Fatalf("CheckReady with every pool connection busy: %v, want nil", err)
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
