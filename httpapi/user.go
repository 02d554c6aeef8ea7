package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/latchkey/latchkey"
)

// adminUserResponse is a user as the admin API shows it.
type adminUserResponse struct {
	ID           string             `json:"_id"`
	Type         string             `json:"type"`
	Disabled     bool               `json:"disabled"`
	Confirmed    bool               `json:"confirmed"`
	CreationDate int64              `json:"creation_date"` // Unix seconds, as App Services had it
	Identities   []identityResponse `json:"identities"`
	Data         map[string]any     `json:"data"`
	APIKeyCount  *int               `json:"api_key_count,omitempty"`
	SessionCount *int               `json:"session_count,omitempty"`
}

func newAdminUserResponse(u *latchkey.User) adminUserResponse {
	return adminUserResponse{
		ID: u.ID, Type: u.Type, Disabled: u.Disabled, Confirmed: u.Confirmed, CreationDate: u.CreatedAt.Unix(),
		Identities: identities(u), Data: userData(u),
	}
}

func (s *Server) handleFindUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	filter := latchkey.UserFilter{After: q.Get("after")}
	if v := q.Get("email"); v != "" {
		filter.Email = &v
	}
	if v := q.Get("provider"); v != "" {
		filter.Provider = &v
	}
	if v := q.Get("type"); v != "" {
		filter.Type = &v
	}
	if v := q.Get("disabled"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			s.Error(w, r, latchkey.Errorf(latchkey.EBadRequest, "disabled must be true or false"))
			return
		}
		filter.Disabled = &b
	}
	limit, err := queryInt(q.Get("limit"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	filter.Limit = limit
	users, err := s.users.FindUsers(r.Context(), r.PathValue("appID"), filter)
	writeList(s, w, r, users, err, newAdminUserResponse)
}

// queryInt reads an optional non-negative integer query parameter.
func queryInt(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, latchkey.Errorf(latchkey.EBadRequest, "limit must be a non-negative integer")
	}
	return n, nil
}

func (s *Server) handleFindUser(w http.ResponseWriter, r *http.Request) {
	u, stats, err := s.users.FindUser(r.Context(), r.PathValue("appID"), r.PathValue("userID"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	resp := newAdminUserResponse(u)
	resp.APIKeyCount, resp.SessionCount = &stats.APIKeys, &stats.Sessions
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) setUser(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.writeOutcome(w, r, s.users.SetUserDisabled(r.Context(), r.PathValue("appID"), r.PathValue("userID"), disabled))
	}
}

func (s *Server) handleAdminDeleteUser(w http.ResponseWriter, r *http.Request) {
	s.writeOutcome(w, r, s.users.DeleteUser(r.Context(), r.PathValue("appID"), r.PathValue("userID")))
}

func (s *Server) handleRevokeUserSessions(w http.ResponseWriter, r *http.Request) {
	s.writeOutcome(w, r, s.users.RevokeUserSessions(r.Context(), r.PathValue("appID"), r.PathValue("userID")))
}

func (s *Server) handleFindUserAPIKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := s.users.FindUserAPIKeys(r.Context(), r.PathValue("appID"), r.PathValue("userID"))
	writeList(s, w, r, keys, err, newAPIKeyResponse)
}

func (s *Server) handleFindUserAPIKey(w http.ResponseWriter, r *http.Request) {
	k, err := s.users.FindUserAPIKey(r.Context(), r.PathValue("appID"), r.PathValue("userID"), r.PathValue("keyID"))
	writeResult(s, w, r, k, err, newAPIKeyResponse)
}

func (s *Server) setUserAPIKey(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.writeOutcome(w, r, s.users.SetUserAPIKeyDisabled(r.Context(), r.PathValue("appID"), r.PathValue("userID"), r.PathValue("keyID"), disabled))
	}
}

func (s *Server) handleDeleteUserAPIKey(w http.ResponseWriter, r *http.Request) {
	s.writeOutcome(w, r, s.users.DeleteUserAPIKey(r.Context(), r.PathValue("appID"), r.PathValue("userID"), r.PathValue("keyID")))
}

func (s *Server) handleVerifyToken(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Token string `json:"token"`
	}
	if err := decode(r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	claims, err := s.users.VerifyToken(r.Context(), r.PathValue("appID"), req.Token)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, claims)
}

func (s *Server) handleFindUserCustomData(w http.ResponseWriter, r *http.Request) {
	data, err := s.users.FindUserCustomData(r.Context(), r.PathValue("appID"), r.PathValue("userID"))
	writeResult(s, w, r, data, err, func(d json.RawMessage) json.RawMessage { return d })
}

// handleSetUserCustomData replaces a user's custom data with the body, a JSON object; {}
// clears it.
func (s *Server) handleSetUserCustomData(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if !json.Valid(body) {
		s.Error(w, r, latchkey.Errorf(latchkey.EBadRequest, "malformed JSON body"))
		return
	}
	s.writeOutcome(w, r, s.users.SetUserCustomData(r.Context(), r.PathValue("appID"), r.PathValue("userID"), body))
}

// handleDeleteUserCustomData clears a user's custom data.
func (s *Server) handleDeleteUserCustomData(w http.ResponseWriter, r *http.Request) {
	s.writeOutcome(w, r, s.users.SetUserCustomData(r.Context(), r.PathValue("appID"), r.PathValue("userID"), json.RawMessage("{}")))
}
