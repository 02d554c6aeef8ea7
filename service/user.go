package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

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
	norm, err := normalizeCustomData(data)
	if err != nil {
		return err
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

// normalizeCustomData checks that data is a JSON object that both stores can hold and returns
// it re-encoded, compact, or nil for an empty object (no custom data). Decoding and encoding
// again makes one form for both stores: invalid UTF-8 and lone surrogates become U+FFFD, a
// key given twice keeps its last value, as PostgreSQL's JSONB does, and a number with an
// exponent becomes its 64-bit float value (JSONB's numeric cannot hold 1e-20000; the Realm
// SDKs read numbers as doubles anyway), while other numbers keep their text. A NUL character
// is refused, since JSONB cannot hold one, and so is a number past a double's range.
func normalizeCustomData(data json.RawMessage) ([]byte, error) {
	notObject := latchkey.Errorf(latchkey.EInvalid, "custom data must be a JSON object")
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return nil, notObject
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, notObject
	}
	if _, err := dec.Token(); err == nil {
		return nil, notObject // something after the object
	}
	if len(obj) == 0 {
		return nil, nil
	}
	if err := normalizeJSONValue(obj); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(obj); err != nil {
		return nil, notObject
	}
	out := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	if len(out) > latchkey.MaxCustomDataBytes {
		return nil, latchkey.Errorf(latchkey.EInvalid, "custom data must be at most %d bytes as compact JSON", latchkey.MaxCustomDataBytes)
	}
	return out, nil
}

// normalizeJSONValue refuses NUL characters in the keys and strings of a decoded JSON
// container and rewrites its numbers with an exponent as normalizeCustomData says.
func normalizeJSONValue(v any) error {
	check := func(e any) (any, error) {
		switch e := e.(type) {
		case string:
			if strings.IndexByte(e, 0) >= 0 {
				return nil, latchkey.Errorf(latchkey.EInvalid, "custom data must not contain a NUL character")
			}
		case json.Number:
			if !strings.ContainsAny(string(e), "eE") {
				return e, nil
			}
			f, err := strconv.ParseFloat(string(e), 64)
			if err != nil {
				return nil, latchkey.Errorf(latchkey.EInvalid, "custom data numbers must fit a 64-bit float")
			}
			return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
		case map[string]any, []any:
			return e, normalizeJSONValue(e)
		}
		return e, nil
	}
	var err error
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if strings.IndexByte(k, 0) >= 0 {
				return latchkey.Errorf(latchkey.EInvalid, "custom data must not contain a NUL character")
			}
			if v[k], err = check(e); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range v {
			if v[i], err = check(e); err != nil {
				return err
			}
		}
	}
	return nil
}
