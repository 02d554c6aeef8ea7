package httpapi

import (
	"net/http"
	"strings"
)

// hstsMaxAge is how long browsers keep to HTTPS once they have seen the server over it: a
// year. It names no subdomains, which may be served by something else.
const hstsMaxAge = "max-age=31536000"

// securityHeaders sets the headers that every answer carries. Handlers may replace them: the
// JWKS is public and cacheable.
func (s *Server) securityHeaders(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	// Answers carry tokens, key values and secrets, or what a token may see: no cache on the
	// way may keep them.
	h.Set("Cache-Control", "no-store")
	// Over TLS, or behind a proxy that terminates it for the public https URL.
	if r.TLS != nil || strings.HasPrefix(s.publicURL, "https://") {
		h.Set("Strict-Transport-Security", hstsMaxAge)
	}
}
