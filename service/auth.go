package service

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

var _ latchkey.AuthService = (*Auth)(nil)

// Auth logs app users in and verifies their tokens.
type Auth struct{ *core }

// lastUseGranularity coalesces last-use writes: a key's last_used_at is written at most once
// per this interval, so key logins under load do not each add a write.
const lastUseGranularity = time.Minute

// LogIn checks the credentials and opens a session.
func (s *Auth) LogIn(ctx context.Context, app *latchkey.App, creds latchkey.Credentials) (*latchkey.Login, error) {
	var (
		user     *latchkey.User
		key      *latchkey.APIKey
		provider *latchkey.AuthProvider
		err      error
	)
	if latchkey.ExternalProvider(creds.Provider) {
		if provider, err = s.enabledProvider(ctx, app, creds.Provider); err != nil {
			return nil, err
		}
	} else if !app.ProviderEnabled(creds.Provider) {
		return nil, latchkey.Errorf(latchkey.EProviderDisabled, "authentication via '%s' is unsupported", creds.Provider)
	}
	done, err := s.limitLogIn(ctx, app, creds)
	if err != nil {
		return nil, err
	}
	switch {
	case provider != nil:
		var id *externalIdentity
		if id, err = s.checkExternal(ctx, provider, creds); err == nil {
			user, err = s.externalUser(ctx, app, id)
		}
	case creds.Provider == latchkey.ProviderAnonymous:
		user, err = s.createAnonymousUser(ctx, app)
	case creds.Provider == latchkey.ProviderUserpass:
		user, err = s.checkPassword(ctx, app, creds.Username, creds.Password)
	case creds.Provider == latchkey.ProviderAPIKey:
		user, key, err = s.checkAPIKey(ctx, app, creds.Key)
	}
	var login *latchkey.Login
	if err == nil {
		login, err = s.openSession(ctx, app, user, key, creds)
	}
	s.auditLogin(ctx, app, creds, user, key, err)
	done(err)
	return login, err
}

// auditLogin records a login attempt: the provider, the key used, and for failures the
// email tried. Never a password or key value.
func (s *core) auditLogin(ctx context.Context, app *latchkey.App, creds latchkey.Credentials, u *latchkey.User, k *latchkey.APIKey, err error) {
	details := map[string]string{"provider": creds.Provider}
	subject := ""
	if u != nil {
		subject = u.ID
		if err == nil {
			ctx = latchkey.NewContextWithAuth(ctx, &latchkey.Auth{App: app, User: u})
		}
	}
	if k != nil {
		details["api_key_id"] = k.ID
	}
	if err != nil && creds.Provider == latchkey.ProviderUserpass {
		details["email"] = normalizeEmail(creds.Username)
	}
	s.audit(ctx, app, latchkey.EventLogin, err, "user", subject, details)
}

func (s *core) createAnonymousUser(ctx context.Context, app *latchkey.App) (*latchkey.User, error) {
	now := s.now()
	u := &latchkey.User{ID: latchkey.NewID(now), AppID: app.ID, Type: latchkey.UserTypeNormal, Confirmed: true, CreatedAt: now}
	u.Identities = []*latchkey.Identity{s.newIdentity(app, u.ID, latchkey.ProviderAnonymous, now)}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

func (s *core) checkPassword(ctx context.Context, app *latchkey.App, email, password string) (*latchkey.User, error) {
	u, err := s.store.FindUserByEmail(ctx, app.ID, normalizeEmail(email))
	if err != nil && latchkey.ErrorCode(err) != latchkey.ENotFound {
		return nil, err
	}
	hash := ""
	if u != nil {
		hash = u.PasswordHash
	}
	// Verify even when there is no user, so the time taken does not tell whether the email
	// exists.
	ok, err := s.hasher.Verify(ctx, password, hash)
	if err != nil {
		return nil, err
	}
	if u == nil || !ok {
		return nil, latchkey.Errorf(latchkey.EInvalidPassword, "unauthorized")
	}
	if u.Disabled {
		return nil, latchkey.Errorf(latchkey.EUserDisabled, "user disabled")
	}
	if !u.Confirmed {
		return nil, latchkey.Errorf(latchkey.EUnauthorized, "unauthorized")
	}
	return u, nil
}

func (s *core) checkAPIKey(ctx context.Context, app *latchkey.App, value string) (*latchkey.User, *latchkey.APIKey, error) {
	unauthorized := latchkey.Errorf(latchkey.EUnauthorized, "unauthorized")
	// The format and checksum turn away made-up values before the database is asked.
	if !latchkey.CheckKeyValue(value) {
		return nil, nil, unauthorized
	}
	hash := hashKey(value)
	// The key comes with its user in one read: on PostgreSQL each read is a round trip. The
	// user is looked at only once the key has passed its checks.
	k, u, err := s.store.FindAPIKeyAndUser(ctx, app.ID, hash)
	if k == nil {
		if err != nil && latchkey.ErrorCode(err) != latchkey.ENotFound {
			return nil, nil, err
		}
		return nil, nil, unauthorized
	}
	// The lookup is by hash; compare again in constant time so that nothing downstream
	// depends on how the index compared. A previous value works until its grace period ends,
	// and so do the sessions it opens.
	now := s.now()
	current := subtle.ConstantTimeCompare(k.Hash, hash) == 1
	previous := len(k.PreviousHash) > 0 && subtle.ConstantTimeCompare(k.PreviousHash, hash) == 1 &&
		k.PreviousExpiresAt != nil && now.Before(*k.PreviousExpiresAt)
	if !current && !previous {
		return nil, nil, unauthorized
	}
	// From here the caller presented a real key: it is returned with any refusal, so that
	// the audit log can name it.
	if k.Disabled || k.Expired(now) {
		return nil, k, unauthorized
	}
	if !current {
		k.ExpiresAt = earliest(k.ExpiresAt, k.PreviousExpiresAt)
	}
	if u == nil {
		// The key's user is not a user of the app.
		if err != nil && latchkey.ErrorCode(err) != latchkey.ENotFound {
			return nil, k, err
		}
		return nil, k, unauthorized
	}
	if u.Disabled {
		return nil, k, latchkey.Errorf(latchkey.EUserDisabled, "user disabled")
	}
	return u, k, nil
}

func (s *core) openSession(ctx context.Context, app *latchkey.App, u *latchkey.User, key *latchkey.APIKey, creds latchkey.Credentials) (*latchkey.Login, error) {
	now := s.now()
	deviceID := creds.DeviceID
	if !latchkey.IsID(deviceID) || deviceID == latchkey.ZeroID {
		deviceID = latchkey.NewID(now)
	}
	sess := &latchkey.Session{
		ID:        latchkey.NewID(now),
		AppID:     app.ID,
		UserID:    u.ID,
		DeviceID:  deviceID,
		Provider:  creds.Provider,
		CreatedAt: now,
		ExpiresAt: now.Add(app.RefreshTokenLifetime),
	}
	if key != nil {
		// A session ends no later than the key that opened it. The store inserts it only while
		// the value the login presented still works: a rotation or disable committed since
		// the key was read refuses it.
		sess.APIKeyID, sess.Scopes, sess.KeyHash = key.ID, key.Scopes, hashKey(creds.Key)
		if key.ExpiresAt != nil && key.ExpiresAt.Before(sess.ExpiresAt) {
			sess.ExpiresAt = *key.ExpiresAt
		}
	}
	if key != nil && !hasIdentity(u, latchkey.ProviderAPIKey) {
		// The identity before the session: a crash between the two writes then leaves a user
		// with its api-key identity and no new session, as after a logout, never a session
		// whose user lacks the identity. Only the first key login of a user writes it: the
		// store would ignore a second one, but only after taking the write lock.
		if err := s.store.AddIdentity(ctx, s.newIdentity(app, u.ID, latchkey.ProviderAPIKey, now)); err != nil {
			return nil, err
		}
	}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		if latchkey.ErrorCode(err) == latchkey.ENotFound {
			// While this login ran, the key was disabled, deleted or rotated away from the
			// value presented, or the user was disabled or deleted.
			if key != nil {
				return nil, latchkey.Errorf(latchkey.EUnauthorized, "unauthorized")
			}
			return nil, latchkey.Errorf(latchkey.EUserDisabled, "user disabled")
		}
		return nil, err
	}
	if key != nil {
		s.touchKey(ctx, key, now)
	}
	access, err := s.accessToken(app, u, sess, now)
	if err != nil {
		return nil, err
	}
	refresh, err := s.tokens.Sign(&claims{
		Subject: u.ID, Audience: app.ClientAppID, Issuer: s.issuer, IssuedAt: now.Unix(),
		ExpiresAt: sess.ExpiresAt.Unix(), Type: string(latchkey.RefreshToken), SessionID: sess.ID,
	})
	if err != nil {
		return nil, err
	}
	return &latchkey.Login{AccessToken: access, RefreshToken: refresh, UserID: u.ID, DeviceID: deviceID}, nil
}

// hasIdentity reports whether u, as loaded, has an identity of the provider.
func hasIdentity(u *latchkey.User, provider string) bool {
	for _, ident := range u.Identities {
		if ident.ProviderType == provider {
			return true
		}
	}
	return false
}

// touchKey records a key's use, at most once per lastUseGranularity per key: the store's
// last_used_at answers across nodes and restarts, and this node's memory answers between
// concurrent logins that read the same stale value.
func (s *core) touchKey(ctx context.Context, key *latchkey.APIKey, now time.Time) {
	if key.LastUsedAt != nil && now.Sub(*key.LastUsedAt) < lastUseGranularity {
		return
	}
	if prev, loaded := s.lastTouch.Swap(key.ID, now); loaded && now.Sub(prev.(time.Time)) < lastUseGranularity {
		s.lastTouch.Store(key.ID, prev)
		return
	}
	if err := s.store.TouchAPIKey(ctx, key.ID, now); err != nil {
		s.logger.WarnContext(ctx, "record API key use", "key_id", key.ID, "err", err)
	}
}

// accessToken signs an access token for the session of u. It expires with the session if that
// comes first (a key that expires sooner), and carries the session's scopes and the user's
// custom data, as loaded with the user: a refresh reads the session and its user in one
// statement, so the custom data costs no read of its own.
func (s *core) accessToken(app *latchkey.App, u *latchkey.User, sess *latchkey.Session, now time.Time) (string, error) {
	exp := now.Add(latchkey.AccessTokenLifetime)
	if !sess.ExpiresAt.IsZero() && sess.ExpiresAt.Before(exp) {
		exp = sess.ExpiresAt
	}
	return s.tokens.Sign(&claims{
		Subject: u.ID, Audience: app.ClientAppID, Issuer: s.issuer, IssuedAt: now.Unix(),
		ExpiresAt: exp.Unix(), Type: string(latchkey.AccessToken), SessionID: sess.ID, DeviceID: sess.DeviceID,
		UserData: userData(u), Scope: strings.Join(sess.Scopes, " "),
	})
}

// emptyUserData is the user_data claim of a user without custom data: realm-web reads it as
// customData, and App Services sent {} then.
var emptyUserData = json.RawMessage("{}")

// userData is the user_data claim of u.
func userData(u *latchkey.User) json.RawMessage {
	if len(u.CustomData) == 0 {
		return emptyUserData
	}
	return u.CustomData
}

// earliest returns the earlier of two optional times.
func earliest(a, b *time.Time) *time.Time {
	if a == nil || (b != nil && b.Before(*a)) {
		return b
	}
	return a
}

// Authenticate verifies a token and loads its caller. Both kinds of token are valid only
// while their session lives and its user is enabled: ending a session (a logout, a disabled
// or deleted key, a disabled user) refuses its access tokens at once too, on every node.
// The session and the user are one store read.
func (s *Auth) Authenticate(ctx context.Context, token string, typ latchkey.TokenType) (*latchkey.Auth, error) {
	return s.authenticate(ctx, token, typ)
}

// authenticate is Authenticate, shared with Users.VerifyToken.
func (s *core) authenticate(ctx context.Context, token string, typ latchkey.TokenType) (*latchkey.Auth, error) {
	c, err := s.tokens.Verify(ctx, token, typ)
	if err != nil {
		return nil, err
	}
	app, err := s.appByClientID(ctx, c.Audience)
	if latchkey.ErrorCode(err) == latchkey.ENotFound {
		return nil, latchkey.Errorf(latchkey.EUnauthenticated, "invalid session")
	} else if err != nil {
		return nil, err
	}
	auth := &latchkey.Auth{App: app, SessionID: c.SessionID, TokenType: typ, DeviceID: c.DeviceID}
	return s.authenticateSession(ctx, auth, c)
}

// authenticateSession completes auth for verified claims c: the session must be live and
// belong to the token's app and subject, and its user enabled. A refresh token's refusal
// says "failed to find refresh token", which realm-web's deleteUser relies on.
func (s *core) authenticateSession(ctx context.Context, auth *latchkey.Auth, c *claims) (*latchkey.Auth, error) {
	app := auth.App
	ended := latchkey.Errorf(latchkey.EUnauthenticated, "invalid session")
	if auth.TokenType == latchkey.RefreshToken {
		ended = latchkey.Errorf(latchkey.EUnauthenticated, "invalid session: failed to find refresh token")
	}
	sess, u, err := s.store.FindSessionAndUser(ctx, c.SessionID)
	if latchkey.ErrorCode(err) == latchkey.ENotFound {
		return nil, ended
	} else if err != nil {
		return nil, err
	}
	if sess.AppID != app.ID || sess.UserID != c.Subject || !s.now().Before(sess.ExpiresAt) {
		return nil, ended
	}
	// The user is the session's, not looked up by app and subject as FindUserByID would: check
	// both here.
	if u.AppID != app.ID || u.ID != c.Subject || u.Disabled {
		return nil, latchkey.Errorf(latchkey.EUnauthenticated, "invalid session")
	}
	auth.Session, auth.DeviceID, auth.User = sess, sess.DeviceID, u
	return auth, nil
}

// Refresh issues a new access token for the caller's refresh session.
func (s *Auth) Refresh(ctx context.Context) (string, error) {
	auth, err := requireAuth(ctx, latchkey.RefreshToken)
	if err != nil {
		return "", err
	}
	return s.accessToken(auth.App, auth.User, auth.Session, s.now())
}

// LogOut ends the caller's refresh session.
func (s *Auth) LogOut(ctx context.Context) error {
	auth, err := requireAuth(ctx, latchkey.RefreshToken)
	if err != nil {
		return err
	}
	err = s.store.DeleteSession(ctx, auth.Session.ID)
	if latchkey.ErrorCode(err) == latchkey.ENotFound {
		err = latchkey.Errorf(latchkey.EUnauthenticated, "invalid session: failed to find refresh token")
	}
	s.audit(ctx, auth.App, latchkey.EventLogout, err, "user", auth.User.ID, nil)
	return err
}

// Profile returns the caller with its identities.
func (s *Auth) Profile(ctx context.Context) (*latchkey.User, error) {
	auth, err := requireAuth(ctx, latchkey.AccessToken)
	if err != nil {
		return nil, err
	}
	return auth.User, nil
}

// DeleteUser deletes the caller with its identities, keys and sessions. Only a session of
// one of the user's own interactive identities may: a key, even a scoped one, acts for its
// owner but must not end the owner's account, and a server user belongs to the admin's key.
func (s *Auth) DeleteUser(ctx context.Context) error {
	auth, err := requireAuth(ctx, latchkey.AccessToken)
	if err != nil {
		return err
	}
	switch {
	case auth.User.Type == latchkey.UserTypeServer:
		return latchkey.Errorf(latchkey.EForbidden, "server API key users cannot delete their user")
	case auth.Session.APIKeyID != "" || auth.Session.Provider == latchkey.ProviderAPIKey:
		return latchkey.Errorf(latchkey.EForbidden, "API key sessions cannot delete their user")
	}
	err = s.store.DeleteUser(ctx, auth.App.ID, auth.User.ID)
	if latchkey.ErrorCode(err) == latchkey.ENotFound {
		err = latchkey.Errorf(latchkey.EUnauthenticated, "invalid session")
	}
	s.audit(ctx, auth.App, latchkey.EventUserDeleted, err, "user", auth.User.ID, nil)
	return err
}

// JWKS returns the public keys that verify access tokens.
func (s *Auth) JWKS(ctx context.Context) ([]byte, error) {
	return s.tokens.JWKS()
}

func requireAuth(ctx context.Context, typ latchkey.TokenType) (*latchkey.Auth, error) {
	auth := latchkey.AuthFromContext(ctx)
	if auth == nil || auth.User == nil || auth.Session == nil || auth.TokenType != typ {
		return nil, latchkey.Errorf(latchkey.EUnauthenticated, "must authenticate first")
	}
	return auth, nil
}

func (s *core) newIdentity(app *latchkey.App, userID, provider string, now time.Time) *latchkey.Identity {
	return &latchkey.Identity{
		ID:           latchkey.NewID(now),
		UserID:       userID,
		ProviderType: provider,
		ProviderID:   latchkey.ProviderID(app.ID, provider),
		CreatedAt:    now,
	}
}
