package latchkey

import (
	"context"
	"time"
)

// Store keeps Latchkey's state. Implementations (sqlite, postgres) hold no policy: the rules
// live in the service package. What must be atomic is one Store call. Every implementation
// passes the conformance suite in internal/storetest.
//
// Lookups that find nothing return an *Error with ENotFound unless a method says otherwise.
type Store interface {
	AppStore
	UserStore
	UserTokenStore
	MailStore
	APIKeyStore
	ServerAPIKeyStore
	SessionStore
	SigningKeyStore
	AdminStore
	WebSessionStore
	AuditStore
	LimitStore
	VerifyStore
	AuthProviderStore

	// Close releases the store's resources.
	Close() error
}

// AppStore keeps the apps.
type AppStore interface {
	// CreateApp inserts an app. Errors: EConflict when the client app id is taken.
	CreateApp(ctx context.Context, app *App) error
	// FindAppByClientID returns an app by its client app id.
	FindAppByClientID(ctx context.Context, clientAppID string) (*App, error)
	// FindAppByID returns an app by its internal id.
	FindAppByID(ctx context.Context, id string) (*App, error)
	// FindApps returns every app, oldest first.
	FindApps(ctx context.Context) ([]*App, error)
	// CreateFirstApp inserts app when there is no app yet and returns it, created true;
	// otherwise it returns the oldest app, created false. The check and the insert are one
	// step, also for nodes starting at once over one database.
	// Errors: EConflict when app's client app id or id is taken.
	CreateFirstApp(ctx context.Context, app *App) (first *App, created bool, err error)
	// UpdateApp writes every setting of the app (all fields but ID, ClientAppID, CreatedAt).
	UpdateApp(ctx context.Context, app *App) error
	// DeleteApp deletes an app with all its users, keys, sessions and audit events.
	DeleteApp(ctx context.Context, id string) error
}

// UserStore keeps the users of the apps and their identities.
type UserStore interface {
	// CreateUser inserts a user with its identities (u.Identities) and its custom data
	// (u.CustomData, compact JSON; nil for none).
	// Errors: EConflict when the app already has a user with that (non-empty) email, or an
	// identity with the provider type and (non-empty) external id of one of u's.
	CreateUser(ctx context.Context, u *User) error
	// FindUserByID returns a user of the app with its identities.
	FindUserByID(ctx context.Context, appID, id string) (*User, error)
	// FindUserByEmail returns a user of the app by lowercased email, with its identities.
	FindUserByEmail(ctx context.Context, appID, email string) (*User, error)
	// FindUsers returns users of filter.AppID with their identities, ordered by id, after the
	// cursor filter.After, at most filter.Limit (all if zero).
	FindUsers(ctx context.Context, filter UserFilter) ([]*User, error)
	// FindUserStats counts a user's keys and live sessions at t.
	FindUserStats(ctx context.Context, userID string, t time.Time) (UserStats, error)
	// AddIdentity adds an identity unless the user already has one of that provider type.
	AddIdentity(ctx context.Context, ident *Identity) error
	// SetUserDisabled enables or disables a user of the app. Disabling also deletes the user's
	// sessions, in the same transaction.
	SetUserDisabled(ctx context.Context, appID, id string, disabled bool) error
	// DeleteUser deletes a user with its identities, keys, sessions and tokens.
	DeleteUser(ctx context.Context, appID, id string) error
	// SetUserCustomData replaces the custom data of a user of the app with data, compact
	// JSON, or clears it when data is nil. Errors: ENotFound when the app has no such user.
	SetUserCustomData(ctx context.Context, appID, id string, data []byte) error
	// LinkUserpassIdentity moves the registered email/password user from onto the user
	// toID of the same app, in one transaction: toID takes from's email, password hash and
	// confirmation state, and ident (a local-userpass identity of toID); from's confirmation
	// and reset tokens move with them; from is deleted. It does so only while from is still
	// the app's user with from.Email and from.PasswordHash and was never used (no identity
	// but local-userpass, no session, no API key), and toID is the app's enabled user with
	// no email and no local-userpass identity. Errors: ENotFound when toID is gone or
	// disabled; EConflict when toID has an email or a local-userpass identity;
	// EAccountNameInUse when from is gone, changed or used.
	LinkUserpassIdentity(ctx context.Context, from *User, toID string, ident *Identity) error
	// FindUserByIdentity returns the app's user with the identity of the provider type and
	// external id, with its identities.
	FindUserByIdentity(ctx context.Context, appID, providerType, externalID string) (*User, error)
	// LinkIdentity adds ident, an identity with an external id, to its user, an enabled user
	// of the app. Errors: EAccountNameInUse when another identity of the app has the
	// provider type and external id; EConflict when the user has an identity of the type;
	// ENotFound when the user is gone or disabled.
	LinkIdentity(ctx context.Context, appID string, ident *Identity) error
	// SetIdentityData replaces the data of an identity of a user of the app, or clears it
	// when data is empty. Errors: ENotFound when the app has no such identity.
	SetIdentityData(ctx context.Context, appID, identityID string, data map[string]any) error
}

// UserTokenStore keeps the confirmation and password reset tokens of users.
type UserTokenStore interface {
	// CreateUserToken inserts a confirmation or reset token.
	CreateUserToken(ctx context.Context, t *UserToken) error
	// FindUserToken returns a token by id.
	FindUserToken(ctx context.Context, id string) (*UserToken, error)
	// ConfirmUserWithToken deletes the token and marks its user confirmed, atomically. A token
	// that is already gone (used concurrently) returns ENotFound.
	ConfirmUserWithToken(ctx context.Context, tokenID string) error
	// ResetPasswordWithToken deletes the token and every other reset token of its user, sets
	// the user's password hash and ends the user's sessions, atomically; the user's
	// confirmation tokens stay. A token already gone returns ENotFound.
	ResetPasswordWithToken(ctx context.Context, tokenID, passwordHash string) error
}

// MailStore keeps a record of the messages sent, for their limits.
type MailStore interface {
	// CreateMailSend records a message unless the limit refuses it (ELimitReached): the
	// recipient got a message of any kind after m.SentAt-limit.Cooldown, or limit.Max of
	// m.Kind after m.SentAt-limit.Window. The check and the insert are one atomic step, also
	// between nodes over one database. It deletes the recipient's records that have left
	// both periods.
	CreateMailSend(ctx context.Context, m *MailSend, limit MailLimit) error
	// DeleteMailSendsBefore deletes the records of messages sent before t and returns how
	// many.
	DeleteMailSendsBefore(ctx context.Context, t time.Time) (int64, error)
}

// APIKeyStore keeps the users' API keys.
type APIKeyStore interface {
	// CreateAPIKey inserts a key unless its user already has max keys or a key of that name.
	// The check and the insert are one atomic step, also under concurrent calls.
	// Errors: ELimitReached, EAPIKeyExists.
	CreateAPIKey(ctx context.Context, k *APIKey, max int) error
	// FindAPIKeys returns a user's keys in creation order.
	FindAPIKeys(ctx context.Context, userID string) ([]*APIKey, error)
	// FindAPIKey returns one of the user's keys.
	FindAPIKey(ctx context.Context, userID, id string) (*APIKey, error)
	// FindAPIKeyByHash returns the app's key whose current or previous value hashes to hash.
	FindAPIKeyByHash(ctx context.Context, appID string, hash []byte) (*APIKey, error)
	// FindAPIKeyAndUser returns the app's key whose current or previous value hashes to hash,
	// with its user and the user's identities, in one read: a key login's lookup. ENotFound
	// with a nil key when no key of the app has the hash; ENotFound with the key and a nil
	// user when the key's user is not a user of the app.
	FindAPIKeyAndUser(ctx context.Context, appID string, hash []byte) (*APIKey, *User, error)
	// SetAPIKeyDisabled enables or disables one of the user's keys. Disabling also deletes
	// every session opened with the key, in the same transaction.
	SetAPIKeyDisabled(ctx context.Context, userID, id string, disabled bool) error
	// DeleteAPIKey deletes one of the user's keys and every session opened with it.
	DeleteAPIKey(ctx context.Context, userID, id string) error
	// RotateAPIKey gives the user's key k.ID the value of k.Hash and k.Start and ends the key's
	// existing sessions no later than sessionsEnd, in one transaction. With k.PreviousExpiresAt
	// set, the key's hash as the store reads it under the rotation's lock becomes its previous
	// hash until then, and k.PreviousHash is set to it; without, the key keeps no previous
	// value. Rotations of one key run one at a time, each from the value the last one wrote.
	RotateAPIKey(ctx context.Context, k *APIKey, sessionsEnd time.Time) error
	// EndAPIKeyGrace ends the grace period of the user's key id if its previous hash is still
	// previous (a rotation since then leaves the key's values as they are), and ends the
	// key's sessions no later than sessionsEnd, in one transaction. Errors: ENotFound when
	// the user has no such key.
	EndAPIKeyGrace(ctx context.Context, userID, id string, previous []byte, sessionsEnd time.Time) error
	// TouchAPIKey records that the key was used at t.
	TouchAPIKey(ctx context.Context, id string, t time.Time) error
}

// ServerAPIKeyStore keeps the apps' server API keys, each the key of a server user of its own.
type ServerAPIKeyStore interface {
	// CreateServerAPIKey inserts a server user (u, with its identities) and its key k, unless
	// the app already has max server keys (ELimitReached) or a server key of that name
	// (EAPIKeyExists). The checks and inserts are one atomic step.
	CreateServerAPIKey(ctx context.Context, u *User, k *APIKey, max int) error
	// FindServerAPIKeys returns the app's server keys (keys of users of type server) in
	// creation order.
	FindServerAPIKeys(ctx context.Context, appID string) ([]*APIKey, error)
	// FindServerAPIKey returns one of the app's server keys.
	FindServerAPIKey(ctx context.Context, appID, id string) (*APIKey, error)
}

// SessionStore keeps the users' refresh sessions.
type SessionStore interface {
	// CreateSession inserts a session, only while its user exists and is enabled, and, for a
	// session with an APIKeyID, while that key of the user is enabled and s.KeyHash is its
	// current hash, or its previous hash before the previous value's expiry with s.ExpiresAt
	// no later than that; otherwise ENotFound. The check holds against a disable or rotation
	// committed at the same moment: either the session is inserted first and ended by it, or
	// it is refused.
	CreateSession(ctx context.Context, s *Session) error
	// FindSession returns a session by id, whether or not it has expired.
	FindSession(ctx context.Context, id string) (*Session, error)
	// FindSessionAndUser returns a session, whether or not it has expired, with its user and
	// the user's identities, in one read. ENotFound when there is no such session.
	FindSessionAndUser(ctx context.Context, id string) (*Session, *User, error)
	// DeleteSession deletes a session.
	DeleteSession(ctx context.Context, id string) error
	// DeleteUserSessions deletes every session of a user and returns how many.
	DeleteUserSessions(ctx context.Context, userID string) (int64, error)
	// DeleteExpiredSessions deletes the sessions that expired before t and returns how many.
	DeleteExpiredSessions(ctx context.Context, t time.Time) (int64, error)
}

// SigningKeyStore keeps the keys that sign access tokens.
type SigningKeyStore interface {
	// FindSigningKeys returns the token signing keys, oldest first.
	FindSigningKeys(ctx context.Context) ([]*SigningKey, error)
	// CreateSigningKey inserts a signing key.
	CreateSigningKey(ctx context.Context, k *SigningKey) error
	// CreateSigningKeysIfNone inserts each key unless the store already holds a key of its
	// algorithm. Concurrent callers, in this process or on other nodes, are serialized, so
	// that nodes starting together on an empty database end with one key per algorithm.
	CreateSigningKeysIfNone(ctx context.Context, keys []*SigningKey) error
	// RotateSigningKeys, in one transaction serialized with the other writers of signing
	// keys, sets RetiredAt to each new key's CreatedAt on the unretired keys of its
	// algorithm, deletes the keys of that algorithm retired before deleteRetiredBefore[alg],
	// and inserts the new keys.
	RotateSigningKeys(ctx context.Context, keys []*SigningKey, deleteRetiredBefore map[string]time.Time) error
	// ReplaceSigningKeyMaterial sets a key's PrivateKey to new if it still is old, and
	// tells whether it did. ENotFound when there is no such key.
	ReplaceSigningKeyMaterial(ctx context.Context, id string, old, new []byte) (bool, error)
}

// AdminStore keeps the admins and their sessions.
type AdminStore interface {
	// CreateAdmin inserts an admin. Errors: EConflict when the email is taken.
	CreateAdmin(ctx context.Context, a *Admin) error
	// FindAdminByEmail returns an admin by lowercased email.
	FindAdminByEmail(ctx context.Context, email string) (*Admin, error)
	// FindAdminByID returns an admin by id.
	FindAdminByID(ctx context.Context, id string) (*Admin, error)
	// CountAdmins returns how many admins exist.
	CountAdmins(ctx context.Context) (int, error)
	// CreateAdminSession inserts an admin session.
	CreateAdminSession(ctx context.Context, s *AdminSession) error
	// FindAdminSession returns an admin session by id, whether or not it has expired.
	FindAdminSession(ctx context.Context, id string) (*AdminSession, error)
	// DeleteAdminSession deletes an admin session.
	DeleteAdminSession(ctx context.Context, id string) error
}

// WebSessionStore keeps the web console's and pages' browser sessions.
type WebSessionStore interface {
	// CreateWebSession inserts a web session while the session it rides on
	// (ws.AdminSessionID or ws.SessionID) exists; otherwise ENotFound. Deleting that session
	// deletes the web session with it. Errors also: EConflict when the hash is taken.
	CreateWebSession(ctx context.Context, ws *WebSession) error
	// FindWebSession returns a web session by the hash of its token, whether or not it has
	// expired.
	FindWebSession(ctx context.Context, idHash []byte) (*WebSession, error)
	// TouchWebSession sets a web session's LastSeenAt and ExpiresAt.
	TouchWebSession(ctx context.Context, idHash []byte, seen, expires time.Time) error
	// SetWebSessionFlash sets a web session's Flash.
	SetWebSessionFlash(ctx context.Context, idHash []byte, flash []byte) error
	// TakeWebSessionFlash returns a web session's Flash (nil if none) and clears it, in one
	// step: of concurrent calls, one gets the flash.
	TakeWebSessionFlash(ctx context.Context, idHash []byte) ([]byte, error)
	// DeleteWebSession deletes a web session, leaving the session it rides on.
	DeleteWebSession(ctx context.Context, idHash []byte) error
	// DeleteExpiredWebSessions deletes the web sessions that expired before t with the
	// sessions they ride on, which no one else holds a token of, and returns how many web
	// sessions went.
	DeleteExpiredWebSessions(ctx context.Context, t time.Time) (int64, error)
}

// AuditStore keeps the audit log.
type AuditStore interface {
	// CreateAuditEvents inserts audit events in one transaction.
	CreateAuditEvents(ctx context.Context, events []*AuditEvent) error
	// FindAuditEvents returns events matching the filter, newest (highest id) first.
	FindAuditEvents(ctx context.Context, filter AuditFilter) ([]*AuditEvent, error)
	// DeleteAuditEventsBefore deletes events older than t and returns how many.
	DeleteAuditEventsBefore(ctx context.Context, t time.Time) (int64, error)
	// DeleteAuditEventsBeyond deletes the oldest (lowest id) events, keeping the newest keep,
	// and returns how many went; keep 0 deletes them all.
	DeleteAuditEventsBeyond(ctx context.Context, keep int64) (int64, error)
}

// LimitStore keeps the rate limit buckets and the account lockouts, shared by every node.
type LimitStore interface {
	// TakeRateToken takes a token from the bucket named key, shared by every node: a bucket
	// that holds burst tokens and earns one per interval, kept as the time at which it would
	// be full again (the generic cell rate algorithm), changed in one atomic statement so that
	// concurrent callers never both take the last token. It returns zero when a token was
	// taken, and otherwise how long until one will be. A bucket full again keeps no row.
	TakeRateToken(ctx context.Context, key []byte, now time.Time, interval time.Duration, burst int) (wait time.Duration, err error)
	// UpdateLockout calls fn with the lockout state of account (the zero Lockout when none is
	// kept) and, when fn returns true, stores what fn left in it; a zero state deletes the row.
	// The read and the write are one step that no other call for the account interleaves
	// with, also from other nodes. fn may run more than once (a transaction run again) and
	// must compute from its argument only.
	UpdateLockout(ctx context.Context, account []byte, fn func(l *Lockout) bool) error
	// DeleteIdleLimits deletes what TakeRateToken and UpdateLockout keep that holds nothing a
	// new row would not at now: buckets full again, and lockouts neither locked nor checking
	// whose last failure is before forgetBefore. It returns how many rows went.
	DeleteIdleLimits(ctx context.Context, now, forgetBefore time.Time) (int64, error)
}
