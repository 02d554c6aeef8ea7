package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/latchkey/latchkey/client"
)

// The app's own backend checks the keys its users send it. It calls the server as one of
// the app's server API keys, which an admin made for it.
func ExampleVerifier_Verify() {
	ctx := context.Background()
	user := exampleApp().CurrentUser()
	key, _ := user.APIKeys().Create(ctx, "build-server") // the user gives key.Value to a program of theirs

	// In the backend, which receives key.Value in a request:
	verifier := client.NewVerifier(exampleServer.url, exampleServer.appID, exampleServerKey())
	res, err := verifier.Verify(ctx, key.Value)
	if err != nil {
		log.Fatal("Error verifying the key: ", err) // the call failed; an invalid key is no error
	}
	fmt.Println(res.Valid, res.Code, res.Name, "owner:", res.UserID == user.ID())

	res, _ = verifier.Verify(ctx, "lk_not_a_key_of_this_app")
	fmt.Println(res.Valid, res.Code)
	// Output:
	// true VALID build-server owner: true
	// false NOT_FOUND
}

// The middleware answers requests without a valid key by itself, and passes the others on
// with the verify answer in their context.
func ExampleVerifier_Middleware() {
	ctx := context.Background()
	user := exampleApp().CurrentUser()
	key, _ := user.APIKeys().Create(ctx, "laptop")

	verifier := client.NewVerifier(exampleServer.url, exampleServer.appID, exampleServerKey())
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res := client.VerifyResultFromContext(r.Context())
		fmt.Fprintf(w, "hello, user of key %s\n", res.Name)
	})
	backend := httptest.NewServer(verifier.Middleware()(api))
	defer backend.Close()

	for _, authorization := range []string{"Bearer " + key.Value, "Bearer lk_nothing", ""} {
		req, _ := http.NewRequest(http.MethodGet, backend.URL, nil)
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, strings.TrimSpace(string(body)))
	}
	// Output:
	// 200 hello, user of key laptop
	// 401 {"error":"the API key is not valid","code":"NOT_FOUND"}
	// 401 {"error":"an API key is required: Authorization: Bearer <key>","code":"MISSING_KEY"}
}

// An admin limits a user's key: 2 uses in all and at most 100 a minute, with metadata that
// every verify answer carries.
func ExampleAppUsers_SetAPIKeyLimits() {
	ctx := context.Background()
	user := exampleApp().CurrentUser()
	key, _ := user.APIKeys().Create(ctx, "trial")

	users := exampleAdmin().Users(exampleServer.appID)
	limited, err := users.SetAPIKeyLimits(ctx, user.ID(), key.ID, client.KeyLimits{
		RateLimit: &client.KeyRateLimit{Limit: 100, Duration: time.Minute},
		Remaining: new(int64(2)),
		Meta:      json.RawMessage(`{"plan":"trial"}`),
	})
	if err != nil {
		log.Fatal("Error limiting the key: ", err)
	}
	fmt.Println("remaining:", *limited.Remaining, "rate limit:", limited.RateLimit.Limit, "per", limited.RateLimit.Duration)

	verifier := client.NewVerifier(exampleServer.url, exampleServer.appID, exampleServerKey())
	for range 3 {
		res, _ := verifier.Verify(ctx, key.Value)
		fmt.Println(res.Code, "remaining:", *res.Remaining, "meta:", string(res.Meta))
	}
	// Output:
	// remaining: 2 rate limit: 100 per 1m0s
	// VALID remaining: 1 meta: {"plan":"trial"}
	// VALID remaining: 0 meta: {"plan":"trial"}
	// USAGE_EXCEEDED remaining: 0 meta: {"plan":"trial"}
}
