package service

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/latchkey/latchkey"
)

var _ latchkey.AuditService = (*Audit)(nil)

// Audit reads the audit log for an admin.
type Audit struct{ *core }

// auditor writes audit events in batches from one goroutine, so that recording a login does
// not add a transaction of its own to the login. A batch that fails to write (the database
// restarting or failing over) is kept and written again, with a growing pause between tries,
// while new events keep queueing behind it: an acknowledged change does not lose its event to
// a database blip. Memory is bounded: past maxPending unwritten events, new ones are dropped,
// logged and counted (Service.AuditBacklog). Events still unwritten when the process ends are
// lost: close gives them closeTimeout.
type auditor struct {
	store  latchkey.Store
	logger *slog.Logger
	queue  chan auditItem
	done   chan struct{}
	once   sync.Once

	maxPending         int
	retryMin, retryMax time.Duration
	closeTimeout       time.Duration
	pendingNow         atomic.Int64 // events taken from the queue and not yet written
	dropped            atomic.Int64 // events dropped over maxPending or at close
}

// auditItem is an event to write, or (with flushed set) a request to report when every
// event queued before it is written.
type auditItem struct {
	event   *latchkey.AuditEvent
	flushed chan struct{}
}

// auditWaiter is a flush request: it is answered once written reaches upTo.
type auditWaiter struct {
	upTo    int64
	flushed chan struct{}
}

const (
	auditQueueLen = 4096
	auditBatchLen = 256
	// auditLinger is how long a batch waits for more events after its first, so that a busy
	// server writes (and syncs) the audit log a few dozen times a second rather than once per
	// login, and leaves the store's writer to the requests waiting on it.
	auditLinger = 50 * time.Millisecond
	// auditMaxPending bounds the events held while the database is away: about 100 MB at
	// worst, minutes of a busy server's logins.
	auditMaxPending = 200_000
	// auditRetryMin and auditRetryMax bound the pause between tries of a failed batch.
	auditRetryMin = 100 * time.Millisecond
	auditRetryMax = 5 * time.Second
	// auditCloseTimeout is how long shutdown waits for events that cannot be written yet.
	auditCloseTimeout = 10 * time.Second
)

func newAuditor(store latchkey.Store, logger *slog.Logger) *auditor {
	a := &auditor{store: store, logger: logger, queue: make(chan auditItem, auditQueueLen), done: make(chan struct{}),
		maxPending: auditMaxPending, retryMin: auditRetryMin, retryMax: auditRetryMax, closeTimeout: auditCloseTimeout}
	go a.run()
	return a
}

// auditRun is the writer's state: the events taken from the queue and not yet written,
// oldest first, and the flush requests waiting on them.
type auditRun struct {
	*auditor
	pending        []*latchkey.AuditEvent
	added, written int64
	waiters        []auditWaiter
	closed         bool
}

func (a *auditor) run() {
	defer close(a.done)
	r := &auditRun{auditor: a}
	linger := time.NewTimer(auditLinger)
	linger.Stop()
	backoff := time.Duration(0)
	var giveUp <-chan time.Time // set once the queue is closed
	for {
		if len(r.pending) == 0 {
			if r.closed {
				return
			}
			item, ok := <-a.queue
			if !r.take(item, ok) || len(r.pending) == 0 {
				continue
			}
			// Gather what else comes within auditLinger into the same transaction; a flush
			// request or a full batch writes at once.
			linger.Reset(auditLinger)
		gather:
			for len(r.pending) < auditBatchLen && len(r.waiters) == 0 && !r.closed {
				select {
				case item, ok := <-a.queue:
					r.take(item, ok)
				case <-linger.C:
					break gather
				}
			}
			linger.Stop()
		}
		r.drain()
		if r.closed && giveUp == nil {
			giveUp = time.After(a.closeTimeout)
		}
		err := r.writeBatch()
		if err == nil {
			backoff = 0
			continue
		}
		backoff = min(max(2*backoff, a.retryMin), a.retryMax)
		a.logger.Warn("write audit events; will retry", "pending", len(r.pending), "retry_in", backoff, "err", err)
		// Wait before the next try, still taking events in, so that callers do not wait on
		// the database.
		pause := time.NewTimer(backoff)
	wait:
		for {
			queue := a.queue
			if r.closed {
				queue = nil
			}
			select {
			case item, ok := <-queue:
				r.take(item, ok)
				if r.closed && giveUp == nil {
					giveUp = time.After(a.closeTimeout)
				}
			case <-pause.C:
				break wait
			case <-giveUp:
				pause.Stop()
				a.dropped.Add(int64(len(r.pending)))
				a.logger.Error("audit events lost: the database did not come back before shutdown", "count", len(r.pending))
				r.pending = nil
				a.pendingNow.Store(0)
				for _, w := range r.waiters {
					close(w.flushed)
				}
				return
			}
		}
	}
}

// take adds an item from the queue, or notes that the queue was closed (ok false). It reports
// whether an event or a flush request was taken.
func (r *auditRun) take(item auditItem, ok bool) bool {
	if !ok {
		r.closed = true
		return false
	}
	if item.flushed != nil {
		if r.written >= r.added {
			close(item.flushed)
		} else {
			r.waiters = append(r.waiters, auditWaiter{upTo: r.added, flushed: item.flushed})
		}
		return true
	}
	if len(r.pending) >= r.maxPending {
		if r.dropped.Add(1) == 1 || r.dropped.Load()%1000 == 0 {
			r.logger.Error("audit events dropped: too many wait for the database", "pending", len(r.pending), "dropped", r.dropped.Load())
		}
		return true
	}
	r.pending = append(r.pending, item.event)
	r.added++
	r.pendingNow.Store(int64(len(r.pending)))
	return true
}

// drain takes what is queued without waiting.
func (r *auditRun) drain() {
	for !r.closed {
		select {
		case item, ok := <-r.queue:
			r.take(item, ok)
		default:
			return
		}
	}
}

// writeBatch writes the oldest pending events, up to a batch, and answers the flush requests
// that this satisfies.
func (r *auditRun) writeBatch() error {
	n := min(len(r.pending), auditBatchLen)
	if n == 0 {
		return nil
	}
	// The request that caused an event may be gone; the event must still be written.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.store.CreateAuditEvents(ctx, r.pending[:n]); err != nil {
		return err
	}
	clear(r.pending[:n])
	r.pending = r.pending[n:]
	if len(r.pending) == 0 {
		r.pending = nil // let a grown backlog's array go
	}
	r.pendingNow.Store(int64(len(r.pending)))
	r.written += int64(n)
	kept := r.waiters[:0]
	for _, w := range r.waiters {
		if w.upTo <= r.written {
			close(w.flushed)
		} else {
			kept = append(kept, w)
		}
	}
	r.waiters = kept
	return nil
}

// record queues an event.
func (a *auditor) record(e *latchkey.AuditEvent) {
	a.queue <- auditItem{event: e}
}

// flush waits until every event recorded before it is written.
func (a *auditor) flush(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case a.queue <- auditItem{flushed: done}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close writes what is queued, giving a database that is away closeTimeout to come back,
// and stops the writer.
func (a *auditor) close() {
	a.once.Do(func() { close(a.queue) })
	<-a.done
}

// audit records an event about the app, with the caller and the request taken from ctx.
func (s *core) audit(ctx context.Context, app *latchkey.App, event string, err error, subjectType, subjectID string, details map[string]string) {
	now := s.now()
	meta := latchkey.RequestMetaFromContext(ctx)
	e := &latchkey.AuditEvent{
		ID: latchkey.NewID(now), Time: now, Event: event, Outcome: latchkey.OutcomeSuccess,
		ActorType: latchkey.ActorAnonymous, SubjectType: subjectType, SubjectID: subjectID,
		IP: meta.IP, UserAgent: meta.UserAgent, RequestID: meta.RequestID, Details: details,
	}
	if app != nil {
		e.AppID = app.ID
	}
	if auth := latchkey.AuthFromContext(ctx); auth != nil && auth.User != nil {
		e.ActorType, e.ActorID = latchkey.ActorUser, auth.User.ID
	} else if admin := latchkey.AdminFromContext(ctx); admin != nil {
		e.ActorType, e.ActorID = latchkey.ActorAdmin, admin.Admin.ID
	} else if meta.RequestID == "" {
		// Not from a request: the server itself, e.g. bootstrapping the first admin.
		e.ActorType = latchkey.ActorSystem
	}
	if err != nil {
		e.Outcome = latchkey.OutcomeFailure
		if e.Details == nil {
			e.Details = map[string]string{}
		}
		e.Details["error"] = latchkey.ErrorCode(err)
	}
	sanitizeEvent(e)
	s.observer.ObserveEvent(e)
	s.auditor.record(e)
}

// AuditBacklog reports the audit events waiting to be written (they grow while the database
// is away) and how many were dropped in all, past the bound on waiting events or at shutdown.
func (s *Service) AuditBacklog() (pending int, dropped int64) {
	return int(s.auditor.pendingNow.Load()), s.auditor.dropped.Load()
}

// FlushAudit waits until every audit event recorded so far is written.
func (s *Service) FlushAudit(ctx context.Context) error { return s.auditor.flush(ctx) }

// FindAuditEvents queries the audit log for an admin.
func (s *Audit) FindAuditEvents(ctx context.Context, filter latchkey.AuditFilter) ([]*latchkey.AuditEvent, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	if filter.AppID != "" {
		app, err := s.adminApp(ctx, filter.AppID)
		if err != nil {
			return nil, err
		}
		filter.AppID = app.ID
	}
	if filter.Limit <= 0 {
		filter.Limit = 100
	}
	filter.Limit = min(filter.Limit, 1000)
	if filter.Before != "" && !latchkey.IsID(filter.Before) {
		return nil, latchkey.Errorf(latchkey.EBadRequest, "invalid paging cursor")
	}
	if err := s.auditor.flush(ctx); err != nil {
		return nil, err
	}
	return s.store.FindAuditEvents(ctx, filter)
}

// DeleteOldAuditEvents applies the audit retention: events older than retention go.
func (s *Service) DeleteOldAuditEvents(ctx context.Context, retention time.Duration) (int64, error) {
	return s.store.DeleteAuditEventsBefore(ctx, s.now().Add(-retention))
}

// DeleteExcessAuditEvents applies the audit log's size bound: beyond the newest max events,
// the oldest go, so that a flood of failed logins cannot grow the table without end within
// the retention. max 0 keeps every event.
func (s *Service) DeleteExcessAuditEvents(ctx context.Context, max int64) (int64, error) {
	if max <= 0 {
		return 0, nil
	}
	// Events still queued count too: write them first.
	if err := s.auditor.flush(ctx); err != nil {
		return 0, err
	}
	return s.store.DeleteAuditEventsBeyond(ctx, max)
}
