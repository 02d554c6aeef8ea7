package httpapi

import (
	"net/http"
)

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
