package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
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

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) latchkey.Store {
		return MustOpen(t, pgtest.NewDatabase(t))
	})
}

// MustOpen opens a store on the database and closes it when the test ends.
func MustOpen(t testing.TB, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), postgres.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// MustConnect opens a plain connection to the database, for looking behind the store.
func MustConnect(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// MustCreateUser creates an app and an email/password user of it.
func MustCreateUser(t testing.TB, s latchkey.Store) *latchkey.User {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	app := &latchkey.App{
		ID:                   latchkey.NewID(now),
		ClientAppID:          "app-" + latchkey.NewID(now),
		Name:                 "App",
		UserpassEnabled:      true,
		APIKeyEnabled:        true,
		RefreshTokenLifetime: latchkey.DefaultRefreshTokenLifetime,
		KeyPrefix:            latchkey.DefaultKeyPrefix,
		CreatedAt:            now,
	}
	if err := s.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	u := &latchkey.User{
		ID:        latchkey.NewID(now),
		AppID:     app.ID,
		Type:      latchkey.UserTypeNormal,
		Email:     "u@example.com",
		Confirmed: true,
		CreatedAt: now,
	}
	u.Identities = []*latchkey.Identity{{
		ID:           latchkey.NewID(now),
		UserID:       u.ID,
		ProviderType: latchkey.ProviderUserpass,
		ProviderID:   u.Email,
		CreatedAt:    now,
	}}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	return u
}

// NewAPIKey returns a key of the user named name, not yet stored.
func NewAPIKey(u *latchkey.User, name string) *latchkey.APIKey {
	now := time.Now()
	id := latchkey.NewID(now)
	return &latchkey.APIKey{
		ID:        id,
		AppID:     u.AppID,
		UserID:    u.ID,
		Name:      name,
		Hash:      []byte("hash-" + id),
		CreatedAt: now,
	}
}

// Several nodes starting at once on an empty database must all come up, and the schema must
// be applied once.
func TestOpen_Concurrent(t *testing.T) {
	url := pgtest.NewDatabase(t)
	const n = 4
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			s, err := postgres.Open(context.Background(), postgres.Config{URL: url, MaxConns: 2})
			if err == nil {
				s.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Open: %v", err)
		}
	}

	conn := MustConnect(t, url)
	rows, err := conn.Query(context.Background(), `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range files { // Glob sorts
		want = append(want, strings.TrimSuffix(filepath.Base(f), ".sql"))
	}
	if got, want := fmt.Sprint(versions), fmt.Sprint(want); got != want || len(versions) < 4 {
		t.Fatalf("schema_migrations = %s, want %s", got, want)
	}

	// Migrating a migrated database changes nothing.
	s := MustOpen(t, url)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// The API key cap must hold with concurrent creations that come through separate pools, as
// they would from separate nodes.
func TestCreateAPIKey_ConcurrentAcrossPools(t *testing.T) {
	url := pgtest.NewDatabase(t)
	stores := []*postgres.Store{MustOpen(t, url), MustOpen(t, url)}
	u := MustCreateUser(t, stores[0])

	const n = 50
	codes := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			err := stores[i%2].CreateAPIKey(context.Background(), NewAPIKey(u, fmt.Sprintf("key-%02d", i)), latchkey.MaxAPIKeysPerUser)
			codes[i] = latchkey.ErrorCode(err)
			if codes[i] != "" && codes[i] != latchkey.ELimitReached {
				t.Errorf("CreateAPIKey: %v", err)
			}
		})
	}
	wg.Wait()

	count := map[string]int{}
	for _, code := range codes {
		count[code]++
	}
	if got, want := count[""], latchkey.MaxAPIKeysPerUser; got != want {
		t.Errorf("created %d keys, want %d", got, want)
	}
	if got, want := count[latchkey.ELimitReached], n-latchkey.MaxAPIKeysPerUser; got != want {
		t.Errorf("%d calls failed with %s, want %d", got, latchkey.ELimitReached, want)
	}
	keys, err := stores[1].FindAPIKeys(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(keys), latchkey.MaxAPIKeysPerUser; got != want {
		t.Fatalf("FindAPIKeys returned %d keys, want %d", got, want)
	}
}

// Logins with a key that run while the key is disabled must not leave a session behind.
func TestCreateSession_ConcurrentDisable(t *testing.T) {
	url := pgtest.NewDatabase(t)
	stores := []*postgres.Store{MustOpen(t, url), MustOpen(t, url)}
	u := MustCreateUser(t, stores[0])
	conn := MustConnect(t, url)
	ctx := context.Background()

	for round := range 10 {
		k := NewAPIKey(u, fmt.Sprintf("key-%02d", round))
		if err := stores[0].CreateAPIKey(ctx, k, 100); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				now := time.Now()
				err := stores[i%2].CreateSession(ctx, &latchkey.Session{
					ID:        latchkey.NewID(now),
					AppID:     u.AppID,
					UserID:    u.ID,
					DeviceID:  latchkey.ZeroID,
					Provider:  latchkey.ProviderAPIKey,
					APIKeyID:  k.ID,
					CreatedAt: now,
					ExpiresAt: now.Add(time.Hour),
				})
				if code := latchkey.ErrorCode(err); code != "" && code != latchkey.ENotFound {
					t.Errorf("CreateSession: %v", err)
				}
			})
		}
		wg.Go(func() {
			if err := stores[1].SetAPIKeyDisabled(ctx, u.ID, k.ID, true); err != nil {
				t.Errorf("SetAPIKeyDisabled: %v", err)
			}
		})
		wg.Wait()

		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE api_key_id = $1`, k.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("round %d: %d sessions of the disabled key are left", round, n)
		}
	}
}

// Serialization failures and deadlocks make the store run the whole transaction again; other
// errors do not. The failures are injected by a trigger that raises a given SQLSTATE code on
// the first few inserts into api_keys, counting them in a sequence, which rollbacks leave
// alone.
func TestRetry(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := MustOpen(t, url)
	u := MustCreateUser(t, s)
	conn := MustConnect(t, url)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, `
		CREATE TABLE inject (code TEXT NOT NULL, failures INT NOT NULL);
		INSERT INTO inject VALUES ('00000', 0);
		CREATE SEQUENCE inject_calls;
		CREATE FUNCTION inject_failure() RETURNS trigger LANGUAGE plpgsql AS $$
		DECLARE
			c TEXT;
			n INT;
		BEGIN
			SELECT code, failures INTO c, n FROM inject;
			IF nextval('inject_calls') <= n THEN
				RAISE EXCEPTION 'injected failure' USING ERRCODE = c;
			END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER inject_failure BEFORE INSERT ON api_keys
			FOR EACH ROW EXECUTE FUNCTION inject_failure();
	`); err != nil {
		t.Fatal(err)
	}

	// inject makes the next failures inserts fail with code and returns a function that
	// reports how many inserts were tried.
	inject := func(t *testing.T, code string, failures int) (calls func() int) {
		t.Helper()
		if _, err := conn.Exec(ctx, `UPDATE inject SET code = $1, failures = $2`, code, failures); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `SELECT setval('inject_calls', 1, false)`); err != nil {
			t.Fatal(err)
		}
		return func() int {
			var n int
			if err := conn.QueryRow(ctx, `SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM inject_calls`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
	}

	for _, tt := range []struct {
		name     string
		code     string
		failures int
		wantErr  bool
		calls    int
	}{
		{name: "SerializationFailure", code: "40001", failures: 2, calls: 3},
		{name: "Deadlock", code: "40P01", failures: 3, calls: 4},
		{name: "GivesUp", code: "40001", failures: 1000, wantErr: true, calls: 5},
		{name: "NotRetried", code: "23514", failures: 1, wantErr: true, calls: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			calls := inject(t, tt.code, tt.failures)
			err := s.CreateAPIKey(ctx, NewAPIKey(u, tt.name), latchkey.MaxAPIKeysPerUser)
			if got := calls(); got != tt.calls {
				t.Errorf("inserts tried = %d, want %d", got, tt.calls)
			}
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("CreateAPIKey: %v", err)
				}
				return
			}
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != tt.code {
				t.Fatalf("CreateAPIKey: %v, want the injected PostgreSQL error %s", err, tt.code)
			}
			if got, want := latchkey.ErrorCode(err), latchkey.EInternal; got != want {
				t.Fatalf("error code = %q, want %q", got, want)
			}
		})
	}
}

// A statement that runs longer than the statement timeout is cancelled by the server.
func TestConfig_StatementTimeout(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s, err := postgres.Open(context.Background(), postgres.Config{URL: url, StatementTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conn := MustConnect(t, url)
	ctx := context.Background()

	// Hold the user's row so that CreateAPIKey waits for it past its timeout.
	u := MustCreateUser(t, s)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, u.ID); err != nil {
		t.Fatal(err)
	}
	err = s.CreateAPIKey(ctx, NewAPIKey(u, "k"), latchkey.MaxAPIKeysPerUser)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "57014" { // query_canceled
		t.Fatalf("CreateAPIKey: %v, want a statement timeout", err)
	}
}
