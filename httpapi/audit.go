package httpapi

import (
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
)

type auditActor struct {
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
}

type auditEventResponse struct {
	ID        string            `json:"_id"`
	Time      string            `json:"time"`
	AppID     string            `json:"app_id,omitempty"`
	Event     string            `json:"event"`
	Outcome   string            `json:"outcome"`
	Actor     auditActor        `json:"actor"`
	Subject   auditActor        `json:"subject"`
	IP        string            `json:"ip,omitempty"`
	UserAgent string            `json:"user_agent,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
	Details   map[string]string `json:"details,omitempty"`
}

// handleFindAuditEvents lists audit events newest first; the next page is asked for with
// before=<the last _id>.
func (s *Server) handleFindAuditEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	filter := latchkey.AuditFilter{
		AppID: r.PathValue("appID"), UserID: q.Get("user"), Event: q.Get("event"), Before: q.Get("before"),
		RequestID: q.Get("request_id"),
	}
	if filter.AppID == "" {
		filter.AppID = q.Get("app")
	}
	var err error
	if filter.Limit, err = queryInt(q.Get("limit")); err != nil {
		s.Error(w, r, err)
		return
	}
	for name, dst := range map[string]*time.Time{"from": &filter.From, "to": &filter.To} {
		if v := q.Get(name); v != "" {
			if *dst, err = time.Parse(time.RFC3339, v); err != nil {
				s.Error(w, r, latchkey.Errorf(latchkey.EBadRequest, "%s must be an RFC 3339 time", name))
				return
			}
		}
	}
	events, err := s.audit.FindAuditEvents(r.Context(), filter)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	resp := make([]auditEventResponse, 0, len(events))
	for _, e := range events {
		resp = append(resp, auditEventResponse{
			ID: e.ID, Time: e.Time.UTC().Format(time.RFC3339Nano), AppID: e.AppID, Event: e.Event, Outcome: e.Outcome,
			Actor: auditActor{e.ActorType, e.ActorID}, Subject: auditActor{e.SubjectType, e.SubjectID},
			IP: e.IP, UserAgent: e.UserAgent, RequestID: e.RequestID, Details: e.Details,
		})
	}
	writeJSON(w, http.StatusOK, resp)
}
