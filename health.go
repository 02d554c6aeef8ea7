package latchkey

import (
	"context"
	"time"
)

// ReadyChecker reports whether a component can serve: for a store, that the database answers
// and every migration the binary knows has been applied. Both stores implement it.
type ReadyChecker interface {
	// CheckReady returns nil when ready, else an error saying what is wrong. Its text is
	// for logs: it may name hosts, never credentials.
	CheckReady(ctx context.Context) error
}

// PoolStats are the statistics of one database connection pool.
type PoolStats struct {
	MaxOpen      int           // the pool's cap on connections
	Open         int           // connections open, in use or idle
	InUse        int           // connections in use
	Idle         int           // connections idle
	WaitCount    int64         // acquisitions that had to wait for a connection, in all
	WaitDuration time.Duration // time spent waiting for connections, in all
}

// PoolStatser is implemented by stores that can report their connection pools, by name
// (SQLite has a "read" and a "write" pool, PostgreSQL one "main" pool).
type PoolStatser interface {
	PoolStats() map[string]PoolStats
}
