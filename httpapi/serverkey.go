package httpapi

import (
	"net/http"

	"github.com/latchkey/latchkey"
)

func (s *Server) handleCreateServerAPIKey(w http.ResponseWriter, r *http.Request) {
	in, err := decodeKeyInput(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	k, err := s.serverKeys.CreateServerAPIKey(r.Context(), r.PathValue("appID"), in)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, newAPIKeyResponse(k))
}

func (s *Server) handleFindServerAPIKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := s.serverKeys.FindServerAPIKeys(r.Context(), r.PathValue("appID"))
	s.writeKeys(w, r, keys, err)
}

func (s *Server) handleFindServerAPIKey(w http.ResponseWriter, r *http.Request) {
	k, err := s.serverKeys.FindServerAPIKey(r.Context(), r.PathValue("appID"), r.PathValue("keyID"))
	s.writeKey(w, r, k, err)
}

// writeKey answers with one key, without its value, or with err.
func (s *Server) writeKey(w http.ResponseWriter, r *http.Request, k *latchkey.APIKey, err error) {
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newAPIKeyResponse(k))
}

func (s *Server) setServerAPIKey(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.writeOutcome(w, r, s.serverKeys.SetServerAPIKeyDisabled(r.Context(), r.PathValue("appID"), r.PathValue("keyID"), disabled))
	}
}

func (s *Server) handleDeleteServerAPIKey(w http.ResponseWriter, r *http.Request) {
	s.writeOutcome(w, r, s.serverKeys.DeleteServerAPIKey(r.Context(), r.PathValue("appID"), r.PathValue("keyID")))
}

// writeKeys answers a key listing.
func (s *Server) writeKeys(w http.ResponseWriter, r *http.Request, keys []*latchkey.APIKey, err error) {
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
