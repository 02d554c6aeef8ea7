package httpapi

import "net/http"

func (s *Server) handleCreateServerAPIKey(w http.ResponseWriter, r *http.Request) {
	in, err := decodeKeyInput(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	k, err := s.serverKeys.CreateServerAPIKey(r.Context(), r.PathValue("appID"), in)
	s.writeNewKey(w, r, http.StatusCreated, k, err)
}

func (s *Server) handleFindServerAPIKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := s.serverKeys.FindServerAPIKeys(r.Context(), r.PathValue("appID"))
	writeList(s, w, r, keys, err, newAPIKeyResponse)
}

func (s *Server) handleFindServerAPIKey(w http.ResponseWriter, r *http.Request) {
	k, err := s.serverKeys.FindServerAPIKey(r.Context(), r.PathValue("appID"), r.PathValue("keyID"))
	writeResult(s, w, r, k, err, newAPIKeyResponse)
}

func (s *Server) setServerAPIKey(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.writeOutcome(w, r, s.serverKeys.SetServerAPIKeyDisabled(r.Context(), r.PathValue("appID"), r.PathValue("keyID"), disabled))
	}
}

func (s *Server) handleDeleteServerAPIKey(w http.ResponseWriter, r *http.Request) {
	s.writeOutcome(w, r, s.serverKeys.DeleteServerAPIKey(r.Context(), r.PathValue("appID"), r.PathValue("keyID")))
}
