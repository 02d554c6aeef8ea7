package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/latchkey/latchkey"
)

// This file holds the pool: its configuration, the wait for the database at start, taking a
// connection when the server is full, and running statements under the statement timeout.

// poolConfig reads the URL's pool settings and lets cfg's set fields override them.
func poolConfig(cfg Config) (*pgxpool.Config, error) {
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse config: %w", err)
	}
	// pgxpool fills in its defaults for what the URL lacks; the raw parameters tell them
	// apart.
	raw, err := pgconn.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse config: %w", err)
	}
	inURL := func(name string) bool { _, ok := raw.RuntimeParams[name]; return ok }

	switch {
	case cfg.MaxConns > 0:
		pc.MaxConns = cfg.MaxConns
	case !inURL("pool_max_conns"):
		pc.MaxConns = DefaultMaxConns
	}
	if cfg.MinConns > 0 {
		pc.MinConns = cfg.MinConns
	}
	pc.MinConns = min(pc.MinConns, pc.MaxConns)
	if cfg.MaxConnLifetime > 0 {
		pc.MaxConnLifetime = cfg.MaxConnLifetime
	}
	if cfg.MaxConnIdleTime > 0 {
		pc.MaxConnIdleTime = cfg.MaxConnIdleTime
	}
	if cfg.ConnectTimeout > 0 {
		pc.ConnConfig.ConnectTimeout = cfg.ConnectTimeout
	} else if pc.ConnConfig.ConnectTimeout <= 0 {
		pc.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}

	if ms := timeoutMillis(cfg.StatementTimeout); ms != "" && !cfg.PgBouncer {
		// Straight to PostgreSQL, a connection keeps its settings: set the timeout once when
		// it opens, so that a single statement needs nothing sent before it. Through PgBouncer
		// a setting would stay on a server connection that other clients then get, so there
		// each statement and transaction sets its own (Store.query, Store.inTx).
		pc.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
			_, err := conn.Exec(ctx, "SET statement_timeout = "+ms)
			return err
		}
	}
	if cfg.PgBouncer {
		switch mode := raw.RuntimeParams["default_query_exec_mode"]; mode {
		case "":
			pc.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeCacheDescribe
		case "cache_statement", "describe_exec":
			// cache_statement keeps named prepared statements on a server connection that the
			// next transaction may not get; describe_exec binds the unnamed statement in a
			// second round trip, which may reach another server connection.
			return nil, fmt.Errorf("postgres: default_query_exec_mode=%s is not safe through PgBouncer's transaction pooling: use cache_describe, exec or simple_protocol", mode)
		}
	}
	return pc, nil
}

// Pauses between tries of the first connection: doubling from the first to the last.
const (
	firstConnectPause = 250 * time.Millisecond
	lastConnectPause  = 5 * time.Second
)

// waitForDatabase pings the database until it answers, for up to wait, logging each failed
// try. It gives up at once on what waiting cannot mend: bad credentials or a missing
// database.
func waitForDatabase(ctx context.Context, pool *pgxpool.Pool, wait time.Duration, logger *slog.Logger) error {
	deadline := time.Now().Add(wait)
	pause := firstConnectPause
	for try := 1; ; try++ {
		err := pool.Ping(ctx)
		if err == nil {
			if try > 1 {
				logger.Info("database reachable", "tries", try)
			}
			return nil
		}
		code := pgCode(err)
		if strings.HasPrefix(code, "28") || code == "3D000" || ctx.Err() != nil {
			return fmt.Errorf("postgres: connect: %w", err)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("postgres: connect: no database after %d tries in %v: %w", try, wait, err)
		}
		pause = min(pause, left)
		logger.Warn("database not reachable; trying again", "try", try, "retry_in", pause.String(), "err", err)
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("postgres: connect: %w", errors.Join(err, ctx.Err()))
		case <-t.C:
		}
		pause = min(2*pause, lastConnectPause)
	}
}

// errAcquireTimeout is the cause of an acquire's context ending at the acquire timeout.
var errAcquireTimeout = errors.New("no database connection within the acquire timeout")

// Pauses between tries of a new connection that the server refused as too many.
const (
	firstSlotPause = 5 * time.Millisecond
	lastSlotPause  = 200 * time.Millisecond
)

// acquire takes a connection from the pool for up to the acquire timeout. A server (or role)
// without a free connection slot refuses a new connection with SQLSTATE 53300; the pool
// then tries again after a pause, as the connections the pool holds come free, so that a
// pool larger than the server's free slots queues its callers instead of failing them.
//
// The wait is bounded by a deadline that the callers of a short time slice share
// (acquireDeadline), not by a timer of each call's own: one per statement would cost every
// token check and key login a timer and a context. A caller whose own deadline comes first
// gets a timer of its own, so that no call waits past its deadline. A shared deadline does
// not see the caller's cancellation: a caller that gives up while it waits (a client gone)
// gets its answer when a connection comes free or the timeout ends, never a connection.
func (s *Store) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	wait, shared := s.deadlines.get(ctx, s.acquireTimeout)
	if !shared {
		var cancel context.CancelFunc
		wait, cancel = context.WithTimeoutCause(ctx, s.acquireTimeout, errAcquireTimeout)
		defer cancel()
	}
	pause := firstSlotPause
	for {
		conn, err := s.pool.Acquire(wait)
		if err == nil {
			if err := ctx.Err(); err != nil {
				conn.Release()
				return nil, err
			}
			return conn, nil
		}
		if context.Cause(wait) == errAcquireTimeout {
			return nil, fmt.Errorf("postgres: %w after %v: %w",
				latchkey.Errorf(latchkey.EServiceUnavailable, "the database is busy; try again later"), s.acquireTimeout, err)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if pgCode(err) != codeTooManyConnections || wait.Err() != nil {
			return nil, err
		}
		t := time.NewTimer(pause/2 + rand.N(pause/2+1))
		select {
		case <-wait.Done():
			t.Stop()
		case <-t.C:
		}
		pause = min(2*pause, lastSlotPause)
	}
}

// acquireDeadline hands out the shared deadline of acquire: a context that ends with
// errAcquireTimeout between the acquire timeout and a tenth more after any call that gets
// it. A new one is made at most once per tenth of the timeout; each ends by itself. The zero
// value is ready for use.
type acquireDeadline struct {
	mu  sync.Mutex
	cur atomic.Pointer[sharedDeadline]
}

// sharedDeadline is one slice's context, handed out until renewAt.
type sharedDeadline struct {
	ctx     context.Context
	renewAt time.Time
}

// get returns the shared deadline for a call with ctx to wait up to timeout, and true; or
// false when ctx ends before it: the call needs a timer of its own.
func (d *acquireDeadline) get(ctx context.Context, timeout time.Duration) (context.Context, bool) {
	now := time.Now()
	c := d.cur.Load()
	if c == nil || !now.Before(c.renewAt) {
		c = d.renew(now, timeout)
	}
	if end, ok := ctx.Deadline(); ok {
		if shared, _ := c.ctx.Deadline(); end.Before(shared) {
			return nil, false
		}
	}
	return c.ctx, true
}

// renew makes the next slice's context, unless another caller has just made it.
func (d *acquireDeadline) renew(now time.Time, timeout time.Duration) *sharedDeadline {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c := d.cur.Load(); c != nil && now.Before(c.renewAt) {
		return c
	}
	slice := timeout / 10
	ctx, cancel := context.WithDeadlineCause(context.Background(), now.Add(timeout+slice), errAcquireTimeout)
	_ = cancel // never called early: the slice's waiters share it until its deadline ends it
	c := &sharedDeadline{ctx: ctx, renewAt: now.Add(slice)}
	d.cur.Store(c)
	return c
}

// exec runs one statement, in its own implicit transaction, under the statement timeout.
func (s *Store) exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	rows, err := s.query(ctx, sql, args...)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	rows.Close()
	return rows.CommandTag(), rows.Err()
}

// query runs one statement under the statement timeout. The statement and the set_config
// before it go in one round trip and one implicit transaction, so that the setting lasts for
// this statement only, also through PgBouncer. The rows hold the connection until closed.
func (s *Store) query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	conn, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	if s.setTimeout == "" {
		rows, err := conn.Query(ctx, sql, args...)
		if err != nil {
			conn.Release()
			return nil, err
		}
		return &connRows{Rows: rows, release: conn.Release}, nil
	}
	var b pgx.Batch
	b.Queue(s.setTimeout)
	b.Queue(sql, args...)
	br := conn.SendBatch(ctx, &b)
	release := func() {
		br.Close()
		conn.Release()
	}
	if _, err := br.Exec(); err != nil {
		release()
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		if rows != nil {
			rows.Close()
		}
		release()
		return nil, err
	}
	return &connRows{Rows: rows, release: release}, nil
}

// queryRow is query for a statement that returns at most one row. As with pgx's QueryRow,
// the error waits for Scan, and Scan returns pgx.ErrNoRows for no row.
func (s *Store) queryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := s.query(ctx, sql, args...)
	return &row{rows: rows, err: err}
}

// connRows are rows that give their connection back to the pool when closed.
type connRows struct {
	pgx.Rows
	release func()
	closed  bool
}

// Close closes the rows and releases the connection; closing again does nothing.
func (r *connRows) Close() {
	r.Rows.Close()
	if !r.closed {
		r.closed = true
		r.release()
	}
}

// row is the pgx.Row of queryRow.
type row struct {
	rows pgx.Rows
	err  error
}

// Scan scans the first row into dest and closes the rows.
func (r *row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}

// timeoutMillis is a statement timeout in whole milliseconds, rounded up (0 ms would turn
// the timeout off), or "" for none.
func timeoutMillis(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return strconv.FormatInt(int64((d+time.Millisecond-1)/time.Millisecond), 10)
}
