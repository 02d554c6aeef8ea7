package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/latchkey/latchkey"
)

func contextWithApp(ctx context.Context, app *latchkey.App) context.Context {
	return context.WithValue(ctx, appContextKey{}, app)
}

func appFrom(r *http.Request) *latchkey.App {
	app, _ := r.Context().Value(appContextKey{}).(*latchkey.App)
	return app
}

type locationResponse struct {
	DeploymentModel string `json:"deployment_model"`
	Location        string `json:"location"`
	Hostname        string `json:"hostname"`
	WSHostname      string `json:"ws_hostname"`
}

// handleLocation tells SDKs where to send the app's requests: this server.
func (s *Server) handleLocation(w http.ResponseWriter, r *http.Request) {
	ws := "ws" + strings.TrimPrefix(s.publicURL, "http")
	writeJSON(w, http.StatusOK, locationResponse{
		DeploymentModel: "GLOBAL",
		Location:        "local",
		Hostname:        s.publicURL,
		WSHostname:      ws,
	})
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
