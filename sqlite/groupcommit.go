package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	sqlite3 "modernc.org/sqlite/lib"
)

// maxGroup bounds how many statements one group commit carries.
const maxGroup = 128

// errClosed answers the writes that arrive after Close.
var errClosed = errors.New("store is closed")

// groupWriter runs single-statement writes that come in at the same time in one transaction
// on the write pool, so that they share one commit. With synchronous=FULL every commit is an
// fsync and the one writer connection makes commits queue: in the key-login profile, logins
// waited on each other's fsync, with a core idle. Each write is still its own statement with
// its own result, and its caller is answered only after the commit, so a write the server has
// answered is as durable as before. A statement that violates a constraint fails alone:
// SQLite then undoes that statement, not the transaction.
type groupWriter struct {
	db    *sql.DB
	stmts *stmtCache
	queue chan *groupWrite // unbuffered: a write is queued only while its caller waits
	quit  chan struct{}
	done  chan struct{}
}

type groupWrite struct {
	ctx   context.Context
	query string
	args  []any
	// dest, when set, receives the one row the statement returns (RETURNING); no row is
	// sql.ErrNoRows, the statement's own failure.
	dest  []any
	rows  int64
	err   error
	ready chan struct{}
}

func newGroupWriter(db *sql.DB, stmts *stmtCache) *groupWriter {
	w := &groupWriter{db: db, stmts: stmts, queue: make(chan *groupWrite), quit: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w
}

// exec runs query in the next group commit and returns the rows it changed.
func (w *groupWriter) exec(ctx context.Context, query string, args ...any) (int64, error) {
	return w.write(&groupWrite{ctx: ctx, query: query, args: args, ready: make(chan struct{})})
}

// queryRow runs query, a write that returns one row, in the next group commit and scans the
// row into dest once the commit is done.
func (w *groupWriter) queryRow(ctx context.Context, dest []any, query string, args ...any) error {
	_, err := w.write(&groupWrite{ctx: ctx, query: query, args: args, dest: dest, ready: make(chan struct{})})
	return err
}

func (w *groupWriter) write(gw *groupWrite) (int64, error) {
	ctx := gw.ctx
	select {
	case w.queue <- gw:
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-w.quit:
		return 0, errClosed
	}
	<-gw.ready
	return gw.rows, gw.err
}

func (w *groupWriter) run() {
	defer close(w.done)
	group := make([]*groupWrite, 0, maxGroup)
	for {
		select {
		case gw := <-w.queue:
			group = append(group[:0], gw)
		case <-w.quit:
			return
		}
	more:
		for len(group) < maxGroup {
			select {
			case gw := <-w.queue:
				group = append(group, gw)
			default:
				break more
			}
		}
		w.commit(group)
		for _, gw := range group {
			close(gw.ready)
		}
	}
}

// commit runs the group in one transaction. When the transaction as a whole fails, every
// write in it fails: none of them was committed.
func (w *groupWriter) commit(group []*groupWrite) {
	// The callers' contexts end each statement; the transaction has its own bound.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fail := func(err error) {
		for _, gw := range group {
			if gw.err == nil {
				gw.rows, gw.err = 0, err
			}
		}
	}
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		fail(err)
		return
	}
	defer tx.Rollback()
	for _, gw := range group {
		if gw.err = gw.ctx.Err(); gw.err != nil {
			continue
		}
		// Not the caller's context: interrupting a write rolls back the whole transaction.
		st, err := w.stmts.Tx(ctx, tx, gw.query)
		if err != nil {
			gw.err = err
			continue
		}
		if gw.dest != nil {
			err := st.QueryRowContext(ctx, gw.args...).Scan(gw.dest...)
			if err != nil && !errors.Is(err, sql.ErrNoRows) && errorCode(err)&0xff != sqlite3.SQLITE_CONSTRAINT {
				gw.err = err
				fail(err)
				return
			}
			gw.err = err
			continue
		}
		res, err := st.ExecContext(ctx, gw.args...)
		if err != nil {
			gw.err = err
			if errorCode(err)&0xff != sqlite3.SQLITE_CONSTRAINT {
				// Not a statement-level failure: the transaction may be gone.
				fail(err)
				return
			}
			continue
		}
		gw.rows, gw.err = res.RowsAffected()
	}
	if err := tx.Commit(); err != nil {
		fail(err)
	}
}

// close stops the writer; writes after it fail with errClosed.
func (w *groupWriter) close() {
	select {
	case <-w.quit:
	default:
		close(w.quit)
	}
	<-w.done
}
