// Package postgres implements latchkey.Store on PostgreSQL with pgx.
//
// It uses pgx's native pool (pgxpool) rather than database/sql: the native pool returns typed
// driver errors (*pgconn.PgError, with the SQLSTATE code and the constraint name) that the
// store translates into domain errors without reading message text, it exposes pool statistics
// (Stat), and it keeps the database/sql layer off the hot path.
//
// The schema lives in migrations/*.sql, embedded in the binary. Open applies the missing ones
// in order, one transaction per file, under an advisory lock so that several nodes starting at
// once migrate safely.
package postgres

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/dbval"
	"github.com/latchkey/latchkey/internal/storeerr"
)

var _ latchkey.Store = (*Store)(nil)

//go:embed migrations/*.sql
var migrations embed.FS

// Defaults of Config's zero values, and of the latchkey command's flags.
const (
	DefaultMaxConns         = 10
	DefaultStatementTimeout = 5 * time.Second
	DefaultConnectTimeout   = 10 * time.Second
	DefaultAcquireTimeout   = 5 * time.Second
	DefaultWaitForDatabase  = 60 * time.Second
)

// Config configures a Store. The pool settings that pgx reads from the URL (pool_max_conns,
// pool_min_conns, pool_max_conn_lifetime, pool_max_conn_idle_time, pool_health_check_period,
// connect_timeout, default_query_exec_mode) apply unless the field that overrides them is set.
type Config struct {
	// URL is a PostgreSQL connection string, e.g.
	// postgres://user:pass@host:5432/db?sslmode=disable.
	URL string
	// MaxConns caps the pool; zero means the URL's pool_max_conns, else DefaultMaxConns.
	MaxConns int32
	// MinConns is how many idle connections the pool keeps open; zero means the URL's
	// pool_min_conns, else none.
	MinConns int32
	// MaxConnLifetime closes a connection this long after it opened, so that a node's
	// connections move to a database or PgBouncer that was added or failed over; zero means
	// the URL's pool_max_conn_lifetime, else pgx's hour.
	MaxConnLifetime time.Duration
	// MaxConnIdleTime closes a connection idle this long; zero means the URL's
	// pool_max_conn_idle_time, else pgx's 30 minutes.
	MaxConnIdleTime time.Duration
	// AcquireTimeout bounds how long an operation waits for a connection: for one of the
	// pool's to come free, and for the server to have a free slot when it answers "too many
	// connections". Past it (and at most a tenth more: the waits of a short time slice share
	// one deadline) the operation fails with EServiceUnavailable. Zero means
	// DefaultAcquireTimeout.
	AcquireTimeout time.Duration
	// StatementTimeout is set as statement_timeout at the start of each transaction (SET
	// LOCAL) and for each statement outside one, so that a stuck query or lock wait fails
	// instead of holding a connection forever. It is never a connection parameter, so it
	// also holds through PgBouncer's transaction pooling. Zero sets none: the database's or
	// role's own statement_timeout applies.
	StatementTimeout time.Duration
	// ConnectTimeout bounds each connection attempt; zero means the URL's connect_timeout,
	// else DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// WaitForDatabase is how long Open keeps trying the first connection while the database
	// is unreachable, starting or full, with a growing pause between tries; zero tries once.
	WaitForDatabase time.Duration
	// PgBouncer says that URL leads to PgBouncer in transaction pooling mode, which gives
	// each transaction whichever server connection is free. Named prepared statements do not
	// survive that, so the pool runs pgx's cache_describe mode (unnamed statements, one round
	// trip each) unless the URL's default_query_exec_mode picks exec or simple_protocol; a
	// mode that is unsafe there (cache_statement, describe_exec) is refused.
	PgBouncer bool
	// Logger receives a line for each failed try of the first connection; nil logs nothing.
	Logger *slog.Logger
}

// Store is a latchkey.Store on PostgreSQL. It is safe for concurrent use, also by several
// processes over one database.
type Store struct {
	pool           *pgxpool.Pool
	acquireTimeout time.Duration
	deadlines      acquireDeadline
	// beginQuery starts a transaction and sets its statement timeout in one round trip;
	// setTimeout sets it for the implicit transaction of a single statement, through
	// PgBouncer only (otherwise each connection has it from its start). Both are "" without
	// a statement timeout.
	beginQuery, setTimeout string
	// probe is the readiness check's own connection (health.go).
	probe *probeConn
}

// Open connects to the database, waiting for it up to cfg.WaitForDatabase, and applies the
// missing migrations.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	pc, err := poolConfig(cfg)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := waitForDatabase(ctx, pool, cfg.WaitForDatabase, logger); err != nil {
		pool.Close()
		return nil, err
	}
	s := &Store{pool: pool, acquireTimeout: cfg.AcquireTimeout}
	if s.acquireTimeout <= 0 {
		s.acquireTimeout = DefaultAcquireTimeout
	}
	if ms := timeoutMillis(cfg.StatementTimeout); ms != "" {
		s.beginQuery = "BEGIN; SET LOCAL statement_timeout = " + ms
		if cfg.PgBouncer {
			// Without PgBouncer the connection already has it (poolConfig).
			s.setTimeout = "SELECT set_config('statement_timeout', '" + ms + "', true)"
		}
	}
	s.probe = newProbeConn(pool.Config().ConnConfig)
	if err := s.Migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the pool, waiting for the connections in use to be released.
func (s *Store) Close() error {
	s.probe.close()
	s.pool.Close()
	return nil
}

// Stat returns the pool's statistics, for metrics.
func (s *Store) Stat() *pgxpool.Stat {
	return s.pool.Stat()
}

// migrationLockKey is the advisory lock that serializes migrations across nodes: "latchkey"
// in ASCII.
const migrationLockKey int64 = 0x6c617463686b6579

// Migrate applies the embedded migrations that the database lacks, in file name order, each
// in its own transaction, and records each in schema_migrations.
func (s *Store) Migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	for _, name := range names { // fs.Glob sorts
		body, err := fs.ReadFile(migrations, name)
		if err != nil {
			return fmt.Errorf("postgres: migrate: %w", err)
		}
		version := strings.TrimSuffix(path.Base(name), ".sql")
		if err := s.inTx(ctx, "migrate "+version, func(tx pgx.Tx) error {
			return migrate(ctx, tx, version, string(body))
		}); err != nil {
			return err
		}
	}
	return nil
}

// migrate applies one migration unless it is recorded as applied. The transaction-level
// advisory lock makes the check and the apply one step across nodes, and is released by the
// commit or rollback.
func migrate(ctx context.Context, tx pgx.Tx, version, body string) error {
	// A migration, or waiting for another node's, may outlast the per-statement timeout; ctx
	// still bounds it.
	if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLockKey); err != nil {
		return err
	}
	// Created under the lock: concurrent CREATE TABLE IF NOT EXISTS can fail.
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    TEXT        PRIMARY KEY,
		applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
	)`); err != nil {
		return err
	}
	var applied bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, version).Scan(&applied); err != nil {
		return err
	}
	if applied {
		return nil
	}
	if _, err := tx.Exec(ctx, body); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, version)
	return err
}

// SQLSTATE codes the store acts on.
const (
	codeUniqueViolation      = "23505"
	codeForeignKeyViolation  = "23503"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeTooManyConnections   = "53300"
	codeAdminShutdown        = "57P01"
	codeCrashShutdown        = "57P02"
	codeCannotConnectNow     = "57P03"
)

// Retries of a transaction that failed with a transient error.
const (
	maxAttempts  = 5
	retryBackoff = 10 * time.Millisecond
)

// inTx runs fn in a transaction and commits it, running the whole transaction again when it
// fails with a serialization failure or a deadlock. Errors that are not domain errors come
// back wrapped with the operation's name.
func (s *Store) inTx(ctx context.Context, op string, fn func(tx pgx.Tx) error) error {
	return s.retry(ctx, op, func() error {
		conn, err := s.acquire(ctx)
		if err != nil {
			return err
		}
		defer conn.Release()
		tx, err := conn.BeginTx(ctx, pgx.TxOptions{BeginQuery: s.beginQuery})
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx) // after Commit, a no-op
		if err := fn(tx); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
}

// inTxValue is inTx for a transaction that returns a value: fn's, once committed.
func inTxValue[T any](ctx context.Context, s *Store, op string, fn func(tx pgx.Tx) (T, error)) (T, error) {
	var v T
	err := s.inTx(ctx, op, func(tx pgx.Tx) error {
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

// retry calls fn until it succeeds, fails with a non-transient error or has been tried
// maxAttempts times, sleeping a growing, jittered interval between attempts. fn must be a
// whole transaction (or a single statement), so that running it again is safe.
func (s *Store) retry(ctx context.Context, op string, fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil {
			return nil
		}
		if !isRetryable(err) {
			return wrap(op, err)
		}
		if attempt == maxAttempts {
			return fmt.Errorf("postgres: %s: giving up after %d attempts: %w", op, attempt, err)
		}
		d := retryBackoff << (attempt - 1)
		d = d/2 + rand.N(d/2+1) // jitter, so that the transactions that collided part ways
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("postgres: %s: %w", op, errors.Join(err, ctx.Err()))
		case <-t.C:
		}
	}
}

// isRetryable reports whether err is a transient failure after which the whole transaction
// may succeed when run again.
func isRetryable(err error) bool {
	code := pgCode(err)
	return code == codeSerializationFailure || code == codeDeadlockDetected
}

// pgCode returns the SQLSTATE code of a PostgreSQL error in err's chain, or "".
func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// violation returns the name of the constraint that err violated when err is a PostgreSQL
// error with the given SQLSTATE code, and ok false otherwise.
func violation(err error, code string) (constraint string, ok bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == code {
		return pgErr.ConstraintName, true
	}
	return "", false
}

// wrap names the operation in err unless err is a domain error, which goes to the caller as
// it is. A database that cannot be reached becomes latchkey.StoreUnavailable.
func wrap(op string, err error) error {
	var e *latchkey.Error
	if err == nil || errors.As(err, &e) {
		return err
	}
	err = fmt.Errorf("postgres: %s: %w", op, err)
	if isUnavailable(err) {
		return latchkey.StoreUnavailable(err)
	}
	return err
}

// isUnavailable reports whether err says that the database cannot be reached: a connection
// that could not be opened (refused, timed out, or the server starting up or shutting down),
// a connection lost under a query, or a server ending its sessions (SQLSTATE class 08,
// 57P01-57P03). A cancelled or timed-out context is the caller's business, not an outage.
func isUnavailable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if code := pgCode(err); code != "" {
		return strings.HasPrefix(code, "08") || code == codeAdminShutdown || code == codeCrashShutdown ||
			code == codeCannotConnectNow
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE)
}

// dbTime returns t as the store keeps it: UTC, truncated to milliseconds (dbval.Time).
func dbTime(t time.Time) time.Time { return dbval.Time(t) }

// dbTimePtr is dbTime for optional times.
func dbTimePtr(t *time.Time) *time.Time { return dbval.TimePtr(t) }

// nullString maps "" to NULL.
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// nullBytes maps an empty byte slice to NULL (dbval.NullBytes).
func nullBytes(b []byte) []byte { return dbval.NullBytes(b) }

// list returns l, or an empty list for nil: the TEXT[] columns are NOT NULL, and pgx would
// write a nil slice as NULL.
func list(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// jsonList returns l as the JSON text of an array of strings, "[]" for nil, for a JSONB
// column. The statement casts it ($n::jsonb): a Go slice would be written as a PostgreSQL
// array literal ('{a,b}', which JSONB reads as an object or rejects) in pgx's exec and
// simple_protocol modes, and a string is written the same in every mode.
func jsonList(l []string) string { return dbval.JSONList(l) }

// listColumn is the scan destination of a JSONB list of strings (scopes): it sets
// the list it points to, nil for an empty list or NULL, as lists come back from every store.
// Most rows hold the empty list, which it knows without decoding JSON, a cost every token
// check and key login would pay for otherwise.
type listColumn struct{ list *[]string }

// ScanBytes implements pgtype.BytesScanner: b is the JSON text, unwrapped from JSONB's binary
// format, or nil for NULL.
func (c listColumn) ScanBytes(b []byte) error {
	if b == nil || string(b) == "[]" {
		*c.list = nil
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return err
	}
	*c.list = nilIfEmpty(l)
	return nil
}

// nilIfEmpty returns nil for an empty list, as lists come back from every store.
func nilIfEmpty(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}

// utcPtr returns an optional time in UTC.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// rowScanner is what pgx.Row and pgx.Rows share.
type rowScanner interface {
	Scan(dest ...any) error
}

// rowThen is a row whose leading columns go to the destinations that Scan is given and the
// others to rest, so that a scan function of one table reads its part of a joined row.
type rowThen struct {
	rows pgx.Rows
	rest []any
}

// Scan scans the row into dest, then rest.
func (r rowThen) Scan(dest ...any) error {
	return r.rows.Scan(append(dest, r.rest...)...)
}

// execOne runs a statement alone that changes one row; none is notFound's error.
func (s *Store) execOne(ctx context.Context, op string, notFound func() error, query string, args ...any) error {
	return s.retry(ctx, op, func() error {
		return execRow(ctx, timedExec{s}, notFound, query, args...)
	})
}

// execCount runs a statement alone and returns how many rows it changed.
func (s *Store) execCount(ctx context.Context, op, query string, args ...any) (int64, error) {
	var n int64
	err := s.retry(ctx, op, func() error {
		tag, err := s.exec(ctx, query, args...)
		n = tag.RowsAffected()
		return err
	})
	return n, err
}

// execInsert runs an INSERT alone, its error translated by insertErr.
func (s *Store) execInsert(ctx context.Context, op, what string, missing func() error, query string, args ...any) error {
	return s.retry(ctx, op, func() error {
		_, err := s.exec(ctx, query, args...)
		return insertErr(err, what, missing)
	})
}

// execer is a pool or a transaction, for the writes that run alone or in a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// timedExec is the Store as an execer: each statement alone, under the statement timeout
// and the pool's acquire rules (Store.exec).
type timedExec struct{ s *Store }

func (t timedExec) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return t.s.exec(ctx, sql, args...)
}

// execRow runs a statement on db that changes one row; none is notFound's error.
func execRow(ctx context.Context, db execer, notFound func() error, query string, args ...any) error {
	tag, err := db.Exec(ctx, query, args...)
	if err != nil {
		return err
	} else if tag.RowsAffected() == 0 {
		return notFound()
	}
	return nil
}

// insertErr translates an INSERT's error: a taken primary key is storeerr.Taken(what), and
// a reference to a row that does not exist is missing's error, when missing is not nil.
// Only for a table whose one unique constraint is its primary key.
func insertErr(err error, what string, missing func() error) error {
	if _, ok := violation(err, codeUniqueViolation); ok {
		return storeerr.Taken(what)
	} else if _, ok := violation(err, codeForeignKeyViolation); ok && missing != nil {
		return missing()
	}
	return err
}

// noRow returns notFound's error when err says that a query found no row, else err.
func noRow(err error, notFound func() error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound()
	}
	return err
}

// scanAll reads every row of a query with scan, and closes the rows. No rows is an empty
// list, not nil.
func scanAll[T any](rows pgx.Rows, err error, scan func(rowScanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()

	list := []T{}
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
