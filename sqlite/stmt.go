package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// readQueries and writeQueries are the hot queries, those of every login and token check,
// prepared once per pool when the store opens (stmt.go).
var (
	readQueries = []string{findAppByClientIDQuery, findAPIKeyByHashQuery, findAPIKeyAndUserQuery,
		findAPIKeysQuery, findSessionQuery, findSessionAndUserQuery, findUserByIDQuery,
		findUserByEmailQuery, findUserByIdentityQuery}
	writeQueries = []string{insertSessionQuery, insertKeySessionQuery, touchAPIKeyQuery, takeRateTokenQuery}
)

// stmtCache keeps the prepared statements of one pool's hot queries, so that they are parsed
// once per connection instead of on every call: in the key-login CPU profile, SQLite's parser
// took about 15%. database/sql prepares a *sql.Stmt on each connection that runs it and keeps
// it there. The statements are prepared when the store opens, not on first use: preparing
// needs a free connection of the pool, and a caller inside a transaction holds one (the write
// pool's only one), so a lazy prepare could wait forever. The map is read-only after that.
type stmtCache struct {
	db    *sql.DB
	stmts map[string]*sql.Stmt
}

// newStmtCache prepares queries on db.
func newStmtCache(ctx context.Context, db *sql.DB, queries []string) (*stmtCache, error) {
	c := &stmtCache{db: db, stmts: make(map[string]*sql.Stmt, len(queries))}
	for _, q := range queries {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("sqlite: prepare: %w", err)
		}
		c.stmts[q] = st
	}
	return c, nil
}

// QueryRowContext is the pool's QueryRowContext, through the prepared statement of query if
// there is one.
func (c *stmtCache) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st, ok := c.stmts[query]; ok {
		return st.QueryRowContext(ctx, args...)
	}
	return c.db.QueryRowContext(ctx, query, args...)
}

// QueryContext is the pool's QueryContext, through the prepared statement of query if there
// is one.
func (c *stmtCache) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st, ok := c.stmts[query]; ok {
		return st.QueryContext(ctx, args...)
	}
	return c.db.QueryContext(ctx, query, args...)
}

// ExecContext is the pool's ExecContext, through the prepared statement of query if there is
// one.
func (c *stmtCache) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st, ok := c.stmts[query]; ok {
		return st.ExecContext(ctx, args...)
	}
	return c.db.ExecContext(ctx, query, args...)
}

// Tx returns a statement of query for tx, on tx's connection: the prepared one, or one
// prepared for this transaction only.
func (c *stmtCache) Tx(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	if st, ok := c.stmts[query]; ok {
		return tx.StmtContext(ctx, st), nil
	}
	return tx.PrepareContext(ctx, query)
}

// Close closes the statements; call it before closing the pool. A second call does nothing.
func (c *stmtCache) Close() error {
	var errs []error
	for q, st := range c.stmts {
		errs = append(errs, st.Close())
		delete(c.stmts, q)
	}
	return errors.Join(errs...)
}
