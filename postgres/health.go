package postgres

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/latchkey/latchkey"
)

var (
	_ latchkey.ReadyChecker = (*Store)(nil)
	_ latchkey.PoolStatser  = (*Store)(nil)
)

// CheckReady reports whether the database answers and every embedded migration is recorded
// as applied.
func (s *Store) CheckReady(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, `SELECT version FROM schema_migrations`)
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
