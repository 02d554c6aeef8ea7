package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/storeerr"
)

// auditColumns are the columns scanAuditEvent reads, in its order.
const auditColumns = `id, time, app_id, event, outcome, actor_type, actor_id, subject_type,
	subject_id, ip, user_agent, request_id, details`

// CreateAuditEvents inserts the events in one transaction; an empty batch does nothing.
// Errors: EConflict when an id is taken.
func (s *Store) CreateAuditEvents(ctx context.Context, events []*latchkey.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap("create audit events", err)
	}
	defer tx.Rollback()

	stmt, err := tx.PrepareContext(ctx, `INSERT INTO audit_events (`+auditColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return wrap("create audit events", err)
	}
	defer stmt.Close()
	for _, e := range events {
		details, err := encodeDetails(e.Details)
		if err != nil {
			return wrap("create audit events", err)
		}
		_, err = stmt.ExecContext(ctx, e.ID, millis(e.Time), nullString(e.AppID), e.Event, e.Outcome,
			e.ActorType, e.ActorID, e.SubjectType, e.SubjectID, e.IP, e.UserAgent, e.RequestID, details)
		if isPrimaryKeyViolation(err) {
			return storeerr.Taken("audit event")
		} else if err != nil {
			return wrap("create audit events", err)
		}
	}
	return wrap("create audit events", tx.Commit())
}

// FindAuditEvents returns the events that match the filter, newest (highest id) first.
func (s *Store) FindAuditEvents(ctx context.Context, filter latchkey.AuditFilter) ([]*latchkey.AuditEvent, error) {
	var (
		where []string
		args  []any
	)
	if filter.AppID != "" {
		where, args = append(where, "app_id = ?"), append(args, filter.AppID)
	}
	if filter.UserID != "" {
		where, args = append(where, "(actor_id = ? OR subject_id = ?)"), append(args, filter.UserID, filter.UserID)
	}
	if filter.Event != "" {
		where, args = append(where, "event = ?"), append(args, filter.Event)
	}
	if filter.RequestID != "" {
		where, args = append(where, "request_id = ?"), append(args, filter.RequestID)
	}
	if !filter.From.IsZero() {
		where, args = append(where, "time >= ?"), append(args, millis(filter.From))
	}
	if !filter.To.IsZero() {
		where, args = append(where, "time < ?"), append(args, millis(filter.To))
	}
	if filter.Before != "" {
		where, args = append(where, "id < ?"), append(args, filter.Before)
	}
	query := `SELECT ` + auditColumns + ` FROM audit_events`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY id DESC`
	if filter.Limit > 0 {
		query, args = query+` LIMIT ?`, append(args, filter.Limit)
	}

	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap("find audit events", err)
	}
	defer rows.Close()

	var events []*latchkey.AuditEvent
	for rows.Next() {
		e, err := scanAuditEvent(rows)
		if err != nil {
			return nil, wrap("find audit events", err)
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("find audit events", err)
	}
	return events, nil
}

// DeleteAuditEventsBefore deletes the events older than t and returns how many.
func (s *Store) DeleteAuditEventsBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM audit_events WHERE time < ?`, millis(t))
	if err != nil {
		return 0, wrap("delete audit events", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("delete audit events", err)
}

// DeleteAuditEventsBeyond deletes the events older (by id) than the newest keep and returns
// how many.
func (s *Store) DeleteAuditEventsBeyond(ctx context.Context, keep int64) (int64, error) {
	// The subquery names the newest event that goes: none when there are keep or fewer.
	res, err := s.write.ExecContext(ctx, `DELETE FROM audit_events
		WHERE id <= (SELECT id FROM audit_events ORDER BY id DESC LIMIT 1 OFFSET ?)`, keep)
	if err != nil {
		return 0, wrap("delete audit events", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("delete audit events", err)
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
		&e.SubjectType, &e.SubjectID, &e.IP, &e.UserAgent, &e.RequestID, &details,
	); err != nil {
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
