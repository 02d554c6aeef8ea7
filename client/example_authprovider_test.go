package client_test

import (
	"context"
	"fmt"
	"log"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
)

// An admin lets an app's users log in with JWTs that the app's own backend signs (HS256),
// mapping two of their claims into the users' profiles. The signing key is shown to the
// server once: it answers whether secrets are set, never what they are.
func ExampleAdmin_CreateAuthProvider() {
	ctx := context.Background()
	admin := exampleAdmin()
	app, err := admin.CreateApp(ctx, "", client.AppSettingsUpdate{})
	if err != nil {
		log.Fatal(err)
	}

	p, err := admin.CreateAuthProvider(ctx, app.ClientAppID, client.AuthProvider{
		Type: latchkey.ProviderCustomToken,
		Config: latchkey.AuthProviderConfig{
			Audience:         []string{"my-app"},
			SigningAlgorithm: latchkey.AlgHS256,
		},
		MetadataFields: []latchkey.MetadataField{
			{Name: "email"},
			{Name: "user.name", FieldName: "name", Required: true},
		},
		// In a real deployment, read from a secret store rather than written in the code.
		Secrets: &latchkey.AuthProviderSecrets{SigningKeys: []string{"the backend's HS256 key, 32+ bytes"}},
	})
	if err != nil {
		log.Fatal("Error configuring the provider: ", err)
	}
	fmt.Println(p.Name, p.Config.SigningAlgorithm, "audience:", p.Config.Audience, "enabled:", !p.Disabled, "secrets set:", p.SecretsSet)

	// Later: a new audience; the signing key, left out, stays.
	p.Config.Audience = []string{"my-app", "my-other-app"}
	p, err = admin.ReplaceAuthProvider(ctx, app.ClientAppID, p)
	if err != nil {
		log.Fatal("Error replacing the provider: ", err)
	}
	fmt.Println("audience:", p.Config.Audience, "secrets set:", p.SecretsSet)
	// Output:
	// custom-token HS256 audience: [my-app] enabled: true secrets set: true
	// audience: [my-app my-other-app] secrets set: true
}
