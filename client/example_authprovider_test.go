package client_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/golang-jwt/jwt/v5"

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

// An anonymous user signs up by linking a JWT that the app's backend signed: the user keeps
// its id, and the token logs in as it from then on, on any device. The app's custom JWT
// provider takes HS256 tokens with the backend's key.
func ExampleUser_LinkCredentials() {
	ctx := context.Background()
	const backendKey = "the backend's HS256 key, 32+ bytes" // from a secret store, in a real deployment
	admin := exampleAdmin()
	settings, err := admin.CreateApp(ctx, "", client.AppSettingsUpdate{})
	if err != nil {
		log.Fatal(err)
	}
	_, err = admin.CreateAuthProvider(ctx, settings.ClientAppID, client.AuthProvider{
		Type:    client.ProviderCustomToken,
		Config:  latchkey.AuthProviderConfig{SigningAlgorithm: latchkey.AlgHS256},
		Secrets: &latchkey.AuthProviderSecrets{SigningKeys: []string{backendKey}},
	})
	if err != nil {
		log.Fatal(err)
	}

	app, err := client.NewApp(exampleServer.url, settings.ClientAppID)
	if err != nil {
		log.Fatal(err)
	}
	user, err := app.LogIn(ctx, client.AnonymousCredentials())
	if err != nil {
		log.Fatal(err)
	}

	// The app's backend signs a token for its own user id, once the user has signed up there.
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "customer-42", "exp": time.Now().Add(5 * time.Minute).Unix(),
	}).SignedString([]byte(backendKey))
	if err != nil {
		log.Fatal(err)
	}
	if err := user.LinkCredentials(ctx, client.JWTCredentials(token)); err != nil {
		log.Fatal("Error linking the credentials: ", err)
	}
	fmt.Println("provider:", user.Provider())

	// Elsewhere, the same token logs in as the same user.
	other, err := client.NewApp(exampleServer.url, settings.ClientAppID)
	if err != nil {
		log.Fatal(err)
	}
	again, err := other.LogIn(ctx, client.JWTCredentials(token))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("same user:", again.ID() == user.ID())
	// Output:
	// provider: custom-token
	// same user: true
}
