package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
)

// This file holds the providers commands: an app's auth providers, the built-in ones and the
// external ones (custom-token, custom-function, oauth2-google, oauth2-apple) with their
// settings. Their secrets are read from files or standard input, never from a flag's value,
// and never printed.

// AdminProvidersListCommand lists an app's auth providers.
type AdminProvidersListCommand struct {
	adminSession
	appFlag
	jsonFlag
}

// Run lists the built-in providers, then the external ones configured.
func (c *AdminProvidersListCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("providers list", "providers list --app APP [--json]",
		"Lists an app's auth providers: the built-in ones, then the external ones configured,\n"+
			"with their settings and whether their secrets are set (never the secrets).")
	c.appFlag.register(&c.adminSession, fs)
	c.jsonFlag.register(fs, "print a JSON array")
	return c.run(fs, args, func(a *client.Admin, _ []string) error {
		ps, err := a.AuthProviders(ctx, c.App)
		if err != nil {
			return err
		}
		return printList(c.Stdout, ps, c.JSON, "", []string{"PROVIDER", "DISABLED", "SECRETS", "SETTINGS"},
			func(p client.AuthProvider) []string {
				var settings []string
				for _, s := range providerSettings(p) {
					settings = append(settings, s.name+"="+s.value)
				}
				if len(settings) == 0 {
					settings = []string{"-"}
				}
				return []string{p.Name, yesNo(p.Disabled), secretsState(p, "-"), strings.Join(settings, " ")}
			})
	})
}

// AdminProvidersShowCommand shows one of an app's auth providers.
type AdminProvidersShowCommand struct {
	adminSession
	appFlag
	jsonFlag
}

// Run fetches the provider.
func (c *AdminProvidersShowCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("providers show", "providers show PROVIDER --app APP [--json]",
		"Shows an auth provider with its settings, named as the set command's flags, and whether\n"+
			"its secrets are set (never the secrets).", "PROVIDER")
	c.appFlag.register(&c.adminSession, fs)
	c.jsonFlag.register(fs, "print JSON")
	return c.run(fs, args, func(a *client.Admin, pos []string) error {
		p, err := a.AuthProvider(ctx, c.App, pos[0])
		if err != nil {
			return err
		}
		return printOne(c.Stdout, p, c.JSON, printProvider)
	})
}

// printProvider prints a provider as name/value lines.
func printProvider(w io.Writer, p client.AuthProvider) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "provider\t%s\ndisabled\t%s\n", p.Name, yesNo(p.Disabled))
	for _, s := range providerSettings(p) {
		fmt.Fprintf(tw, "%s\t%s\n", s.name, s.value)
	}
	if latchkey.ExternalProvider(p.Type) {
		fmt.Fprintf(tw, "secrets\t%s\n", secretsState(p, ""))
	}
	tw.Flush()
}

// secretsState says whether an external provider's secrets are set; builtin is what a
// built-in provider, which has none to set, shows.
func secretsState(p client.AuthProvider, builtin string) string {
	switch {
	case !latchkey.ExternalProvider(p.Type):
		return builtin
	case p.SecretsSet:
		return "set"
	}
	return "none"
}

// setting is one setting of a provider, named as the set command's flag that gives it.
type setting struct{ name, value string }

// providerSettings are the settings of an external provider that apply to its type.
func providerSettings(p client.AuthProvider) []setting {
	c := p.Config
	var ss []setting
	add := func(name, value string) {
		if value != "" {
			ss = append(ss, setting{name, latchkey.Visible(value)})
		}
	}
	switch p.Type {
	case latchkey.ProviderCustomToken:
		add("audience", strings.Join(c.Audience, ","))
		add("alg", c.SigningAlgorithm)
		if c.UseJWKURI {
			add("jwk-uri", c.JWKURI)
		}
		for _, f := range p.MetadataFields {
			add("metadata-field", formatMetadataField(f))
		}
	case latchkey.ProviderCustomFunction:
		add("url", c.URL)
		add("timeout", c.FunctionTimeout().String())
	case latchkey.ProviderGoogle, latchkey.ProviderApple:
		add("client-id", strings.Join(c.AllClientIDs(), ","))
		add("issuer", c.Issuer)
		add("jwk-uri", c.JWKURI)
		if c.OpenID {
			add("open-id", "true")
		}
	}
	return ss
}

// formatMetadataField writes a metadata field as --metadata-field takes it.
func formatMetadataField(f latchkey.MetadataField) string {
	s := f.Name
	if f.FieldName != "" && f.FieldName != f.Name {
		s += ":" + f.FieldName
	}
	if f.Required {
		s += ":required"
	}
	return s
}

// parseMetadataField reads NAME[:FIELD_NAME][:required].
func parseMetadataField(s string) (latchkey.MetadataField, error) {
	parts := strings.Split(s, ":")
	f := latchkey.MetadataField{Name: parts[0]}
	if n := len(parts); n > 1 && parts[n-1] == "required" {
		f.Required, parts = true, parts[:n-1]
	}
	switch len(parts) {
	case 1:
	case 2:
		f.FieldName = parts[1]
	default:
		return f, errors.New("expected NAME[:FIELD_NAME][:required]")
	}
	if f.Name == "" {
		return f, errors.New("expected NAME[:FIELD_NAME][:required], with a NAME")
	}
	return f, nil
}

// maxSecretFile bounds a file that a secret is read from: ten RSA keys in PEM fit many
// times over.
const maxSecretFile = 64 << 10

// AdminProvidersSetCommand configures an external provider, or replaces its settings.
type AdminProvidersSetCommand struct {
	adminSession
	appFlag
	jsonFlag
	Type           string
	Audience       stringList
	Alg            string
	JWKURI         string
	ClientIDs      stringList
	Issuer         string
	OpenID         bool
	URL            string
	Timeout        time.Duration
	MetadataFields []latchkey.MetadataField
	Disabled       optionalBool
	SigningKeys    stringList // files
	SecretFile     string
}

// Run creates the provider, or replaces the settings of the app's provider of the type.
func (c *AdminProvidersSetCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("providers set",
		"providers set --app APP --type TYPE [settings] [--signing-key-file FILE ...] [--secret-file FILE] [--json]",
		"Configures an external provider of an app, or replaces its settings if the app has one\n"+
			"of the type: the flags give the whole settings. Secrets are read from files (- for\n"+
			"standard input), never from a flag, so they stay out of the shell history and the\n"+
			"process list; left out on a replacement, the set ones stay. So does a replaced\n"+
			"provider's enabled state without --disabled. TYPE and its settings:\n"+
			"  custom-token     --alg HS256|RS256, --audience, --metadata-field; the signing keys\n"+
			"                   with --signing-key-file (HS256 secrets, or RS256 public keys in PEM),\n"+
			"                   or (RS256) the URL of a JWK set with --jwk-uri\n"+
			"  custom-function  --url of the webhook, --timeout (default 3s, at most 10s); its\n"+
			"                   signing secret (16+ bytes, or whsec_ and base64) with --secret-file\n"+
			"  oauth2-google    --client-id; --issuer and --jwk-uri default to Google's, --open-id\n"+
			"  oauth2-apple     --client-id; --issuer and --jwk-uri default to Apple's\n"+
			"URLs are https, or http to a loopback address.")
	c.appFlag.register(&c.adminSession, fs)
	c.require(fs, &c.Type, "type", "custom-token, custom-function, oauth2-google or oauth2-apple (required)")
	fs.Var(&c.Audience, "audience", "custom-token: an audience the tokens must name; may be repeated or comma-separated")
	fs.StringVar(&c.Alg, "alg", "", "custom-token: the tokens' signing algorithm, HS256 or RS256")
	fs.StringVar(&c.JWKURI, "jwk-uri", "", "custom-token (RS256): the URL of the JWK set the keys come from; oauth2-*: instead of the provider's")
	fs.Var(&c.ClientIDs, "client-id", "oauth2-*: a client id that ID tokens may be issued for; may be repeated or comma-separated")
	fs.StringVar(&c.Issuer, "issuer", "", "oauth2-*: the ID tokens' issuer, instead of the provider's")
	fs.BoolVar(&c.OpenID, "open-id", false, "oauth2-google: sign in with OpenID Connect")
	fs.StringVar(&c.URL, "url", "", "custom-function: the webhook's URL")
	fs.DurationVar(&c.Timeout, "timeout", 0, "custom-function: how long the webhook may take, e.g. 3s")
	fs.Var(funcFlag(func(s string) error {
		f, err := parseMetadataField(s)
		c.MetadataFields = append(c.MetadataFields, f)
		return err
	}), "metadata-field", "custom-token: a claim (a dotted path) to copy into the profile's data, NAME[:FIELD_NAME][:required]; may be repeated")
	fs.Var(&c.Disabled, "disabled", "configure it disabled; --disabled=false enables it (default: enabled when new, as it was when replaced)")
	fs.Var(&c.SigningKeys, "signing-key-file", "custom-token: a file holding one signing key, - for standard input; may be repeated")
	fs.StringVar(&c.SecretFile, "secret-file", "", "custom-function: a file holding the webhook's signing secret, - for standard input")
	c.jsonFlag.register(fs, "print the provider as JSON")
	return c.run(fs, args, func(a *client.Admin, _ []string) error {
		if latchkey.BuiltinProvider(c.Type) {
			return fmt.Errorf("%s is a built-in provider, with no settings: turn it on or off with providers enable or disable", c.Type)
		}
		p, err := c.provider()
		if err != nil {
			return err
		}
		// Whether to create or replace is asked first: a creation without the secrets that a
		// replacement keeps would be refused as invalid before it could be refused as taken.
		verb := "Replaced the settings of"
		old, err := a.AuthProvider(ctx, c.App, p.Type)
		var got client.AuthProvider
		if e := (*client.Error)(nil); errors.As(err, &e) && e.StatusCode == http.StatusNotFound {
			verb = "Configured"
			got, err = a.CreateAuthProvider(ctx, c.App, p)
		} else if err == nil {
			if c.Disabled.v == nil {
				p.Disabled = old.Disabled
			}
			got, err = a.ReplaceAuthProvider(ctx, c.App, p)
		}
		if err != nil {
			return err
		}
		if c.JSON {
			return printJSON(c.Stdout, got)
		}
		fmt.Fprintf(c.Stdout, "%s provider %s.\n", verb, got.Name)
		printProvider(c.Stdout, got)
		return nil
	})
}

// provider is the provider the flags describe, with the secrets read from their files.
func (c *AdminProvidersSetCommand) provider() (client.AuthProvider, error) {
	if c.Timeout < 0 || c.Timeout%time.Millisecond != 0 {
		return client.AuthProvider{}, errors.New("--timeout must be a whole number of milliseconds, such as 3s or 1500ms")
	}
	p := client.AuthProvider{
		Type: c.Type,
		Config: latchkey.AuthProviderConfig{
			Audience: commaLists(c.Audience), SigningAlgorithm: c.Alg, JWKURI: c.JWKURI,
			Issuer: c.Issuer, OpenID: c.OpenID, URL: c.URL, TimeoutMS: int(c.Timeout.Milliseconds()),
		},
		MetadataFields: c.MetadataFields,
	}
	if c.Type == latchkey.ProviderCustomToken && c.JWKURI != "" {
		p.Config.UseJWKURI = true
	}
	switch ids := commaLists(c.ClientIDs); len(ids) {
	case 0:
	case 1:
		p.Config.ClientID = ids[0]
	default:
		p.Config.ClientIDs = ids
	}
	if c.Disabled.v != nil {
		p.Disabled = *c.Disabled.v
	}

	stdinUsed := false
	read := func(flag, path string) (string, error) {
		if path == "-" {
			if stdinUsed {
				return "", errors.New("standard input (-) can give only one secret")
			}
			stdinUsed = true
		}
		s, err := c.readSecretFile(path)
		if err != nil {
			return "", fmt.Errorf("--%s: %w", flag, err)
		}
		return s, nil
	}
	if len(c.SigningKeys) > 0 || c.SecretFile != "" {
		p.Secrets = &latchkey.AuthProviderSecrets{}
	}
	for _, path := range c.SigningKeys {
		key, err := read("signing-key-file", path)
		if err != nil {
			return p, err
		}
		p.Secrets.SigningKeys = append(p.Secrets.SigningKeys, key)
	}
	if c.SecretFile != "" {
		secret, err := read("secret-file", c.SecretFile)
		if err != nil {
			return p, err
		}
		p.Secrets.Secret = secret
	}
	return p, nil
}

// readSecretFile reads a secret from the file at path, or standard input for "-", without
// the line ending that an editor or echo leaves at its end.
func (c *AdminProvidersSetCommand) readSecretFile(path string) (string, error) {
	var r io.Reader = c.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return "", err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxSecretFile+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxSecretFile {
		return "", fmt.Errorf("%s is over %d KiB", shownPath(path), maxSecretFile>>10)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", fmt.Errorf("%s is empty", shownPath(path))
	}
	return s, nil
}

func shownPath(path string) string {
	if path == "-" {
		return "standard input"
	}
	return path
}

// commaLists joins the items of a repeatable flag whose values may each be comma lists.
func commaLists(values []string) []string {
	var items []string
	for _, v := range values {
		items = append(items, commaList(v)...)
	}
	return items
}

// AdminProvidersToggleCommand disables or enables an auth provider.
type AdminProvidersToggleCommand struct {
	adminSession
	toggle
	appFlag
}

// Run disables or enables the provider.
func (c *AdminProvidersToggleCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("providers "+c.verb(), "providers "+c.verb()+" PROVIDER --app APP",
		pick(c.toggle, "Enables an auth provider: a built-in one, or an external one that is configured.",
			"Disables an auth provider: its logins are refused; its users and settings stay."), "PROVIDER")
	c.appFlag.register(&c.adminSession, fs)
	return c.run(fs, args, func(a *client.Admin, pos []string) error {
		if err := pick(c.toggle, a.EnableAuthProvider, a.DisableAuthProvider)(ctx, c.App, pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "%sd provider %s.\n", capitalize(c.verb()), pos[0])
		return nil
	})
}

// AdminProvidersDeleteCommand removes an external provider, after asking.
type AdminProvidersDeleteCommand struct {
	adminSession
	appFlag
	yesFlag
}

// Run asks on a terminal, refuses without one unless --yes, and deletes.
func (c *AdminProvidersDeleteCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("providers delete", "providers delete PROVIDER --app APP [--yes]",
		"Removes an external provider with its settings and secrets. Its users stay, and log in\n"+
			"with it again once it is set again. Built-in providers can only be disabled. Asks first\n"+
			"on a terminal; from a script (no terminal), --yes is required.", "PROVIDER")
	c.appFlag.register(&c.adminSession, fs)
	c.yesFlag.register(fs)
	return c.run(fs, args, func(a *client.Admin, pos []string) error {
		if err := c.canConfirm(c.Yes); err != nil {
			return err
		}
		question := func() (string, error) {
			p, err := a.AuthProvider(ctx, c.App, pos[0])
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("Delete provider %s of app %s with its settings and secrets? Its users stay.", p.Name, c.App), nil
		}
		del := func() error { return a.DeleteAuthProvider(ctx, c.App, pos[0]) }
		return c.deleteAfterAsking(c.Yes, question, del, "Deleted provider "+pos[0]+".")
	})
}
