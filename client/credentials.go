package client

import (
	"maps"

	"github.com/latchkey/latchkey"
)

// Provider names, the same as the App Services provider types.
const (
	ProviderAnonymous     = "anon-user"
	ProviderEmailPassword = "local-userpass"
	ProviderAPIKey        = "api-key"
	// The external providers, which an admin configures for an app (Admin.CreateAuthProvider).
	ProviderCustomToken    = latchkey.ProviderCustomToken    // a JWT the app's backend or issuer signs
	ProviderCustomFunction = latchkey.ProviderCustomFunction // a payload the app's webhook vouches for
	ProviderGoogle         = latchkey.ProviderGoogle         // a Google ID token
	ProviderApple          = latchkey.ProviderApple          // an Apple ID token
)

// Credentials are what App.LogIn presents to one auth provider, and what User.LinkCredentials
// adds to a user. Make them with EmailPasswordCredentials, AnonymousCredentials,
// APIKeyCredentials, JWTCredentials, FunctionCredentials, GoogleCredentials or
// AppleCredentials.
//
// The constructors carry a Credentials suffix, where realm-web says Credentials.apiKey(...),
// because the name APIKey belongs to the key objects that APIKeys returns.
type Credentials struct {
	provider string
	body     map[string]any
}

// EmailPasswordCredentials are the credentials of an email/password user.
func EmailPasswordCredentials(email, password string) Credentials {
	return Credentials{provider: ProviderEmailPassword, body: map[string]any{"username": email, "password": password}}
}

// AnonymousCredentials log in as a new anonymous user: every login makes another user.
func AnonymousCredentials() Credentials {
	return Credentials{provider: ProviderAnonymous, body: map[string]any{}}
}

// APIKeyCredentials log in with a user API key, as the key's owner, or with a server API
// key, as its server user. On an App where the owner is logged in, the key session replaces
// the owner's: see App.LogIn.
func APIKeyCredentials(key string) Credentials {
	return Credentials{provider: ProviderAPIKey, body: map[string]any{"key": key}}
}

// JWTCredentials log in with a JWT that the app's custom JWT provider (ProviderCustomToken)
// accepts: signed with one of its keys, unexpired, for its audience. The token's sub is the
// user's id at the issuer; its first login creates the user. realm-web: Credentials.jwt.
func JWTCredentials(token string) Credentials {
	return Credentials{provider: ProviderCustomToken, body: map[string]any{"token": token}}
}

// FunctionCredentials log in through the app's custom function provider
// (ProviderCustomFunction): the server posts payload's fields, as they are, to the app's
// signed webhook, which answers with the user's id. A payload field named "options" is the
// SDK's own and is replaced, as realm-web replaces it. realm-web: Credentials.function.
func FunctionCredentials(payload map[string]any) Credentials {
	body := maps.Clone(payload)
	if body == nil {
		body = map[string]any{}
	}
	return Credentials{provider: ProviderCustomFunction, body: body}
}

// GoogleCredentials log in with a Google ID token, which an app gets from Google's sign-in
// SDK, for one of the client ids the app's Google provider (ProviderGoogle) names.
// realm-web: Credentials.google({idToken}).
func GoogleCredentials(idToken string) Credentials {
	return Credentials{provider: ProviderGoogle, body: map[string]any{"id_token": idToken}}
}

// AppleCredentials log in with an Apple ID token, which an app gets from Sign in with Apple,
// for one of the client ids the app's Apple provider (ProviderApple) names.
// realm-web: Credentials.apple.
func AppleCredentials(idToken string) Credentials {
	return Credentials{provider: ProviderApple, body: map[string]any{"id_token": idToken}}
}

// Provider returns the name of the provider the credentials are for.
func (c Credentials) Provider() string { return c.provider }
