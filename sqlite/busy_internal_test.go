package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// TestBusyIsUnavailable holds the database's write lock from another connection, as another
// process would, past the store's busy timeout: the store's write fails as the database
// unavailable (503 with Retry-After), not as an internal error, and succeeds once the lock is
// let go.
func TestBusyIsUnavailable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "latchkey.db")
	s, err := open(t.Context(), path, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}

	app := &latchkey.App{ID: latchkey.NewID(time.Now()), ClientAppID: "busy-app", Name: "busy", CreatedAt: time.Now(),
		PasswordMinLength: 8, RefreshTokenLifetime: latchkey.DefaultRefreshTokenLifetime, KeyPrefix: "lk"}
	err = s.CreateApp(t.Context(), app)
	if code := latchkey.ErrorCode(err); code != latchkey.EStoreUnavailable {
		t.Fatalf("CreateApp under another's write lock = %v (%s), want %s", err, code, latchkey.EStoreUnavailable)
	}

	if _, err := conn.ExecContext(t.Context(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if err := s.CreateApp(t.Context(), app); err != nil {
		t.Fatalf("CreateApp after the lock is let go: %v", err)
	}
}
