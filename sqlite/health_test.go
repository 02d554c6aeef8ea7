package sqlite_test

import (
	"path/filepath"
	"testing"
)

func TestCheckReady(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		s := MustOpen(t, filepath.Join(t.TempDir(), "data", "latchkey.db"))
		if err := s.CheckReady(t.Context()); err != nil {
			t.Fatalf("CheckReady: %v", err)
		}
	})

	t.Run("ErrMigrationMissing", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "data", "latchkey.db")
		s := MustOpen(t, path)
		if _, err := rawDB(t, path).Exec(`DELETE FROM schema_migrations WHERE version = '0003_key_controls'`); err != nil {
			t.Fatal(err)
		}
		if err := s.CheckReady(t.Context()); err == nil {
			t.Fatal("CheckReady with a migration unrecorded = nil, want an error")
		}
	})

	t.Run("ErrClosed", func(t *testing.T) {
		s := MustOpen(t, filepath.Join(t.TempDir(), "data", "latchkey.db"))
		s.Close()
		if err := s.CheckReady(t.Context()); err == nil {
			t.Fatal("CheckReady after Close = nil, want an error")
		}
	})
}
