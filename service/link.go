package service

import (
	"context"

	"github.com/latchkey/latchkey"
)

// Link links the credentials' identity to the caller of an access token (realm-web's
// user.linkCredentials, realm-core's link_user). Only email/password credentials link: in
// Latchkey registering creates a user with the email, so linking checks the password as a
// login would, under the same limits, then moves that registered user's email, password and
// identity onto the caller and deletes it, in one store step, as long as it was never used.
// The caller keeps its id, its sessions and its keys; an anonymous caller stops being
// anonymous. The answer is a new access token of the caller's own session: realm-core keeps
// its refresh token, so no new session is opened.
func (s *Auth) Link(ctx context.Context, creds latchkey.Credentials) (*latchkey.Login, error) {
	auth, err := requireAuth(ctx, latchkey.AccessToken)
	if err != nil {
		return nil, err
	}
	app, caller := auth.App, auth.User
	if err := s.canLink(auth, creds); err != nil {
		s.auditLink(ctx, app, caller, creds, nil, err)
		return nil, err
	}
	done, err := s.limitLogIn(ctx, app, creds)
	if err != nil {
		s.auditLink(ctx, app, caller, creds, nil, err)
		return nil, err
	}
	var from *latchkey.User
	if latchkey.ExternalProvider(creds.Provider) {
		err = s.linkExternalCredentials(ctx, app, caller, creds)
	} else if from, err = s.checkPassword(ctx, app, creds.Username, creds.Password); err == nil {
		err = s.moveUserpassIdentity(ctx, app, from, caller)
	} else {
		err = linkCredentialsError(err)
	}
	s.auditLink(ctx, app, caller, creds, from, err)
	done(err)
	if err != nil {
		return nil, err
	}
	access, err := s.accessToken(app, caller, auth.Session, s.now())
	if err != nil {
		return nil, err
	}
	return &latchkey.Login{AccessToken: access, UserID: caller.ID, DeviceID: auth.Session.DeviceID}, nil
}

// canLink refuses, before any password is checked, what can never link: the refusals a
// realm SDK expects (App Services' texts for anonymous and second email/password identities,
// which Kotlin maps to CredentialsCannotBeLinkedException), credentials no identity comes
// from, and callers that act for someone else's account.
func (s *core) canLink(auth *latchkey.Auth, creds latchkey.Credentials) error {
	switch {
	case auth.User.Type == latchkey.UserTypeServer:
		return latchkey.Errorf(latchkey.EForbidden, "server API key users cannot link identities")
	case auth.Session.APIKeyID != "" || auth.Session.Provider == latchkey.ProviderAPIKey:
		return latchkey.Errorf(latchkey.EForbidden, "API key sessions cannot link identities")
	case latchkey.ExternalProvider(creds.Provider):
		// Whether the provider is enabled is asked with the credentials' check.
		return nil
	case !auth.App.ProviderEnabled(creds.Provider):
		return latchkey.Errorf(latchkey.EProviderDisabled, "authentication via '%s' is unsupported", creds.Provider)
	case creds.Provider == latchkey.ProviderAnonymous:
		return latchkey.Errorf(latchkey.EInternal, "linking an anonymous identity is not allowed")
	case creds.Provider == latchkey.ProviderAPIKey:
		return latchkey.Errorf(latchkey.EBadRequest, "API key credentials cannot be linked: a key logs in as its owner")
	case creds.Provider != latchkey.ProviderUserpass:
		return latchkey.Errorf(latchkey.EProviderDisabled, "authentication via '%s' is unsupported", creds.Provider)
	case auth.User.Email != "" || auth.User.HasIdentity(latchkey.ProviderUserpass):
		return latchkey.Errorf(latchkey.EInternal, "linking a local-userpass identity is not allowed")
	}
	return nil
}

// linkExternalCredentials checks external credentials as a login would, and links their
// identity to the caller.
func (s *core) linkExternalCredentials(ctx context.Context, app *latchkey.App, caller *latchkey.User, creds latchkey.Credentials) error {
	p, err := s.enabledProvider(ctx, app, creds.Provider)
	if err != nil {
		return err
	}
	id, err := s.checkExternal(ctx, p, creds)
	if err != nil {
		return err
	}
	return s.linkExternal(ctx, app, caller, id)
}

// moveUserpassIdentity moves the registered user from onto the caller and translates the
// store's refusals.
func (s *core) moveUserpassIdentity(ctx context.Context, app *latchkey.App, from, caller *latchkey.User) error {
	ident := s.newIdentity(app, caller.ID, latchkey.ProviderUserpass, s.now())
	err := s.store.LinkUserpassIdentity(ctx, from, caller.ID, ident)
	switch latchkey.ErrorCode(err) {
	case latchkey.ENotFound:
		// The caller was disabled or deleted while the link ran.
		return latchkey.Errorf(latchkey.EUnauthenticated, "invalid session")
	case latchkey.EConflict:
		// A concurrent link gave the caller an email/password identity first.
		return latchkey.Errorf(latchkey.EInternal, "linking a local-userpass identity is not allowed")
	case latchkey.EAccountNameInUse:
		return latchkey.Errorf(latchkey.EAccountNameInUse, "name already in use")
	}
	return err
}

// auditLink records a link attempt on the caller: the provider, the email tried and, when
// the password matched, the registered user it names. Never a password.
func (s *core) auditLink(ctx context.Context, app *latchkey.App, caller *latchkey.User, creds latchkey.Credentials, from *latchkey.User, err error) {
	details := map[string]string{"provider": creds.Provider}
	if creds.Provider == latchkey.ProviderUserpass {
		details["email"] = normalizeEmail(creds.Username)
	}
	if from != nil {
		details["linked_user_id"] = from.ID
	}
	s.audit(ctx, app, latchkey.EventIdentityLinked, err, "user", caller.ID, details)
}

// linkCredentialsError rewords a refused password check for a link. realm-web answers a 401
// whose error is exactly "unauthorized", on a request made with the access token, by
// refreshing the token and sending the request again, with no bound: a wrong password in a
// link, answered as a login answers it, would be sent again and again until the lockout
// stops it. The code, and so the status and the lockout's count, stay those of a login.
func linkCredentialsError(err error) error {
	switch latchkey.ErrorCode(err) {
	case latchkey.EInvalidPassword:
		return latchkey.Errorf(latchkey.EInvalidPassword, "invalid username/password")
	case latchkey.EUnauthorized:
		return latchkey.Errorf(latchkey.EUnauthorized, "user not confirmed")
	}
	return err
}
