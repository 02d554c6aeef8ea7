package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
)

// TestAdminCLIProviders configures each kind of external provider with `latchkey admin
// providers set`, reading its secrets from a file and from standard input, then shows, lists,
// replaces, disables, enables and deletes them; no output ever shows a secret.
func TestAdminCLIProviders(t *testing.T) {
	p := start(t, privateDir(t), bootstrapEnv, "--app-id", "cli-app")
	root := newCLIUser(t)
	root.ok(adminPassword+"\n", "admin", "login", "--url", p.url, "--email", adminEmail)
	var outputs []result
	keep := func(r result) result { outputs = append(outputs, r); return r }
	const (
		hsKey      = "the backend's HS256 signing key, 32+ bytes"
		webhookKey = "whsec_dGhlIHdlYmhvb2sncyBzaWduaW5nIHNlY3JldA=="
	)
	keyFile := filepath.Join(t.TempDir(), "hs256.key")
	if err := os.WriteFile(keyFile, []byte(hsKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	providers := func(args ...string) []string {
		return append([]string{"admin", "providers"}, append(args, "--app", "cli-app")...)
	}

	r := keep(root.ok("", providers("list")...))
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 4 || strings.Join(strings.Fields(lines[0]), " ") != "PROVIDER DISABLED SECRETS SETTINGS" {
		t.Fatalf("providers list of the built-in ones printed:\n%s", r.stdout)
	}

	// Each type, configured.
	r = keep(root.ok("", providers("set", "--type", "custom-token", "--audience", "my-aud", "--alg", "HS256",
		"--metadata-field", "user.name:name:required", "--metadata-field", "email", "--signing-key-file", keyFile)...))
	if !strings.HasPrefix(r.stdout, "Configured provider custom-token.\n") || valueLine(t, r.stdout, "secrets") != "set" ||
		valueLine(t, r.stdout, "alg") != "HS256" || valueLine(t, r.stdout, "disabled") != "no" {
		t.Fatalf("providers set custom-token printed:\n%s", r.stdout)
	}
	keep(root.ok(webhookKey+"\n", providers("set", "--type", "custom-function", "--url", "http://127.0.0.1:9/auth", "--timeout", "1500ms", "--secret-file", "-")...))
	keep(root.ok("", providers("set", "--type", "oauth2-google", "--client-id", "web-client,ios-client", "--open-id")...))
	keep(root.ok("", providers("set", "--type", "oauth2-apple", "--client-id", "com.example.app", "--disabled")...))

	var got client.AuthProvider
	keep(root.okJSON(fresh(&got), "", providers("show", "custom-token", "--json")...))
	want := client.AuthProvider{ID: "custom-token", Name: "custom-token", Type: "custom-token",
		Config: latchkey.AuthProviderConfig{Audience: []string{"my-aud"}, SigningAlgorithm: "HS256"},
		MetadataFields: []latchkey.MetadataField{
			{Required: true, Name: "user.name", FieldName: "name"},
			{Name: "email", FieldName: "email"},
		},
		SecretsSet: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("providers show custom-token --json (-want +got):\n%s", diff)
	}
	keep(root.okJSON(fresh(&got), "", providers("show", "custom-function", "--json")...))
	if got.Config.URL != "http://127.0.0.1:9/auth" || got.Config.TimeoutMS != 1500 || !got.SecretsSet {
		t.Fatalf("providers show custom-function --json = %+v", got)
	}
	keep(root.okJSON(fresh(&got), "", providers("show", "oauth2-google", "--json")...))
	if !cmp.Equal(got.Config.AllClientIDs(), []string{"web-client", "ios-client"}) || !got.Config.OpenID || got.Config.Issuer != latchkey.GoogleIssuer || got.SecretsSet {
		t.Fatalf("providers show oauth2-google --json = %+v", got)
	}

	r = keep(root.ok("", providers("show", "custom-function")...))
	if valueLine(t, r.stdout, "url") != "http://127.0.0.1:9/auth" || valueLine(t, r.stdout, "timeout") != "1.5s" || valueLine(t, r.stdout, "secrets") != "set" {
		t.Fatalf("providers show custom-function printed:\n%s", r.stdout)
	}
	r = keep(root.ok("", providers("show", "oauth2-apple")...))
	if valueLine(t, r.stdout, "client-id") != "com.example.app" || valueLine(t, r.stdout, "issuer") != latchkey.AppleIssuer ||
		valueLine(t, r.stdout, "disabled") != "yes" || valueLine(t, r.stdout, "secrets") != "none" {
		t.Fatalf("providers show oauth2-apple printed:\n%s", r.stdout)
	}
	r = keep(root.ok("", providers("show", "anon-user")...))
	if valueLine(t, r.stdout, "provider") != "anon-user" || strings.Contains(r.stdout, "secrets") {
		t.Fatalf("providers show anon-user printed:\n%s", r.stdout)
	}
	r = keep(root.ok("", providers("list")...))
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 8 || !strings.HasPrefix(lines[5], "custom-token ") || strings.Join(strings.Fields(lines[5]), " ") !=
		"custom-token no set audience=my-aud alg=HS256 metadata-field=user.name:name:required metadata-field=email" {
		t.Fatalf("providers list printed:\n%s", r.stdout)
	}

	// A replacement: the key, left out, stays; so does the disabled state without --disabled.
	r = keep(root.ok("", providers("set", "--type", "custom-token", "--audience", "a1,a2", "--audience", "a3", "--alg", "HS256")...))
	if !strings.HasPrefix(r.stdout, "Replaced the settings of provider custom-token.\n") || valueLine(t, r.stdout, "audience") != "a1,a2,a3" ||
		valueLine(t, r.stdout, "secrets") != "set" || strings.Contains(r.stdout, "metadata-field") {
		t.Fatalf("providers set of a configured provider printed:\n%s", r.stdout)
	}
	r = keep(root.ok("", providers("set", "--type", "oauth2-apple", "--client-id", "com.example.other")...))
	if valueLine(t, r.stdout, "disabled") != "yes" || valueLine(t, r.stdout, "client-id") != "com.example.other" {
		t.Fatalf("a replacement without --disabled printed:\n%s", r.stdout)
	}
	r = keep(root.ok("", providers("set", "--type", "oauth2-apple", "--client-id", "com.example.other", "--disabled=false")...))
	if valueLine(t, r.stdout, "disabled") != "no" {
		t.Fatalf("a replacement with --disabled=false printed:\n%s", r.stdout)
	}

	// Disable, enable.
	if r := keep(root.ok("", providers("disable", "custom-token")...)); r.stdout != "Disabled provider custom-token.\n" {
		t.Fatalf("providers disable printed %q", r.stdout)
	}
	if r := keep(root.ok("", providers("show", "custom-token")...)); valueLine(t, r.stdout, "disabled") != "yes" {
		t.Fatalf("providers show after disable printed:\n%s", r.stdout)
	}
	if r := keep(root.ok("", providers("enable", "custom-token")...)); r.stdout != "Enabled provider custom-token.\n" {
		t.Fatalf("providers enable printed %q", r.stdout)
	}
	if r := keep(root.ok("", providers("show", "custom-token")...)); valueLine(t, r.stdout, "disabled") != "no" {
		t.Fatalf("providers show after enable printed:\n%s", r.stdout)
	}

	// Refusals, which change nothing.
	keep(root.fails("signingAlgorithm must be HS256 or RS256 (InvalidParameter)", "", providers("set", "--type", "custom-token", "--alg", "none", "--signing-key-file", keyFile)...))
	keep(root.fails("an HS256 signing key must be 32 to 512 characters (InvalidParameter)", "short\n", providers("set", "--type", "custom-token", "--alg", "HS256", "--signing-key-file", "-")...))
	keep(root.fails("(InvalidParameter)", "", providers("set", "--type", "custom-function", "--url", "http://fn.example.com/auth", "--secret-file", keyFile)...))
	keep(root.fails("anon-user is a built-in provider, with no settings", "", providers("set", "--type", "anon-user")...))
	keep(root.fails("--type is required", "", providers("set", "--alg", "HS256")...))
	keep(root.fails("--signing-key-file: standard input is empty", "", providers("set", "--type", "custom-token", "--alg", "HS256", "--signing-key-file", "-")...))
	keep(root.fails("standard input (-) can give only one secret", hsKey+"\n", providers("set", "--type", "custom-token", "--alg", "HS256", "--signing-key-file", "-", "--signing-key-file", "-")...))
	keep(root.fails("--signing-key-file: open", "", providers("set", "--type", "custom-token", "--alg", "HS256", "--signing-key-file", filepath.Join(t.TempDir(), "missing"))...))
	keep(root.fails("--metadata-field", "", providers("set", "--type", "custom-token", "--metadata-field", "a:b:c:required")...))
	keep(root.fails("--timeout must be a whole number of milliseconds", "", providers("set", "--type", "custom-function", "--timeout", "1500us")...))
	keep(root.fails("auth provider 'oauth2-facebook' not found", "", providers("show", "oauth2-facebook")...))
	keep(root.fails("cannot be deleted: disable it", "", providers("delete", "anon-user", "--yes")...))
	if r := keep(root.ok("", providers("show", "custom-token")...)); valueLine(t, r.stdout, "audience") != "a1,a2,a3" || valueLine(t, r.stdout, "secrets") != "set" {
		t.Fatalf("refusals changed the provider:\n%s", r.stdout)
	}

	// Delete: asked on a terminal, so refused from a script without --yes.
	keep(root.fails("refusing to delete without confirmation", "", providers("delete", "custom-function")...))
	if r := keep(root.ok("", providers("delete", "custom-function", "--yes")...)); r.stdout != "Deleted provider custom-function.\n" {
		t.Fatalf("providers delete printed %q", r.stdout)
	}
	keep(root.fails("auth provider 'custom-function' not found", "", providers("show", "custom-function")...))
	if r := keep(root.ok("", providers("list")...)); strings.Contains(r.stdout, "custom-function") {
		t.Fatalf("providers list after the delete printed:\n%s", r.stdout)
	}

	for _, r := range outputs {
		for _, secret := range []string{hsKey, webhookKey, strings.TrimPrefix(webhookKey, "whsec_")} {
			if strings.Contains(r.stdout+r.stderr, secret) {
				t.Fatalf("an output showed the secret %q:\n%s%s", secret, r.stdout, r.stderr)
			}
		}
	}
}
