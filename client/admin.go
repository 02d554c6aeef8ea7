package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// adminPrefix is the root of the admin API v3.0.
const adminPrefix = "/api/admin/v3.0"

// adminStoreKeyPrefix keys an Admin's session in a TokenStore. Client app ids cannot hold a
// colon, so no App's key ("<client app id>@<base URL>") can be an Admin's.
const adminStoreKeyPrefix = "latchkey:admin@"

// Admin is a client of a server's admin API v3.0: one administrator's session, and the calls
// that manage apps, server API keys, app users and the audit log. Admin tokens open only the
// admin API, as app users' tokens open only the client API.
//
// Every call but LogIn and LogOut carries the admin access token; a call refused with 401
// refreshes the access token with the refresh token once and is retried, and a refused
// refresh token (the admin session ended, after 24 hours at most) logs the admin out. The
// session is kept in the token store (WithTokenStore), so a FileStore lets it survive a
// program restart. An Admin is safe for concurrent use.
type Admin struct {
	baseURL  string
	http     *http.Client
	store    TokenStore
	storeKey string

	// refreshMu lets one refresh run at a time, so that calls failing together with an
	// expired access token refresh it once.
	refreshMu sync.Mutex
	// saveMu serializes saves; each save snapshots the session after taking it.
	saveMu sync.Mutex

	mu           sync.Mutex // guards the fields below
	userID       string
	accessToken  string
	refreshToken string
	groupID      string // from the profile, once asked
}

// NewAdmin returns an admin client of the server at baseURL (e.g. "http://127.0.0.1:9090"),
// logged in if its token store holds a session for that server. It sends no request and
// fails only if the token store cannot be read.
func NewAdmin(baseURL string, opts ...Option) (*Admin, error) {
	o := newOptions(opts)
	a := &Admin{baseURL: strings.TrimRight(baseURL, "/"), http: o.http, store: o.store}
	a.storeKey = adminStoreKeyPrefix + a.baseURL
	state, err := a.store.Load(a.storeKey)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	if len(state.Users) > 0 {
		s := state.Users[0]
		a.userID, a.accessToken, a.refreshToken = s.ID, s.AccessToken, s.RefreshToken
	}
	return a, nil
}

// BaseURL returns the base URL the Admin was made with.
func (a *Admin) BaseURL() string { return a.baseURL }

// UserID returns the id of the logged-in admin, or "".
func (a *Admin) UserID() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.refreshToken == "" {
		return ""
	}
	return a.userID
}

// IsLoggedIn reports whether the Admin has a session. It loses it by LogOut, and when the
// server refuses its refresh token.
func (a *Admin) IsLoggedIn() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.refreshToken != ""
}

// LogIn logs in as the admin with email and password and keeps the session in the token
// store. A session it replaces is ended on the server, as far as the server can be told.
// Errors: ErrInvalidPassword. If the tokens cannot be saved, the Admin is logged in and
// LogIn says so in its error.
func (a *Admin) LogIn(ctx context.Context, email, password string) error {
	var resp struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		UserID       string `json:"user_id"`
	}
	body := map[string]string{"username": email, "password": password}
	if err := a.roundTrip(ctx, http.MethodPost, "/auth/providers/local-userpass/login", "", body, &resp); err != nil {
		return err
	}
	if resp.UserID == "" || resp.AccessToken == "" || resp.RefreshToken == "" {
		return errors.New("client: admin log in: the server's answer lacks the user id or a token")
	}
	a.mu.Lock()
	old := a.refreshToken
	a.userID, a.accessToken, a.refreshToken, a.groupID = resp.UserID, resp.AccessToken, resp.RefreshToken, ""
	a.mu.Unlock()
	if old != "" && old != resp.RefreshToken {
		a.roundTrip(ctx, http.MethodDelete, "/auth/session", old, nil, nil) // best effort: it expires anyway
	}
	if err := a.save(); err != nil {
		return fmt.Errorf("client: logged in, but the tokens were not saved: %w", err)
	}
	return nil
}

// LogOut ends the admin session on the server and forgets its tokens. Logging out without a
// session does nothing; the tokens are forgotten even if the server could not be told.
func (a *Admin) LogOut(ctx context.Context) error {
	a.mu.Lock()
	token := a.refreshToken
	a.mu.Unlock()
	if token == "" {
		return nil
	}
	err := a.roundTrip(ctx, http.MethodDelete, "/auth/session", token, nil, nil)
	if hasStatus(err, http.StatusUnauthorized) {
		err = nil // the session had already ended
	}
	a.loggedOut(token)
	if serr := a.save(); err == nil {
		err = serr
	}
	return err
}

// RefreshAccessToken gets a new admin access token with the refresh token. Calls refresh by
// themselves when the server refuses the access token, so this is rarely needed. A refused
// refresh token logs the admin out.
func (a *Admin) RefreshAccessToken(ctx context.Context) error {
	a.mu.Lock()
	stale := a.accessToken
	a.mu.Unlock()
	return a.refresh(ctx, stale)
}

// AdminProfile is what the server knows about the logged-in admin.
type AdminProfile struct {
	UserID string         `json:"user_id"`
	Data   map[string]any `json:"data"` // "email"
	Roles  []AdminRole    `json:"roles"`
}

// AdminRole is one of an admin's roles: a role in a group (an App Services project).
type AdminRole struct {
	RoleName string `json:"role_name"` // e.g. "GROUP_OWNER"
	GroupID  string `json:"group_id"`
}

// Email returns the admin's email.
func (p AdminProfile) Email() string {
	email, _ := p.Data["email"].(string)
	return email
}

// GroupID returns the group of the admin's first role: the group that holds the apps. A
// Latchkey server has one.
func (p AdminProfile) GroupID() string {
	if len(p.Roles) == 0 {
		return ""
	}
	return p.Roles[0].GroupID
}

// Profile fetches the logged-in admin's profile.
func (a *Admin) Profile(ctx context.Context) (AdminProfile, error) {
	var p AdminProfile
	if err := a.request(ctx, http.MethodGet, "/auth/profile", nil, &p); err != nil {
		return p, err
	}
	if g := p.GroupID(); g != "" {
		a.mu.Lock()
		a.groupID = g
		a.mu.Unlock()
	}
	return p, nil
}

// group returns the admin's group id, asking the profile for it once.
func (a *Admin) group(ctx context.Context) (string, error) {
	a.mu.Lock()
	g := a.groupID
	a.mu.Unlock()
	if g != "" {
		return g, nil
	}
	p, err := a.Profile(ctx)
	if err != nil {
		return "", err
	}
	if p.GroupID() == "" {
		return "", errors.New("client: the admin's profile names no group")
	}
	return p.GroupID(), nil
}

// appPath returns the path of an app's resource: /groups/{group}/apps/{appID} followed by
// the escaped segments. Empty ids are refused, as they would name another resource.
func (a *Admin) appPath(ctx context.Context, appID string, segments ...string) (string, error) {
	if appID == "" {
		return "", errors.New("client: empty app id")
	}
	for _, s := range segments {
		if s == "" {
			return "", errors.New("client: empty id in an admin API path")
		}
	}
	g, err := a.group(ctx)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("/groups/" + url.PathEscape(g) + "/apps/" + url.PathEscape(appID))
	for _, s := range segments {
		b.WriteString("/" + url.PathEscape(s))
	}
	return b.String(), nil
}

// appsPath returns the path of the group's app collection.
func (a *Admin) appsPath(ctx context.Context) (string, error) {
	g, err := a.group(ctx)
	if err != nil {
		return "", err
	}
	return "/groups/" + url.PathEscape(g) + "/apps", nil
}

// appCall makes an access-token request to one of an app's resources.
func (a *Admin) appCall(ctx context.Context, method string, body, out any, appID string, segments ...string) error {
	path, err := a.appPath(ctx, appID, segments...)
	if err != nil {
		return err
	}
	return a.request(ctx, method, path, body, out)
}

// request makes an access-token request to path (below the admin prefix); a 401 refreshes
// the access token and retries once.
func (a *Admin) request(ctx context.Context, method, path string, body, out any) error {
	a.mu.Lock()
	token := a.accessToken
	if a.refreshToken == "" {
		token = ""
	}
	a.mu.Unlock()
	if token == "" {
		return fmt.Errorf("client: admin: %w", ErrNotLoggedIn)
	}
	err := a.roundTrip(ctx, method, path, token, body, out)
	if !hasStatus(err, http.StatusUnauthorized) {
		return err
	}
	if rerr := a.refresh(ctx, token); rerr != nil {
		return err // the original refusal
	}
	a.mu.Lock()
	token = a.accessToken
	a.mu.Unlock()
	if token == "" {
		return err
	}
	return a.roundTrip(ctx, method, path, token, body, out)
}

// refresh gets a new access token unless the one that failed, stale, was already replaced by
// a concurrent refresh. A refused refresh token logs the admin out.
func (a *Admin) refresh(ctx context.Context, stale string) error {
	a.refreshMu.Lock()
	defer a.refreshMu.Unlock()
	a.mu.Lock()
	cur, refresh := a.accessToken, a.refreshToken
	a.mu.Unlock()
	if refresh == "" {
		return fmt.Errorf("client: admin: %w", ErrNotLoggedIn)
	}
	if cur != "" && cur != stale {
		return nil
	}
	var resp struct {
		AccessToken string `json:"access_token"`
	}
	err := a.roundTrip(ctx, http.MethodPost, "/auth/session", refresh, nil, &resp)
	if hasStatus(err, http.StatusUnauthorized) {
		if a.loggedOut(refresh) {
			a.save()
		}
		return err
	} else if err != nil {
		return err
	}
	if resp.AccessToken == "" {
		return errors.New("client: admin refresh: the server's answer lacks the access token")
	}
	a.mu.Lock()
	if a.refreshToken == refresh { // not logged out or in again meanwhile
		a.accessToken = resp.AccessToken
	}
	a.mu.Unlock()
	// The call that needed the token succeeds even if it cannot be saved.
	a.save()
	return nil
}

// loggedOut clears the session if it still holds the refresh token that failed, so that a
// login that raced ahead is kept. It reports whether it changed anything.
func (a *Admin) loggedOut(failed string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.refreshToken == "" || a.refreshToken != failed {
		return false
	}
	a.accessToken, a.refreshToken, a.groupID = "", "", ""
	return true
}

// save writes the session to the token store; a logged-out Admin leaves no state.
func (a *Admin) save() error {
	a.saveMu.Lock()
	defer a.saveMu.Unlock()
	a.mu.Lock()
	var state State
	if a.refreshToken != "" {
		state.Users = []SavedUser{{ID: a.userID, Provider: ProviderEmailPassword, AccessToken: a.accessToken, RefreshToken: a.refreshToken}}
	}
	a.mu.Unlock()
	if err := a.store.Save(a.storeKey, state); err != nil {
		return fmt.Errorf("client: %w", err)
	}
	return nil
}

func (a *Admin) roundTrip(ctx context.Context, method, path, token string, body, out any) error {
	return roundTrip(ctx, a.http, method, a.baseURL+adminPrefix+path, token, body, out)
}

// query is the query string of an admin listing; it leaves out the parameters not given.
type query url.Values

// set sets name to v, unless v is empty.
func (q query) set(name, v string) {
	if v != "" {
		url.Values(q).Set(name, v)
	}
}

// setLimit sets the page size, unless n leaves it to the server.
func (q query) setLimit(n int) {
	if n > 0 {
		url.Values(q).Set("limit", strconv.Itoa(n))
	}
}

// on returns path with the query, if there is one.
func (q query) on(path string) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + url.Values(q).Encode()
}
