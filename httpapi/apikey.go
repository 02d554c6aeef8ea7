package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
)

// apiKeyResponse is a key object. key is present only in the answers to create and rotate.
// Every field after disabled is a Latchkey addition, which Realm SDKs ignore.
type apiKeyResponse struct {
	ID         string   `json:"_id"`
	Key        string   `json:"key,omitempty"`
	Name       string   `json:"name"`
	Disabled   bool     `json:"disabled"`
	Start      string   `json:"start,omitempty"`
	Scopes     []string `json:"scopes,omitempty"`
	CreatedAt  string   `json:"created_at"`
	LastUsedAt *string  `json:"last_used_at,omitempty"`
	ExpiresAt  *string  `json:"expires_at,omitempty"`
	// The limits an admin set for verify calls, each absent when unset; read only here.
	RateLimit *rateLimitJSON   `json:"ratelimit,omitempty"`
	Remaining *int64           `json:"remaining,omitempty"`
	Refill    *refillJSON      `json:"refill,omitempty"`
	Meta      *json.RawMessage `json:"meta,omitempty"`
}

func newAPIKeyResponse(k *latchkey.APIKey) apiKeyResponse {
	return apiKeyResponse{
		ID:         k.ID,
		Key:        k.Value,
		Name:       k.Name,
		Disabled:   k.Disabled,
		Start:      k.Start,
		Scopes:     k.Scopes,
		CreatedAt:  k.CreatedAt.UTC().Format(time.RFC3339),
		LastUsedAt: rfc3339(k.LastUsedAt),
		ExpiresAt:  rfc3339(k.ExpiresAt),
		RateLimit:  newRateLimitJSON(k.RateLimit),
		Remaining:  k.Remaining,
		Refill:     newRefillJSON(k.Refill),
		Meta:       rawMeta(k.Meta),
	}
}

// rawMeta is a key's meta for the wire, nil when it has none.
func rawMeta(m json.RawMessage) *json.RawMessage {
	if len(m) == 0 {
		return nil
	}
	return &m
}

func rfc3339(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

type createAPIKeyRequest struct {
	Name      optionalString `json:"name"`
	ExpiresAt *string        `json:"expires_at"`
	ExpiresIn *int64         `json:"expires_in"`
	Scopes    []string       `json:"scopes"`
}

// input turns the request's optional fields into the service's terms.
func (req createAPIKeyRequest) input() (latchkey.APIKeyInput, error) {
	in := latchkey.APIKeyInput{Name: req.Name.Value, Scopes: req.Scopes}
	if req.ExpiresAt != nil {
		t, err := time.Parse(time.RFC3339, *req.ExpiresAt)
		if err != nil {
			return in, latchkey.Errorf(latchkey.EBadRequest, "expires_at must be an RFC 3339 time")
		}
		in.ExpiresAt = &t
	}
	if req.ExpiresIn != nil {
		if *req.ExpiresIn <= 0 || *req.ExpiresIn > maxSeconds {
			return in, latchkey.Errorf(latchkey.EInvalid, "expires_in must be a positive number of seconds")
		}
		d := time.Duration(*req.ExpiresIn) * time.Second
		in.ExpiresIn = &d
	}
	return in, nil
}

// maxSeconds keeps a count of seconds inside time.Duration (about 292 years).
const maxSeconds = int64(1<<63-1) / int64(time.Second)

// decodeKeyInput reads a create request for a user or a server key.
func decodeKeyInput(r *http.Request) (latchkey.APIKeyInput, error) {
	var req createAPIKeyRequest
	if err := decode(r, &req); err != nil {
		return latchkey.APIKeyInput{}, err
	}
	if req.Name.Bad {
		return latchkey.APIKeyInput{}, latchkey.Errorf(latchkey.ERequired, "'name' is a required string")
	}
	return req.input()
}

func (s *Server) handleCreateAPIKey(w http.ResponseWriter, r *http.Request) {
	in, err := decodeKeyInput(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	k, err := s.apiKeys.CreateAPIKey(r.Context(), in)
	s.writeNewKey(w, r, http.StatusCreated, k, err)
}

type rotateAPIKeyRequest struct {
	GracePeriod *int64 `json:"grace_period"`
}

func (s *Server) handleRotateAPIKey(w http.ResponseWriter, r *http.Request) {
	var req rotateAPIKeyRequest
	if err := decode(r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	var grace time.Duration
	if req.GracePeriod != nil {
		if *req.GracePeriod < 0 || *req.GracePeriod > maxSeconds {
			s.Error(w, r, latchkey.Errorf(latchkey.EInvalid, "grace_period must be between 0 and %d seconds", int64(latchkey.MaxRotationGracePeriod/time.Second)))
			return
		}
		grace = time.Duration(*req.GracePeriod) * time.Second
	}
	k, err := s.apiKeys.RotateAPIKey(r.Context(), r.PathValue("id"), grace)
	s.writeNewKey(w, r, http.StatusOK, k, err)
}

// writeNewKey answers with a key and its value, which no cache may keep, or with err.
func (s *Server) writeNewKey(w http.ResponseWriter, r *http.Request, status int, k *latchkey.APIKey, err error) {
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, newAPIKeyResponse(k))
}

func (s *Server) handleFindAPIKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := s.apiKeys.FindAPIKeys(r.Context())
	writeList(s, w, r, keys, err, newAPIKeyResponse)
}

func (s *Server) handleFindAPIKey(w http.ResponseWriter, r *http.Request) {
	k, err := s.apiKeys.FindAPIKey(r.Context(), r.PathValue("id"))
	writeResult(s, w, r, k, err, newAPIKeyResponse)
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
