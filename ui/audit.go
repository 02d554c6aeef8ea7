package ui

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// auditPageSize is how many events one page of the audit log shows.
const auditPageSize = 50

// auditEvents are the event names the filter offers.
var auditEvents = []string{
	latchkey.EventLogin, latchkey.EventLogout, latchkey.EventRegister, latchkey.EventConfirm, latchkey.EventPasswordReset,
	latchkey.EventAPIKeyCreated, latchkey.EventAPIKeyDisabled, latchkey.EventAPIKeyEnabled, latchkey.EventAPIKeyDeleted,
	latchkey.EventAPIKeyRotated, latchkey.EventAPIKeyLeaked,
	latchkey.EventUserDisabled, latchkey.EventUserEnabled, latchkey.EventUserDeleted, latchkey.EventSessionsRevoked,
	latchkey.EventServerKeyCreated, latchkey.EventServerKeyDisabled, latchkey.EventServerKeyEnabled, latchkey.EventServerKeyDeleted,
	latchkey.EventAdminLogin, latchkey.EventAdminLogout, latchkey.EventAdminCreated,
	latchkey.EventAppCreated, latchkey.EventAppUpdated, latchkey.EventAppDeleted, latchkey.EventLeakSecretRotated,
}

// auditFilter is the audit log's filter form, as the query string carries it.
type auditFilter struct {
	App, User, Event, From, To, Before string
	Request                            string // a request id: an error link's co_id
}

func (f auditFilter) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"app": f.App, "user": f.User, "event": f.Event, "from": f.From, "to": f.To, "before": f.Before, "request": f.Request} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

type auditData struct {
	Events []*latchkey.AuditEvent
	Apps   []*latchkey.App
	Names  []string
	Filter auditFilter
	AppIDs map[string]string // internal app id to client app id, to name each event's app
	Next   string
	First  string
	Error  string
}

// timeLayout is what a datetime-local input sends; its times are read as UTC.
const timeLayout = "2006-01-02T15:04"

func parseFilterTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	t, err := time.Parse(timeLayout, s)
	return t, err == nil
}

func (h *Handler) handleAudit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	f := auditFilter{
		App: q.Get("app"), User: strings.TrimSpace(q.Get("user")), Event: q.Get("event"),
		From: q.Get("from"), To: q.Get("to"), Before: q.Get("before"), Request: strings.TrimSpace(q.Get("request")),
	}
	apps, err := h.apps.FindApps(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := auditData{Apps: apps, Names: auditEvents, Filter: f, AppIDs: map[string]string{}}
	for _, a := range apps {
		d.AppIDs[a.ID] = a.ClientAppID
	}
	from, okFrom := parseFilterTime(f.From)
	to, okTo := parseFilterTime(f.To)
	if !okFrom || !okTo {
		d.Error = "Give times as YYYY-MM-DDTHH:MM, in UTC."
		h.render(w, r, http.StatusBadRequest, "audit", h.consolePage(r, "Audit log", "audit", nil, d))
		return
	}
	events, err := h.audit.FindAuditEvents(ctx, latchkey.AuditFilter{
		AppID: f.App, UserID: f.User, Event: f.Event, From: from, To: to, Before: f.Before, RequestID: f.Request,
		Limit: auditPageSize + 1,
	})
	switch latchkey.ErrorCode(err) {
	case "":
	case latchkey.EBadRequest, latchkey.EAppNotFound:
		d.Error = sentence(latchkey.ErrorMessage(err))
	default:
		h.fail(w, r, err)
		return
	}
	base := consolePath + "/audit"
	if len(events) > auditPageSize {
		events = events[:auditPageSize]
		next := f
		next.Before = events[len(events)-1].ID
		d.Next = base + "?" + next.query().Encode()
	}
	if f.Before != "" {
		first := f
		first.Before = ""
		d.First = base + "?" + first.query().Encode()
	}
	d.Events = events
	h.render(w, r, http.StatusOK, "audit", h.consolePage(r, "Audit log", "audit", nil, d))
}

// handleLogLink answers an error's link with the console's audit log of that request; the
// console asks an admin who is not signed in to sign in first, then shows it.
func (h *Handler) handleLogLink(w http.ResponseWriter, r *http.Request) {
	target := consolePath + "/audit"
	if id := r.URL.Query().Get("co_id"); latchkey.IsID(id) {
		target += "?request=" + id
	}
	seeOther(w, r, target)
}
