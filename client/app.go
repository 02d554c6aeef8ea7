package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// apiPrefix is the root of the client API v2.0; every path below is relative to it.
const apiPrefix = "/api/client/v2.0"

// maxResponseBytes bounds what the SDK reads of one answer; the largest real answer, a list
// of 20 keys, is a few kilobytes.
const maxResponseBytes = 4 << 20

// zeroDeviceID is the device id that means "none" to the Realm SDKs.
const zeroDeviceID = "000000000000000000000000"

// App is a client of one app on one server: it logs users in and keeps them, with the
// semantics of the Realm SDKs. An App is safe for concurrent use.
type App struct {
	baseURL  string
	appID    string
	http     *http.Client
	store    TokenStore
	storeKey string

	hostMu sync.Mutex
	host   string // the location's hostname, once asked

	// saveMu serializes saves; each save snapshots the state after taking it, so the last
	// save to finish always holds the latest state.
	saveMu sync.Mutex

	mu       sync.Mutex // guards the fields below and every User's session fields
	users    []*User    // logged-in users first, most recently active first; then logged-out ones
	deviceID string
}

// Option configures an App or an Admin: see WithHTTPClient and WithTokenStore.
type Option struct{ apply func(*options) }

type options struct {
	http  *http.Client
	store TokenStore
}

// newOptions applies opts over the defaults: http.DefaultClient and a fresh MemoryStore.
func newOptions(opts []Option) options {
	o := options{http: http.DefaultClient}
	for _, opt := range opts {
		opt.apply(&o)
	}
	if o.store == nil {
		o.store = NewMemoryStore()
	}
	return o
}

// WithHTTPClient makes the App or Admin send its requests through c instead of
// http.DefaultClient.
func WithHTTPClient(c *http.Client) Option {
	return Option{func(o *options) { o.http = c }}
}

// WithTokenStore makes the App remember its users, or the Admin its session, in s (for
// example a FileStore, so that they survive a program restart) instead of in a fresh
// MemoryStore.
func WithTokenStore(s TokenStore) Option {
	return Option{func(o *options) { o.store = s }}
}

// NewApp returns a client of the app with the client app id appID on the server at baseURL
// (e.g. "http://127.0.0.1:9090"), with the users its token store remembers. It sends no
// request: the first call asks the server for the app's location and uses the hostname it
// answers from then on. NewApp fails only if the token store cannot be read.
func NewApp(baseURL, appID string, opts ...Option) (*App, error) {
	o := newOptions(opts)
	a := &App{baseURL: strings.TrimRight(baseURL, "/"), appID: appID, http: o.http, store: o.store}
	a.storeKey = a.appID + "@" + a.baseURL
	state, err := a.store.Load(a.storeKey)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	a.deviceID = state.DeviceID
	for _, s := range state.Users {
		a.users = append(a.users, &User{app: a, id: s.ID, provider: s.Provider, accessToken: s.AccessToken, refreshToken: s.RefreshToken})
	}
	return a, nil
}

// ID returns the client app id.
func (a *App) ID() string { return a.appID }

// BaseURL returns the base URL the App was made with.
func (a *App) BaseURL() string { return a.baseURL }

// DeviceID returns the device id the server gave this App at its first login, or "". Later
// logins send it back so that the server sees one device, as the Realm SDKs do.
func (a *App) DeviceID() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.deviceID
}

// CurrentUser returns the active user: the most recently logged-in or switched-to user that
// is still logged in, or nil.
func (a *App) CurrentUser() *User {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.users) > 0 && a.users[0].loggedIn() {
		return a.users[0]
	}
	return nil
}

// AllUsers returns every user the App knows: the logged-in ones first, the current user
// first among them, then the logged-out ones (which can log in again). Anonymous users are
// forgotten when they log out, since they could never log in again.
func (a *App) AllUsers() []*User {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.users)
}

// SwitchUser makes u, a logged-in user of this App, the current user.
func (a *App) SwitchUser(u *User) error {
	a.mu.Lock()
	i := slices.Index(a.users, u)
	if i < 0 || !u.loggedIn() {
		a.mu.Unlock()
		return fmt.Errorf("client: switch user: %w", ErrNotLoggedIn)
	}
	a.users = slices.Insert(slices.Delete(a.users, i, i+1), 0, u)
	a.mu.Unlock()
	return a.save()
}

// RemoveUser logs u out (ending its session on the server) and forgets it. It is forgotten
// even if the server could not be told; the error then says so.
func (a *App) RemoveUser(ctx context.Context, u *User) error {
	if u.app != a {
		return errors.New("client: remove user: the user belongs to another App")
	}
	err := u.LogOut(ctx)
	a.forget(u)
	if serr := a.save(); err == nil {
		err = serr
	}
	return err
}

// DeleteUser deletes u on the server, with its identities, API keys and sessions, and
// forgets it.
func (a *App) DeleteUser(ctx context.Context, u *User) error {
	if u.app != a {
		return errors.New("client: delete user: the user belongs to another App")
	}
	if err := u.request(ctx, http.MethodDelete, "/auth/delete", accessToken, nil, nil); err != nil {
		return err
	}
	// The server ended every session of the user, so there is nothing to log out of.
	a.forget(u)
	return a.save()
}

// LogIn logs in with creds and makes the user the current user. If the tokens cannot be
// saved to the token store, LogIn returns the logged-in user together with the error.
//
// An App holds one User per user id, as the Realm SDKs do, so logging in as a user the App
// already knows replaces that user's session. In particular, an API key logs in as its
// owner: logging in with a key on the App where its owner is logged in turns the owner's
// User into the key session, which may not manage keys (ErrAuth) nor delete the user. To
// hold both, log in with the key on a second App (NewApp with the same base URL and app id,
// and a token store of its own, which is the default).
func (a *App) LogIn(ctx context.Context, creds Credentials) (*User, error) {
	if creds.provider == "" {
		return nil, errors.New("client: log in: empty credentials")
	}
	var resp struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		UserID       string `json:"user_id"`
		DeviceID     string `json:"device_id"`
	}
	path, body := a.loginRequest(creds)
	if err := a.send(ctx, http.MethodPost, path, "", body, &resp); err != nil {
		return nil, err
	}
	if resp.UserID == "" || resp.AccessToken == "" || resp.RefreshToken == "" {
		return nil, errors.New("client: log in: the server's answer lacks the user id or a token")
	}

	a.mu.Lock()
	var u *User
	if i := slices.IndexFunc(a.users, func(u *User) bool { return u.id == resp.UserID }); i >= 0 {
		u = a.users[i]
		a.users = slices.Delete(a.users, i, i+1)
	} else {
		u = &User{app: a, id: resp.UserID}
	}
	u.provider, u.accessToken, u.refreshToken = creds.provider, resp.AccessToken, resp.RefreshToken
	a.users = slices.Insert(a.users, 0, u)
	if resp.DeviceID != "" {
		a.deviceID = resp.DeviceID
	}
	a.mu.Unlock()

	if err := a.save(); err != nil {
		return u, fmt.Errorf("client: logged in, but the tokens were not saved: %w", err)
	}
	return u, nil
}

// loginRequest is the path and body of a login, or of a link, with creds: the credentials'
// fields and the SDK's device options, with the device id once the server has given one.
func (a *App) loginRequest(creds Credentials) (path string, body map[string]any) {
	body = maps.Clone(creds.body)
	if body == nil {
		body = map[string]any{}
	}
	device := map[string]any{"platform": "go"}
	if id := a.DeviceID(); id != "" && id != zeroDeviceID {
		// Canonical EJSON, as realm-web sends it.
		device["deviceId"] = map[string]string{"$oid": id}
	}
	body["options"] = map[string]any{"device": device}
	path = "/app/" + url.PathEscape(a.appID) + "/auth/providers/" + url.PathEscape(creds.provider) + "/login"
	return path, body
}

// LogInAsync is LogIn in the background: it returns at once, and the channel delivers the
// result, then closes. See Result for why the asynchronous forms are channels.
func (a *App) LogInAsync(ctx context.Context, creds Credentials) <-chan Result[*User] {
	return async(ctx, func(ctx context.Context) (*User, error) { return a.LogIn(ctx, creds) })
}

// EmailPasswordAuth returns the email/password provider's registration and recovery calls.
func (a *App) EmailPasswordAuth() *EmailPasswordAuth {
	return &EmailPasswordAuth{app: a}
}

// loggedOut ends u's session locally: its tokens are cleared, an anonymous user is
// forgotten, any other moves behind the logged-in users. It does so only while u still holds
// the refresh token that failed (or any, for failed ""), so a login that raced ahead is kept.
// It reports whether it changed anything.
func (a *App) loggedOut(u *User, failed string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if u.refreshToken == "" || (failed != "" && u.refreshToken != failed) {
		return false
	}
	u.accessToken, u.refreshToken = "", ""
	i := slices.Index(a.users, u)
	if i < 0 {
		return true
	}
	a.users = slices.Delete(a.users, i, i+1)
	if u.provider != ProviderAnonymous {
		a.users = append(a.users, u)
	}
	return true
}

// forget clears u's tokens and drops it from the App's users.
func (a *App) forget(u *User) {
	a.mu.Lock()
	defer a.mu.Unlock()
	u.accessToken, u.refreshToken = "", ""
	if i := slices.Index(a.users, u); i >= 0 {
		a.users = slices.Delete(a.users, i, i+1)
	}
}

// save writes the App's state to its token store.
func (a *App) save() error {
	a.saveMu.Lock()
	defer a.saveMu.Unlock()
	a.mu.Lock()
	state := State{DeviceID: a.deviceID}
	for _, u := range a.users {
		state.Users = append(state.Users, SavedUser{ID: u.id, Provider: u.provider, AccessToken: u.accessToken, RefreshToken: u.refreshToken})
	}
	a.mu.Unlock()
	if err := a.store.Save(a.storeKey, state); err != nil {
		return fmt.Errorf("client: %w", err)
	}
	return nil
}

// hostname returns the base URL the server's location endpoint names for the app, asking
// once per App; a failed ask is retried by the next call.
func (a *App) hostname(ctx context.Context) (string, error) {
	a.hostMu.Lock()
	defer a.hostMu.Unlock()
	if a.host != "" {
		return a.host, nil
	}
	var loc struct {
		Hostname string `json:"hostname"`
	}
	if err := a.roundTrip(ctx, http.MethodGet, a.baseURL+apiPrefix+"/app/"+url.PathEscape(a.appID)+"/location", "", nil, &loc); err != nil {
		return "", err
	}
	if loc.Hostname == "" {
		return "", errors.New("client: the server's location answer has no hostname")
	}
	a.host = strings.TrimRight(loc.Hostname, "/")
	return a.host, nil
}

// send makes one request to path (below the API prefix) at the app's location, with a bearer
// token if token is not "", and decodes a JSON answer into out if out is not nil.
func (a *App) send(ctx context.Context, method, path, token string, body, out any) error {
	host, err := a.hostname(ctx)
	if err != nil {
		return err
	}
	return a.roundTrip(ctx, method, host+apiPrefix+path, token, body, out)
}

func (a *App) roundTrip(ctx context.Context, method, url, token string, body, out any) error {
	return roundTrip(ctx, a.http, method, url, token, body, out)
}

// roundTrip sends one JSON request with c and decodes a JSON answer into out if out is not
// nil; an answer outside 2xx is an *Error.
func roundTrip(ctx context.Context, c *http.Client, method, url, token string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("client: %s %s: %w", method, url, err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("client: %s %s: read answer: %w", method, url, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newError(resp, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("client: %s %s: status %d, decode answer: %w", method, url, resp.StatusCode, err)
		}
	}
	return nil
}
