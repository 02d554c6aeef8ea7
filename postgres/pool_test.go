package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/postgres"
)

// The pool settings of the URL apply unless the configuration sets them.
func TestConfig_URLPoolSettings(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	for _, tt := range []struct {
		name     string
		url      string
		maxConns int32
		want     int32
	}{
		{name: "Default", url: dbURL, want: postgres.DefaultMaxConns},
		{name: "URL", url: withParam(t, dbURL, "pool_max_conns", "3"), want: 3},
		{name: "ConfigWins", url: withParam(t, dbURL, "pool_max_conns", "3"), maxConns: 5, want: 5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := MustOpenConfig(t, postgres.Config{URL: tt.url, MaxConns: tt.maxConns})
			if got := s.Stat().MaxConns(); got != tt.want {
				t.Fatalf("pool size = %d, want %d", got, tt.want)
			}
		})
	}
}

// newLimitedDatabase creates a database owned by a new role that may hold at most limit
// connections at once, and returns the database's URL as that role and as the superuser.
func newLimitedDatabase(t *testing.T, limit int) (roleURL, superURL string) {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	role, password := "latchkey_limited_"+hex.EncodeToString(b[:]), hex.EncodeToString(b[:])
	admin := func(sql string) {
		t.Helper()
		conn, err := pgx.Connect(context.Background(), pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	admin(fmt.Sprintf(`CREATE ROLE %s LOGIN PASSWORD '%s' CONNECTION LIMIT %d`, role, password, limit))
	t.Cleanup(func() { admin(`DROP ROLE ` + role) }) // after the database's cleanup drops it
	superURL = pgtest.NewDatabase(t)
	u, err := url.Parse(superURL)
	if err != nil {
		t.Fatal(err)
	}
	admin(`ALTER DATABASE ` + pgx.Identifier{strings.TrimPrefix(u.Path, "/")}.Sanitize() + ` OWNER TO ` + role)
	u.User = url.UserPassword(role, password)
	return u.String(), superURL
}

// A pool larger than the connections the server allows queues its callers for the
// connections it has, instead of failing them with "too many connections".
func TestAcquire_ConnectionLimit(t *testing.T) {
	roleURL, _ := newLimitedDatabase(t, 2)
	s := MustOpenConfig(t, postgres.Config{URL: roleURL, MaxConns: 10})
	ctx := context.Background()
	const n = 40
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			now := time.Now()
			app := &latchkey.App{ID: latchkey.NewID(now), ClientAppID: fmt.Sprintf("app-%02d", i), Name: "App",
				RefreshTokenLifetime: latchkey.DefaultRefreshTokenLifetime, KeyPrefix: latchkey.DefaultKeyPrefix, CreatedAt: now}
			if errs[i] = s.CreateApp(ctx, app); errs[i] != nil {
				return
			}
			_, errs[i] = s.FindAppByID(ctx, app.ID)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if got := s.Stat().TotalConns(); got > 2 {
		t.Errorf("the pool holds %d connections; the role may have 2", got)
	}
}

// A caller that finds no connection within the acquire timeout fails as unavailable: here
// the pool's one connection waits for a lock, and the server refuses it a second one.
func TestAcquire_Timeout(t *testing.T) {
	roleURL, superURL := newLimitedDatabase(t, 1)
	s := MustOpenConfig(t, postgres.Config{URL: roleURL, MaxConns: 2, AcquireTimeout: 200 * time.Millisecond})
	u := MustCreateUser(t, s)
	ctx := context.Background()

	conn := MustConnect(t, superURL) // a superuser's: outside the role's limit
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, u.ID); err != nil {
		t.Fatal(err)
	}
	blocked := make(chan error, 1)
	go func() { blocked <- s.CreateAPIKey(ctx, NewAPIKey(u, "k"), latchkey.MaxAPIKeysPerUser) }()
	watcher := MustConnect(t, superURL)
	for waiting := 0; waiting == 0; {
		if err := watcher.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
	}

	_, err = s.FindAppByID(ctx, u.AppID)
	if got, want := latchkey.ErrorCode(err), latchkey.EServiceUnavailable; got != want {
		t.Fatalf("FindAppByID: %v (code %q), want code %q", err, got, want)
	}
	tx.Rollback(ctx)
	if err := <-blocked; err != nil {
		t.Fatalf("CreateAPIKey after the lock: %v", err)
	}
}

// logLines is a log destination that hands each line to the test.
type logLines chan string

func (l logLines) Write(p []byte) (int, error) {
	select {
	case l <- string(p):
	default:
	}
	return len(p), nil
}

// A store opening before its database is up tries again, logging each failed try, and opens
// once the database answers.
func TestOpen_WaitsForDatabase(t *testing.T) {
	dbURL, up := pgtest.NewDatabaseLater(t)
	logs := make(logLines, 100)
	opened := make(chan error, 1)
	go func() {
		s, err := postgres.Open(context.Background(), postgres.Config{URL: dbURL, WaitForDatabase: time.Minute,
			Logger: slog.New(slog.NewTextHandler(logs, nil))})
		if err == nil {
			s.Close()
		}
		opened <- err
	}()
	select {
	case line := <-logs:
		if !strings.Contains(line, "database not reachable") || !strings.Contains(line, "try=1") {
			t.Fatalf("first log line: %s", line)
		}
	case err := <-opened:
		t.Fatalf("Open returned before the database was up: %v", err)
	}
	up()
	if err := <-opened; err != nil {
		t.Fatalf("Open: %v", err)
	}
}

// A store gives up waiting for its database after WaitForDatabase, and at once on what
// waiting cannot mend.
func TestOpen_GivesUp(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	t.Run("Unreachable", func(t *testing.T) {
		logs := make(logLines, 100)
		_, err := postgres.Open(context.Background(), postgres.Config{URL: "postgres://nobody:x@127.0.0.1:1/none",
			WaitForDatabase: 300 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(logs, nil))})
		if err == nil || !strings.Contains(err.Error(), "no database after") {
			t.Fatalf("Open: %v, want a database that never came", err)
		}
		if len(logs) == 0 {
			t.Error("no failed try was logged")
		}
	})
	t.Run("WrongPassword", func(t *testing.T) {
		u, err := url.Parse(dbURL)
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.UserPassword(u.User.Username(), "wrong")
		_, err = postgres.Open(context.Background(), postgres.Config{URL: u.String(), WaitForDatabase: time.Hour})
		if err == nil || !strings.Contains(err.Error(), "28P01") {
			t.Fatalf("Open: %v, want the password refused", err)
		}
	})
}
