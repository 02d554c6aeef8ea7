// Package client is the Go SDK of Latchkey. It speaks the App Services ("Realm") client API
// v2.0, so it works with a Latchkey server and with anything else that speaks that API.
//
// An App logs users in with email/password, anonymous or API-key credentials, or those of
// an app's external providers (JWTCredentials, FunctionCredentials, GoogleCredentials,
// AppleCredentials), and keeps them, with the Realm SDKs' semantics: a current user, every
// known user, switching between them; a request refused for an expired access token
// refreshes the token and is retried once; a refused refresh token logs the user out. A
// TokenStore (a FileStore, say) keeps the users across program runs. A user links more
// credentials to itself (LinkCredentials) and reads its custom data (CustomData,
// RefreshCustomData). A user's APIKeys create, list, fetch, rotate, enable, disable and
// delete the user API keys that let a device or a service log in as that user.
//
//	app, err := client.NewApp("http://127.0.0.1:9090", "latchkey-qmzvx")
//	user, err := app.LogIn(ctx, client.EmailPasswordCredentials("ann@example.com", "s3cretpass"))
//	key, err := user.APIKeys().Create(ctx, "build-server") // key.Value is shown only now
//
// An Admin is a client of the admin API v3.0: an administrator logs in with LogIn, and its
// calls manage apps and their settings, server API keys (ServerAPIKeys), an app's users
// (Users) and the audit log (AuditEvents), refreshing the admin access token as an App
// does. RotateLeakSecret makes an app's leak-report secret, with which ReportLeakedKeys
// disables keys found in public.
//
//	admin, err := client.NewAdmin("http://127.0.0.1:9090")
//	err = admin.LogIn(ctx, "root@example.com", password)
//	users, err := admin.Users("latchkey-qmzvx").Find(ctx, client.UserFilter{Disabled: new(true)})
//
// A Verifier is for an app's own backend: with one of the app's server API keys, it asks
// the server whether a user API key that a request carries is valid, whose it is, whether
// it has the scopes a call needs and whether it is over its limits, without logging in.
// Its Middleware does that for every request of a net/http handler, answering 401, 403, 429
// (with Retry-After) or 503 by itself and passing valid requests on with the answer in their
// context (VerifyResultFromContext). Admins set a key's limits (AppUsers.SetAPIKeyLimits)
// and read its hourly usage (AppUsers.APIKeyUsage); a key's owner reads it too
// (APIKeys.Usage).
//
//	verifier := client.NewVerifier("http://127.0.0.1:9090", "latchkey-qmzvx", serverKey)
//	res, err := verifier.Verify(ctx, key, client.VerifyScopes("read"))
//	http.ListenAndServe(":8080", verifier.Middleware(client.VerifyScopes("read"))(api))
//
// Server errors are *Error values; compare them with the sentinels (ErrAPIKeyNotFound,
// ErrInvalidSession, ...) through errors.Is.
//
// The package imports nothing from the server's implementation: it is a client of the wire
// contract only.
package client
