package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"

	"github.com/latchkey/latchkey"
)

const (
	// keyValueLen characters of base62 carry about 381 random bits, well over the 160 the
	// contract asks for, in the 64-character shape App Services keys had.
	keyValueLen = 64
	// maxKeyValueLen bounds what a login may present before it is hashed.
	maxKeyValueLen = 256
	base62         = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// CreateAPIKey creates a key for the caller and returns it with its value.
func (s *Service) CreateAPIKey(ctx context.Context, name string) (*latchkey.APIKey, error) {
	auth, err := s.keyOwner(ctx, "anonymous users cannot create API keys")
	if err != nil {
		return nil, err
	}
	now := s.now()
	k := &latchkey.APIKey{
		ID:        latchkey.NewID(now),
		AppID:     auth.App.ID,
		UserID:    auth.User.ID,
		Name:      name,
		CreatedAt: now,
	}
	if err := k.Validate(); err != nil {
		return nil, err
	}
	k.Value = newKeyValue()
	k.Hash = hashKey(k.Value)
	err = s.store.CreateAPIKey(ctx, k, latchkey.MaxAPIKeysPerUser)
	s.audit(ctx, auth.App, latchkey.EventAPIKeyCreated, err, "api_key", k.ID, map[string]string{"name": name})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// FindAPIKeys returns the caller's keys in creation order.
func (s *Service) FindAPIKeys(ctx context.Context) ([]*latchkey.APIKey, error) {
	auth, err := s.keyOwner(ctx, "anonymous users cannot have API keys")
	if err != nil {
		return nil, err
	}
	return s.store.FindAPIKeys(ctx, auth.User.ID)
}

// FindAPIKey returns one of the caller's keys.
func (s *Service) FindAPIKey(ctx context.Context, id string) (*latchkey.APIKey, error) {
	auth, err := s.keyOwner(ctx, "anonymous users cannot have API keys")
	if err != nil {
		return nil, err
	}
	if !latchkey.IsID(id) {
		return nil, errKeyNotFound()
	}
	k, err := s.store.FindAPIKey(ctx, auth.User.ID, id)
	return k, keyNotFound(err)
}

// EnableAPIKey enables one of the caller's keys.
func (s *Service) EnableAPIKey(ctx context.Context, id string) error {
	return s.setDisabled(ctx, id, false)
}

// DisableAPIKey disables one of the caller's keys and ends the sessions opened with it.
func (s *Service) DisableAPIKey(ctx context.Context, id string) error {
	return s.setDisabled(ctx, id, true)
}

func (s *Service) setDisabled(ctx context.Context, id string, disabled bool) error {
	auth, err := s.keyOwner(ctx, "anonymous users cannot have API keys")
	if err != nil {
		return err
	}
	if !latchkey.IsID(id) {
		return errKeyNotFound()
	}
	err = keyNotFound(s.store.SetAPIKeyDisabled(ctx, auth.User.ID, id, disabled))
	event := latchkey.EventAPIKeyEnabled
	if disabled {
		event = latchkey.EventAPIKeyDisabled
	}
	s.audit(ctx, auth.App, event, err, "api_key", id, nil)
	return err
}

// DeleteAPIKey deletes one of the caller's keys and ends the sessions opened with it.
func (s *Service) DeleteAPIKey(ctx context.Context, id string) error {
	auth, err := s.keyOwner(ctx, "anonymous users cannot have API keys")
	if err != nil {
		return err
	}
	if !latchkey.IsID(id) {
		return errKeyNotFound()
	}
	err = keyNotFound(s.store.DeleteAPIKey(ctx, auth.User.ID, id))
	s.audit(ctx, auth.App, latchkey.EventAPIKeyDeleted, err, "api_key", id, nil)
	return err
}

// keyOwner returns the caller if it may manage user API keys: a refresh-token session that
// was not opened with an API key, of a normal, non-anonymous user.
func (s *Service) keyOwner(ctx context.Context, anonymousMessage string) (*latchkey.Auth, error) {
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

// newKeyValue returns a random base62 key value, drawn without modulo bias.
func newKeyValue() string {
	out := make([]byte, 0, keyValueLen)
	buf := make([]byte, keyValueLen*2)
	for len(out) < keyValueLen {
		if _, err := rand.Read(buf); err != nil {
			panic("service: crypto/rand failed: " + err.Error())
		}
		for _, b := range buf {
			// 248 = 4*62: values at or above it would favour the first characters.
			if b < 248 && len(out) < keyValueLen {
				out = append(out, base62[b%62])
			}
		}
	}
	return string(out)
}

// hashKey is how key values are stored and looked up: SHA-256 is right for a random secret
// of this size (no stretching is needed against guessing).
func hashKey(value string) []byte {
	sum := sha256.Sum256([]byte(value))
	return sum[:]
}
