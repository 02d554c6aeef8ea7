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
	writeList(s, w, r, keys, err, newSigningKeyResponse)
}

func (s *Server) handleRotateSigningKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := s.signingKeys.RotateSigningKeys(r.Context())
	writeList(s, w, r, keys, err, newSigningKeyResponse)
}

func newSigningKeyResponse(k *latchkey.SigningKeyInfo) signingKeyResponse {
	format := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	return signingKeyResponse{
		ID: k.ID, Algorithm: k.Algorithm, State: k.State, CreatedAt: format(&k.CreatedAt),
		RetiredAt: format(k.RetiredAt), VerifiesUntil: format(k.VerifiesUntil),
	}
}
