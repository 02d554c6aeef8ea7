package service

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/latchkey/latchkey"
)

var _ latchkey.APIKeyService = (*APIKeys)(nil)

// APIKeys manages the authenticated user's own API keys.
type APIKeys struct{ *core }

// maxLeakReport bounds how many values one leak report may carry.
const maxLeakReport = 1000

// CreateAPIKey creates a key for the caller and returns it with its value.
func (s *APIKeys) CreateAPIKey(ctx context.Context, in latchkey.APIKeyInput) (*latchkey.APIKey, error) {
	auth, err := s.keyOwner(ctx, "anonymous users cannot create API keys")
	if err != nil {
		return nil, err
	}
	now := s.now()
	k := &latchkey.APIKey{
		ID:        latchkey.NewID(now),
		AppID:     auth.App.ID,
		UserID:    auth.User.ID,
		Name:      in.Name,
		CreatedAt: now,
	}
	if err := k.Validate(); err != nil {
		return nil, err
	}
	if k.ExpiresAt, err = keyExpiry(auth.App, in, now); err != nil {
		return nil, err
	}
	if k.Scopes, err = keyScopes(auth.App, in.Scopes); err != nil {
		return nil, err
	}
	if rl := auth.App.KeyRateLimit; rl != nil {
		limit := *rl
		k.RateLimit = &limit
	}
	setKeyValue(auth.App, k)
	err = s.store.CreateAPIKey(ctx, k, latchkey.MaxAPIKeysPerUser)
	s.audit(ctx, auth.App, latchkey.EventAPIKeyCreated, err, "api_key", k.ID, map[string]string{"name": k.Name})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// setKeyValue gives k a new value in the app's format, with its hash and start.
func setKeyValue(app *latchkey.App, k *latchkey.APIKey) {
	k.Value = latchkey.NewKeyValue(app.KeyPrefix)
	k.Hash = hashKey(k.Value)
	k.Start = latchkey.KeyStart(k.Value)
}

// keyExpiry works out when a new key expires: as asked, within the app's maximum lifetime,
// which is also the default when the app sets one.
func keyExpiry(app *latchkey.App, in latchkey.APIKeyInput, now time.Time) (*time.Time, error) {
	var at *time.Time
	switch {
	case in.ExpiresAt != nil && in.ExpiresIn != nil:
		return nil, latchkey.Errorf(latchkey.EInvalid, "give expires_at or expires_in, not both")
	case in.ExpiresAt != nil:
		t := in.ExpiresAt.UTC()
		at = &t
	case in.ExpiresIn != nil:
		t := now.Add(*in.ExpiresIn)
		at = &t
	}
	if at != nil && !at.After(now) {
		return nil, latchkey.Errorf(latchkey.EInvalid, "a key's expiry must be in the future")
	}
	if app.MaxKeyLifetime > 0 {
		limit := now.Add(app.MaxKeyLifetime)
		if at == nil {
			at = &limit
		} else if at.After(limit) {
			return nil, latchkey.Errorf(latchkey.EInvalid, "keys of this app must expire within %d seconds", int64(app.MaxKeyLifetime/time.Second))
		}
	}
	return at, nil
}

// keyScopes checks requested scopes against the app's vocabulary.
func keyScopes(app *latchkey.App, scopes []string) ([]string, error) {
	if len(scopes) == 0 {
		return nil, nil
	}
	seen := map[string]bool{}
	for _, sc := range scopes {
		if !app.HasScope(sc) {
			return nil, latchkey.Errorf(latchkey.EInvalid, "unknown scope %q", sc)
		}
		if seen[sc] {
			return nil, latchkey.Errorf(latchkey.EInvalid, "scope %q is listed twice", sc)
		}
		seen[sc] = true
	}
	return slices.Clone(scopes), nil
}

// RotateAPIKey gives one of the caller's keys a new value; the old one works for grace.
func (s *APIKeys) RotateAPIKey(ctx context.Context, id string, grace time.Duration) (*latchkey.APIKey, error) {
	auth, err := s.keyOwner(ctx, "anonymous users cannot have API keys")
	if err != nil {
		return nil, err
	}
	if grace < 0 || grace > latchkey.MaxRotationGracePeriod {
		return nil, latchkey.Errorf(latchkey.EInvalid, "grace_period must be between 0 and %d seconds", int64(latchkey.MaxRotationGracePeriod/time.Second))
	}
	if !latchkey.IsID(id) {
		return nil, errKeyNotFound()
	}
	k, err := s.store.FindAPIKey(ctx, auth.User.ID, id)
	if err != nil {
		return nil, keyNotFound(err)
	}
	now := s.now()
	graceEnd := now.Add(grace)
	// The previous value is the one the store holds when the rotation commits, not the one
	// read above: a concurrent rotation may have replaced it since.
	k.PreviousHash, k.PreviousExpiresAt = nil, nil
	if grace > 0 {
		k.PreviousExpiresAt = &graceEnd
	}
	setKeyValue(auth.App, k)
	err = keyNotFound(s.store.RotateAPIKey(ctx, k, graceEnd))
	s.audit(ctx, auth.App, latchkey.EventAPIKeyRotated, err, "api_key", k.ID, map[string]string{"grace_period_s": strconv.FormatInt(int64(grace/time.Second), 10)})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// FindAPIKeys returns the caller's keys in creation order.
func (s *APIKeys) FindAPIKeys(ctx context.Context) ([]*latchkey.APIKey, error) {
	auth, err := s.keyOwner(ctx, "anonymous users cannot have API keys")
	if err != nil {
		return nil, err
	}
	return s.store.FindAPIKeys(ctx, auth.User.ID)
}

// FindAPIKey returns one of the caller's keys.
func (s *APIKeys) FindAPIKey(ctx context.Context, id string) (*latchkey.APIKey, error) {
	auth, err := s.ownKey(ctx, id)
	if err != nil {
		return nil, err
	}
	k, err := s.store.FindAPIKey(ctx, auth.User.ID, id)
	return k, keyNotFound(err)
}

// EnableAPIKey enables one of the caller's keys.
func (s *APIKeys) EnableAPIKey(ctx context.Context, id string) error {
	return s.setDisabled(ctx, id, false)
}

// DisableAPIKey disables one of the caller's keys and ends the sessions opened with it.
func (s *APIKeys) DisableAPIKey(ctx context.Context, id string) error {
	return s.setDisabled(ctx, id, true)
}

func (s *core) setDisabled(ctx context.Context, id string, disabled bool) error {
	auth, err := s.ownKey(ctx, id)
	if err != nil {
		return err
	}
	err = keyNotFound(s.store.SetAPIKeyDisabled(ctx, auth.User.ID, id, disabled))
	s.audit(ctx, auth.App, pick(disabled, latchkey.EventAPIKeyDisabled, latchkey.EventAPIKeyEnabled), err, "api_key", id, nil)
	return err
}

// DeleteAPIKey deletes one of the caller's keys and ends the sessions opened with it.
func (s *APIKeys) DeleteAPIKey(ctx context.Context, id string) error {
	auth, err := s.ownKey(ctx, id)
	if err != nil {
		return err
	}
	err = keyNotFound(s.store.DeleteAPIKey(ctx, auth.User.ID, id))
	s.audit(ctx, auth.App, latchkey.EventAPIKeyDeleted, err, "api_key", id, nil)
	return err
}

// ownKey returns the caller if it may manage user API keys and id can name a key at all; a
// malformed id is answered like a missing key, without asking the store.
func (s *core) ownKey(ctx context.Context, id string) (*latchkey.Auth, error) {
	auth, err := s.keyOwner(ctx, "anonymous users cannot have API keys")
	if err != nil {
		return nil, err
	}
	if !latchkey.IsID(id) {
		return nil, errKeyNotFound()
	}
	return auth, nil
}

// pick returns a when cond holds, else b: the audit event of an enable/disable pair.
func pick(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}

// keyOwner returns the caller if it may manage user API keys: a refresh-token session that
// was not opened with an API key, of a normal, non-anonymous user.
func (s *core) keyOwner(ctx context.Context, anonymousMessage string) (*latchkey.Auth, error) {
	auth, err := requireAuth(ctx, latchkey.RefreshToken)
	if err != nil {
		return nil, err
	}
	switch {
	case auth.User.Type == latchkey.UserTypeServer:
		return nil, latchkey.Errorf(latchkey.EForbidden, "server API key users cannot manage user API keys")
	case auth.Session.APIKeyID != "":
		return nil, latchkey.Errorf(latchkey.EForbidden, "API key sessions cannot manage API keys")
	case auth.User.IsAnonymous():
		return nil, latchkey.Errorf(latchkey.EForbidden, "%s", anonymousMessage)
	}
	return auth, nil
}

func errKeyNotFound() error { return latchkey.Errorf(latchkey.EAPIKeyNotFound, "API key not found") }

func keyNotFound(err error) error {
	if latchkey.ErrorCode(err) == latchkey.ENotFound {
		return errKeyNotFound()
	}
	return err
}

// hashKey is how key values are stored and looked up: SHA-256 is right for a random secret
// of this size (no stretching is needed against guessing).
func hashKey(value string) []byte {
	return latchkey.HashKeyValue(value)
}
