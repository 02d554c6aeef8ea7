package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/latchkey/latchkey"
)

var _ latchkey.UserService = (*Users)(nil)

// Users is an admin's view of an app's users and their API keys.
type Users struct{ *core }

// maxUsersPage bounds one page of a user listing.
const maxUsersPage = 1000

// FindUsers lists an app's users, filtered and paged.
func (s *Users) FindUsers(ctx context.Context, appID string, filter latchkey.UserFilter) ([]*latchkey.User, error) {
	app, err := s.adminApp(ctx, appID)
	if err != nil {
		return nil, err
	}
	filter.AppID = app.ID
	if filter.Limit <= 0 {
		filter.Limit = 100
	}
	filter.Limit = min(filter.Limit, maxUsersPage)
	if filter.After != "" && !latchkey.IsID(filter.After) {
		return nil, latchkey.Errorf(latchkey.EBadRequest, "invalid paging cursor")
	}
	if filter.Email != nil {
		e := normalizeEmail(*filter.Email)
		filter.Email = &e
	}
	return s.store.FindUsers(ctx, filter)
}

// FindUser returns one of an app's users with counts of its keys and live sessions.
func (s *Users) FindUser(ctx context.Context, appID, userID string) (*latchkey.User, latchkey.UserStats, error) {
	_, u, err := s.adminUser(ctx, appID, userID)
	if err != nil {
		return nil, latchkey.UserStats{}, err
	}
	stats, err := s.store.FindUserStats(ctx, u.ID, s.now())
	return u, stats, err
}

func (s *core) adminUser(ctx context.Context, appID, userID string) (*latchkey.App, *latchkey.User, error) {
	app, err := s.adminApp(ctx, appID)
	if err != nil {
		return nil, nil, err
	}
	if !latchkey.IsID(userID) {
		return nil, nil, errUserNotFound()
	}
	u, err := s.store.FindUserByID(ctx, app.ID, userID)
	if latchkey.ErrorCode(err) == latchkey.ENotFound {
		return nil, nil, errUserNotFound()
	}
	return app, u, err
}

// adminUserKey is adminUser for a call about one of the user's keys: an id that cannot name a
// key is not found.
func (s *core) adminUserKey(ctx context.Context, appID, userID, keyID string) (*latchkey.App, *latchkey.User, error) {
	app, u, err := s.adminUser(ctx, appID, userID)
	if err == nil && !latchkey.IsID(keyID) {
		err = errKeyNotFound()
	}
	return app, u, err
}

func errUserNotFound() error { return latchkey.Errorf(latchkey.EUserNotFound, "user not found") }

// SetUserDisabled disables a user (ending its sessions at once) or enables it again.
func (s *Users) SetUserDisabled(ctx context.Context, appID, userID string, disabled bool) error {
	app, u, err := s.adminUser(ctx, appID, userID)
	if err != nil {
		return err
	}
	err = s.store.SetUserDisabled(ctx, app.ID, u.ID, disabled)
	s.audit(ctx, app, pick(disabled, latchkey.EventUserDisabled, latchkey.EventUserEnabled), err, "user", u.ID, nil)
	return err
}

// DeleteUser deletes a user with its identities, keys and sessions.
func (s *Users) DeleteUser(ctx context.Context, appID, userID string) error {
	app, u, err := s.adminUser(ctx, appID, userID)
	if err != nil {
		return err
	}
	err = s.store.DeleteUser(ctx, app.ID, u.ID)
	s.audit(ctx, app, latchkey.EventUserDeleted, err, "user", u.ID, nil)
	return err
}

// RevokeUserSessions ends every session of a user; the user may log in again.
func (s *Users) RevokeUserSessions(ctx context.Context, appID, userID string) error {
	app, u, err := s.adminUser(ctx, appID, userID)
	if err != nil {
		return err
	}
	_, err = s.store.DeleteUserSessions(ctx, u.ID)
	s.audit(ctx, app, latchkey.EventSessionsRevoked, err, "user", u.ID, nil)
	return err
}

// FindUserAPIKeys lists a user's keys (metadata only: values are never stored).
func (s *Users) FindUserAPIKeys(ctx context.Context, appID, userID string) ([]*latchkey.APIKey, error) {
	_, u, err := s.adminUser(ctx, appID, userID)
	if err != nil {
		return nil, err
	}
	return s.store.FindAPIKeys(ctx, u.ID)
}

// FindUserAPIKey returns one of a user's keys (metadata only).
func (s *Users) FindUserAPIKey(ctx context.Context, appID, userID, keyID string) (*latchkey.APIKey, error) {
	_, u, err := s.adminUserKey(ctx, appID, userID, keyID)
	if err != nil {
		return nil, err
	}
	k, err := s.store.FindAPIKey(ctx, u.ID, keyID)
	return k, keyNotFound(err)
}

// SetUserAPIKeyDisabled disables (ending its sessions) or enables any user's key.
func (s *Users) SetUserAPIKeyDisabled(ctx context.Context, appID, userID, keyID string, disabled bool) error {
	app, u, err := s.adminUserKey(ctx, appID, userID, keyID)
	if err != nil {
		return err
	}
	err = keyNotFound(s.store.SetAPIKeyDisabled(ctx, u.ID, keyID, disabled))
	s.audit(ctx, app, pick(disabled, latchkey.EventAPIKeyDisabled, latchkey.EventAPIKeyEnabled), err, "api_key", keyID, map[string]string{"user_id": u.ID})
	return err
}

// DeleteUserAPIKey deletes any user's key and the sessions opened with it.
func (s *Users) DeleteUserAPIKey(ctx context.Context, appID, userID, keyID string) error {
	app, u, err := s.adminUserKey(ctx, appID, userID, keyID)
	if err != nil {
		return err
	}
	err = keyNotFound(s.store.DeleteAPIKey(ctx, u.ID, keyID))
	s.audit(ctx, app, latchkey.EventAPIKeyDeleted, err, "api_key", keyID, map[string]string{"user_id": u.ID})
	return err
}

// VerifyToken checks an app user's access token, as App Services' users/verify_token did,
// and returns its claims.
func (s *Users) VerifyToken(ctx context.Context, appID, token string) (map[string]any, error) {
	app, err := s.adminApp(ctx, appID)
	if err != nil {
		return nil, err
	}
	auth, err := s.authenticate(ctx, token, latchkey.AccessToken)
	if err != nil {
		return nil, err
	}
	if auth.App.ID != app.ID {
		return nil, latchkey.Errorf(latchkey.EUnauthenticated, "invalid session")
	}
	c, err := s.tokens.Verify(ctx, token, latchkey.AccessToken)
	if err != nil {
		return nil, err
	}
	ud := c.UserData
	if len(ud) == 0 {
		ud = emptyUserData
	}
	return map[string]any{
		"sub": c.Subject, "aud": c.Audience, "iss": c.Issuer, "iat": c.IssuedAt, "exp": c.ExpiresAt,
		"baas_device_id": c.DeviceID, "domain_id": app.ID, "user_data": ud,
	}, nil
}

// FindUserCustomData returns a user's custom data, {} when it has none, as compact JSON
// whatever the store's spelling.
func (s *Users) FindUserCustomData(ctx context.Context, appID, userID string) (json.RawMessage, error) {
	_, u, err := s.adminUser(ctx, appID, userID)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := json.Compact(&b, userData(u)); err != nil {
		return nil, fmt.Errorf("find user custom data: %w", err)
	}
	return b.Bytes(), nil
}

// SetUserCustomData replaces a user's custom data; an empty object clears it.
func (s *Users) SetUserCustomData(ctx context.Context, appID, userID string, data json.RawMessage) error {
	app, u, err := s.adminUser(ctx, appID, userID)
	if err != nil {
		return err
	}
	norm, err := jsonObject(data, "custom data", latchkey.MaxCustomDataBytes)
	if err != nil {
		return err
	}
	if string(norm) == "{}" {
		norm = nil // no custom data
	}
	err = userNotFound(s.store.SetUserCustomData(ctx, app.ID, u.ID, norm))
	s.audit(ctx, app, latchkey.EventUserCustomDataSet, err, "user", u.ID,
		map[string]string{"bytes": strconv.Itoa(len(norm))})
	return err
}

// userNotFound turns the store's not found (the user deleted meanwhile) into EUserNotFound.
func userNotFound(err error) error {
	if latchkey.ErrorCode(err) == latchkey.ENotFound {
		return errUserNotFound()
	}
	return err
}
