package client

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// UserInfo is an app user as the admin API describes it.
type UserInfo struct {
	ID           string         `json:"_id"`
	Type         string         `json:"type"` // "normal", or "server" for server-key users
	Disabled     bool           `json:"disabled"`
	Confirmed    bool           `json:"confirmed"`
	CreationDate int64          `json:"creation_date"` // Unix seconds, as App Services had it
	Identities   []Identity     `json:"identities"`
	Data         map[string]any `json:"data"` // "email" for email/password users
	// APIKeyCount and SessionCount (live sessions) are set by Fetch only.
	APIKeyCount  *int `json:"api_key_count,omitempty"`
	SessionCount *int `json:"session_count,omitempty"`
}

// Email returns the user's email, or "" for users without one.
func (u UserInfo) Email() string {
	email, _ := u.Data["email"].(string)
	return email
}

// CreatedAt returns the time the user was created.
func (u UserInfo) CreatedAt() time.Time { return time.Unix(u.CreationDate, 0).UTC() }

// UserFilter selects users for AppUsers.Find; zero fields do not filter.
type UserFilter struct {
	Email    string // exact address
	Provider string // users with an identity of this provider
	Type     string // "normal" or "server"
	Disabled *bool
	After    string // paging: the last id of the previous page
	Limit    int    // page size; the server's default is 100, its maximum 1000
}

// AppUsers manages the users of one app.
type AppUsers struct {
	admin *Admin
	appID string
}

// Users returns the calls that manage the users of the app with the id or client app id
// appID.
func (a *Admin) Users(appID string) *AppUsers {
	return &AppUsers{admin: a, appID: appID}
}

// Find lists the app's users that f selects, in id (creation) order, one page at a time:
// the next page is Find with After set to the last id. Errors: ErrBadRequest (a bad
// cursor or limit), ErrInvalidParameter (404: no such app).
func (u *AppUsers) Find(ctx context.Context, f UserFilter) ([]UserInfo, error) {
	path, err := u.admin.appPath(ctx, u.appID, "users")
	if err != nil {
		return nil, err
	}
	q := query{}
	q.set("email", f.Email)
	q.set("provider", f.Provider)
	q.set("type", f.Type)
	q.set("after", f.After)
	if f.Disabled != nil {
		q.set("disabled", strconv.FormatBool(*f.Disabled))
	}
	q.setLimit(f.Limit)
	users := []UserInfo{}
	if err := u.admin.request(ctx, http.MethodGet, q.on(path), nil, &users); err != nil {
		return nil, err
	}
	return users, nil
}

// Fetch returns one user with its number of API keys and live sessions.
// Errors: ErrUserNotFound.
func (u *AppUsers) Fetch(ctx context.Context, userID string) (UserInfo, error) {
	var user UserInfo
	err := u.admin.appCall(ctx, http.MethodGet, nil, &user, u.appID, "users", userID)
	return user, err
}

// Disable disables a user: its sessions end at once and its logins are refused with
// ErrUserDisabled until Enable. Errors: ErrUserNotFound.
func (u *AppUsers) Disable(ctx context.Context, userID string) error {
	return u.admin.appCall(ctx, http.MethodPut, nil, nil, u.appID, "users", userID, "disable")
}

// Enable enables a disabled user. Errors: ErrUserNotFound.
func (u *AppUsers) Enable(ctx context.Context, userID string) error {
	return u.admin.appCall(ctx, http.MethodPut, nil, nil, u.appID, "users", userID, "enable")
}

// Delete deletes a user with its identities, API keys and sessions. Errors: ErrUserNotFound.
func (u *AppUsers) Delete(ctx context.Context, userID string) error {
	return u.admin.appCall(ctx, http.MethodDelete, nil, nil, u.appID, "users", userID)
}

// LogOut ends every session of a user; the user may log in again. Errors: ErrUserNotFound.
func (u *AppUsers) LogOut(ctx context.Context, userID string) error {
	return u.admin.appCall(ctx, http.MethodPut, nil, nil, u.appID, "users", userID, "logout")
}

// CustomData returns a user's custom data, the JSON object its access tokens carry as
// user_data; {} when it has none. Errors: ErrUserNotFound.
func (u *AppUsers) CustomData(ctx context.Context, userID string) (json.RawMessage, error) {
	var data json.RawMessage
	err := u.admin.appCall(ctx, http.MethodGet, nil, &data, u.appID, "users", userID, "custom_data")
	return data, err
}

// SetCustomData replaces a user's custom data with data, a JSON object of at most 16 KiB as
// compact JSON; an empty object clears it. The user's access tokens carry it from their next
// login or refresh (realm-web's refreshCustomData). Errors: ErrUserNotFound,
// ErrInvalidParameter (not an object, too large, a NUL character), ErrBadRequest (not JSON).
func (u *AppUsers) SetCustomData(ctx context.Context, userID string, data json.RawMessage) error {
	return u.admin.appCall(ctx, http.MethodPut, data, nil, u.appID, "users", userID, "custom_data")
}

// ClearCustomData removes a user's custom data; its next tokens carry {}.
// Errors: ErrUserNotFound.
func (u *AppUsers) ClearCustomData(ctx context.Context, userID string) error {
	return u.admin.appCall(ctx, http.MethodDelete, nil, nil, u.appID, "users", userID, "custom_data")
}

// APIKeys lists a user's API keys in creation order, without their values.
// Errors: ErrUserNotFound.
func (u *AppUsers) APIKeys(ctx context.Context, userID string) ([]APIKey, error) {
	keys := []APIKey{}
	if err := u.admin.appCall(ctx, http.MethodGet, nil, &keys, u.appID, "users", userID, "api_keys"); err != nil {
		return nil, err
	}
	return keys, nil
}

// APIKey returns one of a user's API keys, without its value.
// Errors: ErrUserNotFound, ErrAPIKeyNotFound.
func (u *AppUsers) APIKey(ctx context.Context, userID, keyID string) (APIKey, error) {
	var key APIKey
	err := u.admin.appCall(ctx, http.MethodGet, nil, &key, u.appID, "users", userID, "api_keys", keyID)
	return key, err
}

// DisableAPIKey disables a user's key and ends the sessions opened with it.
// Errors: ErrUserNotFound, ErrAPIKeyNotFound.
func (u *AppUsers) DisableAPIKey(ctx context.Context, userID, keyID string) error {
	return u.admin.appCall(ctx, http.MethodPut, nil, nil, u.appID, "users", userID, "api_keys", keyID, "disable")
}

// EnableAPIKey enables a user's key. Errors: ErrUserNotFound, ErrAPIKeyNotFound.
func (u *AppUsers) EnableAPIKey(ctx context.Context, userID, keyID string) error {
	return u.admin.appCall(ctx, http.MethodPut, nil, nil, u.appID, "users", userID, "api_keys", keyID, "enable")
}

// DeleteAPIKey deletes a user's key and ends the sessions opened with it.
// Errors: ErrUserNotFound, ErrAPIKeyNotFound.
func (u *AppUsers) DeleteAPIKey(ctx context.Context, userID, keyID string) error {
	return u.admin.appCall(ctx, http.MethodDelete, nil, nil, u.appID, "users", userID, "api_keys", keyID)
}

// VerifyToken checks an access token of one of the app's users and returns its claims
// ("sub", "aud", "exp", ...). Errors: ErrInvalidSession (not a live access token of this
// app).
func (u *AppUsers) VerifyToken(ctx context.Context, token string) (map[string]any, error) {
	var claims map[string]any
	err := u.admin.appCall(ctx, http.MethodPost, map[string]string{"token": token}, &claims, u.appID, "users", "verify_token")
	return claims, err
}
