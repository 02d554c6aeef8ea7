package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

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

type appResponse struct {
	ID              string `json:"_id"`
	ClientAppID     string `json:"client_app_id"`
	Name            string `json:"name"`
	GroupID         string `json:"group_id"`
	DomainID        string `json:"domain_id"`
	Location        string `json:"location"`
	DeploymentModel string `json:"deployment_model"`
	CreatedAt       string `json:"created_at"`
}

func newAppResponse(a *latchkey.App) appResponse {
	return appResponse{
		ID: a.ID, ClientAppID: a.ClientAppID, Name: a.Name, GroupID: latchkey.GroupID, DomainID: a.ID,
		Location: "local", DeploymentModel: "GLOBAL", CreatedAt: a.CreatedAt.UTC().Format(time.RFC3339),
	}
}

// appSettings is Latchkey's view of an app's settings, for GET and (all fields optional)
// PATCH.
type appSettings struct {
	Name                        *string   `json:"name,omitempty"`
	AutoConfirm                 *bool     `json:"auto_confirm,omitempty"`
	AnonUserEnabled             *bool     `json:"anon_user_enabled,omitempty"`
	LocalUserpassEnabled        *bool     `json:"local_userpass_enabled,omitempty"`
	APIKeyEnabled               *bool     `json:"api_key_enabled,omitempty"`
	PasswordMinLength           *int      `json:"password_min_length,omitempty"`
	RefreshTokenLifetimeSeconds *int64    `json:"refresh_token_lifetime_seconds,omitempty"`
	AllowedOrigins              *[]string `json:"allowed_origins,omitempty"`
	HideAccountExistence        *bool     `json:"hide_account_existence,omitempty"`
	KeyPrefix                   *string   `json:"key_prefix,omitempty"`
	MaxKeyLifetimeSeconds       *int64    `json:"max_key_lifetime_seconds,omitempty"`
	Scopes                      *[]string `json:"scopes,omitempty"`
	LeakSecretSet               *bool     `json:"leak_secret_set,omitempty"` // read only
	// KeyRateLimit is the rate limit new user keys start with; null removes it.
	KeyRateLimit nullableRateLimit `json:"key_ratelimit"`
}

// nullableRateLimit is a rate limit that may be null on the wire: a PATCH tells null
// (remove, set with a nil limit) from a field left out (not set).
type nullableRateLimit struct {
	set   bool
	limit *rateLimitJSON
}

func (n nullableRateLimit) MarshalJSON() ([]byte, error) { return json.Marshal(n.limit) }

func (n *nullableRateLimit) UnmarshalJSON(b []byte) error {
	n.set, n.limit = true, nil
	if string(b) == "null" {
		return nil
	}
	n.limit = &rateLimitJSON{}
	return json.Unmarshal(b, n.limit)
}

func newAppSettings(a *latchkey.App) appSettings {
	secs := int64(a.RefreshTokenLifetime / time.Second)
	origins := a.AllowedOrigins
	if origins == nil {
		origins = []string{}
	}
	maxKey := int64(a.MaxKeyLifetime / time.Second)
	scopes := a.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	leak := len(a.LeakSecretHash) > 0
	return appSettings{
		Name: &a.Name, AutoConfirm: &a.AutoConfirm, AnonUserEnabled: &a.AnonymousEnabled,
		LocalUserpassEnabled: &a.UserpassEnabled, APIKeyEnabled: &a.APIKeyEnabled,
		PasswordMinLength: &a.PasswordMinLength, RefreshTokenLifetimeSeconds: &secs, AllowedOrigins: &origins,
		HideAccountExistence: &a.HideAccountExistence,
		KeyPrefix:            &a.KeyPrefix, MaxKeyLifetimeSeconds: &maxKey, Scopes: &scopes, LeakSecretSet: &leak,
		KeyRateLimit: nullableRateLimit{set: true, limit: newRateLimitJSON(a.KeyRateLimit)},
	}
}

func (p appSettings) update() latchkey.AppSettings {
	upd := latchkey.AppSettings{
		Name: p.Name, AutoConfirm: p.AutoConfirm, AnonymousEnabled: p.AnonUserEnabled,
		UserpassEnabled: p.LocalUserpassEnabled, APIKeyEnabled: p.APIKeyEnabled,
		PasswordMinLength: p.PasswordMinLength, AllowedOrigins: p.AllowedOrigins,
		HideAccountExistence: p.HideAccountExistence,
	}
	upd.KeyPrefix, upd.Scopes = p.KeyPrefix, p.Scopes
	upd.RefreshTokenLifetime = seconds(p.RefreshTokenLifetimeSeconds)
	upd.MaxKeyLifetime = seconds(p.MaxKeyLifetimeSeconds)
	if p.KeyRateLimit.set {
		var rl *latchkey.KeyRateLimit
		if p.KeyRateLimit.limit != nil {
			rl = p.KeyRateLimit.limit.rateLimit() // checked by the service, with the app
		}
		upd.KeyRateLimit = &rl
	}
	return upd
}

// seconds converts an optional count of seconds, clamped into time.Duration's range (the
// service then refuses values out of its own bounds).
func seconds(n *int64) *time.Duration {
	if n == nil {
		return nil
	}
	v := *n
	if v > maxSeconds {
		v = maxSeconds
	} else if v < -maxSeconds {
		v = -maxSeconds
	}
	d := time.Duration(v) * time.Second
	return &d
}

func (s *Server) handleAdminFindApps(w http.ResponseWriter, r *http.Request) {
	apps, err := s.apps.FindApps(r.Context())
	writeList(s, w, r, apps, err, newAppResponse)
}

type createAppRequest struct {
	appSettings
	ClientAppID string `json:"client_app_id"`
}

func (s *Server) handleAdminCreateApp(w http.ResponseWriter, r *http.Request) {
	var req createAppRequest
	if err := decode(r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	// New apps start from the quickstart settings; the request changes what it names.
	app := &latchkey.App{
		ClientAppID: req.ClientAppID, AutoConfirm: true, AnonymousEnabled: true, UserpassEnabled: true, APIKeyEnabled: true,
	}
	app.Apply(req.update())
	if err := s.apps.CreateApp(r.Context(), app); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, newAppResponse(app))
}

func (s *Server) handleAdminFindApp(w http.ResponseWriter, r *http.Request) {
	app, err := s.apps.FindApp(r.Context(), r.PathValue("appID"))
	writeResult(s, w, r, app, err, newAppResponse)
}

func (s *Server) handleAdminDeleteApp(w http.ResponseWriter, r *http.Request) {
	s.writeOutcome(w, r, s.apps.DeleteApp(r.Context(), r.PathValue("appID")))
}

func (s *Server) handleAdminAppSettings(w http.ResponseWriter, r *http.Request) {
	app, err := s.apps.FindApp(r.Context(), r.PathValue("appID"))
	writeResult(s, w, r, app, err, newAppSettings)
}

func (s *Server) handleAdminUpdateAppSettings(w http.ResponseWriter, r *http.Request) {
	var req appSettings
	if err := decode(r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	s.updateApp(w, r, req.update(), func(a *latchkey.App) any { return newAppSettings(a) })
}

// updateApp applies upd and answers with view(app), or 204 when view is nil.
func (s *Server) updateApp(w http.ResponseWriter, r *http.Request, upd latchkey.AppSettings, view func(*latchkey.App) any) {
	app, err := s.apps.UpdateApp(r.Context(), r.PathValue("appID"), upd)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if view == nil {
		writeEmpty(w, http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, view(app))
}

type refreshExpiration struct {
	ExpirationTimeSeconds *int64 `json:"expiration_time_seconds"`
}

func (s *Server) handleAdminRefreshExpiration(w http.ResponseWriter, r *http.Request) {
	app, err := s.apps.FindApp(r.Context(), r.PathValue("appID"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	secs := int64(app.RefreshTokenLifetime / time.Second)
	writeJSON(w, http.StatusOK, refreshExpiration{&secs})
}

func (s *Server) handleAdminSetRefreshExpiration(w http.ResponseWriter, r *http.Request) {
	var req refreshExpiration
	if err := decode(r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	if req.ExpirationTimeSeconds == nil {
		s.Error(w, r, latchkey.Errorf(latchkey.EBadRequest, "expiration_time_seconds is required"))
		return
	}
	s.updateApp(w, r, latchkey.AppSettings{RefreshTokenLifetime: seconds(req.ExpirationTimeSeconds)}, nil)
}

func (s *Server) handleAdminAllowedOrigins(w http.ResponseWriter, r *http.Request) {
	app, err := s.apps.FindApp(r.Context(), r.PathValue("appID"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, *newAppSettings(app).AllowedOrigins)
}

func (s *Server) handleAdminSetAllowedOrigins(w http.ResponseWriter, r *http.Request) {
	var origins []string
	if err := decode(r, &origins); err != nil {
		s.Error(w, r, err)
		return
	}
	s.updateApp(w, r, latchkey.AppSettings{AllowedOrigins: &origins}, nil)
}

func (s *Server) handleRotateLeakSecret(w http.ResponseWriter, r *http.Request) {
	secret, err := s.leaks.RotateLeakSecret(r.Context(), r.PathValue("appID"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, struct {
		Secret string `json:"secret"`
	}{secret})
}
