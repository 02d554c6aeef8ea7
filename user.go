package latchkey

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// User types, as the profile reports them.
const (
	UserTypeNormal = "normal"
	UserTypeServer = "server"
)

// User is an app's user. One user may have several identities (email/password, anonymous,
// api-key).
type User struct {
	ID       string
	AppID    string
	Type     string
	Email    string // lowercased; empty unless the user has an email/password identity
	Disabled bool

	// PasswordHash is the encoded argon2id hash; empty for users without a password. Stores
	// fill it; it never leaves the service.
	PasswordHash string
	Confirmed    bool

	Identities []*Identity
	CreatedAt  time.Time

	// CustomData is the user's custom data: a JSON object of at most MaxCustomDataBytes (as
	// compact JSON; a store may print it with spaces), that access tokens carry as their user_data claim; nil when the user has none.
	// User listings leave it nil.
	CustomData json.RawMessage
}

// MaxCustomDataBytes bounds a user's custom data, as compact JSON: it rides in every access
// token, and so in every request header of the user's apps.
const MaxCustomDataBytes = 16 << 10

// Identity links a user to an auth provider.
type Identity struct {
	ID           string
	UserID       string
	ProviderType string
	ProviderID   string
	// ExternalID is the user's id at an external provider (a custom token's sub, a custom
	// function's id, a Google or Apple subject): unique per app and provider; empty for the
	// built-in providers.
	ExternalID string
	// Data is what the external provider said of the user at its last login (email, name,
	// picture, a custom token's metadata fields), shown in the profile's data; nil if none.
	Data      map[string]any
	CreatedAt time.Time
}

// ProviderID derives the stable 24-hex id of an app's provider that an identity carries, as
// App Services showed one in profiles; it needs no storage.
func ProviderID(appID, provider string) string {
	sum := sha256.Sum256([]byte(appID + "/" + provider))
	return hex.EncodeToString(sum[:12])
}

// IsAnonymous reports whether the user's only identity is anonymous, the rule the Realm SDKs
// apply.
func (u *User) IsAnonymous() bool {
	return len(u.Identities) == 1 && u.Identities[0].ProviderType == ProviderAnonymous
}

// HasIdentity reports whether the user has an identity of the provider type.
func (u *User) HasIdentity(providerType string) bool {
	for _, id := range u.Identities {
		if id.ProviderType == providerType {
			return true
		}
	}
	return false
}

// UserFilter selects users for an admin listing. Nil fields do not filter.
type UserFilter struct {
	AppID    string
	Email    *string // exact email (normalized)
	Provider *string // users with an identity of this provider type
	Disabled *bool
	Type     *string
	After    string // paging cursor: the last id of the previous page
	Limit    int
}

// UserStats are counts an admin sees with a user.
type UserStats struct {
	APIKeys  int
	Sessions int // live (unexpired) sessions
}

// UserService is an admin's view of an app's users and their API keys. Every method needs an
// admin access caller in the context (AdminFromContext) and returns EUnauthenticated without
// one; appID is the app's internal id or its client app id, and an unknown app is
// EAppNotFound.
type UserService interface {
	// FindUsers returns the app's users that filter selects, in id order, one page at a time.
	// Errors: EBadRequest (a bad paging cursor).
	FindUsers(ctx context.Context, appID string, filter UserFilter) ([]*User, error)
	// FindUser returns one user with counts of its keys and live sessions.
	// Errors: EUserNotFound.
	FindUser(ctx context.Context, appID, userID string) (*User, UserStats, error)
	// SetUserDisabled disables a user, ending its sessions at once, or enables it again.
	// Errors: EUserNotFound.
	SetUserDisabled(ctx context.Context, appID, userID string, disabled bool) error
	// DeleteUser deletes a user with its identities, keys and sessions.
	// Errors: EUserNotFound.
	DeleteUser(ctx context.Context, appID, userID string) error
	// RevokeUserSessions ends every session of a user; the user may log in again.
	// Errors: EUserNotFound.
	RevokeUserSessions(ctx context.Context, appID, userID string) error

	// FindUserAPIKeys returns a user's keys in creation order, without values.
	// Errors: EUserNotFound.
	FindUserAPIKeys(ctx context.Context, appID, userID string) ([]*APIKey, error)
	// FindUserAPIKey returns one key of a user, without its value.
	// Errors: EUserNotFound, EAPIKeyNotFound.
	FindUserAPIKey(ctx context.Context, appID, userID, keyID string) (*APIKey, error)
	// SetUserAPIKeyDisabled disables a user's key, ending the sessions opened with it, or
	// enables it again. Errors: EUserNotFound, EAPIKeyNotFound.
	SetUserAPIKeyDisabled(ctx context.Context, appID, userID, keyID string, disabled bool) error
	// DeleteUserAPIKey deletes a user's key and the sessions opened with it.
	// Errors: EUserNotFound, EAPIKeyNotFound.
	DeleteUserAPIKey(ctx context.Context, appID, userID, keyID string) error

	// FindUserCustomData returns a user's custom data, {} when it has none.
	// Errors: EUserNotFound.
	FindUserCustomData(ctx context.Context, appID, userID string) (json.RawMessage, error)
	// SetUserCustomData replaces a user's custom data with a JSON object of at most
	// MaxCustomDataBytes; an empty object clears it. Access tokens issued from then on, at
	// login or refresh, carry it. Errors: EUserNotFound; EInvalid (not an object, too large,
	// a NUL character in a string).
	SetUserCustomData(ctx context.Context, appID, userID string, data json.RawMessage) error

	// VerifyToken checks an access token of one of the app's users and returns its claims.
	// Errors: EUnauthenticated (not a live access token of this app).
	VerifyToken(ctx context.Context, appID, token string) (map[string]any, error)
}
