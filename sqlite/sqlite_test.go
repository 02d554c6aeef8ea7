package sqlite_test

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/storetest"
	"github.com/latchkey/latchkey/sqlite"
	_ "modernc.org/sqlite" // the raw connections that inspect the file
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) latchkey.Store {
		return MustOpen(t, filepath.Join(t.TempDir(), "data", "latchkey.db"))
	})
}

func TestOpen(t *testing.T) {
	t.Run("CreatesParentDirectory", func(t *testing.T) {
		MustOpen(t, filepath.Join(t.TempDir(), "a", "b", "latchkey.db"))
	})

	t.Run("ErrNotAFile", func(t *testing.T) {
		for _, path := range []string{"", ":memory:", "file:x.db", filepath.Join(t.TempDir(), "x.db?mode=ro")} {
			if s, err := sqlite.Open(t.Context(), path); err == nil {
				s.Close()
				t.Errorf("Open(%q) succeeded, want an error", path)
			}
		}
	})

	t.Run("PrivateFiles", func(t *testing.T) {
		// The usual umask, which left the files readable by everyone before.
		defer syscall.Umask(syscall.Umask(0o022))
		dir := filepath.Join(t.TempDir(), "data")
		path := filepath.Join(dir, "latchkey.db")
		s := MustOpen(t, path)
		if err := s.CreateApp(t.Context(), &latchkey.App{ID: latchkey.NewID(time.Now()), ClientAppID: "modes", Name: "modes",
			RefreshTokenLifetime: time.Hour, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600, path + "-wal": 0o600, path + "-shm": 0o600} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != want {
				t.Errorf("mode of %s = %04o, want %04o", filepath.Base(p), got, want)
			}
		}
	})

	t.Run("ErrReadableByOthers", func(t *testing.T) {
		open := func(t *testing.T, path string) error {
			t.Helper()
			s, err := sqlite.Open(t.Context(), path)
			if err == nil {
				s.Close()
			}
			return err
		}
		dir := filepath.Join(t.TempDir(), "data")
		path := filepath.Join(dir, "latchkey.db")
		MustOpen(t, path).Close()

		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		err := open(t, path)
		if want := "run chmod 700 " + dir; err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("open with the directory 0755: err = %v, want one saying %q", err, want)
		}
		if err := os.Chmod(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o640); err != nil {
			t.Fatal(err)
		}
		err = open(t, path)
		if want := "run chmod 600 " + path; err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("open with the file 0640: err = %v, want one saying %q", err, want)
		}
		if err := os.Chmod(path, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := open(t, path); err != nil {
			t.Fatalf("open after the fix: %v", err)
		}
	})

	t.Run("WAL", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "data", "latchkey.db")
		MustOpen(t, path)
		var mode string
		if err := rawDB(t, path).QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		} else if mode != "wal" {
			t.Fatalf("journal_mode = %q, want wal", mode)
		}
	})
}

func TestMigrate(t *testing.T) {
	t.Run("Idempotent", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "data", "latchkey.db")
		s := MustOpen(t, path)
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		want := migrationVersions(t, path)
		if len(want) == 0 || want[0] != "0001_init" {
			t.Fatalf("recorded versions = %v, want 0001_init first", want)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}

		// Opening again migrates again, which must apply nothing twice.
		MustOpen(t, path)
		if got := migrationVersions(t, path); !slices.Equal(got, want) {
			t.Fatalf("versions after reopen = %v, want %v", got, want)
		}
	})
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "latchkey.db")
	s := MustOpen(t, path)
	app, u, k := populate(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = MustOpen(t, path)
	if got, err := s.FindAppByClientID(t.Context(), app.ClientAppID); err != nil {
		t.Fatal(err)
	} else if got.ID != app.ID {
		t.Fatalf("after reopen got app %s, want %s", got.ID, app.ID)
	}
	if got, err := s.FindUserByEmail(t.Context(), app.ID, u.Email); err != nil {
		t.Fatal(err)
	} else if got.ID != u.ID || len(got.Identities) != 1 {
		t.Fatalf("after reopen got user %s with %d identities, want %s with 1", got.ID, len(got.Identities), u.ID)
	}
	if _, err := s.FindAPIKeyByHash(t.Context(), app.ID, k.Hash); err != nil {
		t.Fatal(err)
	}
}

func TestIntegrityCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "latchkey.db")
	s := MustOpen(t, path)
	for range 5 {
		populate(t, s)
	}
	_, u, k := populate(t, s)
	if err := s.DeleteAPIKey(t.Context(), u.ID, k.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(t.Context(), u.AppID, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	db := rawDB(t, path)
	var result string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&result); err != nil {
		t.Fatal(err)
	} else if result != "ok" {
		t.Fatalf("integrity_check = %q, want ok", result)
	}
	rows, err := db.Query(`PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if rows.Next() {
		t.Fatal("foreign_key_check reports violations")
	} else if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// MustOpen opens the store at path and closes it when the test ends.
func MustOpen(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	// Close may run twice when a test closes the store itself; the pools allow that.
	t.Cleanup(func() { s.Close() })
	return s
}

// rawDB opens the file directly, bypassing the store, to inspect it.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// migrationVersions returns the recorded migrations in order.
func migrationVersions(t *testing.T, path string) []string {
	t.Helper()
	rows, err := rawDB(t, path).Query(`SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var versions []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return versions
}

// populate stores an app with an email user, an API key, a session of the key and a token.
func populate(t *testing.T, s *sqlite.Store) (*latchkey.App, *latchkey.User, *latchkey.APIKey) {
	t.Helper()
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	id := latchkey.NewID(now)
	app := &latchkey.App{
		ID: id, ClientAppID: "app-" + id, Name: "App", APIKeyEnabled: true,
		KeyPrefix: latchkey.DefaultKeyPrefix, RefreshTokenLifetime: latchkey.DefaultRefreshTokenLifetime,
		AllowedOrigins: []string{"https://a.example"}, CreatedAt: now,
	}
	u := &latchkey.User{
		ID: latchkey.NewID(now), AppID: app.ID, Type: latchkey.UserTypeNormal,
		Email: "ada@example.com", PasswordHash: "hash", CreatedAt: now,
	}
	u.Identities = []*latchkey.Identity{{
		ID: latchkey.NewID(now), UserID: u.ID, ProviderType: latchkey.ProviderUserpass,
		ProviderID: u.Email, CreatedAt: now,
	}}
	k := &latchkey.APIKey{
		ID: latchkey.NewID(now), AppID: app.ID, UserID: u.ID, Name: "ci",
		Hash: []byte(fmt.Sprintf("hash-%s", id)), CreatedAt: now,
	}
	sess := &latchkey.Session{
		ID: latchkey.NewID(now), AppID: app.ID, UserID: u.ID, DeviceID: latchkey.ZeroID,
		Provider: latchkey.ProviderAPIKey, APIKeyID: k.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour),
		KeyHash: k.Hash,
	}
	tok := &latchkey.UserToken{
		ID: latchkey.NewID(now), UserID: u.ID, Kind: latchkey.UserTokenConfirm,
		Hash: []byte("token-hash"), CreatedAt: now, ExpiresAt: now.Add(time.Hour),
	}
	if err := s.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAPIKey(ctx, k, latchkey.MaxAPIKeysPerUser); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUserToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	return app, u, k
}
