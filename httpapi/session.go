package httpapi

import (
	"net/http"
)

type identityResponse struct {
	ID           string `json:"id"`
	ProviderType string `json:"provider_type"`
	ProviderID   string `json:"provider_id"`
}

type profileResponse struct {
	UserID     string             `json:"user_id"`
	DomainID   string             `json:"domain_id"`
	Type       string             `json:"type"`
	Identities []identityResponse `json:"identities"`
	Data       map[string]string  `json:"data"`
}

func (s *Server) handleProfile(w http.ResponseWriter, r *http.Request) {
	u, err := s.auth.Profile(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	resp := profileResponse{
		UserID:     u.ID,
		DomainID:   u.AppID,
		Type:       u.Type,
		Identities: []identityResponse{},
		Data:       map[string]string{},
	}
	for _, id := range u.Identities {
		resp.Identities = append(resp.Identities, identityResponse{ID: id.ID, ProviderType: id.ProviderType, ProviderID: id.ProviderID})
	}
	if u.Email != "" {
		resp.Data["email"] = u.Email
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) handleRefresh(w http.ResponseWriter, r *http.Request) {
	token, err := s.auth.Refresh(r.Context())
	s.writeAccessToken(w, r, token, err)
}

// writeAccessToken answers a refresh, of a user's session or an admin's: 201 with the new
// access token, or the error.
func (s *Server) writeAccessToken(w http.ResponseWriter, r *http.Request, token string, err error) {
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, struct {
		AccessToken string `json:"access_token"`
	}{token})
}

func (s *Server) handleLogOut(w http.ResponseWriter, r *http.Request) {
	s.writeOutcome(w, r, s.auth.LogOut(r.Context()))
}

func (s *Server) handleDeleteUser(w http.ResponseWriter, r *http.Request) {
	s.writeOutcome(w, r, s.auth.DeleteUser(r.Context()))
}
