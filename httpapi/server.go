// Package httpapi is Latchkey's HTTP surface: the App Services client API v2.0. routes.go
// lists the whole API on one page; error.go is the one table from error codes to statuses.
package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// Log attribute keys.
const (
	attrRequestID = "request_id"
	attrMethod    = "method"
	attrPath      = "path"
	attrStatus    = "status"
	attrDuration  = "duration"
	attrApp       = "app"
)

// Config are a Server's dependencies.
type Config struct {
	Apps     latchkey.AppService
	Auth     latchkey.AuthService
	Userpass latchkey.UserpassService
	APIKeys  latchkey.APIKeyService
	Logger   *slog.Logger
	// PublicURL is the base URL clients reach the server at, without a trailing slash.
	PublicURL string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server serves the client API.
type Server struct {
	apps      latchkey.AppService
	auth      latchkey.AuthService
	userpass  latchkey.UserpassService
	apiKeys   latchkey.APIKeyService
	logger    *slog.Logger
	publicURL string
	now       func() time.Time
	mux       *http.ServeMux
}

// New returns a Server with its routes registered.
func New(cfg Config) *Server {
	s := &Server{
		apps:      cfg.Apps,
		auth:      cfg.Auth,
		userpass:  cfg.Userpass,
		apiKeys:   cfg.APIKeys,
		logger:    cfg.Logger,
		publicURL: strings.TrimRight(cfg.PublicURL, "/"),
		now:       cfg.Now,
		mux:       http.NewServeMux(),
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.routes()
	return s
}

// requestInfo travels with a request so that errors and the access log can name it.
type requestInfo struct {
	id    string
	appID string // client app id, once known
}

type requestInfoKey struct{}

func info(r *http.Request) *requestInfo {
	if ri, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{}
}

func requestID(r *http.Request) string { return info(r).id }

// setApp records the request's app for error links and the access log.
func setApp(r *http.Request, clientAppID string) { info(r).appID = clientAppID }

// logLink is the contract's error link: where the request's log line can be found.
func (s *Server) logLink(r *http.Request) string {
	ri := info(r)
	if ri.appID != "" {
		return fmt.Sprintf("%s/app/%s/logs?co_id=%s", s.publicURL, ri.appID, ri.id)
	}
	return fmt.Sprintf("%s/logs?co_id=%s", s.publicURL, ri.id)
}

// ServeHTTP runs every request through the same steps: a request id, panic recovery, an
// access log line, CORS, and the body limit.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	ri := &requestInfo{id: latchkey.NewID(start)}
	r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, ri))
	rec := &statusRecorder{ResponseWriter: w}
	rec.Header().Set("X-Request-Id", ri.id)

	defer func() {
		if p := recover(); p != nil {
			s.logger.ErrorContext(r.Context(), "panic", slog.String(attrRequestID, ri.id), slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			if !rec.wrote {
				s.Error(rec, r, fmt.Errorf("panic: %v", p))
			}
		}
		s.logger.InfoContext(r.Context(), "request",
			slog.String(attrRequestID, ri.id), slog.String(attrMethod, r.Method), slog.String(attrPath, r.URL.Path),
			slog.Int(attrStatus, rec.status), slog.Duration(attrDuration, s.now().Sub(start)), slog.String(attrApp, ri.appID))
	}()

	if s.cors(rec, r) {
		return
	}
	if r.ContentLength > maxBodyBytes {
		s.Error(rec, r, errBodyTooLarge())
		return
	}
	r.Body = http.MaxBytesReader(rec, r.Body, maxBodyBytes)
	s.mux.ServeHTTP(rec, r)
}

// cors sets the CORS headers; it answers preflights itself and reports whether it did.
// Browsers run realm-web, and requests carry bearer tokens rather than cookies, so any
// origin is allowed.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Expose-Headers", "X-Request-Id")
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, X-Requested-With")
	h.Set("Access-Control-Max-Age", "600")
	writeEmpty(w, http.StatusNoContent)
	return true
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusRecorder) WriteHeader(status int) {
	if !w.wrote {
		w.status, w.wrote = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }
