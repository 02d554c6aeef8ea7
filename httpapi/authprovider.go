package httpapi

import (
	"net/http"

	"github.com/latchkey/latchkey"
)

// authProviderResponse is a provider as the admin API shows it, in App Services' shape: the
// built-in providers with their name alone, the external ones with their settings. Secrets
// are never shown: secrets_set says whether the provider has them.
type authProviderResponse struct {
	ID             string                       `json:"_id"`
	Name           string                       `json:"name"`
	Type           string                       `json:"type"`
	Disabled       bool                         `json:"disabled"`
	Config         *latchkey.AuthProviderConfig `json:"config,omitempty"`
	MetadataFields []latchkey.MetadataField     `json:"metadata_fields,omitempty"`
	SecretsSet     *bool                        `json:"secrets_set,omitempty"`
}

func newAuthProviderResponse(p *latchkey.AuthProvider) authProviderResponse {
	set := p.SealedSecrets != nil
	return authProviderResponse{ID: p.Type, Name: p.Type, Type: p.Type, Disabled: p.Disabled,
		Config: &p.Config, MetadataFields: p.MetadataFields, SecretsSet: &set}
}

// authProviderRequest creates or replaces an external provider, in App Services' shape;
// secret_config carries the secrets' values, which are never shown again.
type authProviderRequest struct {
	Name           string                        `json:"name"`
	Type           string                        `json:"type"`
	Disabled       *bool                         `json:"disabled"`
	Config         latchkey.AuthProviderConfig   `json:"config"`
	SecretConfig   *latchkey.AuthProviderSecrets `json:"secret_config"`
	MetadataFields []latchkey.MetadataField      `json:"metadata_fields"`
}

func (s *Server) handleAdminAuthProviders(w http.ResponseWriter, r *http.Request) {
	app, err := s.apps.FindApp(r.Context(), r.PathValue("appID"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	resp := []authProviderResponse{}
	for _, p := range latchkey.BuiltinProviders {
		resp = append(resp, authProviderResponse{ID: p, Name: p, Type: p, Disabled: !app.ProviderEnabled(p)})
	}
	if s.providers != nil {
		ps, err := s.providers.FindAuthProviders(r.Context(), app.ID)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		for _, p := range ps {
			resp = append(resp, newAuthProviderResponse(p))
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) handleAdminAuthProvider(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("provider")
	if !latchkey.ExternalProvider(name) || s.providers == nil {
		app, err := s.apps.FindApp(r.Context(), r.PathValue("appID"))
		if err == nil && !latchkey.BuiltinProvider(name) {
			err = errProviderNotFound(name)
		}
		if err != nil {
			s.Error(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, authProviderResponse{ID: name, Name: name, Type: name, Disabled: !app.ProviderEnabled(name)})
		return
	}
	p, err := s.providers.FindAuthProvider(r.Context(), r.PathValue("appID"), name)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newAuthProviderResponse(p))
}

func (s *Server) handleAdminCreateAuthProvider(w http.ResponseWriter, r *http.Request) {
	p, _, err := decodeAuthProvider(r, "")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	created, err := s.providers.CreateAuthProvider(r.Context(), r.PathValue("appID"), p)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, newAuthProviderResponse(created))
}

func (s *Server) handleAdminReplaceAuthProvider(w http.ResponseWriter, r *http.Request) {
	p, disabled, err := decodeAuthProvider(r, r.PathValue("provider"))
	if err == nil && disabled == nil {
		// A replacement that does not say keeps the provider enabled or disabled.
		var old *latchkey.AuthProvider
		if old, err = s.providers.FindAuthProvider(r.Context(), r.PathValue("appID"), p.Type); err == nil {
			p.Disabled = old.Disabled
		}
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	replaced, err := s.providers.ReplaceAuthProvider(r.Context(), r.PathValue("appID"), p)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newAuthProviderResponse(replaced))
}

func (s *Server) handleAdminDeleteAuthProvider(w http.ResponseWriter, r *http.Request) {
	s.writeOutcome(w, r, s.providers.DeleteAuthProvider(r.Context(), r.PathValue("appID"), r.PathValue("provider")))
}

// decodeAuthProvider reads a provider's settings, and disabled as the body gives it (nil when
// it does not); path, when set, is the provider the URL names, which the body's name and type
// must agree with.
func decodeAuthProvider(r *http.Request, path string) (p *latchkey.AuthProvider, disabled *bool, err error) {
	var req authProviderRequest
	if err := decodeStrict(r, &req); err != nil {
		return nil, nil, err
	}
	if req.Type == "" {
		req.Type = path
	}
	switch {
	case path != "" && req.Type != path:
		return nil, nil, latchkey.Errorf(latchkey.EInvalid, "type must be the provider the URL names, '%s'", path)
	case req.Name != "" && req.Name != req.Type:
		return nil, nil, latchkey.Errorf(latchkey.EInvalid, "name must be the provider's type, '%s'", req.Type)
	}
	p = &latchkey.AuthProvider{Type: req.Type, Config: req.Config, Secrets: req.SecretConfig, MetadataFields: req.MetadataFields}
	if req.Disabled != nil {
		p.Disabled = *req.Disabled
	}
	return p, req.Disabled, nil
}

func (s *Server) setProvider(enabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("provider")
		var upd latchkey.AppSettings
		switch {
		case name == latchkey.ProviderAnonymous:
			upd.AnonymousEnabled = &enabled
		case name == latchkey.ProviderUserpass:
			upd.UserpassEnabled = &enabled
		case name == latchkey.ProviderAPIKey:
			upd.APIKeyEnabled = &enabled
		case latchkey.ExternalProvider(name) && s.providers != nil:
			s.writeOutcome(w, r, s.providers.SetAuthProviderDisabled(r.Context(), r.PathValue("appID"), name, !enabled))
			return
		default:
			s.Error(w, r, errProviderNotFound(name))
			return
		}
		s.updateApp(w, r, upd, nil)
	}
}

func errProviderNotFound(name string) error {
	return latchkey.Errorf(latchkey.ENotFound, "auth provider '%s' not found", name)
}

// handleOAuth2Redirect answers realm-web's redirect flow (Credentials.google({redirectUrl}),
// Credentials.apple(redirectUrl)), which Latchkey does not serve: the app signs in with the
// provider's own SDK and logs in with the ID token.
func (s *Server) handleOAuth2Redirect(w http.ResponseWriter, r *http.Request) {
	s.Error(w, r, latchkey.Errorf(latchkey.EBadRequest,
		"the OAuth 2.0 redirect flow is not supported: sign in with the provider's SDK and log in with its ID token (Credentials.google({idToken}), Credentials.apple(idToken))"))
}
