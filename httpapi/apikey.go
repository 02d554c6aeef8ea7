package httpapi

import (
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
)

// apiKeyResponse is a key object. key is present only in the answer to create.
type apiKeyResponse struct {
	ID         string  `json:"_id"`
	Key        string  `json:"key,omitempty"`
	Name       string  `json:"name"`
	Disabled   bool    `json:"disabled"`
	CreatedAt  string  `json:"created_at"`
	LastUsedAt *string `json:"last_used_at,omitempty"`
}

func newAPIKeyResponse(k *latchkey.APIKey) apiKeyResponse {
	resp := apiKeyResponse{
		ID:        k.ID,
		Key:       k.Value,
		Name:      k.Name,
		Disabled:  k.Disabled,
		CreatedAt: k.CreatedAt.UTC().Format(time.RFC3339),
	}
	if k.LastUsedAt != nil {
		t := k.LastUsedAt.UTC().Format(time.RFC3339)
		resp.LastUsedAt = &t
	}
	return resp
}

type createAPIKeyRequest struct {
	Name optionalString `json:"name"`
}

func (s *Server) handleCreateAPIKey(w http.ResponseWriter, r *http.Request) {
	var req createAPIKeyRequest
	if err := decode(r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	if req.Name.Bad {
		s.Error(w, r, latchkey.Errorf(latchkey.ERequired, "'name' is a required string"))
		return
	}
	k, err := s.apiKeys.CreateAPIKey(r.Context(), req.Name.Value)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, newAPIKeyResponse(k))
}

func (s *Server) handleFindAPIKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := s.apiKeys.FindAPIKeys(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	resp := make([]apiKeyResponse, 0, len(keys))
	for _, k := range keys {
		resp = append(resp, newAPIKeyResponse(k))
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) handleFindAPIKey(w http.ResponseWriter, r *http.Request) {
	k, err := s.apiKeys.FindAPIKey(r.Context(), r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newAPIKeyResponse(k))
}

func (s *Server) handleEnableAPIKey(w http.ResponseWriter, r *http.Request) {
	s.writeOutcome(w, r, s.apiKeys.EnableAPIKey(r.Context(), r.PathValue("id")))
}

func (s *Server) handleDisableAPIKey(w http.ResponseWriter, r *http.Request) {
	s.writeOutcome(w, r, s.apiKeys.DisableAPIKey(r.Context(), r.PathValue("id")))
}

func (s *Server) handleDeleteAPIKey(w http.ResponseWriter, r *http.Request) {
	s.writeOutcome(w, r, s.apiKeys.DeleteAPIKey(r.Context(), r.PathValue("id")))
}

// writeOutcome answers a call without a result: 204, or the error.
func (s *Server) writeOutcome(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeEmpty(w, http.StatusNoContent)
}
