package httpapi

import (
	"net/http"

	"github.com/latchkey/latchkey"
)

const (
	appPrefix  = "/api/client/v2.0/app/{app}"
	authPrefix = "/api/client/v2.0/auth"
)

// routes registers the whole client API.
func (s *Server) routes() {
	handle := func(method, path string, h http.HandlerFunc) {
		s.mux.HandleFunc(method+" "+path, h)
		s.patterns = append(s.patterns, method+" "+path)
	}

	handle("GET", appPrefix+"/location", s.withApp(s.handleLocation))
	handle("POST", appPrefix+"/auth/providers/{provider}/login", s.withApp(s.handleLogin))
	handle("GET", appPrefix+"/auth/providers/{provider}/login", s.withApp(s.handleOAuth2Redirect))
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
	handle("POST", authPrefix+"/api_keys/{id}/rotate", s.withToken(latchkey.RefreshToken, s.handleRotateAPIKey))

	if s.verify != nil {
		handle("POST", appPrefix+"/auth/api_keys/verify", s.withApp(s.handleVerifyAPIKey))
		handle("GET", authPrefix+"/api_keys/{id}/usage", s.withToken(latchkey.RefreshToken, s.handleFindAPIKeyUsage))
	}

	handle("GET", "/.well-known/jwks.json", s.handleJWKS)

	s.opsRoutes(handle)

	if s.admins != nil {
		s.adminRoutes(handle)
		if s.leaks != nil {
			handle("POST", appPrefix+"/auth/api_keys/leaked", s.withApp(s.handleLeakReport))
		}
	}
}

const (
	adminPrefix = "/api/admin/v3.0"
	groupApp    = adminPrefix + "/groups/{group}/apps/{appID}"
)

// adminRoutes registers the admin API, in the App Services Admin API v3.0 shapes where
// they exist.
func (s *Server) adminRoutes(handle func(method, path string, h http.HandlerFunc)) {
	access := func(h http.HandlerFunc) http.HandlerFunc { return s.withAdmin(latchkey.AdminAccessToken, h) }
	refresh := func(h http.HandlerFunc) http.HandlerFunc { return s.withAdmin(latchkey.AdminRefreshToken, h) }

	handle("POST", adminPrefix+"/auth/providers/local-userpass/login", s.handleAdminLogin)
	handle("GET", adminPrefix+"/auth/profile", access(s.handleAdminProfile))
	handle("POST", adminPrefix+"/auth/session", refresh(s.handleAdminRefresh))
	handle("DELETE", adminPrefix+"/auth/session", refresh(s.handleAdminLogOut))
	handle("GET", adminPrefix+"/audit", access(s.handleFindAuditEvents))
	handle("GET", adminPrefix+"/signing_keys", access(s.handleFindSigningKeys))
	handle("POST", adminPrefix+"/signing_keys/rotate", access(s.handleRotateSigningKeys))

	handle("GET", adminPrefix+"/groups/{group}/apps", access(s.handleAdminFindApps))
	handle("POST", adminPrefix+"/groups/{group}/apps", access(s.handleAdminCreateApp))
	handle("GET", groupApp, access(s.handleAdminFindApp))
	handle("DELETE", groupApp, access(s.handleAdminDeleteApp))
	handle("GET", groupApp+"/settings", access(s.handleAdminAppSettings))
	handle("PATCH", groupApp+"/settings", access(s.handleAdminUpdateAppSettings))
	handle("GET", groupApp+"/security/refresh_token_expiration", access(s.handleAdminRefreshExpiration))
	handle("PUT", groupApp+"/security/refresh_token_expiration", access(s.handleAdminSetRefreshExpiration))
	handle("GET", groupApp+"/security/allowed_request_origins", access(s.handleAdminAllowedOrigins))
	handle("POST", groupApp+"/security/allowed_request_origins", access(s.handleAdminSetAllowedOrigins))
	handle("GET", groupApp+"/auth_providers", access(s.handleAdminAuthProviders))
	handle("GET", groupApp+"/auth_providers/{provider}", access(s.handleAdminAuthProvider))
	handle("PUT", groupApp+"/auth_providers/{provider}/enable", access(s.setProvider(true)))
	handle("PUT", groupApp+"/auth_providers/{provider}/disable", access(s.setProvider(false)))
	if s.providers != nil {
		handle("POST", groupApp+"/auth_providers", access(s.handleAdminCreateAuthProvider))
		handle("PUT", groupApp+"/auth_providers/{provider}", access(s.handleAdminReplaceAuthProvider))
		handle("DELETE", groupApp+"/auth_providers/{provider}", access(s.handleAdminDeleteAuthProvider))
	}
	handle("GET", groupApp+"/audit", access(s.handleFindAuditEvents))
	handle("POST", groupApp+"/leak_secret", access(s.handleRotateLeakSecret))

	handle("GET", groupApp+"/api_keys", access(s.handleFindServerAPIKeys))
	handle("POST", groupApp+"/api_keys", access(s.handleCreateServerAPIKey))
	handle("GET", groupApp+"/api_keys/{keyID}", access(s.handleFindServerAPIKey))
	handle("DELETE", groupApp+"/api_keys/{keyID}", access(s.handleDeleteServerAPIKey))
	handle("PUT", groupApp+"/api_keys/{keyID}/enable", access(s.setServerAPIKey(false)))
	handle("PUT", groupApp+"/api_keys/{keyID}/disable", access(s.setServerAPIKey(true)))

	handle("GET", groupApp+"/users", access(s.handleFindUsers))
	handle("POST", groupApp+"/users/verify_token", access(s.handleVerifyToken))
	handle("GET", groupApp+"/users/{userID}", access(s.handleFindUser))
	handle("DELETE", groupApp+"/users/{userID}", access(s.handleAdminDeleteUser))
	handle("PUT", groupApp+"/users/{userID}/enable", access(s.setUser(false)))
	handle("PUT", groupApp+"/users/{userID}/disable", access(s.setUser(true)))
	handle("PUT", groupApp+"/users/{userID}/logout", access(s.handleRevokeUserSessions))
	handle("GET", groupApp+"/users/{userID}/custom_data", access(s.handleFindUserCustomData))
	handle("PUT", groupApp+"/users/{userID}/custom_data", access(s.handleSetUserCustomData))
	handle("DELETE", groupApp+"/users/{userID}/custom_data", access(s.handleDeleteUserCustomData))
	handle("GET", groupApp+"/users/{userID}/api_keys", access(s.handleFindUserAPIKeys))
	handle("GET", groupApp+"/users/{userID}/api_keys/{keyID}", access(s.handleFindUserAPIKey))
	handle("PUT", groupApp+"/users/{userID}/api_keys/{keyID}/enable", access(s.setUserAPIKey(false)))
	handle("PUT", groupApp+"/users/{userID}/api_keys/{keyID}/disable", access(s.setUserAPIKey(true)))
	handle("DELETE", groupApp+"/users/{userID}/api_keys/{keyID}", access(s.handleDeleteUserAPIKey))
	if s.verify != nil {
		handle("PATCH", groupApp+"/users/{userID}/api_keys/{keyID}", access(s.handleSetUserAPIKeyLimits))
		handle("GET", groupApp+"/users/{userID}/api_keys/{keyID}/usage", access(s.handleFindUserAPIKeyUsage))
	}
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
		setApp(w, r, app)
		h(w, r.WithContext(contextWithApp(r.Context(), app)))
	}
}

// withToken verifies the bearer token of the given type and puts its caller in the context.
func (s *Server) withToken(typ latchkey.TokenType, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, err := bearerToken(r)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		auth, err := s.auth.Authenticate(r.Context(), token, typ)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		setApp(w, r, auth.App)
		h(w, r.WithContext(latchkey.NewContextWithAuth(r.Context(), auth)))
	}
}
