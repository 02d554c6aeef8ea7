package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// auditColumns are the columns scanAuditEvent reads, in its order.
const auditColumns = `id, time, app_id, event, outcome, actor_type, actor_id, subject_type,
	subject_id, ip, user_agent, request_id, details`

// CreateAuditEvents inserts the events in one transaction, with one prepared statement; an
// empty batch does nothing. Errors: EConflict when an id is taken.
func (s *Store) CreateAuditEvents(ctx context.Context, events []*latchkey.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	return s.inTx(ctx, "create audit events", func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO audit_events (`+auditColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, e := range events {
			details, err := encodeDetails(e.Details)
			if err != nil {
				return err
			}
			if _, err := stmt.ExecContext(ctx, e.ID, millis(e.Time), nullString(e.AppID), e.Event, e.Outcome, e.ActorType, e.ActorID,
				e.SubjectType, e.SubjectID, e.IP, e.UserAgent, e.RequestID, details); err != nil {
				return insertErr(err, "audit event", nil)
			}
		}
		return nil
	})
}

// FindAuditEvents returns the events that match the filter, newest (highest id) first.
func (s *Store) FindAuditEvents(ctx context.Context, filter latchkey.AuditFilter) ([]*latchkey.AuditEvent, error) {
	query, args := findAuditEventsQuery(filter)
	rows, err := s.read.QueryContext(ctx, query, args...)
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
		return "?"
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
		where = append(where, "time >= "+arg(millis(filter.From)))
	}
	if !filter.To.IsZero() {
		where = append(where, "time < "+arg(millis(filter.To)))
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
	return s.execCount(ctx, "delete audit events", `DELETE FROM audit_events WHERE time < ?`, millis(t))
}

// DeleteAuditEventsBeyond deletes the events older (by id) than the newest keep and returns
// how many.
func (s *Store) DeleteAuditEventsBeyond(ctx context.Context, keep int64) (int64, error) {
	// The subquery names the newest event that goes: none when there are keep or fewer.
	return s.execCount(ctx, "delete audit events", `DELETE FROM audit_events
		WHERE id <= (SELECT id FROM audit_events ORDER BY id DESC LIMIT 1 OFFSET ?)`, keep)
}

// scanAuditEvent reads one row of auditColumns.
func scanAuditEvent(row rowScanner) (*latchkey.AuditEvent, error) {
	var (
		e       latchkey.AuditEvent
		at      int64
		appID   sql.NullString
		details sql.NullString
	)
	if err := row.Scan(&e.ID, &at, &appID, &e.Event, &e.Outcome, &e.ActorType, &e.ActorID,
		&e.SubjectType, &e.SubjectID, &e.IP, &e.UserAgent, &e.RequestID, &details); err != nil {
		return nil, err
	}
	e.Time = fromMillis(at)
	e.AppID = appID.String
	if details.Valid {
		if err := json.Unmarshal([]byte(details.String), &e.Details); err != nil {
			return nil, err
		}
	}
	if len(e.Details) == 0 {
		e.Details = nil
	}
	return &e, nil
}

// encodeDetails encodes an event's details as the column holds them: a JSON object, or NULL
// when there are none.
func encodeDetails(details map[string]string) (sql.NullString, error) {
	if len(details) == 0 {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(details)
	return sql.NullString{String: string(b), Valid: true}, err
}
