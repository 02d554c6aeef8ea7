package service

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"

	"github.com/latchkey/latchkey"
)

// maxIdentityDataBytes bounds what an external provider may put in a profile's data.
const maxIdentityDataBytes = 4 << 10

// externalIdentity is who an external provider says the caller is.
type externalIdentity struct {
	provider   string
	externalID string
	data       map[string]any
	// customData is what a custom function set as the user's custom data: nil leaves it.
	customData []byte
}

// enabledProvider returns the app's external provider of the type with its secrets opened,
// or EProviderDisabled when it is not configured, disabled, or this server cannot serve it.
func (s *core) enabledProvider(ctx context.Context, app *latchkey.App, typ string) (*latchkey.AuthProvider, error) {
	unsupported := latchkey.Errorf(latchkey.EProviderDisabled, "authentication via '%s' is unsupported", typ)
	if (typ == latchkey.ProviderCustomFunction && s.functions == nil) || (typ != latchkey.ProviderCustomFunction && s.externalTokens == nil) {
		return nil, unsupported
	}
	p, err := s.store.FindAuthProvider(ctx, app.ID, typ)
	if latchkey.ErrorCode(err) == latchkey.ENotFound || err == nil && p.Disabled {
		return nil, unsupported
	}
	if err != nil {
		return nil, err
	}
	if p.Secrets, err = s.openProviderSecrets(p); err != nil {
		return nil, err
	}
	return p, nil
}

// checkExternal asks the provider who the credentials are: it checks a custom token or an
// ID token, or calls the custom function; the answer comes back normalized.
func (s *core) checkExternal(ctx context.Context, p *latchkey.AuthProvider, creds latchkey.Credentials) (*externalIdentity, error) {
	var (
		id  *externalIdentity
		err error
	)
	switch p.Type {
	case latchkey.ProviderCustomToken:
		id, err = s.checkCustomToken(ctx, p, creds)
	case latchkey.ProviderCustomFunction:
		id, err = s.callFunction(ctx, p, creds)
	default:
		id, err = s.checkIDToken(ctx, p, creds)
	}
	if err != nil {
		return nil, err
	}
	return id, normalizeIdentity(id)
}

func (s *core) checkCustomToken(ctx context.Context, p *latchkey.AuthProvider, creds latchkey.Credentials) (*externalIdentity, error) {
	if creds.Token == "" {
		return nil, latchkey.Errorf(latchkey.EBadRequest, "expected a custom auth token in the request's 'token' field")
	}
	check := latchkey.TokenCheck{Algorithm: p.Config.SigningAlgorithm, Audiences: p.Config.Audience}
	if p.Config.UseJWKURI {
		check.JWKURI = p.Config.JWKURI
	} else {
		check.Keys = p.Secrets.SigningKeys
	}
	claims, err := s.externalTokens.VerifyToken(ctx, creds.Token, check)
	if err != nil {
		return nil, err
	}
	sub, _ := claims["sub"].(string)
	id := &externalIdentity{provider: p.Type, externalID: sub, data: map[string]any{}}
	for _, f := range p.MetadataFields {
		v, ok := claimAt(claims, f.Name)
		if !ok {
			if f.Required {
				return nil, latchkey.Errorf(latchkey.EUnauthorized, "invalid custom auth token: required metadata field '%s' is missing", f.Name)
			}
			continue
		}
		id.data[f.FieldName] = v
	}
	return id, nil
}

// claimAt reads a claim by a dotted path, such as "user.email".
func claimAt(claims map[string]any, path string) (any, bool) {
	var v any = claims
	for _, part := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[part]; !ok || v == nil {
			return nil, false
		}
	}
	return v, true
}

func (s *core) checkIDToken(ctx context.Context, p *latchkey.AuthProvider, creds latchkey.Credentials) (*externalIdentity, error) {
	name := "Google"
	if p.Type == latchkey.ProviderApple {
		name = "Apple"
	}
	if creds.IDToken == "" {
		if creds.AuthCode != "" {
			return nil, latchkey.Errorf(latchkey.EBadRequest, "%s sign-in with an auth code is not supported: send the ID token ('id_token') that the %s SDK gives", name, name)
		}
		return nil, latchkey.Errorf(latchkey.EBadRequest, "expected an ID token in the request's 'id_token' field")
	}
	claims, err := s.externalTokens.VerifyToken(ctx, creds.IDToken, latchkey.TokenCheck{
		Algorithm: latchkey.AlgRS256, JWKURI: p.Config.JWKURI, Issuer: p.Config.Issuer,
		Audiences: p.Config.AllClientIDs(), Nonce: creds.Nonce,
	})
	if err != nil {
		if e, ok := err.(*latchkey.Error); ok {
			return nil, latchkey.Errorf(e.Code, "invalid %s ID token: %s", name, strings.TrimPrefix(e.Message, "invalid custom auth token: "))
		}
		return nil, err
	}
	sub, _ := claims["sub"].(string)
	id := &externalIdentity{provider: p.Type, externalID: sub, data: map[string]any{}}
	// The ID token's claims under the profile's names, as the Realm SDKs read them.
	for claim, field := range map[string]string{"email": "email", "name": "name", "picture": "picture", "given_name": "first_name", "family_name": "last_name"} {
		if v, ok := claims[claim].(string); ok && v != "" {
			id.data[field] = v
		}
	}
	return id, nil
}

func (s *core) callFunction(ctx context.Context, p *latchkey.AuthProvider, creds latchkey.Credentials) (*externalIdentity, error) {
	payload := creds.Payload
	if len(bytes.TrimSpace(payload)) == 0 {
		payload = json.RawMessage("{}")
	}
	res, err := s.functions.CallFunction(ctx, latchkey.FunctionCall{
		URL: p.Config.URL, Secret: p.Secrets.Secret, Timeout: p.Config.FunctionTimeout(), Payload: payload,
	})
	if err != nil {
		return nil, err
	}
	id := &externalIdentity{provider: p.Type, externalID: res.ID, data: map[string]any{}}
	if res.Name != "" {
		id.data["name"] = res.Name
	}
	if res.Email != "" {
		id.data["email"] = res.Email
	}
	if res.CustomData != nil {
		norm, err := jsonObject(res.CustomData, "custom_data", latchkey.MaxCustomDataBytes)
		if err != nil {
			return nil, latchkey.Errorf(latchkey.EUnauthorized, "custom function authentication failed: %s", err.(*latchkey.Error).Message)
		}
		id.customData = norm
	}
	return id, nil
}

// normalizeIdentity checks the provider's answer: an external id, and data that the stores
// can hold within its bound.
func normalizeIdentity(id *externalIdentity) error {
	if id.externalID == "" || len(id.externalID) > 256 || strings.ContainsRune(id.externalID, 0) {
		return latchkey.Errorf(latchkey.EUnauthorized, "the provider's user id must be 1 to 256 characters, without NUL")
	}
	if len(id.data) == 0 {
		id.data = nil
		return nil
	}
	raw, err := json.Marshal(id.data)
	if err != nil {
		return latchkey.Errorf(latchkey.EUnauthorized, "the provider's user data is not JSON")
	}
	norm, err := jsonObject(raw, "the provider's user data", maxIdentityDataBytes)
	if err != nil {
		return latchkey.Errorf(latchkey.EUnauthorized, "%s", err.(*latchkey.Error).Message)
	}
	id.data = nil
	return json.Unmarshal(norm, &id.data)
}

// externalUser returns the app's user of the external identity, creating it at its first
// login, and brings what the provider said of it up to date.
func (s *core) externalUser(ctx context.Context, app *latchkey.App, id *externalIdentity) (*latchkey.User, error) {
	u, err := s.store.FindUserByIdentity(ctx, app.ID, id.provider, id.externalID)
	if latchkey.ErrorCode(err) == latchkey.ENotFound {
		u, err = s.createExternalUser(ctx, app, id)
		if latchkey.ErrorCode(err) == latchkey.EConflict {
			// Another login of the same identity created the user first.
			u, err = s.store.FindUserByIdentity(ctx, app.ID, id.provider, id.externalID)
		} else if err == nil {
			return u, nil
		}
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, latchkey.Errorf(latchkey.EUserDisabled, "user disabled")
	}
	if err := s.refreshExternalData(ctx, app, u, id); err != nil {
		return nil, err
	}
	return u, nil
}

func (s *core) createExternalUser(ctx context.Context, app *latchkey.App, id *externalIdentity) (*latchkey.User, error) {
	now := s.now()
	u := &latchkey.User{ID: latchkey.NewID(now), AppID: app.ID, Type: latchkey.UserTypeNormal, Confirmed: true, CreatedAt: now}
	ident := s.newIdentity(app, u.ID, id.provider, now)
	ident.ExternalID, ident.Data = id.externalID, id.data
	u.Identities = []*latchkey.Identity{ident}
	if string(id.customData) != "{}" {
		u.CustomData = id.customData
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// refreshExternalData writes what changed in the provider's data of the user, and the custom
// data a custom function gave.
func (s *core) refreshExternalData(ctx context.Context, app *latchkey.App, u *latchkey.User, id *externalIdentity) error {
	for _, ident := range u.Identities {
		if ident.ProviderType == id.provider && !reflect.DeepEqual(ident.Data, id.data) {
			if err := s.store.SetIdentityData(ctx, app.ID, ident.ID, id.data); err != nil {
				return err
			}
			ident.Data = id.data
		}
	}
	if id.customData == nil {
		return nil
	}
	data := id.customData
	if string(data) == "{}" {
		data = nil
	}
	if sameCustomData(u.CustomData, data) {
		return nil
	}
	if err := s.store.SetUserCustomData(ctx, app.ID, u.ID, data); err != nil {
		return err
	}
	u.CustomData = data
	return nil
}

// sameCustomData reports whether custom data as a store holds it (nil for none; PostgreSQL
// spaces and orders JSONB its own way) is the normalized custom data norm.
func sameCustomData(stored, norm []byte) bool {
	if stored == nil || norm == nil {
		return stored == nil && norm == nil
	}
	s, err := jsonObject(stored, "custom data", latchkey.MaxCustomDataBytes)
	return err == nil && bytes.Equal(s, norm)
}

// linkExternal links the external identity to the caller. Linking the identity the caller
// already has answers as a success.
func (s *core) linkExternal(ctx context.Context, app *latchkey.App, caller *latchkey.User, id *externalIdentity) error {
	now := s.now()
	ident := s.newIdentity(app, caller.ID, id.provider, now)
	ident.ExternalID, ident.Data = id.externalID, id.data
	err := s.store.LinkIdentity(ctx, app.ID, ident)
	if code := latchkey.ErrorCode(err); code == latchkey.EAccountNameInUse || code == latchkey.EConflict {
		if owner, ferr := s.store.FindUserByIdentity(ctx, app.ID, id.provider, id.externalID); ferr == nil && owner.ID == caller.ID {
			err = nil // the caller has this identity already
		}
	}
	switch latchkey.ErrorCode(err) {
	case latchkey.EAccountNameInUse:
		return latchkey.Errorf(latchkey.EAccountNameInUse, "a user already exists with the specified provider")
	case latchkey.EConflict:
		return latchkey.Errorf(latchkey.EAccountNameInUse, "the user already has an identity of provider '%s'", id.provider)
	case latchkey.ENotFound:
		return latchkey.Errorf(latchkey.EUnauthenticated, "invalid session")
	}
	if err != nil {
		return err
	}
	if id.customData != nil {
		return s.refreshExternalData(ctx, app, caller, &externalIdentity{provider: id.provider, customData: id.customData})
	}
	return nil
}
