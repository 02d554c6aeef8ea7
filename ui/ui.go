// Package ui is Latchkey's web console: the admin console at /console/ and each app's
// self-service page at /app/{client_app_id}/account/, where a user manages their own API
// keys and can ask for a password reset link. A server mounting it sends it every path under /console and /app/, among them the pages that
// confirmation and password reset links lead to. Pages are server-rendered html/template with embedded assets and work without
// JavaScript; the one script only adds copy buttons.
//
// The pages reach Latchkey only through the root package's service interfaces. A browser
// holds an opaque random session id in an HttpOnly cookie; the store keeps only its hash,
// with the admin's or user's session it stands for (see session.go), so that every node
// over one database serves every signed-in page.
package ui

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// Config are a Handler's dependencies.
type Config struct {
	Apps     latchkey.AppService
	Auth     latchkey.AuthService
	Userpass latchkey.UserpassService // sends the self-service page's password reset messages
	APIKeys  latchkey.APIKeyService
	// Admins, Users, ServerKeys and Audit serve the console.
	Admins     latchkey.AdminService
	Users      latchkey.UserService
	ServerKeys latchkey.ServerKeyService
	Audit      latchkey.AuditService
	// Verify sets the console's key limits and gives both pages each key's usage.
	Verify latchkey.VerifyService
	// Providers configures the apps' external sign-in providers; nil leaves the console
	// without its sign-in providers page.
	Providers latchkey.AuthProviderService
	// WebSessions keeps the signed-in browsers, for every node alike.
	WebSessions latchkey.WebSessionService
	Logger      *slog.Logger
	// SecureCookies marks cookies Secure even on plain-HTTP requests, for a server behind a
	// TLS-terminating proxy. Requests that arrive over TLS always get Secure cookies.
	SecureCookies bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Handler serves the console and the self-service pages.
type Handler struct {
	apps     latchkey.AppService
	auth     latchkey.AuthService
	userpass latchkey.UserpassService
	apiKeys  latchkey.APIKeyService
	logger   *slog.Logger
	secure   bool
	now      func() time.Time
	mux      *http.ServeMux
	pages    map[string]*page
	links    *http.ServeMux // the pages email links lead to (maillink.go)

	admins      latchkey.AdminService
	users       latchkey.UserService
	serverKeys  latchkey.ServerKeyService
	audit       latchkey.AuditService
	verify      latchkey.VerifyService
	webSessions latchkey.WebSessionService
	providers   latchkey.AuthProviderService
}

// New returns a Handler with its routes registered.
func New(cfg Config) *Handler {
	h := &Handler{
		apps:     cfg.Apps,
		auth:     cfg.Auth,
		userpass: cfg.Userpass,
		apiKeys:  cfg.APIKeys,
		logger:   cfg.Logger,
		secure:   cfg.SecureCookies,
		now:      cfg.Now,
		mux:      http.NewServeMux(),
		pages:    parsePages(),

		admins:      cfg.Admins,
		users:       cfg.Users,
		serverKeys:  cfg.ServerKeys,
		audit:       cfg.Audit,
		verify:      cfg.Verify,
		webSessions: cfg.WebSessions,
		providers:   cfg.Providers,
	}
	if h.logger == nil {
		h.logger = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.routes()
	h.links = h.mailLinkRoutes()
	return h
}

// accountApp returns the client app id of a self-service path /app/{id}/account[/...].
func accountApp(p string) (string, bool) {
	rest, ok := strings.CutPrefix(p, "/app/")
	if !ok {
		return "", false
	}
	id, rest, _ := strings.Cut(rest, "/")
	if id == "" || !(rest == "account" || strings.HasPrefix(rest, "account/")) {
		return "", false
	}
	return id, true
}

const consolePath = "/console"

// maxFormBytes bounds a form body; every form here is a few fields.
const maxFormBytes = 64 << 10

// contentSecurityPolicy allows the pages' own stylesheet and script and nothing inline.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// ServeHTTP sets the security headers every answer carries and refuses a POST whose CSRF
// token does not match the browser's session before any handler runs. The pages email links
// lead to go their own way (maillink.go). A path, query or form that is not text
// (latchkey.IsText) is refused here, before a store could fail on it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !latchkey.IsText(r.URL.Path) {
		h.renderError(w, r, http.StatusNotFound, "Page not found", "There is no page at this address.")
		return
	}
	if !allText(r.URL.Query()) {
		h.renderError(w, r, http.StatusBadRequest, "Cannot do that", notText)
		return
	}
	if _, pattern := h.links.Handler(r); pattern != "" {
		h.links.ServeHTTP(w, r) // which sets the path's values, as Handler does not
		return
	}
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	if strings.HasPrefix(r.URL.Path, staticPath) {
		hd.Set("Cache-Control", "public, max-age=3600")
	} else {
		hd.Set("Cache-Control", "no-store")
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if !h.checkPost(r) {
			h.renderError(w, r, http.StatusForbidden, "This form has expired",
				"The page was open too long, or the form came from another site. Go back, reload the page and try again.")
			return
		}
		if !allText(r.PostForm) {
			h.renderError(w, r, http.StatusBadRequest, "Cannot do that", notText)
			return
		}
	}
	h.mux.ServeHTTP(w, r)
}

// routes lists every page. GET pages read; every change is a POST with a CSRF token, and the
// destructive ones first GET a confirmation page that holds the POST form.
func (h *Handler) routes() {
	m := h.mux
	static := http.StripPrefix(staticPath, http.FileServerFS(staticFS()))
	m.HandleFunc("GET "+staticPath+"{file}", func(w http.ResponseWriter, r *http.Request) {
		static.ServeHTTP(w, r)
	})

	m.HandleFunc("GET /console", redirectTo(consolePath+"/"))
	m.HandleFunc("GET /console/{$}", h.handleConsoleHome)
	m.HandleFunc("GET /console/sign-in", h.handleAdminSignInPage)
	m.HandleFunc("POST /console/sign-in", h.handleAdminSignIn)
	m.HandleFunc("POST /console/sign-out", h.withAdmin(h.handleAdminSignOut))

	m.HandleFunc("GET /console/apps", h.withAdmin(h.handleApps))
	m.HandleFunc("POST /console/apps", h.withAdmin(h.handleCreateApp))
	m.HandleFunc("GET /console/apps/{app}", h.withAdmin(h.handleAppSettings))
	m.HandleFunc("POST /console/apps/{app}", h.withAdmin(h.handleUpdateAppSettings))
	m.HandleFunc("GET /console/apps/{app}/delete", h.withAdmin(h.handleDeleteAppConfirm))
	m.HandleFunc("POST /console/apps/{app}/delete", h.withAdmin(h.handleDeleteApp))

	m.HandleFunc("GET /console/apps/{app}/server-keys", h.withAdmin(h.handleServerKeys))
	m.HandleFunc("POST /console/apps/{app}/server-keys", h.withAdmin(h.handleCreateServerKey))
	m.HandleFunc("POST /console/apps/{app}/server-keys/{key}/disable", h.withAdmin(h.handleSetServerKey(true)))
	m.HandleFunc("POST /console/apps/{app}/server-keys/{key}/enable", h.withAdmin(h.handleSetServerKey(false)))
	m.HandleFunc("GET /console/apps/{app}/server-keys/{key}/delete", h.withAdmin(h.handleDeleteServerKeyConfirm))
	m.HandleFunc("POST /console/apps/{app}/server-keys/{key}/delete", h.withAdmin(h.handleDeleteServerKey))

	if h.providers != nil {
		m.HandleFunc("GET /console/apps/{app}/providers", h.withAdmin(h.handleProviders))
		m.HandleFunc("POST /console/apps/{app}/providers/{type}", h.withAdmin(h.handleSaveProvider))
		m.HandleFunc("POST /console/apps/{app}/providers/{type}/disable", h.withAdmin(h.handleSetProvider(true)))
		m.HandleFunc("POST /console/apps/{app}/providers/{type}/enable", h.withAdmin(h.handleSetProvider(false)))
		m.HandleFunc("GET /console/apps/{app}/providers/{type}/delete", h.withAdmin(h.handleDeleteProviderConfirm))
		m.HandleFunc("POST /console/apps/{app}/providers/{type}/delete", h.withAdmin(h.handleDeleteProvider))
	}

	m.HandleFunc("GET /console/apps/{app}/users", h.withAdmin(h.handleUsers))
	m.HandleFunc("GET /console/apps/{app}/users/{user}", h.withAdmin(h.handleUser))
	m.HandleFunc("POST /console/apps/{app}/users/{user}/enable", h.withAdmin(h.handleEnableUser))
	m.HandleFunc("POST /console/apps/{app}/users/{user}/custom_data", h.withAdmin(h.handleSetUserCustomData))
	for _, a := range userActions {
		m.HandleFunc("GET /console/apps/{app}/users/{user}/"+a.path, h.withAdmin(h.handleUserActionConfirm(a)))
		m.HandleFunc("POST /console/apps/{app}/users/{user}/"+a.path, h.withAdmin(h.handleUserAction(a)))
	}
	m.HandleFunc("POST /console/apps/{app}/users/{user}/keys/{key}/disable", h.withAdmin(h.handleSetUserKey(true)))
	m.HandleFunc("POST /console/apps/{app}/users/{user}/keys/{key}/enable", h.withAdmin(h.handleSetUserKey(false)))
	m.HandleFunc("POST /console/apps/{app}/users/{user}/keys/{key}/limits", h.withAdmin(h.handleSetUserKeyLimits))
	m.HandleFunc("GET /console/apps/{app}/users/{user}/keys/{key}/delete", h.withAdmin(h.handleDeleteUserKeyConfirm))
	m.HandleFunc("POST /console/apps/{app}/users/{user}/keys/{key}/delete", h.withAdmin(h.handleDeleteUserKey))

	m.HandleFunc("GET /console/audit", h.withAdmin(h.handleAudit))

	m.HandleFunc("GET /app/{app}/account", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, accountURL(r.PathValue("app")), http.StatusSeeOther)
	})
	m.HandleFunc("GET /app/{app}/account/{$}", h.withAccountApp(h.handleAccount))
	m.HandleFunc("POST /app/{app}/account/sign-in", h.withAccountApp(h.handleAccountSignIn))
	m.HandleFunc("POST /app/{app}/account/sign-out", h.withAccount(h.handleAccountSignOut))
	m.HandleFunc("GET /app/{app}/account/forgot", h.withAccountApp(h.handleForgotPage))
	m.HandleFunc("POST /app/{app}/account/forgot", h.withAccountApp(h.handleForgot))
	m.HandleFunc("POST /app/{app}/account/keys", h.withAccount(h.handleCreateKey))
	m.HandleFunc("POST /app/{app}/account/keys/{key}/disable", h.withAccount(h.handleSetKey(true)))
	m.HandleFunc("POST /app/{app}/account/keys/{key}/enable", h.withAccount(h.handleSetKey(false)))
	m.HandleFunc("GET /app/{app}/account/keys/{key}/rotate", h.withAccount(h.handleRotateKeyConfirm))
	m.HandleFunc("POST /app/{app}/account/keys/{key}/rotate", h.withAccount(h.handleRotateKey))
	m.HandleFunc("GET /app/{app}/account/keys/{key}/delete", h.withAccount(h.handleDeleteKeyConfirm))
	m.HandleFunc("POST /app/{app}/account/keys/{key}/delete", h.withAccount(h.handleDeleteKey))

	// An error's link (<base>/app/<app>/logs?co_id=<request id>, or /logs?co_id= when the
	// request named no app) leads to that request's audit events in the console.
	m.HandleFunc("GET /logs", h.handleLogLink)
	m.HandleFunc("GET /app/{app}/logs", h.handleLogLink)
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		h.render(w, r, http.StatusOK, "home", &pageData{Title: "Latchkey", Console: true})
	})
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.renderError(w, r, http.StatusNotFound, "Page not found", "There is no page at this address.")
	})
}

// notText is what a page says of a query or form that is not text.
const notText = "The address or the form holds text that is not UTF-8, or a NUL character."

// allText reports whether every name and value of a query or form is text.
func allText(values url.Values) bool {
	for name, vs := range values {
		if !latchkey.IsText(name) {
			return false
		}
		for _, v := range vs {
			if !latchkey.IsText(v) {
				return false
			}
		}
	}
	return true
}

func redirectTo(target string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, target, http.StatusSeeOther) }
}

// seeOther answers a POST with a redirect to a page, so that reloading the page does not
// send the form again.
func seeOther(w http.ResponseWriter, r *http.Request, target string) {
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// appURL is the console's address of an app's page; rest starts with "/" or is empty.
func appURL(clientAppID, rest string) string {
	return consolePath + "/apps/" + url.PathEscape(clientAppID) + rest
}

// accountURL is the self-service page of an app.
func accountURL(clientAppID string) string {
	return "/app/" + url.PathEscape(clientAppID) + "/account/"
}
