package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/latchkey/latchkey"
)

var (
	_ latchkey.ReadyChecker = (*Store)(nil)
	_ latchkey.PoolStatser  = (*Store)(nil)
)

// CheckReady reports whether both pools reach the database and every embedded migration is
// recorded as applied.
func (s *Store) CheckReady(ctx context.Context) error {
	if err := s.write.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: write pool: %w", err)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("sqlite: read migrations: %w", err)
	}
	defer rows.Close()
	applied := map[string]bool{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return fmt.Errorf("sqlite: read migrations: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: read migrations: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	for _, name := range names {
		if v := strings.TrimSuffix(filepath.Base(name), ".sql"); !applied[v] {
			return fmt.Errorf("sqlite: migration %s is not applied", v)
		}
	}
	return nil
}

// PoolStats reports the write and the read pool.
func (s *Store) PoolStats() map[string]latchkey.PoolStats {
	return map[string]latchkey.PoolStats{"write": poolStats(s.write.Stats()), "read": poolStats(s.read.Stats())}
}

func poolStats(st sql.DBStats) latchkey.PoolStats {
	return latchkey.PoolStats{
		MaxOpen: st.MaxOpenConnections, Open: st.OpenConnections, InUse: st.InUse, Idle: st.Idle,
		WaitCount: st.WaitCount, WaitDuration: st.WaitDuration,
	}
}
