package service

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
)

// auditor writes audit events in batches from one goroutine, so that recording a login does
// not add a transaction of its own to the login. A full queue makes callers wait: events are
// never dropped.
type auditor struct {
	store  latchkey.Store
	logger *slog.Logger
	queue  chan auditItem
	done   chan struct{}
	once   sync.Once
}

// auditItem is an event to write, or (with flushed set) a request to report when every
// event queued before it is written.
type auditItem struct {
	event   *latchkey.AuditEvent
	flushed chan struct{}
}

const (
	auditQueueLen = 4096
	auditBatchLen = 256
	// auditLinger is how long a batch waits for more events after its first, so that a busy
	// server writes (and syncs) the audit log a few dozen times a second rather than once per
	// login, and leaves the store's writer to the requests waiting on it.
	auditLinger = 50 * time.Millisecond
)

func newAuditor(store latchkey.Store, logger *slog.Logger) *auditor {
	a := &auditor{store: store, logger: logger, queue: make(chan auditItem, auditQueueLen), done: make(chan struct{})}
	go a.run()
	return a
}

func (a *auditor) run() {
	defer close(a.done)
	batch := make([]*latchkey.AuditEvent, 0, auditBatchLen)
	var waiting []chan struct{}
	linger := time.NewTimer(auditLinger)
	linger.Stop()
	for item := range a.queue {
		batch, waiting = a.add(batch, waiting, item)
		// Gather what else comes within auditLinger into the same transaction; a flush
		// request or a full batch writes at once.
		linger.Reset(auditLinger)
	gather:
		for len(batch) < auditBatchLen && len(waiting) == 0 {
			select {
			case item, ok := <-a.queue:
				if !ok {
					break gather
				}
				batch, waiting = a.add(batch, waiting, item)
			case <-linger.C:
				break gather
			}
		}
		linger.Stop()
		a.write(batch)
		batch = batch[:0]
		for _, w := range waiting {
			close(w)
		}
		waiting = waiting[:0]
	}
}

func (a *auditor) add(batch []*latchkey.AuditEvent, waiting []chan struct{}, item auditItem) ([]*latchkey.AuditEvent, []chan struct{}) {
	if item.flushed != nil {
		return batch, append(waiting, item.flushed)
	}
	return append(batch, item.event), waiting
}

func (a *auditor) write(batch []*latchkey.AuditEvent) {
	if len(batch) == 0 {
		return
	}
	// The request that caused an event may be gone; the event must still be written.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.store.CreateAuditEvents(ctx, batch); err != nil {
		a.logger.Error("write audit events", "count", len(batch), "err", err)
	}
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

// close writes what is queued and stops the writer.
func (a *auditor) close() {
	a.once.Do(func() { close(a.queue) })
	<-a.done
}

// audit records an event about the app, with the caller and the request taken from ctx.
func (s *Service) audit(ctx context.Context, app *latchkey.App, event string, err error, subjectType, subjectID string, details map[string]string) {
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

// FlushAudit waits until every audit event recorded so far is written.
func (s *Service) FlushAudit(ctx context.Context) error { return s.auditor.flush(ctx) }

// FindAuditEvents queries the audit log for an admin.
func (s *Service) FindAuditEvents(ctx context.Context, filter latchkey.AuditFilter) ([]*latchkey.AuditEvent, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	if filter.AppID != "" {
		app, err := s.AdminFindApp(ctx, filter.AppID)
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
