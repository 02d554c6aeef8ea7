package client

import (
	"context"
	"net/http"
	"time"
)

// AuditEvent is one entry of the server's audit log. It never holds a secret: no key value,
// password or token, only ids and error codes.
type AuditEvent struct {
	ID        string            `json:"_id"`
	Time      time.Time         `json:"time"`
	AppID     string            `json:"app_id,omitempty"` // internal app id; "" for server-wide events
	Event     string            `json:"event"`            // e.g. "login", "api_key_created", "user_disabled"
	Outcome   string            `json:"outcome"`          // "success" or "failure"
	Actor     AuditParty        `json:"actor"`
	Subject   AuditParty        `json:"subject"`
	IP        string            `json:"ip,omitempty"`
	UserAgent string            `json:"user_agent,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
	Details   map[string]string `json:"details,omitempty"` // e.g. provider, key id, error code
}

// AuditParty is the actor or the subject of an audit event.
type AuditParty struct {
	Type string `json:"type"` // actor: "user", "admin", "anonymous", "system"; subject: "user", "api_key", "app", "admin"
	ID   string `json:"id,omitempty"`
}

// AuditFilter selects audit events; zero fields do not filter.
type AuditFilter struct {
	App    string // the app's id or client app id; "" for every app and server-wide events
	User   string // events whose actor or subject has this id
	Event  string
	From   time.Time // events at or after From
	To     time.Time // events before To
	Before string    // paging: the last id of the previous page
	Limit  int       // page size; the server's default is 100, its maximum 1000
}

// AuditEvents queries the audit log, newest first, one page at a time: the next page is
// AuditEvents with Before set to the last id. Errors: ErrBadRequest (a bad cursor or
// limit), ErrInvalidParameter (404: no such app).
func (a *Admin) AuditEvents(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	path := "/audit"
	if f.App != "" {
		p, err := a.appPath(ctx, f.App, "audit")
		if err != nil {
			return nil, err
		}
		path = p
	}
	q := query{}
	q.set("user", f.User)
	q.set("event", f.Event)
	q.set("before", f.Before)
	if !f.From.IsZero() {
		q.set("from", f.From.UTC().Format(time.RFC3339Nano))
	}
	if !f.To.IsZero() {
		q.set("to", f.To.UTC().Format(time.RFC3339Nano))
	}
	q.setLimit(f.Limit)
	events := []AuditEvent{}
	if err := a.request(ctx, http.MethodGet, q.on(path), nil, &events); err != nil {
		return nil, err
	}
	return events, nil
}
