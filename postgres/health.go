package postgres

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/latchkey/latchkey"
)

var (
	_ latchkey.ReadyChecker = (*Store)(nil)
	_ latchkey.PoolStatser  = (*Store)(nil)
)

// CheckReady reports whether the database answers and every embedded migration is recorded
// as applied. It asks on a connection of its own, outside the pool: a pool whose every
// connection is busy serving requests is up, and a readiness probe that queued behind them
// would take the node out of rotation for being loaded.
func (s *Store) CheckReady(ctx context.Context) (err error) {
	conn, err := s.probe.acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: ready: %w", err)
	}
	// A connection that failed a check is not trusted with the next one.
	defer func() { s.probe.release(err != nil) }()
	rows, err := conn.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("postgres: read migrations: %w", err)
	}
	defer rows.Close()
	applied := map[string]bool{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return fmt.Errorf("postgres: read migrations: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: read migrations: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	for _, name := range names {
		if v := strings.TrimSuffix(path.Base(name), ".sql"); !applied[v] {
			return fmt.Errorf("postgres: migration %s is not applied", v)
		}
	}
	return nil
}

// probeConn is the readiness check's connection: one, opened when first needed and again
// after a failure, and used by one check at a time.
type probeConn struct {
	cfg    *pgx.ConnConfig
	sem    chan struct{} // holds the right to use conn and closed
	conn   *pgx.Conn
	closed bool
}

func newProbeConn(cfg *pgx.ConnConfig) *probeConn {
	return &probeConn{cfg: cfg, sem: make(chan struct{}, 1)}
}

// acquire returns the connection, opening it if needed; release gives it back, closing it
// when it failed.
func (p *probeConn) acquire(ctx context.Context) (*pgx.Conn, error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if p.closed {
		<-p.sem
		return nil, errors.New("store closed")
	}
	if p.conn != nil && p.conn.IsClosed() {
		p.conn = nil
	}
	if p.conn == nil {
		conn, err := pgx.ConnectConfig(ctx, p.cfg)
		if err != nil {
			<-p.sem
			return nil, err
		}
		p.conn = conn
	}
	return p.conn, nil
}

func (p *probeConn) release(failed bool) {
	if failed && p.conn != nil {
		p.closeConn()
	}
	<-p.sem
}

// closeConn closes the connection, without waiting long on a server that is gone.
func (p *probeConn) closeConn() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	p.conn.Close(ctx)
	p.conn = nil
}

// close closes the connection, waiting for a check that uses it; checks after it fail.
func (p *probeConn) close() {
	p.sem <- struct{}{}
	p.closed = true
	if p.conn != nil {
		p.closeConn()
	}
	<-p.sem
}

// PoolStats reports the connection pool as "main".
func (s *Store) PoolStats() map[string]latchkey.PoolStats {
	st := s.pool.Stat()
	return map[string]latchkey.PoolStats{"main": {
		MaxOpen:      int(st.MaxConns()),
		Open:         int(st.TotalConns()),
		InUse:        int(st.AcquiredConns()),
		Idle:         int(st.IdleConns()),
		WaitCount:    st.EmptyAcquireCount(),
		WaitDuration: st.EmptyAcquireWaitTime(),
	}}
}
