package httpapi

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"time"
)

// openAPIDocument describes the client and admin APIs; /openapi.json serves it.
//
//go:embed openapi.json
var openAPIDocument []byte

// readyTimeout bounds a readiness check, so that a hung database answers 503 rather than
// holding the probe.
const readyTimeout = 2 * time.Second

// opsRoutes registers what operators and tools use: health, readiness and the OpenAPI
// document. Metrics are not here: they are
// served only on a listener of their own (latchkey serve --metrics-addr), never beside the
// public API.
func (s *Server) opsRoutes(handle func(method, path string, h http.HandlerFunc)) {
	handle("GET", "/healthz", s.handleHealthz)
	handle("GET", "/readyz", s.handleReadyz)
	handle("GET", "/openapi.json", s.handleOpenAPI)
}

// Routes returns the pattern of every registered route, "METHOD /path/{param}", in
// registration order.
func (s *Server) Routes() []string { return slices.Clone(s.patterns) }

type healthResponse struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// handleHealthz answers while the process serves HTTP at all; it asks nothing else.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, healthResponse{Status: "ok"})
}

// handleReadyz answers 200 while the database answers and is fully migrated, else 503. The
// reason is logged; the answer names only what failed.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if s.health != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := s.health.CheckReady(ctx); err != nil {
			s.logger.WarnContext(r.Context(), "not ready", slog.String(attrRequestID, requestID(r)), slog.Any("err", err))
			writeJSON(w, http.StatusServiceUnavailable, healthResponse{Status: "unavailable", Reason: "database unavailable or not migrated"})
			return
		}
	}
	writeJSON(w, http.StatusOK, healthResponse{Status: "ok"})
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(s.openAPI)
}

// openAPIServers is the committed document's servers list, which names the default address.
const openAPIServers = `"servers": [
    {
      "url": "http://127.0.0.1:9090",
      "description": "the default listen address"
    }
  ]`

// openAPIFor returns the OpenAPI document with publicURL as its one server, so that tools
// reading it from a server call that server.
func openAPIFor(publicURL string) []byte {
	if publicURL == "" {
		return openAPIDocument
	}
	url, _ := json.Marshal(publicURL)
	servers := `"servers": [
    {
      "url": ` + string(url) + `,
      "description": "this server"
    }
  ]`
	return bytes.Replace(openAPIDocument, []byte(openAPIServers), []byte(servers), 1)
}
