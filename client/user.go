package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// tokenType says which of a user's tokens a request carries.
type tokenType int

const (
	accessToken  tokenType = iota // profile, delete user: refreshed and retried once on 401
	refreshToken                  // session and API key calls: a 401 logs the user out
)

// User is a user of an App, logged in or not. Its methods are safe for concurrent use.
type User struct {
	app *App
	id  string

	// refreshMu lets one refresh run at a time, so that calls failing together with an
	// expired access token refresh it once.
	refreshMu sync.Mutex

	// Guarded by app.mu.
	provider     string
	accessToken  string
	refreshToken string
}

// ID returns the user's id.
func (u *User) ID() string { return u.id }

// App returns the App the user belongs to.
func (u *User) App() *App { return u.app }

// Provider returns the provider of the user's latest login, such as ProviderEmailPassword,
// ProviderAnonymous, ProviderAPIKey or ProviderCustomToken; an anonymous user that links
// credentials takes their provider. A session opened with an API key cannot manage keys.
func (u *User) Provider() string {
	u.app.mu.Lock()
	defer u.app.mu.Unlock()
	return u.provider
}

// IsLoggedIn reports whether the user has a session. A user is logged out by LogOut, and
// also when the server refuses its refresh token (the session ended or the user is gone).
func (u *User) IsLoggedIn() bool {
	u.app.mu.Lock()
	defer u.app.mu.Unlock()
	return u.loggedIn()
}

func (u *User) loggedIn() bool { return u.refreshToken != "" }

// AccessToken returns the user's current access token (a JWT valid for 30 minutes), to call
// one's own backend with; the backend verifies it with the server's JWKS. It is a secret.
func (u *User) AccessToken() string {
	u.app.mu.Lock()
	defer u.app.mu.Unlock()
	return u.accessToken
}

// RefreshToken returns the user's refresh token. It is a long-lived secret.
func (u *User) RefreshToken() string {
	u.app.mu.Lock()
	defer u.app.mu.Unlock()
	return u.refreshToken
}

func (u *User) token(typ tokenType) string {
	u.app.mu.Lock()
	defer u.app.mu.Unlock()
	if typ == refreshToken {
		return u.refreshToken
	}
	return u.accessToken
}

// LogOut ends the user's session on the server and clears its tokens. The user stays in
// AllUsers and can log in again, except an anonymous user, which is forgotten. Logging out a
// logged-out user does nothing. The tokens are cleared even if the server could not be told.
func (u *User) LogOut(ctx context.Context) error {
	token := u.token(refreshToken)
	if token == "" {
		return nil
	}
	err := u.app.send(ctx, http.MethodDelete, "/auth/session", token, nil, nil)
	if hasStatus(err, http.StatusUnauthorized) {
		err = nil // the session had already ended, which is what logging out wants
	}
	u.app.loggedOut(u, token)
	if serr := u.app.save(); err == nil {
		err = serr
	}
	return err
}

// RefreshAccessToken gets a new access token with the refresh token. The SDK refreshes by
// itself when the server refuses an access token, so callers need this only to hand a fresh
// token to their own backend. A refused refresh token logs the user out.
func (u *User) RefreshAccessToken(ctx context.Context) error {
	return u.refresh(ctx, u.token(accessToken))
}

// refresh gets a new access token unless the one that failed, stale, was already replaced by
// a concurrent refresh.
func (u *User) refresh(ctx context.Context, stale string) error {
	u.refreshMu.Lock()
	defer u.refreshMu.Unlock()
	if cur := u.token(accessToken); cur != "" && cur != stale {
		return nil
	}
	var resp struct {
		AccessToken string `json:"access_token"`
	}
	refresh := u.token(refreshToken)
	if err := u.request(ctx, http.MethodPost, "/auth/session", refreshToken, nil, &resp); err != nil {
		return err
	}
	u.app.mu.Lock()
	if u.refreshToken == refresh { // not logged out or in again meanwhile
		u.accessToken = resp.AccessToken
	}
	u.app.mu.Unlock()
	// The call that needed the token succeeds even if it cannot be saved; the next save
	// writes the whole state again.
	u.app.save()
	return nil
}

// request makes an authenticated request the way the Realm SDKs do: a 401 to an
// access-token request refreshes the access token and retries once; a 401 to a
// refresh-token request logs the user out.
func (u *User) request(ctx context.Context, method, path string, typ tokenType, body, out any) error {
	token := u.token(typ)
	if token == "" {
		return fmt.Errorf("client: user %s: %w", u.id, ErrNotLoggedIn)
	}
	err := u.app.send(ctx, method, path, token, body, out)
	if !hasStatus(err, http.StatusUnauthorized) {
		return err
	}
	if typ == refreshToken {
		if u.app.loggedOut(u, token) {
			u.app.save()
		}
		return err
	}
	if rerr := u.refresh(ctx, token); rerr != nil {
		return err // the original refusal, as realm-core returns it
	}
	if token = u.token(accessToken); token == "" {
		return err
	}
	return u.app.send(ctx, method, path, token, body, out)
}

// Profile is what the server knows about a user.
type Profile struct {
	UserID     string         `json:"user_id"`
	DomainID   string         `json:"domain_id"` // the app's internal id
	Type       string         `json:"type"`      // "normal", or "server" for server-key users
	Identities []Identity     `json:"identities"`
	Data       map[string]any `json:"data"` // "email" for email/password users
}

// Identity links a user to one auth provider.
type Identity struct {
	ID           string `json:"id"` // an external identity's id at its provider (a JWT's sub)
	ProviderType string `json:"provider_type"`
	ProviderID   string `json:"provider_id"`
	// ProviderData is what an external provider said of the user at its latest login: a
	// custom token's metadata fields, a Google or Apple token's email and name.
	ProviderData map[string]any `json:"provider_data,omitempty"`
}

// Email returns the profile's email, or "" for users without one.
func (p Profile) Email() string {
	email, _ := p.Data["email"].(string)
	return email
}

// Profile fetches the user's profile.
func (u *User) Profile(ctx context.Context) (Profile, error) {
	var p Profile
	err := u.request(ctx, http.MethodGet, "/auth/profile", accessToken, nil, &p)
	return p, err
}

// APIKeys returns the calls that manage the user's API keys.
func (u *User) APIKeys() *APIKeys {
	return &APIKeys{user: u}
}

// LinkCredentials adds the identity of creds to the user, as realm-web's linkCredentials
// does: the user keeps its id, its sessions and its keys, and may log in with creds from then
// on. It sends the login of creds with ?link=true and the user's access token, and takes the
// new access token the server answers; the refresh token stays. An anonymous user stops
// being anonymous: it may then create API keys, LogOut keeps it, and Provider becomes the
// provider of creds.
//
// Anonymous credentials are refused before any request, as realm-core refuses them. Errors
// from the server: ErrAccountNameInUse (409) when the identity belongs to another user or
// the user has one of that provider already; ErrInvalidPassword or ErrAuth (401) for
// credentials that do not log in; ErrAuth (403) for a session opened with an API key;
// ErrBadRequest for API key credentials. An expired access token is refreshed and the link
// sent again once; a refused credential is not sent again, so that it counts once toward
// the server's limits.
func (u *User) LinkCredentials(ctx context.Context, creds Credentials) error {
	switch creds.provider {
	case "":
		return errors.New("client: link credentials: empty credentials")
	case ProviderAnonymous:
		return errors.New("client: link credentials: anonymous credentials cannot be linked to a user")
	}
	refresh, token := u.token(refreshToken), u.token(accessToken)
	if refresh == "" {
		return fmt.Errorf("client: user %s: %w", u.id, ErrNotLoggedIn)
	}
	path, body := u.app.loginRequest(creds)
	path += "?link=true"
	var resp struct {
		AccessToken string `json:"access_token"`
		UserID      string `json:"user_id"`
	}
	err := u.app.send(ctx, http.MethodPost, path, token, body, &resp)
	if errors.Is(err, ErrInvalidSession) {
		if rerr := u.refresh(ctx, token); rerr != nil {
			return err // the original refusal, as request returns it
		}
		if token = u.token(accessToken); token == "" {
			return err
		}
		err = u.app.send(ctx, http.MethodPost, path, token, body, &resp)
	}
	if err != nil {
		return err
	}
	if resp.UserID != u.id {
		return fmt.Errorf("client: link credentials: the server answered for user %q, not %s", resp.UserID, u.id)
	}
	if resp.AccessToken == "" {
		return errors.New("client: link credentials: the server's answer lacks the access token")
	}
	u.app.mu.Lock()
	if u.refreshToken == refresh { // not logged out or in again meanwhile
		u.accessToken = resp.AccessToken
		if u.provider == ProviderAnonymous {
			u.provider = creds.provider
		}
	}
	u.app.mu.Unlock()
	if err := u.app.save(); err != nil {
		return fmt.Errorf("client: linked, but the tokens were not saved: %w", err)
	}
	return nil
}

// CustomData returns the user's custom data as its access token carries it (the token's
// user_data claim, which the SDK reads without verifying it), or an empty map when it has
// none. The token was made at the latest login or refresh: RefreshCustomData gets the data
// as it is now.
func (u *User) CustomData() map[string]any {
	data := map[string]any{}
	parts := strings.Split(u.AccessToken(), ".")
	if len(parts) != 3 {
		return data
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return data
	}
	var claims struct {
		UserData map[string]any `json:"user_data"`
	}
	if json.Unmarshal(payload, &claims) == nil && claims.UserData != nil {
		data = claims.UserData
	}
	return data
}

// RefreshCustomData refreshes the access token, which the server makes with the user's
// custom data as it is now, and returns that data, as realm-web's refreshCustomData does.
func (u *User) RefreshCustomData(ctx context.Context) (map[string]any, error) {
	if err := u.RefreshAccessToken(ctx); err != nil {
		return nil, err
	}
	return u.CustomData(), nil
}
