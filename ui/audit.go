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
	latchkey.EventLogin, latchkey.EventLogout, latchkey.EventRegister, latchkey.EventIdentityLinked, latchkey.EventConfirm,
	latchkey.EventPasswordReset,
	latchkey.EventAPIKeyCreated, latchkey.EventAPIKeyDisabled, latchkey.EventAPIKeyEnabled, latchkey.EventAPIKeyDeleted,
	latchkey.EventAPIKeyRotated, latchkey.EventAPIKeyLeaked,
	latchkey.EventUserDisabled, latchkey.EventUserEnabled, latchkey.EventUserDeleted, latchkey.EventSessionsRevoked, latchkey.EventUserCustomDataSet,
	latchkey.EventServerKeyCreated, latchkey.EventServerKeyDisabled, latchkey.EventServerKeyEnabled, latchkey.EventServerKeyDeleted,
	latchkey.EventAdminLogin, latchkey.EventAdminLogout, latchkey.EventAdminCreated,
	latchkey.EventAppCreated, latchkey.EventAppUpdated, latchkey.EventAppDeleted, latchkey.EventLeakSecretRotated,
	latchkey.EventAuthProviderSet, latchkey.EventAuthProviderDeleted,
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

// paginate cuts a listing read with one row more than size down to size. It returns the link
// to the next page when there was more, and back to the first when cursor says this is a
// later page; at is the listing's address with its cursor set to an id, or to none.
func paginate[T any](rows []T, size int, cursor string, id func(T) string, at func(cursor string) string) (kept []T, next, first string) {
	if len(rows) > size {
		rows = rows[:size]
		next = at(id(rows[len(rows)-1]))
	}
	if cursor != "" {
		first = at("")
	}
	return rows, next, first
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
	d.Events, d.Next, d.First = paginate(events, auditPageSize, f.Before, func(e *latchkey.AuditEvent) string { return e.ID },
		func(before string) string {
			at := f
			at.Before = before
			return consolePath + "/audit?" + at.query().Encode()
		})
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
