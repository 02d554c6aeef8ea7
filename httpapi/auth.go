package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/latchkey/latchkey"
)

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Key      string `json:"key"`
	Token    string `json:"token"`
	IDToken  string `json:"id_token"`
	AuthCode string `json:"authCode"`
	Nonce    string `json:"nonce"`
	Options  struct {
		Device struct {
			DeviceID json.RawMessage `json:"deviceId"`
		} `json:"device"`
	} `json:"options"`
}

type loginResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	UserID       string `json:"user_id"`
	DeviceID     string `json:"device_id"`
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	provider := r.PathValue("provider")
	var (
		req     loginRequest
		payload json.RawMessage
		err     error
	)
	if provider == latchkey.ProviderCustomFunction {
		payload, err = decodeFunctionPayload(r, &req)
	} else {
		err = decode(r, &req)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	creds := latchkey.Credentials{
		Provider: provider,
		Username: req.Username,
		Password: req.Password,
		Key:      req.Key,
		Token:    req.Token,
		IDToken:  req.IDToken,
		AuthCode: req.AuthCode,
		Nonce:    req.Nonce,
		Payload:  payload,
		DeviceID: deviceID(req.Options.Device.DeviceID),
	}
	if r.URL.Query().Get("link") == "true" {
		s.handleLink(w, r, creds)
		return
	}
	login, err := s.auth.LogIn(r.Context(), appFrom(r), creds)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, loginResponse{
		AccessToken:  login.AccessToken,
		RefreshToken: login.RefreshToken,
		UserID:       login.UserID,
		DeviceID:     login.DeviceID,
	})
}

// decodeFunctionPayload reads a custom-function login: the caller's own document, which the
// function gets without the SDK's options (and the provider name that realm-core adds to
// other credentials), and the device id from the options.
func decodeFunctionPayload(r *http.Request, req *loginRequest) (json.RawMessage, error) {
	var doc map[string]json.RawMessage
	if err := decode(r, &doc); err != nil {
		return nil, err
	}
	if opts, ok := doc["options"]; ok {
		// The device id only: the document's other fields are the function's, of any type.
		_ = json.Unmarshal(opts, &req.Options)
		delete(doc, "options")
	}
	if doc == nil {
		doc = map[string]json.RawMessage{}
	}
	payload, err := json.Marshal(doc)
	if err != nil {
		return nil, latchkey.Errorf(latchkey.EBadRequest, "request body must be a JSON object")
	}
	return payload, nil
}

// linkResponse is a link's answer: realm-web requires user_id (the caller's), access_token
// and device_id, and takes a missing refresh_token as none; realm-core reads access_token.
type linkResponse struct {
	AccessToken string `json:"access_token"`
	UserID      string `json:"user_id"`
	DeviceID    string `json:"device_id"`
}

// handleLink is the login route with ?link=true: the caller of the access token links the
// credentials' identity. The token must be of the path's app.
func (s *Server) handleLink(w http.ResponseWriter, r *http.Request, creds latchkey.Credentials) {
	token, err := bearerToken(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	auth, err := s.auth.Authenticate(r.Context(), token, latchkey.AccessToken)
	if err == nil && auth.App.ID != appFrom(r).ID {
		err = latchkey.Errorf(latchkey.EUnauthenticated, "invalid session")
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	login, err := s.auth.Link(latchkey.NewContextWithAuth(r.Context(), auth), creds)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, linkResponse{AccessToken: login.AccessToken, UserID: login.UserID, DeviceID: login.DeviceID})
}

// deviceID reads a device id as realm-web sends it (canonical EJSON, {"$oid": "<hex>"}) or
// as a plain string. Anything else means "no device yet".
func deviceID(raw json.RawMessage) string {
	var oid struct {
		OID string `json:"$oid"`
	}
	var plain string
	if json.Unmarshal(raw, &oid) == nil && oid.OID != "" {
		return oid.OID
	}
	if json.Unmarshal(raw, &plain) == nil {
		return plain
	}
	return ""
}

type identityResponse struct {
	ID           string         `json:"id"`
	ProviderType string         `json:"provider_type"`
	ProviderID   string         `json:"provider_id"`
	ProviderData map[string]any `json:"provider_data,omitempty"`
}

type profileResponse struct {
	UserID     string             `json:"user_id"`
	DomainID   string             `json:"domain_id"`
	Type       string             `json:"type"`
	Identities []identityResponse `json:"identities"`
	Data       map[string]any     `json:"data"`
}

func (s *Server) handleProfile(w http.ResponseWriter, r *http.Request) {
	u, err := s.auth.Profile(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, profileResponse{
		UserID: u.ID, DomainID: u.AppID, Type: u.Type, Identities: identities(u), Data: userData(u),
	})
}

// identities are a user's identities as the profile and the admin API show them: a list,
// never null. An external identity shows its id at the provider, as App Services did, and
// what the provider said of the user.
func identities(u *latchkey.User) []identityResponse {
	resp := []identityResponse{}
	for _, id := range u.Identities {
		ident := identityResponse{ID: id.ID, ProviderType: id.ProviderType, ProviderID: id.ProviderID, ProviderData: id.Data}
		if id.ExternalID != "" {
			ident.ID = id.ExternalID
		}
		resp = append(resp, ident)
	}
	return resp
}

// userData is a user's data as the profile and the admin API show it: what its external
// identities' providers said of it (the oldest identity's first), and its email, if any.
func userData(u *latchkey.User) map[string]any {
	data := map[string]any{}
	for i := len(u.Identities) - 1; i >= 0; i-- {
		for k, v := range u.Identities[i].Data {
			data[k] = v
		}
	}
	if u.Email != "" {
		data["email"] = u.Email
	}
	return data
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

// handleJWKS serves the public keys that verify access tokens.
func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	body, err := s.auth.JWKS(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}
