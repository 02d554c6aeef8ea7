package httpapi

import (
	"net/http"
	"strings"

	"github.com/latchkey/latchkey"
)

// withAdmin verifies an admin bearer token of the given type and puts the admin in the
// context. App users' tokens never pass: their type differs.
func (s *Server) withAdmin(typ latchkey.TokenType, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, err := bearerToken(r)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		auth, err := s.admins.AuthenticateAdmin(r.Context(), token, typ)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		if g := r.PathValue("group"); g != "" && g != latchkey.GroupID {
			s.Error(w, r, latchkey.Errorf(latchkey.ENotFound, "cannot find group '%s'", g))
			return
		}
		h(w, r.WithContext(latchkey.NewContextWithAdmin(r.Context(), auth)))
	}
}

// bearerToken reads the Authorization header with the contract's errors.
func bearerToken(r *http.Request) (string, error) {
	header := r.Header.Get("Authorization")
	if header == "" {
		return "", latchkey.Errorf(latchkey.EUnauthenticated, "must authenticate first")
	}
	scheme, token, _ := strings.Cut(header, " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", latchkey.Errorf(latchkey.EBadAuthHeader, "expected Authorization header with JWT (Bearer schema)")
	}
	return token, nil
}

type adminLoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (s *Server) handleAdminLogin(w http.ResponseWriter, r *http.Request) {
	var req adminLoginRequest
	if err := decode(r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	login, err := s.admins.LogInAdmin(r.Context(), req.Username, req.Password)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, loginResponse{
		AccessToken: login.AccessToken, RefreshToken: login.RefreshToken, UserID: login.UserID, DeviceID: login.DeviceID,
	})
}

type adminRole struct {
	RoleName string `json:"role_name"`
	GroupID  string `json:"group_id"`
}

type adminProfileResponse struct {
	UserID string            `json:"user_id"`
	Data   map[string]string `json:"data"`
	Roles  []adminRole       `json:"roles"`
}

func (s *Server) handleAdminProfile(w http.ResponseWriter, r *http.Request) {
	a := latchkey.AdminFromContext(r.Context()).Admin
	writeJSON(w, http.StatusOK, adminProfileResponse{
		UserID: a.ID,
		Data:   map[string]string{"email": a.Email},
		Roles:  []adminRole{{RoleName: "GROUP_OWNER", GroupID: latchkey.GroupID}},
	})
}

func (s *Server) handleAdminRefresh(w http.ResponseWriter, r *http.Request) {
	token, err := s.admins.RefreshAdmin(r.Context())
	s.writeAccessToken(w, r, token, err)
}

func (s *Server) handleAdminLogOut(w http.ResponseWriter, r *http.Request) {
	s.writeOutcome(w, r, s.admins.LogOutAdmin(r.Context()))
}
