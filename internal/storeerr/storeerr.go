// Package storeerr holds the errors that the sqlite and postgres stores both return, so
// that an error reads the same whatever the database behind it. Each is a function: an
// *latchkey.Error is a pointer, and a caller may wrap or compare what it gets.
package storeerr

import "github.com/latchkey/latchkey"

// APIKeyNameTaken is EAPIKeyExists: API key with name already exists.
func APIKeyNameTaken() error {
	return latchkey.Errorf(latchkey.EAPIKeyExists, "API key with name already exists")
}

// UserEmailTaken is EConflict: a user with that email already exists.
func UserEmailTaken() error {
	return latchkey.Errorf(latchkey.EConflict, "a user with that email already exists")
}

// AdminEmailTaken is EConflict: an admin with that email already exists.
func AdminEmailTaken() error {
	return latchkey.Errorf(latchkey.EConflict, "an admin with that email already exists")
}

// WebSessionTaken is EConflict: web session already exists.
func WebSessionTaken() error {
	return latchkey.Errorf(latchkey.EConflict, "web session already exists")
}

// APIKeyNotFound is ENotFound: API key not found.
func APIKeyNotFound() error { return latchkey.Errorf(latchkey.ENotFound, "API key not found") }

// AdminNotFound is ENotFound: admin not found.
func AdminNotFound() error { return latchkey.Errorf(latchkey.ENotFound, "admin not found") }

// AdminSessionNotFound is ENotFound: admin session not found.
func AdminSessionNotFound() error {
	return latchkey.Errorf(latchkey.ENotFound, "admin session not found")
}

// AppNotFound is ENotFound: app not found.
func AppNotFound() error { return latchkey.Errorf(latchkey.ENotFound, "app not found") }

// SessionNotFound is ENotFound: session not found.
func SessionNotFound() error { return latchkey.Errorf(latchkey.ENotFound, "session not found") }

// SigningKeyNotFound is ENotFound: signing key not found.
func SigningKeyNotFound() error { return latchkey.Errorf(latchkey.ENotFound, "signing key not found") }

// KeyNoLongerValid is ENotFound: user disabled or API key value no longer valid.
func KeyNoLongerValid() error {
	return latchkey.Errorf(latchkey.ENotFound, "user disabled or API key value no longer valid")
}

// UserNotFound is ENotFound: user not found.
func UserNotFound() error { return latchkey.Errorf(latchkey.ENotFound, "user not found") }

// UserOrAPIKeyNotFound is ENotFound: user or API key not found.
func UserOrAPIKeyNotFound() error {
	return latchkey.Errorf(latchkey.ENotFound, "user or API key not found")
}

// UserTokenNotFound is ENotFound: user token not found.
func UserTokenNotFound() error { return latchkey.Errorf(latchkey.ENotFound, "user token not found") }

// WebSessionNotFound is ENotFound: web session not found.
func WebSessionNotFound() error { return latchkey.Errorf(latchkey.ENotFound, "web session not found") }

// Taken is EConflict for a row whose id (or, for a web session, hash) another row holds:
// what names the kind of row ("app", "API key").
func Taken(what string) error {
	return latchkey.Errorf(latchkey.EConflict, "%s already exists", what)
}

// MailLimit is ELimitReached when a recipient with recent messages within limit.Cooldown
// and inWindow messages of the kind within limit.Window may get no other; else nil.
func MailLimit(limit latchkey.MailLimit, recent, inWindow int) error {
	if limit.Cooldown > 0 && recent > 0 {
		return latchkey.Errorf(latchkey.ELimitReached, "the recipient got a message less than %v ago", limit.Cooldown)
	}
	if limit.Max > 0 && inWindow >= limit.Max {
		return latchkey.Errorf(latchkey.ELimitReached, "the recipient got %d messages of the kind within %v", inWindow, limit.Window)
	}
	return nil
}

// LinkTargetTaken is EConflict: the linking user already has an email/password identity.
func LinkTargetTaken() error {
	return latchkey.Errorf(latchkey.EConflict, "user already has an email/password identity")
}

// LinkSourceUsed is EAccountNameInUse: the email's user is gone, changed or has been used.
func LinkSourceUsed() error {
	return latchkey.Errorf(latchkey.EAccountNameInUse, "name already in use")
}

// AuthProviderNotFound is ENotFound: auth provider not found.
func AuthProviderNotFound() error {
	return latchkey.Errorf(latchkey.ENotFound, "auth provider not found")
}

// IdentityNotFound is ENotFound: identity not found.
func IdentityNotFound() error { return latchkey.Errorf(latchkey.ENotFound, "identity not found") }

// ExternalIdentityTaken is EConflict: another user has the identity at that provider, for a
// new user.
func ExternalIdentityTaken() error {
	return latchkey.Errorf(latchkey.EConflict, "a user with that identity already exists")
}

// ExternalIdentityInUse is EAccountNameInUse: another user has the identity at that provider,
// for a link.
func ExternalIdentityInUse() error {
	return latchkey.Errorf(latchkey.EAccountNameInUse, "identity already linked to another user")
}

// IdentityTypeTaken is EConflict: the user already has an identity of the provider type.
func IdentityTypeTaken() error {
	return latchkey.Errorf(latchkey.EConflict, "user already has an identity of the provider")
}
