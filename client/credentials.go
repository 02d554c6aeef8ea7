package client

// Provider names, the same as the App Services provider types.
const (
	ProviderAnonymous     = "anon-user"
	ProviderEmailPassword = "local-userpass"
	ProviderAPIKey        = "api-key"
)

// Credentials are what App.LogIn presents to one auth provider. Make them with
// EmailPasswordCredentials, AnonymousCredentials or APIKeyCredentials.
//
// The constructors carry a Credentials suffix, where realm-web says Credentials.apiKey(...),
// because the name APIKey belongs to the key objects that APIKeys returns.
type Credentials struct {
	provider string
	body     map[string]string
}

// EmailPasswordCredentials are the credentials of an email/password user.
func EmailPasswordCredentials(email, password string) Credentials {
	return Credentials{provider: ProviderEmailPassword, body: map[string]string{"username": email, "password": password}}
}

// AnonymousCredentials log in as a new anonymous user: every login makes another user.
func AnonymousCredentials() Credentials {
	return Credentials{provider: ProviderAnonymous, body: map[string]string{}}
}

// APIKeyCredentials log in with a user API key, as the key's owner, or with a server API
// key, as its server user. On an App where the owner is logged in, the key session replaces
// the owner's: see App.LogIn.
func APIKeyCredentials(key string) Credentials {
	return Credentials{provider: ProviderAPIKey, body: map[string]string{"key": key}}
}

// Provider returns the name of the provider the credentials are for.
func (c Credentials) Provider() string { return c.provider }
