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
	var req loginRequest
	if err := decode(r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	if r.URL.Query().Get("link") == "true" {
		s.Error(w, r, latchkey.Errorf(latchkey.EBadRequest, "linking identities is not supported"))
		return
	}
	login, err := s.auth.LogIn(r.Context(), appFrom(r), latchkey.Credentials{
		Provider: r.PathValue("provider"),
		Username: req.Username,
		Password: req.Password,
		Key:      req.Key,
		DeviceID: deviceID(req.Options.Device.DeviceID),
	})
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

type registerRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	var req registerRequest
	if err := decode(r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.userpass.Register(r.Context(), appFrom(r), req.Email, req.Password); err != nil {
		s.Error(w, r, err)
		return
	}
	writeEmpty(w, http.StatusCreated)
}

type tokenRequest struct {
	Token    string `json:"token"`
	TokenID  string `json:"tokenId"`
	Password string `json:"password"`
	Email    string `json:"email"`
}

func (s *Server) handleConfirm(w http.ResponseWriter, r *http.Request) {
	s.answerTokenCall(w, r, func(req tokenRequest) error {
		return s.userpass.Confirm(r.Context(), appFrom(r), req.Token, req.TokenID)
	})
}

func (s *Server) handleResendConfirmation(w http.ResponseWriter, r *http.Request) {
	s.answerTokenCall(w, r, func(req tokenRequest) error {
		return s.userpass.ResendConfirmation(r.Context(), appFrom(r), req.Email)
	})
}

func (s *Server) handleSendPasswordReset(w http.ResponseWriter, r *http.Request) {
	s.answerTokenCall(w, r, func(req tokenRequest) error {
		return s.userpass.SendPasswordReset(r.Context(), appFrom(r), req.Email)
	})
}

func (s *Server) handleResetPassword(w http.ResponseWriter, r *http.Request) {
	s.answerTokenCall(w, r, func(req tokenRequest) error {
		return s.userpass.ResetPassword(r.Context(), appFrom(r), req.Password, req.Token, req.TokenID)
	})
}

// answerTokenCall serves the email/password calls that take a tokenRequest and return nothing:
// it decodes the body, hands it to call, and answers 204 or the error.
func (s *Server) answerTokenCall(w http.ResponseWriter, r *http.Request, call func(tokenRequest) error) {
	var req tokenRequest
	if err := decode(r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	s.writeOutcome(w, r, call(req))
}
