// Package sqlite implements latchkey.Store on SQLite with the pure-Go driver modernc.org/sqlite,
// so that the binary needs no C toolchain and the data is one file.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/dbval"
	"github.com/latchkey/latchkey/internal/storeerr"
	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var _ latchkey.Store = (*Store)(nil)

//go:embed migrations/*.sql
var migrationFS embed.FS

// pragmas apply to every connection of both pools. synchronous(FULL) makes each commit fsync
// the WAL, so an acknowledged write survives kill -9 and power loss; busy_timeout (added by
// open) covers other processes (such as the CLI) holding the write lock.
const pragmas = "_pragma=journal_mode(WAL)" +
	"&_pragma=synchronous(FULL)" +
	"&_pragma=foreign_keys(ON)"

// Store is a latchkey.Store on one SQLite database file.
//
// It holds two pools over the file. Every method that writes uses the write pool: a single
// connection whose transactions begin IMMEDIATE, so writers queue in Go instead of failing
// with SQLITE_BUSY when a read lock cannot be upgraded, and a read-then-write inside one
// transaction (such as CreateAPIKey's count and insert) is atomic. Pure reads use the read
// pool, which WAL lets run alongside the writer.
type Store struct {
	write *sql.DB
	read  *sql.DB
	// readStmts and writeStmts hold the hot queries' prepared statements (stmt.go).
	readStmts, writeStmts *stmtCache
	// group batches the session inserts of concurrent logins into shared commits.
	group *groupWriter
}

// Open opens the database file at path, creating it and its parent directory if needed, and
// applies the pending migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	return open(ctx, path, busyTimeout)
}

// busyTimeout is how long a statement waits for a lock that another process holds before it
// fails with SQLITE_BUSY, which the store answers as the database unavailable.
const busyTimeout = 10 * time.Second

// open is Open with the busy timeout given.
func open(ctx context.Context, path string, busy time.Duration) (*Store, error) {
	params := fmt.Sprintf("_pragma=busy_timeout(%d)&", busy.Milliseconds()) + pragmas
	// The two pools must see the same database, which an in-memory one is not; the driver
	// reads everything after a '?' as its parameters, and treats a "file:" URI differently.
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.Contains(path, "?") {
		return nil, fmt.Errorf("sqlite: open: %q is not a plain file path", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	if err := prepareFile(path); err != nil {
		return nil, err
	}

	write, err := sql.Open("sqlite", path+"?"+params+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	// query_only guards against a write slipping into the read pool, where it would bypass
	// the write pool's serialization.
	read, err := sql.Open("sqlite", path+"?"+params+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	n := 2*runtime.GOMAXPROCS(0) + 2
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	read.SetConnMaxLifetime(0)
	read.SetConnMaxIdleTime(0)

	s := &Store{write: write, read: read}
	// Migrating first also switches the file to WAL before any reader connects.
	if err := s.Migrate(ctx); err != nil {
		errors.Join(read.Close(), write.Close())
		return nil, err
	}
	if s.readStmts, err = newStmtCache(ctx, read, readQueries); err != nil {
		errors.Join(read.Close(), write.Close())
		return nil, err
	}
	if s.writeStmts, err = newStmtCache(ctx, write, writeQueries); err != nil {
		errors.Join(s.readStmts.Close(), read.Close(), write.Close())
		return nil, err
	}
	s.group = newGroupWriter(write, s.writeStmts)
	// SQLite gives the -wal and -shm files the database file's mode; this covers files left
	// by an older version.
	for _, side := range []string{path + "-wal", path + "-shm"} {
		if err := os.Chmod(side, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.Close()
			return nil, fmt.Errorf("sqlite: open: %w", err)
		}
	}
	return s, nil
}

// prepareFile refuses a database file or directory that other local users may read: the
// file holds password hashes and the sealed signing keys. It creates a new file with mode
// 0600 before the driver opens it, whatever the umask, so that the driver's -wal and -shm
// files get that mode too.
func prepareFile(path string) error {
	dir := filepath.Dir(path)
	for _, p := range []string{dir, path} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return fmt.Errorf("sqlite: open: %w", err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			what, fix := "database file", "chmod 600 "
			if fi.IsDir() {
				what, fix = "data directory", "chmod 700 "
			}
			return fmt.Errorf("sqlite: open: the %s %s is accessible by group or others (mode %04o): run %s%s",
				what, p, perm, fix, p)
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("sqlite: open: %w", err)
	}
	return f.Close()
}

// Close closes both pools. The write pool closes last so that its connection, the last one
// open, checkpoints the WAL into the database file.
func (s *Store) Close() error {
	s.group.close()
	errStmts := errors.Join(s.readStmts.Close(), s.writeStmts.Close())
	errRead := s.read.Close()
	errWrite := s.write.Close()
	if err := errors.Join(errStmts, errRead, errWrite); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// Migrate applies the embedded migrations that have not been applied yet, in file name order,
// each in its own transaction together with its row in schema_migrations. Running it again
// is a no-op.
func (s *Store) Migrate(ctx context.Context) error {
	if _, err := s.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    TEXT    PRIMARY KEY,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}

	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := s.migrateFile(ctx, name); err != nil {
			return fmt.Errorf("sqlite: migrate %s: %w", name, err)
		}
	}
	return nil
}

// migrateFile applies one migration unless it is recorded. The check is inside the IMMEDIATE
// transaction so that two processes migrating at once cannot both apply it.
func (s *Store) migrateFile(ctx context.Context, name string) error {
	version := strings.TrimSuffix(filepath.Base(name), ".sql")
	body, err := fs.ReadFile(migrationFS, name)
	if err != nil {
		return err
	}

	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	var applied bool
	if err := tx.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?)`, version,
	).Scan(&applied); err != nil {
		return err
	}
	if applied {
		return nil
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		version, time.Now().UnixMilli(),
	); err != nil {
		return err
	}
	return tx.Commit()
}

// errorCode returns the extended SQLite result code of err, or 0 if err is not from SQLite.
func errorCode(err error) int {
	var e *sqlitedrv.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// isUniqueViolation reports whether err is a UNIQUE constraint failure, one on a column list
// other than the primary key.
func isUniqueViolation(err error) bool {
	return errorCode(err) == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// isPrimaryKeyViolation reports whether err is a duplicate primary key.
func isPrimaryKeyViolation(err error) bool {
	return errorCode(err) == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// isForeignKeyViolation reports whether err is a reference to a row that does not exist.
func isForeignKeyViolation(err error) bool {
	return errorCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// rowScanner is what *sql.Row and *sql.Rows share.
type rowScanner interface {
	Scan(dest ...any) error
}

// rowThen is a row whose leading columns go to the destinations that Scan is given and the
// others to rest, so that a scan function of one table reads its part of a joined row.
type rowThen struct {
	rows *sql.Rows
	rest []any
}

// Scan scans the row into dest, then rest.
func (r rowThen) Scan(dest ...any) error {
	return r.rows.Scan(append(dest, r.rest...)...)
}

// millis encodes a time as stored: unix milliseconds.
func millis(t time.Time) int64 {
	return t.UnixMilli()
}

// fromMillis decodes a stored time, in UTC so that times compare equal across backends.
func fromMillis(ms int64) time.Time {
	return time.UnixMilli(ms).UTC()
}

// nullMillis encodes an optional time: NULL for nil (dbval.NullMillis).
func nullMillis(t *time.Time) sql.NullInt64 { return dbval.NullMillis(t) }

// fromNullMillis decodes an optional time.
func fromNullMillis(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMillis(v.Int64)
	return &t
}

// nullString stores "" as NULL.
func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

// nullBytes stores an empty byte slice as NULL (dbval.NullBytes).
func nullBytes(b []byte) []byte { return dbval.NullBytes(b) }

// encodeList encodes a list of strings as the columns hold them: a JSON array, "[]" rather
// than "null" when there are none (dbval.JSONList).
func encodeList(list []string) string { return dbval.JSONList(list) }

// decodeList decodes a JSON array of strings; an empty one comes back nil.
func decodeList(s string) ([]string, error) {
	if s == "[]" {
		return nil, nil // most rows: keys and sessions without scopes
	}
	var list []string
	if err := json.Unmarshal([]byte(s), &list); err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, nil
	}
	return list, nil
}

// wrap names the operation on an unexpected error; domain errors pass unchanged so that
// callers see their code and message as they are.
func wrap(op string, err error) error {
	var e *latchkey.Error
	if err == nil || errors.As(err, &e) {
		return err
	}
	err = fmt.Errorf("sqlite: %s: %w", op, err)
	if isBusy(err) {
		// Another process held a lock past the busy timeout: the client may try again.
		return latchkey.StoreUnavailable(err)
	}
	return err
}

// isBusy reports whether err is SQLite's SQLITE_BUSY or SQLITE_LOCKED, of any extended kind.
func isBusy(err error) bool {
	switch errorCode(err) & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return true
	}
	return false
}

// inTx runs fn in a transaction on the write connection and commits it; an error of fn's or
// of the commit comes back wrapped with op. It has postgres's inTx's shape, without its
// retries: SQLite's one writer waits for the lock (busy_timeout) instead of failing.
func (s *Store) inTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap(op, err)
	}
	defer tx.Rollback() // after Commit, a no-op
	if err := fn(tx); err != nil {
		return wrap(op, err)
	}
	return wrap(op, tx.Commit())
}

// inTxValue is inTx for a transaction that returns a value: fn's, once committed.
func inTxValue[T any](ctx context.Context, s *Store, op string, fn func(tx *sql.Tx) (T, error)) (T, error) {
	var v T
	err := s.inTx(ctx, op, func(tx *sql.Tx) error {
		var err error
		v, err = fn(tx)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// execOne runs a statement alone on the write connection that changes one row; none is
// notFound's error.
func (s *Store) execOne(ctx context.Context, op string, notFound func() error, query string, args ...any) error {
	return wrap(op, execRow(ctx, s.write, notFound, query, args...))
}

// execCount runs a statement alone on the write connection and returns how many rows it
// changed.
func (s *Store) execCount(ctx context.Context, op, query string, args ...any) (int64, error) {
	res, err := s.write.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, wrap(op, err)
	}
	n, err := res.RowsAffected()
	return n, wrap(op, err)
}

// execInsert runs an INSERT alone on the write connection, its error translated by
// insertErr.
func (s *Store) execInsert(ctx context.Context, op, what string, missing func() error, query string, args ...any) error {
	_, err := s.write.ExecContext(ctx, query, args...)
	return wrap(op, insertErr(err, what, missing))
}

// execer is a *sql.DB or a *sql.Tx, for the writes that run alone or in a transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// execRow runs a statement on db that changes one row; none is notFound's error. SQLite
// counts the rows the WHERE matched, so an unchanged value still counts as found.
func execRow(ctx context.Context, db execer, notFound func() error, query string, args ...any) error {
	res, err := db.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	} else if n == 0 {
		return notFound()
	}
	return nil
}

// insertErr translates an INSERT's error: a taken primary key is storeerr.Taken(what), and
// a reference to a row that does not exist is missing's error, when missing is not nil.
func insertErr(err error, what string, missing func() error) error {
	switch {
	case isPrimaryKeyViolation(err):
		return storeerr.Taken(what)
	case missing != nil && isForeignKeyViolation(err):
		return missing()
	}
	return err
}

// noRow returns notFound's error when err says that a query found no row, else err.
func noRow(err error, notFound func() error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return notFound()
	}
	return err
}

// scanAll reads every row of a query with scan, and closes the rows.
func scanAll[T any](rows *sql.Rows, err error, scan func(rowScanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()

	var list []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return list, nil
}
