package service

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/latchkey/latchkey"
)

var _ latchkey.UserpassService = (*Userpass)(nil)

// Userpass is the email/password provider's registration and recovery.
type Userpass struct{ *core }

// Default lifetimes of the email/password provider's single-use tokens.
const (
	confirmTokenLifetime = 24 * time.Hour
	resetTokenLifetime   = 30 * time.Minute
)

// Register creates an email/password user.
func (s *Userpass) Register(ctx context.Context, app *latchkey.App, email, password string) error {
	if err := s.allow(ctx, emailAccount(app, email)); err != nil {
		return err
	}
	if !app.UserpassEnabled {
		return latchkey.Errorf(latchkey.EProviderDisabled, "authentication via '%s' is unsupported", latchkey.ProviderUserpass)
	}
	email = normalizeEmail(email)
	if err := validateEmail(email); err != nil {
		return err
	}
	if err := validatePassword(password, app.PasswordMinLength); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	now := s.now()
	u := &latchkey.User{
		ID: latchkey.NewID(now), AppID: app.ID, Type: latchkey.UserTypeNormal, Email: email,
		PasswordHash: hash, Confirmed: app.AutoConfirm, CreatedAt: now,
	}
	u.Identities = []*latchkey.Identity{s.newIdentity(app, u.ID, latchkey.ProviderUserpass, now)}
	err = s.store.CreateUser(ctx, u)
	if latchkey.ErrorCode(err) == latchkey.EConflict {
		err = latchkey.Errorf(latchkey.EAccountNameInUse, "name already in use")
	}
	s.audit(ctx, app, latchkey.EventRegister, err, "user", u.ID, map[string]string{"email": email})
	if err != nil {
		return err
	}
	if !u.Confirmed {
		return s.sendToken(ctx, app, u, latchkey.UserTokenConfirm)
	}
	return nil
}

// Confirm confirms a user with a token from a confirmation message.
func (s *Userpass) Confirm(ctx context.Context, app *latchkey.App, token, tokenID string) error {
	if err := s.allow(ctx, tokenAccount(tokenID)); err != nil {
		return err
	}
	t, err := s.checkToken(ctx, app, latchkey.UserTokenConfirm, token, tokenID)
	if err == nil {
		err = invalidToken(s.store.ConfirmUserWithToken(ctx, tokenID))
	}
	s.audit(ctx, app, latchkey.EventConfirm, err, "user", tokenUser(t), nil)
	return err
}

// ResendConfirmation sends a new confirmation message. An app that hides which emails have
// accounts answers an unknown email and a confirmed user as a message sent.
func (s *Userpass) ResendConfirmation(ctx context.Context, app *latchkey.App, email string) error {
	if err := s.allow(ctx, emailAccount(app, email)); err != nil {
		return err
	}
	u, err := s.userByEmail(ctx, app, email)
	if err != nil {
		return hideAccount(app, err)
	}
	if u.Confirmed {
		return hideAccount(app, latchkey.Errorf(latchkey.EAlreadyConfirmed, "already confirmed"))
	}
	return s.sendToken(ctx, app, u, latchkey.UserTokenConfirm)
}

// SendPasswordReset sends a password reset message. An app that hides which emails have
// accounts answers an unknown email as a message sent.
func (s *Userpass) SendPasswordReset(ctx context.Context, app *latchkey.App, email string) error {
	if err := s.allow(ctx, emailAccount(app, email)); err != nil {
		return err
	}
	u, err := s.userByEmail(ctx, app, email)
	if err != nil {
		return hideAccount(app, err)
	}
	return s.sendToken(ctx, app, u, latchkey.UserTokenReset)
}

// hideAccount turns the errors that tell whether an email has an account (or a confirmed
// one) into success, when the app hides that; other errors pass.
func hideAccount(app *latchkey.App, err error) error {
	switch latchkey.ErrorCode(err) {
	case latchkey.EUserNotFound, latchkey.EAlreadyConfirmed:
		if app.HideAccountExistence {
			return nil
		}
	}
	return err
}

// ResetPassword sets a new password with a token from a reset message and ends the user's
// sessions and the user's other reset links, so that an older message cannot set the
// password again.
func (s *Userpass) ResetPassword(ctx context.Context, app *latchkey.App, password, token, tokenID string) error {
	if err := s.allow(ctx, tokenAccount(tokenID)); err != nil {
		return err
	}
	if err := validatePassword(password, app.PasswordMinLength); err != nil {
		return err
	}
	t, err := s.checkToken(ctx, app, latchkey.UserTokenReset, token, tokenID)
	if err == nil {
		var hash string
		if hash, err = s.hasher.Hash(ctx, password); err == nil {
			err = invalidToken(s.store.ResetPasswordWithToken(ctx, tokenID, hash))
		}
	}
	s.audit(ctx, app, latchkey.EventPasswordReset, err, "user", tokenUser(t), nil)
	return err
}

func (s *core) userByEmail(ctx context.Context, app *latchkey.App, email string) (*latchkey.User, error) {
	if !app.UserpassEnabled {
		return nil, latchkey.Errorf(latchkey.EProviderDisabled, "authentication via '%s' is unsupported", latchkey.ProviderUserpass)
	}
	email = normalizeEmail(email)
	if err := validateEmail(email); err != nil {
		return nil, err
	}
	u, err := s.store.FindUserByEmail(ctx, app.ID, email)
	if latchkey.ErrorCode(err) == latchkey.ENotFound {
		return nil, latchkey.Errorf(latchkey.EUserNotFound, "user not found")
	}
	return u, err
}

// sendToken makes a token of the kind and mails it to the user, unless the mail limits hold
// the message back; either way the caller answers the same.
func (s *core) sendToken(ctx context.Context, app *latchkey.App, u *latchkey.User, kind string) error {
	now := s.now()
	if ok, err := s.allowMail(ctx, app, u, kind, now); !ok {
		return err
	}
	token := hex.EncodeToString(randomBytes(32))
	lifetime := s.tokenLifetimes[kind]
	t := &latchkey.UserToken{
		ID: latchkey.NewID(now), UserID: u.ID, Kind: kind, Hash: hashKey(token),
		ExpiresAt: now.Add(lifetime), CreatedAt: now,
	}
	if err := s.store.CreateUserToken(ctx, t); err != nil {
		return err
	}
	if kind == latchkey.UserTokenReset {
		return s.mailer.SendPasswordReset(ctx, app, u.Email, token, t.ID)
	}
	return s.mailer.SendConfirmation(ctx, app, u.Email, token, t.ID)
}

// checkToken verifies a token of the kind for a user of the app. Every failure reads the
// same, so a caller learns nothing about which part was wrong.
func (s *core) checkToken(ctx context.Context, app *latchkey.App, kind, token, tokenID string) (*latchkey.UserToken, error) {
	if token == "" || !latchkey.IsID(tokenID) {
		return nil, errInvalidToken()
	}
	t, err := s.store.FindUserToken(ctx, tokenID)
	if err != nil {
		return nil, invalidToken(err)
	}
	if subtle.ConstantTimeCompare(t.Hash, hashKey(token)) != 1 || t.Kind != kind || !s.now().Before(t.ExpiresAt) {
		return nil, errInvalidToken()
	}
	if _, err := s.store.FindUserByID(ctx, app.ID, t.UserID); err != nil {
		return nil, invalidToken(err)
	}
	return t, nil
}

func tokenUser(t *latchkey.UserToken) string {
	if t == nil {
		return ""
	}
	return t.UserID
}

func errInvalidToken() error { return latchkey.Errorf(latchkey.EBadRequest, "invalid token data") }

func invalidToken(err error) error {
	if latchkey.ErrorCode(err) == latchkey.ENotFound {
		return errInvalidToken()
	}
	return err
}

func normalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// validateEmail refuses what is not one plain address, and addresses holding a Hidden rune: a
// bidi control such as U+202E makes "ann\u202Emoc.elpmaxe@evil.example" show in a console
// or a log as another address.
func validateEmail(email string) error {
	if latchkey.HasHidden(email) {
		return latchkey.Errorf(latchkey.EBadRequest, "email invalid")
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" || len(email) > 254 {
		return latchkey.Errorf(latchkey.EBadRequest, "email invalid")
	}
	return nil
}

func validatePassword(password string, min int) error {
	if n := utf8.RuneCountInString(password); n < min || n > latchkey.MaxPasswordLength {
		return latchkey.Errorf(latchkey.EBadRequest, "password must be between %d and %d characters", min, latchkey.MaxPasswordLength)
	}
	return nil
}
