package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// This file holds what the commands check of a SQLite database before they open it: that
// the file is there (for every command but serve and migrate, which make it), and that no
// other serve uses it. With PostgreSQL none of this applies.

// sqliteFile is the SQLite file that open opens: --database as a path or sqlite: URL, else
// <data>/latchkey.db. It is "" for PostgreSQL.
func (c *dbConfig) sqliteFile() string {
	if c.isPostgres() {
		return ""
	}
	path := strings.TrimPrefix(strings.TrimPrefix(c.Database, "sqlite:"), "//")
	if path == "" {
		path = filepath.Join(c.DataDir, "latchkey.db")
	}
	return path
}

// requireDatabase refuses a SQLite database that does not exist, so that a typo in --data
// (./latchkey-dat) is an error instead of a new, empty database that the server never sees.
func (c *dbConfig) requireDatabase() error {
	path := c.sqliteFile()
	if path == "" {
		return nil
	}
	_, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && c.Database == "":
		return fmt.Errorf("no Latchkey database in %s: check --data (latchkey serve or latchkey migrate makes one)", c.DataDir)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("no Latchkey database at %s: check --database (latchkey serve or latchkey migrate makes one)", path)
	case err != nil:
		return fmt.Errorf("database: %w", err)
	}
	return nil
}

// dataLock is the lock of a SQLite database, held for the life of a serve.
type dataLock struct {
	f *os.File
}

// lockDataDir takes the exclusive lock of the SQLite database, so that a second serve on the
// same data refuses to start instead of sharing the file with the first. The lock is an
// advisory lock on a file beside the database named after it: <data>/latchkey.lock for
// <data>/latchkey.db. The kernel lets go of it when the process ends, however it ends. The
// commands that only read or write a few rows (admin create-user) do not take it: they may
// run beside the server. It returns nil, nil for PostgreSQL.
func (c *dbConfig) lockDataDir() (*dataLock, error) {
	path := c.sqliteFile()
	if path == "" {
		return nil, nil
	}
	lockPath := strings.TrimSuffix(path, filepath.Ext(path)) + ".lock"
	using, flag := path, "--database"
	if c.Database == "" {
		using, flag = c.DataDir, "--data"
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	if err := tryLock(f); errors.Is(err, errLocked) {
		b, _ := os.ReadFile(lockPath)
		f.Close()
		holder := ""
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			holder = fmt.Sprintf(" (pid %d)", pid)
		}
		return nil, fmt.Errorf("another latchkey serve is using %s%s; stop it or use another %s", using, holder, flag)
	} else if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", lockPath, err)
	}
	// The pid is for the message above; the lock itself is what counts.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dataLock{f: f}, nil
}

// release lets another serve take the lock.
func (l *dataLock) release() {
	if l != nil {
		l.f.Close()
	}
}
