package service_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/service"
)

// TestAuthProviderSecretsSealed configures providers with secrets: the store keeps them
// sealed under the secret key, bound to their app and provider, and no answer of the service
// carries them.
func TestAuthProviderSecretsSealed(t *testing.T) {
	f := newFixture(t, nil)
	admin := adminContext(t, f.svc)
	const signingKey = "an-hs256-signing-key-of-32-chars-or-more"
	const webhookSecret = "a-webhook-secret-of-24-bytes-at-least"
	created, err := f.svc.Providers.CreateAuthProvider(admin, f.app.ID, &latchkey.AuthProvider{
		Type:    latchkey.ProviderCustomToken,
		Config:  latchkey.AuthProviderConfig{SigningAlgorithm: latchkey.AlgHS256},
		Secrets: &latchkey.AuthProviderSecrets{SigningKeys: []string{signingKey}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.Secrets != nil {
		t.Errorf("CreateAuthProvider answered the secrets %+v", created.Secrets)
	}
	if _, err := f.svc.Providers.CreateAuthProvider(admin, f.app.ID, &latchkey.AuthProvider{
		Type:    latchkey.ProviderCustomFunction,
		Config:  latchkey.AuthProviderConfig{URL: "https://fn.example.com/login"},
		Secrets: &latchkey.AuthProviderSecrets{Secret: webhookSecret},
	}); err != nil {
		t.Fatal(err)
	}

	listed, err := f.svc.Providers.FindAuthProviders(admin, f.app.ID)
	if err != nil || len(listed) != 2 {
		t.Fatalf("FindAuthProviders = %d providers, %v; want 2", len(listed), err)
	}
	for _, p := range listed {
		if p.Secrets != nil {
			t.Errorf("FindAuthProviders answered the secrets of %s", p.Type)
		}
		stored, err := f.store.FindAuthProvider(context.Background(), f.app.ID, p.Type)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(stored.SealedSecrets, []byte("lk-sealed-v1:")) ||
			bytes.Contains(stored.SealedSecrets, []byte(signingKey)) || bytes.Contains(stored.SealedSecrets, []byte(webhookSecret)) {
			t.Errorf("%s secrets stored as %q, not sealed", p.Type, stored.SealedSecrets)
		}
	}

	// Sealed secrets moved to another app's provider do not open: a replacement that keeps
	// the stored secrets fails rather than use them.
	other := service.NewDefaultApp("svc-other")
	if err := f.svc.Apps.CreateApp(admin, other); err != nil {
		t.Fatal(err)
	}
	stored, err := f.store.FindAuthProvider(context.Background(), f.app.ID, latchkey.ProviderCustomToken)
	if err != nil {
		t.Fatal(err)
	}
	moved := *stored
	moved.AppID = other.ID
	if err := f.store.CreateAuthProvider(context.Background(), &moved); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Providers.ReplaceAuthProvider(admin, other.ID, &latchkey.AuthProvider{
		Type: latchkey.ProviderCustomToken, Config: latchkey.AuthProviderConfig{SigningAlgorithm: latchkey.AlgHS256},
	}); err == nil {
		t.Fatal("secrets sealed for one app opened for another")
	}
	// In their own app they open: the replacement keeps them.
	if _, err := f.svc.Providers.ReplaceAuthProvider(admin, f.app.ID, &latchkey.AuthProvider{
		Type: latchkey.ProviderCustomToken, Config: latchkey.AuthProviderConfig{SigningAlgorithm: latchkey.AlgHS256, Audience: []string{"aud"}},
	}); err != nil {
		t.Fatalf("replace keeping the secrets: %v", err)
	}
}
