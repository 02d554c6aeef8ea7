package ui

import (
	"context"
	"encoding/pem"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// The sign-in providers page (/console/apps/{app}/providers) shows the built-in providers
// and configures the external ones. A provider's secrets are taken by its form and never
// shown again: the secret fields are always empty, and an empty one keeps what is set.

// externalProviders are the external provider types, in the order the page shows them.
var externalProviders = []struct{ Type, Title string }{
	{latchkey.ProviderCustomToken, "Custom JWT"},
	{latchkey.ProviderCustomFunction, "Custom function"},
	{latchkey.ProviderGoogle, "Google"},
	{latchkey.ProviderApple, "Apple"},
}

type providersData struct {
	Builtin  []builtinProvider
	External []*providerView
}

// builtinProvider is a provider every app has, switched on and off in the app's settings.
type builtinProvider struct {
	Type, Title string
	Enabled     bool
}

// providerView is one external provider's section: its state and its form.
type providerView struct {
	Type, Title string
	Configured  bool
	Disabled    bool
	SecretsSet  bool
	UpdatedAt   time.Time
	Form        providerForm
	Error       string
	// The defaults of Google's and Apple's issuer and key set, shown as placeholders.
	DefaultIssuer, DefaultJWKURI string
}

// providerForm is an external provider's settings as its form shows and sends them. It has
// no secrets: they go from the request to the service and nowhere else.
type providerForm struct {
	// custom-token
	Algorithm      string
	Audience       string // comma separated
	UseJWKURI      bool
	JWKURI         string // also Google's and Apple's
	MetadataFields string // one "name,field_name,required" a line
	// custom-function
	URL       string
	TimeoutMS string
	// oauth2-google and oauth2-apple
	ClientIDs string // comma separated
	Issuer    string
}

func defaultsOf(typ string) (issuer, jwks string) {
	switch typ {
	case latchkey.ProviderGoogle:
		return latchkey.GoogleIssuer, latchkey.GoogleJWKURI
	case latchkey.ProviderApple:
		return latchkey.AppleIssuer, latchkey.AppleJWKURI
	}
	return "", ""
}

func newProviderForm(p *latchkey.AuthProvider) providerForm {
	c := p.Config
	f := providerForm{Algorithm: c.SigningAlgorithm, Audience: strings.Join(c.Audience, ", "), UseJWKURI: c.UseJWKURI,
		JWKURI: c.JWKURI, URL: c.URL, ClientIDs: strings.Join(c.AllClientIDs(), ", "), Issuer: c.Issuer}
	if c.TimeoutMS != 0 {
		f.TimeoutMS = strconv.Itoa(c.TimeoutMS)
	}
	// A default is shown as the field's placeholder, so that the field reads as "default".
	if issuer, jwks := defaultsOf(p.Type); issuer != "" {
		if f.Issuer == issuer {
			f.Issuer = ""
		}
		if f.JWKURI == jwks {
			f.JWKURI = ""
		}
	}
	var lines []string
	for _, m := range p.MetadataFields {
		line := m.Name + "," + m.FieldName
		if m.Required {
			line += ",required"
		}
		lines = append(lines, line)
	}
	f.MetadataFields = strings.Join(lines, "\n")
	return f
}

func readProviderForm(r *http.Request) providerForm {
	f := r.PostForm
	return providerForm{
		Algorithm: strings.TrimSpace(f.Get("signing_algorithm")), Audience: f.Get("audience"),
		UseJWKURI: f.Get("use_jwk_uri") == "on", JWKURI: strings.TrimSpace(f.Get("jwk_uri")),
		MetadataFields: f.Get("metadata_fields"), URL: strings.TrimSpace(f.Get("url")),
		TimeoutMS: strings.TrimSpace(f.Get("timeout_ms")), ClientIDs: f.Get("client_ids"),
		Issuer: strings.TrimSpace(f.Get("issuer")),
	}
}

// provider turns the form of a provider of the type, with the secrets the request carries,
// into the provider to save, or says what in the form is unreadable.
func (f providerForm) provider(typ string, r *http.Request) (*latchkey.AuthProvider, string) {
	p := &latchkey.AuthProvider{Type: typ}
	c := &p.Config
	switch typ {
	case latchkey.ProviderCustomToken:
		c.SigningAlgorithm, c.Audience, c.UseJWKURI, c.JWKURI = f.Algorithm, commaList(f.Audience), f.UseJWKURI, f.JWKURI
		var msg string
		if p.MetadataFields, msg = metadataFields(f.MetadataFields); msg != "" {
			return nil, msg
		}
		if keys := signingKeys(r.PostForm.Get("signing_keys")); len(keys) > 0 {
			p.Secrets = &latchkey.AuthProviderSecrets{SigningKeys: keys}
		}
	case latchkey.ProviderCustomFunction:
		c.URL = f.URL
		if f.TimeoutMS != "" {
			n, err := strconv.Atoi(f.TimeoutMS)
			if err != nil {
				return nil, "Timeout must be a whole number of milliseconds."
			}
			c.TimeoutMS = n
		}
		if s := r.PostForm.Get("secret"); s != "" {
			p.Secrets = &latchkey.AuthProviderSecrets{Secret: s}
		}
	case latchkey.ProviderGoogle, latchkey.ProviderApple:
		ids := commaList(f.ClientIDs)
		if len(ids) > 0 {
			c.ClientID, c.ClientIDs = ids[0], ids[1:]
		}
		c.Issuer, c.JWKURI = f.Issuer, f.JWKURI
	}
	return p, ""
}

// commaList splits a list typed with commas or one per line.
func commaList(s string) []string {
	var out []string
	for _, v := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// signingKeys reads the signing keys field: PEM blocks when it holds any, each with its
// headers and lines, or else one key a line.
func signingKeys(s string) []string {
	var keys []string
	if strings.Contains(s, "-----BEGIN") {
		rest := []byte(strings.ReplaceAll(s, "\r\n", "\n"))
		for {
			block, next := pem.Decode(rest)
			if block == nil {
				break
			}
			keys = append(keys, strings.TrimSpace(string(pem.EncodeToMemory(block))))
			rest = next
		}
		if len(keys) == 0 {
			// Not PEM after all: the service says what a key must be.
			keys = []string{strings.TrimSpace(s)}
		}
		return keys
	}
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			keys = append(keys, line)
		}
	}
	return keys
}

// metadataFields reads the metadata fields, one "name,field_name,required" a line, where
// field_name and required may be left out.
func metadataFields(s string) ([]latchkey.MetadataField, string) {
	var out []latchkey.MetadataField
	n := 0
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		n++
		parts := strings.Split(line, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		m := latchkey.MetadataField{Name: parts[0]}
		if len(parts) > 1 {
			m.FieldName = parts[1]
		}
		if len(parts) > 2 {
			switch strings.ToLower(parts[2]) {
			case "required", "true", "yes":
				m.Required = true
			case "", "optional", "false", "no":
			default:
				return nil, "Metadata field " + strconv.Itoa(n) + ": the third value must be “required” or left out."
			}
		}
		if len(parts) > 3 || m.Name == "" {
			return nil, "Metadata field " + strconv.Itoa(n) + ": write each as name,field_name,required (field_name and required may be left out)."
		}
		out = append(out, m)
	}
	return out, ""
}

func providersURL(clientAppID, rest string) string {
	return appURL(clientAppID, "/providers"+rest)
}

func (h *Handler) handleProviders(w http.ResponseWriter, r *http.Request) {
	app, ok := h.pathApp(w, r)
	if !ok {
		return
	}
	h.renderProviders(w, r, http.StatusOK, app, nil)
}

// renderProviders writes the providers page; edited, if not nil, is a provider whose form
// was refused, shown as sent.
func (h *Handler) renderProviders(w http.ResponseWriter, r *http.Request, status int, app *latchkey.App, edited *providerView) {
	configured, err := h.providers.FindAuthProviders(r.Context(), app.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	byType := map[string]*latchkey.AuthProvider{}
	for _, p := range configured {
		byType[p.Type] = p
	}
	d := providersData{Builtin: []builtinProvider{
		{latchkey.ProviderUserpass, "Email and password", app.UserpassEnabled},
		{latchkey.ProviderAPIKey, "API keys", app.APIKeyEnabled},
		{latchkey.ProviderAnonymous, "Anonymous", app.AnonymousEnabled},
	}}
	for _, e := range externalProviders {
		v := &providerView{Type: e.Type, Title: e.Title, Form: providerForm{Algorithm: latchkey.AlgHS256}}
		v.DefaultIssuer, v.DefaultJWKURI = defaultsOf(e.Type)
		if p := byType[e.Type]; p != nil {
			v.Configured, v.Disabled, v.SecretsSet, v.UpdatedAt = true, p.Disabled, p.SealedSecrets != nil, p.UpdatedAt
			v.Form = newProviderForm(p)
		}
		if edited != nil && edited.Type == e.Type {
			v.Form, v.Error = edited.Form, edited.Error
		}
		d.External = append(d.External, v)
	}
	h.render(w, r, status, "auth_providers", h.consolePage(r, app.Name+": sign-in providers", "providers", app, d))
}

// pathProvider is the external provider type the path names; when it names none, it
// answers the request itself and returns false.
func (h *Handler) pathProvider(w http.ResponseWriter, r *http.Request) (string, bool) {
	typ := r.PathValue("type")
	if !latchkey.ExternalProvider(typ) {
		h.renderError(w, r, http.StatusNotFound, "Not found", "There is no sign-in provider "+typ+" to configure.")
		return "", false
	}
	return typ, true
}

// findProvider returns the app's provider of the type, or nil when it is not configured.
func (h *Handler) findProvider(ctx context.Context, appID, typ string) (*latchkey.AuthProvider, error) {
	p, err := h.providers.FindAuthProvider(ctx, appID, typ)
	if latchkey.ErrorCode(err) == latchkey.ENotFound {
		return nil, nil
	}
	return p, err
}

// handleSaveProvider configures a provider, or replaces the settings of a configured one:
// its secrets fields left empty keep the secrets it has, and it stays enabled or disabled.
func (h *Handler) handleSaveProvider(w http.ResponseWriter, r *http.Request) {
	typ, ok := h.pathProvider(w, r)
	if !ok {
		return
	}
	app, ok := h.pathApp(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	old, err := h.findProvider(ctx, app.ID, typ)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	form := readProviderForm(r)
	p, msg := form.provider(typ, r)
	if msg == "" {
		var done string
		if old == nil {
			_, err = h.providers.CreateAuthProvider(ctx, app.ID, p)
			done = "Sign-in provider " + typ + " configured."
		} else {
			// What the form does not show stays as it was.
			p.Disabled, p.Config.OpenID = old.Disabled, old.Config.OpenID
			_, err = h.providers.ReplaceAuthProvider(ctx, app.ID, p)
			done = "Sign-in provider " + typ + " saved."
		}
		var answered bool
		if msg, answered = h.saved(w, r, err, providersURL(app.ClientAppID, "#provider-"+typ), done); answered {
			return
		}
	}
	h.renderProviders(w, r, http.StatusUnprocessableEntity, app, &providerView{Type: typ, Form: form, Error: msg})
}

func (h *Handler) handleSetProvider(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		typ, ok := h.pathProvider(w, r)
		if !ok {
			return
		}
		app := r.PathValue("app")
		if err := h.providers.SetAuthProviderDisabled(r.Context(), app, typ, disabled); err != nil {
			h.fail(w, r, err)
			return
		}
		h.done(w, r, providersURL(app, "#provider-"+typ), "Sign-in provider "+typ+" "+enabledWord(!disabled)+".")
	}
}

func (h *Handler) handleDeleteProviderConfirm(w http.ResponseWriter, r *http.Request) {
	typ, ok := h.pathProvider(w, r)
	if !ok {
		return
	}
	app, ok := h.pathApp(w, r)
	if !ok {
		return
	}
	if _, err := h.providers.FindAuthProvider(r.Context(), app.ID, typ); err != nil {
		h.fail(w, r, err)
		return
	}
	back := providersURL(app.ClientAppID, "")
	h.render(w, r, http.StatusOK, "confirm", h.consolePage(r, "Delete sign-in provider", "providers", app, confirmData{
		Question: "Delete the sign-in provider " + typ + "?",
		Detail:   "Its settings and secrets are deleted and its users can no longer sign in through it. The users stay, and sign in again once it is configured again.",
		Action:   back + "/" + typ + "/delete", Button: "Delete provider", Cancel: back + "#provider-" + typ,
	}))
}

func (h *Handler) handleDeleteProvider(w http.ResponseWriter, r *http.Request) {
	typ, ok := h.pathProvider(w, r)
	if !ok {
		return
	}
	app := r.PathValue("app")
	if err := h.providers.DeleteAuthProvider(r.Context(), app, typ); err != nil {
		h.fail(w, r, err)
		return
	}
	h.done(w, r, providersURL(app, ""), "Sign-in provider "+typ+" deleted.")
}
