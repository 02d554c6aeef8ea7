package postgres

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/latchkey/latchkey"
)

// auditColumns are the columns scanAuditEvent reads, in its order.
const auditColumns = `id, time, app_id, event, outcome, actor_type, actor_id, subject_type,
	subject_id, ip, user_agent, request_id, details`

// CreateAuditEvents inserts the events in one transaction, sent as one batch; an empty batch
// does nothing. Errors: EConflict when an id is taken.
func (s *Store) CreateAuditEvents(ctx context.Context, events []*latchkey.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	return s.inTx(ctx, "create audit events", func(tx pgx.Tx) error {
		var b pgx.Batch
		for _, e := range events {
			details, err := encodeDetails(e.Details)
			if err != nil {
				return err
			}
			b.Queue(`INSERT INTO audit_events (`+auditColumns+`)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
				e.ID, dbTime(e.Time), nullString(e.AppID), e.Event, e.Outcome, e.ActorType, e.ActorID,
				e.SubjectType, e.SubjectID, e.IP, e.UserAgent, e.RequestID, details)
		}
		return insertErr(tx.SendBatch(ctx, &b).Close(), "audit event", nil)
	})
}

// FindAuditEvents returns the events that match the filter, newest (highest id) first.
func (s *Store) FindAuditEvents(ctx context.Context, filter latchkey.AuditFilter) ([]*latchkey.AuditEvent, error) {
	query, args := findAuditEventsQuery(filter)
	rows, err := s.query(ctx, query, args...)
	events, err := scanAll(rows, err, scanAuditEvent)
	return events, wrap("find audit events", err)
}

// findAuditEventsQuery returns FindAuditEvents' statement and its arguments.
func findAuditEventsQuery(filter latchkey.AuditFilter) (string, []any) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if filter.AppID != "" {
		where = append(where, "app_id = "+arg(filter.AppID))
	}
	if filter.UserID != "" {
		where = append(where, "(actor_id = "+arg(filter.UserID)+" OR subject_id = "+arg(filter.UserID)+")")
	}
	if filter.Event != "" {
		where = append(where, "event = "+arg(filter.Event))
	}
	if filter.RequestID != "" {
		where = append(where, "request_id = "+arg(filter.RequestID))
	}
	if !filter.From.IsZero() {
		where = append(where, "time >= "+arg(dbTime(filter.From)))
	}
	if !filter.To.IsZero() {
		where = append(where, "time < "+arg(dbTime(filter.To)))
	}
	if filter.Before != "" {
		where = append(where, "id < "+arg(filter.Before))
	}
	query := `SELECT ` + auditColumns + ` FROM audit_events`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY id DESC`
	if filter.Limit > 0 {
		query += ` LIMIT ` + arg(filter.Limit)
	}
	return query, args
}

// DeleteAuditEventsBefore deletes the events older than t and returns how many.
func (s *Store) DeleteAuditEventsBefore(ctx context.Context, t time.Time) (int64, error) {
	return s.execCount(ctx, "delete audit events", `DELETE FROM audit_events WHERE time < $1`, dbTime(t))
}

// DeleteAuditEventsBeyond deletes the events older (by id) than the newest keep and returns
// how many.
func (s *Store) DeleteAuditEventsBeyond(ctx context.Context, keep int64) (int64, error) {
	// The subquery names the newest event that goes: none when there are keep or fewer.
	return s.execCount(ctx, "delete audit events", `DELETE FROM audit_events
		WHERE id <= (SELECT id FROM audit_events ORDER BY id DESC LIMIT 1 OFFSET $1)`, keep)
}

// scanAuditEvent reads one row of auditColumns.
func scanAuditEvent(row rowScanner) (*latchkey.AuditEvent, error) {
	var (
		e       latchkey.AuditEvent
		appID   *string
		details []byte
	)
	if err := row.Scan(&e.ID, &e.Time, &appID, &e.Event, &e.Outcome, &e.ActorType, &e.ActorID,
		&e.SubjectType, &e.SubjectID, &e.IP, &e.UserAgent, &e.RequestID, &details); err != nil {
		return nil, err
	}
	e.Time = e.Time.UTC()
	e.AppID = deref(appID)
	if details != nil {
		if err := json.Unmarshal(details, &e.Details); err != nil {
			return nil, err
		}
	}
	if len(e.Details) == 0 {
		e.Details = nil
	}
	return &e, nil
}

// encodeDetails encodes an event's details for the JSONB column: SQL NULL, not JSON null,
// when there are none.
func encodeDetails(details map[string]string) (*string, error) {
	if len(details) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(details)
	if err != nil {
		return nil, err
	}
	js := string(b)
	return &js, nil
}
