package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/latchkey/latchkey/client"
)

// The examples reproduce, in Go, each snippet of the Realm SDKs' "Manage User API Keys" page
// (the Java SDK's blocking and ...Async calls, which Kotlin apps use) and of "Log in with an
// API key". They run in `go test` against a real latchkey binary that TestMain starts.
//
// As on that page, each starts from an app with a logged-in user: exampleApp registers a new
// email/password user and logs it in.

func ExampleAPIKeys_Create() {
	ctx := context.Background()
	app := exampleApp()

	user := app.CurrentUser()
	key, err := user.APIKeys().Create(ctx, "Name-of-the-API-Key")
	if err != nil {
		log.Fatal("Error creating API key: ", err)
	}
	// key.Value is the secret: the server shows it now and never again. Store it.
	fmt.Println("Successfully created API key:", key.Name, "enabled:", key.Enabled(), "value shown:", key.Value != "")
	// Output: Successfully created API key: Name-of-the-API-Key enabled: true value shown: true
}

func ExampleAPIKeys_CreateAsync() {
	ctx := context.Background()
	app := exampleApp()

	user := app.CurrentUser()
	result := <-user.APIKeys().CreateAsync(ctx, "Name-of-the-API-Key")
	if result.Err != nil {
		log.Fatal("Error creating API key: ", result.Err)
	}
	fmt.Println("Successfully created API key:", result.Value.Name)
	// Output: Successfully created API key: Name-of-the-API-Key
}

// Latchkey's additions: a key that expires, with scopes when the app declares some.
func ExampleAPIKeys_Create_options() {
	ctx := context.Background()
	app := exampleApp()
	user := app.CurrentUser()

	key, err := user.APIKeys().Create(ctx, "ci-runner", client.KeyExpiresIn(90*24*time.Hour))
	if err != nil {
		log.Fatal("Error creating API key: ", err)
	}
	fmt.Println("start:", key.Start[:3]+"...", "valid format:", client.ValidKeyValue(key.Value))
	fmt.Println("lives 90 days:", key.ExpiresAt.Sub(key.CreatedAt) == 90*24*time.Hour)
	// Output:
	// start: lk_... valid format: true
	// lives 90 days: true
}

// Rotate a key: it gets a new value, and the old one keeps working for a day while the new
// one is rolled out.
func ExampleAPIKeys_Rotate() {
	ctx := context.Background()
	app := exampleApp()
	user := app.CurrentUser()
	key, _ := user.APIKeys().Create(ctx, "build-server")

	rotated, err := user.APIKeys().Rotate(ctx, key.ID, 24*time.Hour)
	if err != nil {
		log.Fatal("Error rotating API key: ", err)
	}
	// rotated.Value is the new secret, shown only now.
	fmt.Println("same key:", rotated.ID == key.ID, "new value:", rotated.Value != key.Value)
	// Output: same key: true new value: true
}

func ExampleAPIKeys_FetchAll() {
	ctx := context.Background()
	app := exampleApp()
	user := app.CurrentUser()
	user.APIKeys().Create(ctx, "laptop")
	user.APIKeys().Create(ctx, "build-server")

	keys, err := user.APIKeys().FetchAll(ctx)
	if err != nil {
		log.Fatal("Error fetching API keys: ", err)
	}
	for _, key := range keys {
		fmt.Println("Successfully fetched API key:", key.Name, "enabled:", key.Enabled())
	}
	// Output:
	// Successfully fetched API key: laptop enabled: true
	// Successfully fetched API key: build-server enabled: true
}

func ExampleAPIKeys_FetchAllAsync() {
	ctx := context.Background()
	app := exampleApp()
	user := app.CurrentUser()
	user.APIKeys().Create(ctx, "laptop")

	select {
	case result := <-user.APIKeys().FetchAllAsync(ctx):
		if result.Err != nil {
			log.Fatal("Error fetching API keys: ", result.Err)
		}
		fmt.Println("Successfully fetched API keys:", len(result.Value))
	case <-time.After(10 * time.Second):
		log.Fatal("Timed out fetching API keys")
	}
	// Output: Successfully fetched API keys: 1
}

func ExampleAPIKeys_Fetch() {
	ctx := context.Background()
	app := exampleApp()
	user := app.CurrentUser()
	created, _ := user.APIKeys().Create(ctx, "laptop")

	key, err := user.APIKeys().Fetch(ctx, created.ID)
	if err != nil {
		log.Fatal("Error fetching API key: ", err)
	}
	fmt.Println("Successfully fetched API key:", key.Name, "value shown:", key.Value != "")
	// Output: Successfully fetched API key: laptop value shown: false
}

func ExampleAPIKeys_FetchAsync() {
	ctx := context.Background()
	app := exampleApp()
	user := app.CurrentUser()
	created, _ := user.APIKeys().Create(ctx, "laptop")

	result := <-user.APIKeys().FetchAsync(ctx, created.ID)
	if result.Err != nil {
		log.Fatal("Error fetching API key: ", result.Err)
	}
	fmt.Println("Successfully fetched API key:", result.Value.Name)
	// Output: Successfully fetched API key: laptop
}

func ExampleAPIKeys_Disable() {
	ctx := context.Background()
	app := exampleApp()
	user := app.CurrentUser()
	key, _ := user.APIKeys().Create(ctx, "laptop")

	if err := user.APIKeys().Disable(ctx, key.ID); err != nil {
		log.Fatal("Error disabling API key: ", err)
	}
	fmt.Println("Successfully disabled API key")

	// A disabled key no longer logs in.
	_, err := app.LogIn(ctx, client.APIKeyCredentials(key.Value))
	fmt.Println("Log in with it:", err)
	// Output:
	// Successfully disabled API key
	// Log in with it: unauthorized (AuthError)
}

func ExampleAPIKeys_DisableAsync() {
	ctx := context.Background()
	app := exampleApp()
	user := app.CurrentUser()
	key, _ := user.APIKeys().Create(ctx, "laptop")

	if err := <-user.APIKeys().DisableAsync(ctx, key.ID); err != nil {
		log.Fatal("Error disabling API key: ", err)
	}
	fmt.Println("Successfully disabled API key")
	// Output: Successfully disabled API key
}

func ExampleAPIKeys_Enable() {
	ctx := context.Background()
	app := exampleApp()
	user := app.CurrentUser()
	key, _ := user.APIKeys().Create(ctx, "laptop")
	user.APIKeys().Disable(ctx, key.ID)

	if err := user.APIKeys().Enable(ctx, key.ID); err != nil {
		log.Fatal("Error enabling API key: ", err)
	}
	fmt.Println("Successfully enabled API key")
	// Output: Successfully enabled API key
}

func ExampleAPIKeys_EnableAsync() {
	ctx := context.Background()
	app := exampleApp()
	user := app.CurrentUser()
	key, _ := user.APIKeys().Create(ctx, "laptop")
	user.APIKeys().Disable(ctx, key.ID)

	if err := <-user.APIKeys().EnableAsync(ctx, key.ID); err != nil {
		log.Fatal("Error enabling API key: ", err)
	}
	fmt.Println("Successfully enabled API key")
	// Output: Successfully enabled API key
}

func ExampleAPIKeys_Delete() {
	ctx := context.Background()
	app := exampleApp()
	user := app.CurrentUser()
	key, _ := user.APIKeys().Create(ctx, "laptop")

	if err := user.APIKeys().Delete(ctx, key.ID); err != nil {
		log.Fatal("Error deleting API key: ", err)
	}
	fmt.Println("Successfully deleted API key")
	// Output: Successfully deleted API key
}

func ExampleAPIKeys_DeleteAsync() {
	ctx := context.Background()
	app := exampleApp()
	user := app.CurrentUser()
	key, _ := user.APIKeys().Create(ctx, "laptop")

	if err := <-user.APIKeys().DeleteAsync(ctx, key.ID); err != nil {
		log.Fatal("Error deleting API key: ", err)
	}
	fmt.Println("Successfully deleted API key")
	// Output: Successfully deleted API key
}

// Log in with a user API key, as a device or a service that was given one does: it logs in
// as the key's owner.
func ExampleApp_LogIn_apiKey() {
	ctx := context.Background()
	app := exampleApp()
	owner := app.CurrentUser()
	key, _ := owner.APIKeys().Create(ctx, "build-server")

	// On the build server, with the key's value from its secret store:
	server, err := client.NewApp(app.BaseURL(), app.ID())
	if err != nil {
		log.Fatal(err)
	}
	user, err := server.LogIn(ctx, client.APIKeyCredentials(key.Value))
	if err != nil {
		log.Fatal("Error logging in: ", err)
	}
	fmt.Println("Successfully logged in as the key's owner:", user.ID() == owner.ID())
	fmt.Println("Provider:", user.Provider())
	// Output:
	// Successfully logged in as the key's owner: true
	// Provider: api-key
}

// Register an email/password user and log in.
func ExampleApp_LogIn() {
	ctx := context.Background()
	app, err := client.NewApp(exampleServer.url, exampleServer.appID)
	if err != nil {
		log.Fatal(err)
	}
	email := exampleEmail() // e.g. ann@example.com
	if err := app.EmailPasswordAuth().RegisterUser(ctx, email, "s3cretpass"); err != nil {
		log.Fatal(err)
	}
	user, err := app.LogIn(ctx, client.EmailPasswordCredentials(email, "s3cretpass"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("current user:", app.CurrentUser() == user, "provider:", user.Provider())
	// Output: current user: true provider: local-userpass
}

// Errors from the server are *client.Error values that match the package's sentinels.
func ExampleError() {
	ctx := context.Background()
	app := exampleApp()
	user := app.CurrentUser()

	_, err := user.APIKeys().Fetch(ctx, "000000000000000000000000")
	if errors.Is(err, client.ErrAPIKeyNotFound) {
		fmt.Println("no such key:", err)
	}
	var e *client.Error
	if errors.As(err, &e) {
		fmt.Println("status:", e.StatusCode, "code:", e.Code)
	}
	// Output:
	// no such key: API key not found (APIKeyNotFound)
	// status: 404 code: APIKeyNotFound
}

// A FileStore keeps the logged-in users in a file, so that CurrentUser survives a program
// restart.
func ExampleNewFileStore() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "latchkey-example")
	defer os.RemoveAll(dir)
	store := client.NewFileStore(filepath.Join(dir, "credentials.json"))

	app, _ := client.NewApp(exampleServer.url, exampleServer.appID, client.WithTokenStore(store))
	email := exampleEmail()
	app.EmailPasswordAuth().RegisterUser(ctx, email, "s3cretpass")
	user, err := app.LogIn(ctx, client.EmailPasswordCredentials(email, "s3cretpass"))
	if err != nil {
		log.Fatal(err)
	}

	// Later, in a new run of the program:
	again, _ := client.NewApp(exampleServer.url, exampleServer.appID, client.WithTokenStore(store))
	fmt.Println("still logged in:", again.CurrentUser().ID() == user.ID())
	// Output: still logged in: true
}
