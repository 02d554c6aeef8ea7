package postgres_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/internal/storetest"
	"github.com/latchkey/latchkey/postgres"
)

// The store passes the conformance suite through PgBouncer's transaction pooling, with fewer
// server connections than the pool has clients, so that consecutive transactions of one
// client run on different server connections.
func TestStore_PgBouncer(t *testing.T) {
	bouncer := pgtest.NewPgBouncer(t, 2)
	storetest.Run(t, func(t *testing.T) latchkey.Store {
		return MustOpenConfig(t, postgres.Config{URL: bouncer.URL(t, pgtest.NewDatabase(t)), PgBouncer: true,
			StatementTimeout: postgres.DefaultStatementTimeout})
	})
}

// Through PgBouncer the store runs a query mode that survives transaction pooling, and
// refuses one that does not.
func TestConfig_PgBouncerQueryExecMode(t *testing.T) {
	bouncer := pgtest.NewPgBouncer(t, 2)
	for _, mode := range []string{"", "cache_describe", "exec", "simple_protocol"} {
		t.Run("OK"+mode, func(t *testing.T) {
			dbURL := bouncer.URL(t, pgtest.NewDatabase(t))
			if mode != "" {
				dbURL = withParam(t, dbURL, "default_query_exec_mode", mode)
			}
			s := MustOpenConfig(t, postgres.Config{URL: dbURL, PgBouncer: true, StatementTimeout: time.Second})
			u := MustCreateUser(t, s)
			// The pool's connections at once, over PgBouncer's two server connections, so
			// that each meets server connections that others used. (In cache_statement mode
			// most of these fail: "prepared statement ... already exists" or "does not exist".)
			var wg sync.WaitGroup
			for range postgres.DefaultMaxConns {
				wg.Go(func() {
					for range 10 {
						if _, err := s.FindAppByID(context.Background(), u.AppID); err != nil {
							t.Error(err)
							return
						}
						if _, err := s.FindUserByID(context.Background(), u.AppID, u.ID); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
		})
	}
	for _, mode := range []string{"cache_statement", "describe_exec"} {
		t.Run("Err"+mode, func(t *testing.T) {
			dbURL := withParam(t, bouncer.URL(t, pgtest.NewDatabase(t)), "default_query_exec_mode", mode)
			_, err := postgres.Open(context.Background(), postgres.Config{URL: dbURL, PgBouncer: true})
			if err == nil || !strings.Contains(err.Error(), "not safe through PgBouncer") {
				t.Fatalf("Open: %v, want a refusal of %s", err, mode)
			}
		})
	}
}

// The statement timeout applies to transactions and to single statements, directly and
// through PgBouncer, without being left on the server connection for the next client. With
// a zero timeout the database's own setting applies.
func TestConfig_StatementTimeout(t *testing.T) {
	bouncer := pgtest.NewPgBouncer(t, 1) // one server connection: every client meets it
	for _, via := range []struct {
		name      string
		pgbouncer bool
	}{{"Direct", false}, {"PgBouncer", true}} {
		open := func(t *testing.T, dbURL string, timeout time.Duration) *postgres.Store {
			t.Helper()
			if via.pgbouncer {
				dbURL = bouncer.URL(t, dbURL)
			}
			return MustOpenConfig(t, postgres.Config{URL: dbURL, PgBouncer: via.pgbouncer, StatementTimeout: timeout})
		}

		t.Run(via.name+"/Cancels", func(t *testing.T) {
			dbURL := pgtest.NewDatabase(t)
			s := open(t, dbURL, 100*time.Millisecond)
			conn := MustConnect(t, dbURL)
			ctx := context.Background()
			u := MustCreateUser(t, s)
			k := NewAPIKey(u, "held")
			if err := s.CreateAPIKey(ctx, k, latchkey.MaxAPIKeysPerUser); err != nil {
				t.Fatal(err)
			}

			// Hold the user's and the key's rows, so that a transaction (CreateAPIKey) and a
			// single statement (DeleteAPIKey) wait for them past their timeout.
			tx, err := conn.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			if _, err := tx.Exec(ctx, `SELECT 1 FROM users, api_keys WHERE users.id = $1 AND api_keys.id = $2 FOR UPDATE`, u.ID, k.ID); err != nil {
				t.Fatal(err)
			}
			for name, err := range map[string]error{
				"CreateAPIKey": s.CreateAPIKey(ctx, NewAPIKey(u, "k"), latchkey.MaxAPIKeysPerUser),
				"DeleteAPIKey": s.DeleteAPIKey(ctx, u.ID, k.ID),
			} {
				var pgErr *pgconn.PgError
				if !errors.As(err, &pgErr) || pgErr.Code != "57014" { // query_canceled
					t.Errorf("%s: %v, want a statement timeout", name, err)
				}
			}
		})

		t.Run(via.name+"/Set", func(t *testing.T) {
			dbURL := pgtest.NewDatabase(t)
			seen := recordStatementTimeout(t, dbURL)
			s := open(t, dbURL, 1500*time.Millisecond)
			u := createUserAndSession(t, s)
			if err := s.CreateAPIKey(context.Background(), NewAPIKey(u, "k"), latchkey.MaxAPIKeysPerUser); err != nil {
				t.Fatal(err)
			}
			if got, want := seen(), "api_keys 1500ms, sessions 1500ms"; got != want {
				t.Errorf("statement_timeout seen by the inserts: %s, want %s", got, want)
			}
			if via.pgbouncer {
				// The one server connection, which the store used, has the server's setting.
				conn := MustConnect(t, withParam(t, bouncer.URL(t, dbURL), "default_query_exec_mode", "simple_protocol"))
				var setting string
				if err := conn.QueryRow(context.Background(), `SHOW statement_timeout`).Scan(&setting); err != nil {
					t.Fatal(err)
				}
				if setting != "0" {
					t.Errorf("statement_timeout left on PgBouncer's server connection: %s, want 0", setting)
				}
			}
		})

		t.Run(via.name+"/ZeroKeepsTheDatabases", func(t *testing.T) {
			dbURL := pgtest.NewDatabase(t)
			u, err := url.Parse(dbURL)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := MustConnect(t, dbURL).Exec(context.Background(),
				`ALTER DATABASE `+pgx.Identifier{strings.TrimPrefix(u.Path, "/")}.Sanitize()+` SET statement_timeout = '42s'`); err != nil {
				t.Fatal(err)
			}
			seen := recordStatementTimeout(t, dbURL)
			s := open(t, dbURL, 0)
			u2 := createUserAndSession(t, s)
			if err := s.CreateAPIKey(context.Background(), NewAPIKey(u2, "k"), latchkey.MaxAPIKeysPerUser); err != nil {
				t.Fatal(err)
			}
			if got, want := seen(), "api_keys 42s, sessions 42s"; got != want {
				t.Errorf("statement_timeout seen by the inserts: %s, want %s", got, want)
			}
		})
	}
}

// recordStatementTimeout makes every insert into api_keys (a transaction of the store) and
// sessions (a single statement) record the statement_timeout it runs under, and returns a
// function that lists them as "table setting, ...".
func recordStatementTimeout(t *testing.T, dbURL string) (seen func() string) {
	t.Helper()
	s := MustOpen(t, dbURL) // the schema
	s.Close()
	conn := MustConnect(t, dbURL)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, `
		CREATE TABLE seen (tbl TEXT NOT NULL, setting TEXT NOT NULL);
		CREATE FUNCTION record_timeout() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			INSERT INTO seen VALUES (TG_TABLE_NAME, current_setting('statement_timeout'));
			RETURN NEW;
		END $$;
		CREATE TRIGGER record_timeout BEFORE INSERT ON api_keys FOR EACH ROW EXECUTE FUNCTION record_timeout();
		CREATE TRIGGER record_timeout BEFORE INSERT ON sessions FOR EACH ROW EXECUTE FUNCTION record_timeout();
	`); err != nil {
		t.Fatal(err)
	}
	return func() string {
		var got string
		if err := conn.QueryRow(ctx, `SELECT coalesce(string_agg(tbl || ' ' || setting, ', ' ORDER BY tbl), '') FROM seen`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		return got
	}
}

// createUserAndSession creates a user and a session of it, which the store inserts with a
// single statement.
func createUserAndSession(t *testing.T, s latchkey.Store) *latchkey.User {
	t.Helper()
	u := MustCreateUser(t, s)
	now := time.Now()
	if err := s.CreateSession(context.Background(), &latchkey.Session{ID: latchkey.NewID(now), AppID: u.AppID,
		UserID: u.ID, DeviceID: latchkey.ZeroID, Provider: latchkey.ProviderUserpass, CreatedAt: now,
		ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return u
}
