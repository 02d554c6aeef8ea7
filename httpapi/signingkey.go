package httpapi

import (
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
)

// signingKeyResponse describes a signing key; its material never leaves the server.
type signingKeyResponse struct {
	ID            string `json:"_id"`
	Algorithm     string `json:"algorithm"`
	State         string `json:"state"`
	CreatedAt     string `json:"created_at"`
	RetiredAt     string `json:"retired_at,omitempty"`
	VerifiesUntil string `json:"verifies_until,omitempty"`
}

func (s *Server) handleFindSigningKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := s.signingKeys.FindSigningKeys(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, signingKeysResponse(keys))
}

func (s *Server) handleRotateSigningKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := s.signingKeys.RotateSigningKeys(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, signingKeysResponse(keys))
}

func signingKeysResponse(keys []*latchkey.SigningKeyInfo) []signingKeyResponse {
	format := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	resp := make([]signingKeyResponse, 0, len(keys))
	for _, k := range keys {
		resp = append(resp, signingKeyResponse{
			ID: k.ID, Algorithm: k.Algorithm, State: k.State, CreatedAt: format(&k.CreatedAt),
			RetiredAt: format(k.RetiredAt), VerifiesUntil: format(k.VerifiesUntil),
		})
	}
	return resp
}
