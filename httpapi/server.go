// Package httpapi is Latchkey's HTTP surface: the App Services client API v2.0. routes.go
// lists the whole API on one page; error.go writes every error answer, with the status of the
// root package's one table (latchkey.Status) and the wire code of each error code.
package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"path"
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
	attrRoute     = "route"
	attrIP        = "ip"
)

// Config are a Server's dependencies.
type Config struct {
	Apps     latchkey.AppService
	Auth     latchkey.AuthService
	Userpass latchkey.UserpassService
	APIKeys  latchkey.APIKeyService
	Leaks    latchkey.LeakService
	// Admins opens the admin API; nil serves the client API alone. The admin API takes the
	// services below it too.
	Admins      latchkey.AdminService
	Users       latchkey.UserService
	ServerKeys  latchkey.ServerKeyService
	Audit       latchkey.AuditService
	SigningKeys latchkey.SigningKeyService
	// Verify serves the verify call and the keys' limits and usage; nil serves none of them.
	Verify latchkey.VerifyService
	// Providers manages the apps' external providers; nil serves the built-in ones alone.
	Providers latchkey.AuthProviderService
	Logger    *slog.Logger
	// PublicURL is the base URL clients reach the server at, without a trailing slash.
	PublicURL string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Observer receives a measurement of every request; nil discards them.
	Observer latchkey.Observer
	// Health answers /readyz; nil answers ready.
	Health latchkey.ReadyChecker
	// UI serves the web pages under /console and /app/ (package ui); nil serves none.
	UI http.Handler
	// TrustedProxies are the peers whose X-Forwarded-For or Forwarded header gives the
	// client's address (clientip.go); nil trusts nobody.
	TrustedProxies []netip.Prefix
	// WriteTimeout is the http.Server's: each request gets a deadline a little under it
	// (requestDeadline), so that a request stuck behind a lock or a lost database answers 503
	// in JSON before the server cuts the connection. Zero sets no deadline.
	WriteTimeout time.Duration
}

// Server serves the client API.
type Server struct {
	apps        latchkey.AppService
	auth        latchkey.AuthService
	userpass    latchkey.UserpassService
	apiKeys     latchkey.APIKeyService
	leaks       latchkey.LeakService
	admins      latchkey.AdminService
	users       latchkey.UserService
	serverKeys  latchkey.ServerKeyService
	audit       latchkey.AuditService
	signingKeys latchkey.SigningKeyService
	verify      latchkey.VerifyService
	providers   latchkey.AuthProviderService
	ui          http.Handler
	logger      *slog.Logger
	publicURL   string
	now         func() time.Time
	mux         *http.ServeMux
	observer    latchkey.Observer
	health      latchkey.ReadyChecker
	patterns    []string
	openAPI     []byte // the OpenAPI document, naming this server's public URL
	// trustedProxies are Config.TrustedProxies.
	trustedProxies []netip.Prefix
	// deadline bounds each request; zero for none.
	deadline time.Duration
}

// New returns a Server with its routes registered.
func New(cfg Config) *Server {
	s := &Server{
		apps:      cfg.Apps,
		auth:      cfg.Auth,
		userpass:  cfg.Userpass,
		apiKeys:   cfg.APIKeys,
		leaks:     cfg.Leaks,
		ui:        cfg.UI,
		logger:    cfg.Logger,
		publicURL: strings.TrimRight(cfg.PublicURL, "/"),
		now:       cfg.Now,
		mux:       http.NewServeMux(),

		admins:      cfg.Admins,
		users:       cfg.Users,
		serverKeys:  cfg.ServerKeys,
		audit:       cfg.Audit,
		signingKeys: cfg.SigningKeys,
		verify:      cfg.Verify,
		providers:   cfg.Providers,

		trustedProxies: cfg.TrustedProxies,
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.observer, s.health = cfg.Observer, cfg.Health
	s.deadline = requestDeadline(cfg.WriteTimeout)
	if s.observer == nil {
		s.observer = latchkey.NopObserver{}
	}
	s.openAPI = openAPIFor(s.publicURL)
	s.routes()
	return s
}

// requestDeadline is how long a request may run under a server whose write timeout is wt: 2 s
// less, or half of wt when that is shorter, which leaves the time to write a JSON answer.
func requestDeadline(wt time.Duration) time.Duration {
	if wt <= 0 {
		return 0
	}
	return wt - min(2*time.Second, wt/2)
}

// requestInfo travels with a request so that errors and the access log can name it.
type requestInfo struct {
	id    string
	appID string // client app id, once known
	route string // the matching route pattern, "" if none
}

type requestInfoKey struct{}

func info(r *http.Request) *requestInfo {
	if ri, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{}
}

func requestID(r *http.Request) string { return info(r).id }

// logLink is the contract's error link: where the request's log line can be found.
func (s *Server) logLink(r *http.Request) string {
	ri := info(r)
	if ri.appID != "" {
		return fmt.Sprintf("%s/app/%s/logs?co_id=%s", s.publicURL, ri.appID, ri.id)
	}
	return fmt.Sprintf("%s/logs?co_id=%s", s.publicURL, ri.id)
}

// ServeHTTP runs every request through the same steps: a request id, a deadline, panic
// recovery, an access log line, CORS, and the body limit.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	ri := &requestInfo{id: latchkey.NewID(start)}
	ctx := context.WithValue(r.Context(), requestInfoKey{}, ri)
	if s.deadline > 0 {
		// Error answers a request that ran out of it with 503 and Retry-After.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.deadline)
		defer cancel()
	}
	ip := s.clientIP(r)
	ctx = latchkey.NewContextWithRequestMeta(ctx, latchkey.RequestMeta{
		IP: ip, UserAgent: truncate(r.UserAgent(), 256), RequestID: ri.id,
	})
	r = r.WithContext(ctx)
	rec := &statusRecorder{ResponseWriter: w}
	rec.Header().Set("X-Request-Id", ri.id)
	s.securityHeaders(rec, r)

	defer func() {
		if p := recover(); p != nil {
			s.logger.ErrorContext(r.Context(), "panic", slog.String(attrRequestID, ri.id), slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			if !rec.wrote {
				s.Error(rec, r, fmt.Errorf("panic: %v", p))
			}
		}
		elapsed := s.now().Sub(start)
		s.logger.InfoContext(r.Context(), "request",
			slog.String(attrRequestID, ri.id), slog.String(attrMethod, r.Method), slog.String(attrPath, r.URL.Path),
			slog.Int(attrStatus, rec.status), slog.Duration(attrDuration, elapsed), slog.String(attrApp, ri.appID),
			slog.String(attrRoute, ri.route), slog.String(attrIP, ip))
		s.observer.ObserveRequest(ri.route, rec.status, elapsed)
	}()
	_, ri.route = s.mux.Handler(r)

	if s.ui != nil && isUIPath(r.URL.Path) {
		// Pages get the request id, log line and recovery, but not the API's CORS or JSON.
		s.ui.ServeHTTP(rec, r)
		return
	}
	if s.cors(rec, r) {
		return
	}
	if r.ContentLength > maxBodyBytes {
		s.Error(rec, r, errBodyTooLarge())
		return
	}
	r.Body = http.MaxBytesReader(rec, r.Body, maxBodyBytes)
	// The mux would answer an unclean path (//, /../) with an HTML redirect; no client of
	// this API sends one.
	if p := r.URL.EscapedPath(); p == "" || path.Clean(p) != p {
		ri.route = ""
		s.Error(rec, r, latchkey.Errorf(latchkey.ENoRoute, "no route for %s %s", r.Method, r.URL.Path))
		return
	}
	if err := checkURL(r); err != nil {
		s.Error(rec, r, err)
		return
	}
	if ri.route == "" {
		s.noRoute(rec, r)
		return
	}
	s.mux.ServeHTTP(rec, r)
}

// noRoute answers a request that matches no route with the contract's JSON error: 405 with
// an Allow header when the path exists for other methods, else 404. The mux knows which; its
// own plain-text answer is caught and replaced.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	h, _ := s.mux.Handler(r)
	probe := &headerProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	if probe.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", probe.header.Get("Allow"))
		s.Error(w, r, latchkey.Errorf(latchkey.EMethodNotAllowed, "method %s not allowed", r.Method))
		return
	}
	s.Error(w, r, latchkey.Errorf(latchkey.ENoRoute, "no route for %s %s", r.Method, r.URL.Path))
}

// headerProbe is a ResponseWriter that keeps only the status and the headers.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header         { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *headerProbe) WriteHeader(status int)      { p.status = status }

// cors sets the CORS headers; it answers preflights itself and reports whether it did.
// Requests carry bearer tokens rather than cookies, so an origin is allowed unless its app
// lists allowed origins (setApp withdraws the permission then; for a preflight of an
// app-scoped route the app is looked up here).
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
	if clientAppID, ok := appInPath(r.URL.Path); ok {
		if app, err := s.apps.FindAppByClientID(r.Context(), clientAppID); err == nil && !app.OriginAllowed(origin) {
			h.Del("Access-Control-Allow-Origin")
		}
	}
	h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, X-Requested-With")
	h.Set("Access-Control-Max-Age", "600")
	writeEmpty(w, http.StatusNoContent)
	return true
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// setApp records the request's app for error links and the access log, and withdraws the
// CORS permission when the app does not allow the request's origin.
func setApp(w http.ResponseWriter, r *http.Request, app *latchkey.App) {
	info(r).appID = app.ClientAppID
	if origin := r.Header.Get("Origin"); origin != "" && !app.OriginAllowed(origin) {
		w.Header().Del("Access-Control-Allow-Origin")
	}
}

// isUIPath reports whether a path is a web page's: the start page, /console, each app's
// /account pages, the pages that email links lead to (/app/{app}/confirm, /reset) and the
// error links' /logs.
func isUIPath(p string) bool {
	if p == "/" || p == "/logs" || p == "/console" || strings.HasPrefix(p, "/console/") {
		return true
	}
	rest, ok := strings.CutPrefix(p, "/app/")
	if !ok {
		return false
	}
	_, page, _ := strings.Cut(rest, "/")
	return page == "account" || strings.HasPrefix(page, "account/") || page == "logs" || page == "confirm" || page == "reset"
}

// appInPath returns the client app id of an app-scoped client API path.
func appInPath(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/api/client/v2.0/app/")
	if !ok {
		return "", false
	}
	id, _, _ := strings.Cut(rest, "/")
	return id, id != ""
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
