package httpapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/latchkey/latchkey"
)

const (
	appPrefix  = "/api/client/v2.0/app/{app}"
	authPrefix = "/api/client/v2.0/auth"
)

// routes registers the whole client API.
func (s *Server) routes() {
	methods := map[string][]string{} // path -> methods, for JSON 405 answers
	handle := func(method, path string, h http.HandlerFunc) {
		s.mux.HandleFunc(method+" "+path, h)
		methods[path] = append(methods[path], method)
	}

	handle("GET", appPrefix+"/location", s.withApp(s.handleLocation))
	handle("POST", appPrefix+"/auth/providers/{provider}/login", s.withApp(s.handleLogin))
	handle("POST", appPrefix+"/auth/providers/local-userpass/register", s.withApp(s.handleRegister))
	handle("POST", appPrefix+"/auth/providers/local-userpass/confirm", s.withApp(s.handleConfirm))
	handle("POST", appPrefix+"/auth/providers/local-userpass/confirm/send", s.withApp(s.handleResendConfirmation))
	handle("POST", appPrefix+"/auth/providers/local-userpass/reset/send", s.withApp(s.handleSendPasswordReset))
	handle("POST", appPrefix+"/auth/providers/local-userpass/reset", s.withApp(s.handleResetPassword))
	handle("GET", appPrefix+"/.well-known/jwks.json", s.withApp(s.handleJWKS))

	handle("GET", authPrefix+"/profile", s.withToken(latchkey.AccessToken, s.handleProfile))
	handle("DELETE", authPrefix+"/delete", s.withToken(latchkey.AccessToken, s.handleDeleteUser))
	handle("POST", authPrefix+"/session", s.withToken(latchkey.RefreshToken, s.handleRefresh))
	handle("DELETE", authPrefix+"/session", s.withToken(latchkey.RefreshToken, s.handleLogOut))

	handle("POST", authPrefix+"/api_keys", s.withToken(latchkey.RefreshToken, s.handleCreateAPIKey))
	handle("GET", authPrefix+"/api_keys", s.withToken(latchkey.RefreshToken, s.handleFindAPIKeys))
	handle("GET", authPrefix+"/api_keys/{id}", s.withToken(latchkey.RefreshToken, s.handleFindAPIKey))
	handle("PUT", authPrefix+"/api_keys/{id}/enable", s.withToken(latchkey.RefreshToken, s.handleEnableAPIKey))
	handle("PUT", authPrefix+"/api_keys/{id}/disable", s.withToken(latchkey.RefreshToken, s.handleDisableAPIKey))
	handle("DELETE", authPrefix+"/api_keys/{id}", s.withToken(latchkey.RefreshToken, s.handleDeleteAPIKey))

	handle("GET", "/.well-known/jwks.json", s.handleJWKS)

	for path, ms := range methods {
		allow := strings.Join(slices.Sorted(slices.Values(append(ms, "OPTIONS"))), ", ")
		s.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			s.Error(w, r, latchkey.Errorf(latchkey.EMethodNotAllowed, "method %s not allowed", r.Method))
		})
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.Error(w, r, latchkey.Errorf(latchkey.ENotFound, "no route for %s %s", r.Method, r.URL.Path))
	})
}

type appContextKey struct{}

// withApp resolves the path's client app id; an unknown one is answered at once.
func (s *Server) withApp(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		clientAppID := r.PathValue("app")
		app, err := s.apps.FindAppByClientID(r.Context(), clientAppID)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		setApp(r, app.ClientAppID)
		h(w, r.WithContext(contextWithApp(r.Context(), app)))
	}
}

// withToken verifies the bearer token of the given type and puts its caller in the context.
func (s *Server) withToken(typ latchkey.TokenType, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("Authorization")
		if header == "" {
			s.Error(w, r, latchkey.Errorf(latchkey.EUnauthenticated, "must authenticate first"))
			return
		}
		scheme, token, _ := strings.Cut(header, " ")
		token = strings.TrimSpace(token)
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			s.Error(w, r, latchkey.Errorf(latchkey.EBadAuthHeader, "expected Authorization header with JWT (Bearer schema)"))
			return
		}
		auth, err := s.auth.Authenticate(r.Context(), token, typ)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		setApp(r, auth.App.ClientAppID)
		h(w, r.WithContext(latchkey.NewContextWithAuth(r.Context(), auth)))
	}
}
