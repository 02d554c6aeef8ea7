package service

import (
	"bytes"
	"context"
	"crypto/subtle"
	"slices"
	"sort"
	"time"

	"github.com/latchkey/latchkey"
)

// Verify implements latchkey.VerifyService: an app's backend checks its users' keys, and
// admins set the keys' limits and read their usage.
type Verify struct{ *core }

// verifier is the per-node state of verify calls: the key cache, the leased rate windows
// and the usage counts.
type verifier struct {
	keys    *keyCache
	windows *rateWindows
	usage   *usageCounter
}

func newVerifier(store latchkey.Store, s *core) *verifier {
	return &verifier{
		keys:    newKeyCache(store, s.logger),
		windows: newRateWindows(store),
		usage:   newUsageCounter(store, s.logger),
	}
}

func (v *verifier) close() {
	v.windows.leases.close()
	v.keys.close()
	v.usage.close()
}

// AuthenticateServerKey returns the caller a server API key value of the app stands for: the
// key's server user, without a session. It reads the key through the key cache, so that a
// backend calling verify with its server key asks the database nothing either.
func (s *Verify) AuthenticateServerKey(ctx context.Context, app *latchkey.App, value string) (*latchkey.Auth, error) {
	refused := latchkey.Errorf(latchkey.EUnauthenticated, "invalid server API key")
	if !latchkey.CheckKeyValue(value) {
		return nil, refused
	}
	hash := hashKey(value)
	e, err := s.verify.keys.lookup(ctx, app.ID, hash)
	if err != nil {
		return nil, err
	}
	if e == nil || e.userType != latchkey.UserTypeServer || e.userDisabled {
		return nil, refused
	}
	if code := s.keyState(e.key, hash, s.now()); code != latchkey.VerifyValid {
		return nil, refused
	}
	user := &latchkey.User{ID: e.key.UserID, AppID: app.ID, Type: latchkey.UserTypeServer}
	return &latchkey.Auth{App: app, User: user, TokenType: latchkey.AccessToken}, nil
}

// keyState tells whether hash is a live value of k at now: VALID, NOT_FOUND for a value that
// is not k's or a previous value past its grace period, DISABLED or EXPIRED. The hashes are
// compared again in constant time, as a key login does.
func (s *core) keyState(k *latchkey.APIKey, hash []byte, now time.Time) string {
	current := subtle.ConstantTimeCompare(k.Hash, hash) == 1
	previous := len(k.PreviousHash) > 0 && subtle.ConstantTimeCompare(k.PreviousHash, hash) == 1 &&
		k.PreviousExpiresAt != nil && now.Before(*k.PreviousExpiresAt)
	switch {
	case !current && !previous:
		return latchkey.VerifyNotFound
	case k.Disabled:
		return latchkey.VerifyDisabled
	case k.Expired(now):
		return latchkey.VerifyExpired
	}
	return latchkey.VerifyValid
}

// VerifyAPIKey checks a user key of the caller's app, in the contract's order, and takes the
// call's cost from the key's rate limit and remaining uses when every check passes.
func (s *Verify) VerifyAPIKey(ctx context.Context, req latchkey.VerifyRequest) (*latchkey.VerifyResult, error) {
	auth := latchkey.AuthFromContext(ctx)
	if auth == nil || auth.User == nil || auth.App == nil || auth.User.Type != latchkey.UserTypeServer {
		return nil, latchkey.Errorf(latchkey.EUnauthenticated, "verify needs a server API key of the app")
	}
	if req.Cost < 0 || req.Cost > latchkey.MaxVerifyCost {
		return nil, latchkey.Errorf(latchkey.EInvalid, "cost must be between 0 and %d", latchkey.MaxVerifyCost)
	}
	if len(req.Scopes) > latchkey.MaxScopes {
		return nil, latchkey.Errorf(latchkey.EInvalid, "at most %d scopes", latchkey.MaxScopes)
	}
	for _, sc := range req.Scopes {
		if !latchkey.ValidScope(sc) {
			return nil, latchkey.Errorf(latchkey.EInvalid, "scopes must be 1 to 64 letters, digits or _ . : -")
		}
	}
	app := auth.App
	now := s.now()
	res, err := s.verifyKey(ctx, app, req, now)
	if err != nil {
		return nil, err
	}
	s.observer.ObserveVerify(res.Code)
	return res, nil
}

// verifyKey answers a verify call that passed the caller's and the input's checks.
func (s *Verify) verifyKey(ctx context.Context, app *latchkey.App, req latchkey.VerifyRequest, now time.Time) (*latchkey.VerifyResult, error) {
	res := &latchkey.VerifyResult{Code: latchkey.VerifyNotFound}
	if !latchkey.CheckKeyValue(req.Key) {
		return res, nil
	}
	hash := hashKey(req.Key)
	e, err := s.verify.keys.lookup(ctx, app.ID, hash)
	if err != nil {
		return nil, err
	}
	if e == nil || e.userType != latchkey.UserTypeNormal {
		return res, nil
	}
	k := e.key
	code := s.keyState(k, hash, now)
	if code == latchkey.VerifyNotFound {
		return res, nil
	}
	res.KeyID, res.UserID, res.Name, res.Meta = k.ID, k.UserID, k.Name, k.Meta
	res.Scopes = slices.Clone(k.Scopes)
	res.ExpiresAt = k.ExpiresAt
	if subtle.ConstantTimeCompare(k.Hash, hash) != 1 {
		// A previous value lives until its grace period ends.
		res.ExpiresAt = earliest(k.ExpiresAt, k.PreviousExpiresAt)
	}
	if code == latchkey.VerifyValid {
		code, err = s.spend(ctx, e, req, res, now)
		if err != nil {
			return nil, err
		}
		if code == latchkey.VerifyNotFound {
			return &latchkey.VerifyResult{Code: code}, nil
		}
	}
	res.Code, res.Valid = code, code == latchkey.VerifyValid
	s.verify.usage.add(k.ID, code, now)
	return res, nil
}

// spend runs the checks after the key's own (its user, the scopes, the remaining uses, the
// rate limit) and, when all pass, takes the cost. A refused call takes nothing: the rate
// limit's uses go back when the remaining uses refuse.
func (s *Verify) spend(ctx context.Context, e *keyEntry, req latchkey.VerifyRequest, res *latchkey.VerifyResult, now time.Time) (string, error) {
	k := e.key
	if e.userDisabled {
		return latchkey.VerifyUserDisabled, nil
	}
	for _, sc := range req.Scopes {
		if !slices.Contains(k.Scopes, sc) {
			return latchkey.VerifyInsufficientScopes, nil
		}
	}
	cost := req.Cost
	// Whether the key has remaining uses is known from the cache (a change of that is in
	// the change feed); how many is asked of the store, which alone counts them exactly.
	hasRemaining := k.Remaining != nil
	var refund func()
	if k.RateLimit != nil {
		ok, state, back, err := s.verify.windows.take(ctx, k.ID, *k.RateLimit, cost, now)
		if latchkey.ErrorCode(err) == latchkey.ENotFound {
			// Deleted since it was read.
			return latchkey.VerifyNotFound, nil
		} else if err != nil {
			return "", err
		}
		res.RateLimit, refund = &state, back
		if !ok {
			// Running out of uses is checked first: tell it when both hold.
			if hasRemaining {
				rem, left, err := s.remaining(ctx, k.ID, 0, cost, now)
				if err != nil {
					return "", err
				}
				if rem != nil && !left {
					res.Remaining, res.RateLimit = rem, nil
					return latchkey.VerifyUsageExceeded, nil
				}
			}
			return latchkey.VerifyRateLimited, nil
		}
	}
	if hasRemaining {
		rem, ok, err := s.remaining(ctx, k.ID, cost, cost, now)
		if err != nil {
			if refund != nil {
				refund()
			}
			return "", err
		}
		res.Remaining = rem
		if !ok {
			if refund != nil {
				refund()
			}
			res.RateLimit = nil
			return latchkey.VerifyUsageExceeded, nil
		}
	}
	return latchkey.VerifyValid, nil
}

// remaining takes take uses from the key's remaining uses in the store and tells whether
// need were there: nil when the key no longer has remaining uses.
func (s *Verify) remaining(ctx context.Context, keyID string, take, need int64, now time.Time) (*int64, bool, error) {
	rem, ok, err := s.store.TakeAPIKeyUses(ctx, keyID, take, now)
	if latchkey.ErrorCode(err) == latchkey.ENotFound {
		return nil, true, nil
	} else if err != nil {
		return nil, false, err
	}
	if take == 0 {
		ok = rem > 0 && rem >= need
	}
	return &rem, ok, nil
}

// SetUserAPIKeyLimits changes a user key's limits, for an admin.
func (s *Verify) SetUserAPIKeyLimits(ctx context.Context, appID, userID, keyID string, limits latchkey.APIKeyLimits) (*latchkey.APIKey, error) {
	app, u, err := s.adminUserKey(ctx, appID, userID, keyID)
	if err != nil {
		return nil, err
	}
	if u.Type != latchkey.UserTypeNormal {
		return nil, errKeyNotFound()
	}
	k, err := s.store.FindAPIKey(ctx, u.ID, keyID)
	if err != nil {
		return nil, keyNotFound(err)
	}
	if err := checkKeyLimits(k, &limits); err != nil {
		return nil, err
	}
	k, err = s.store.SetAPIKeyLimits(ctx, u.ID, keyID, limits, s.now())
	err = keyNotFound(err)
	s.audit(ctx, app, latchkey.EventAPIKeyLimitsSet, err, "api_key", keyID, limitsAudit(u.ID, limits))
	if err != nil {
		return nil, err
	}
	return k, nil
}

// checkKeyLimits checks an update of k's limits and puts its meta in canonical form: a
// removal as nil.
func checkKeyLimits(k *latchkey.APIKey, l *latchkey.APIKeyLimits) error {
	if l.RateLimit != nil && *l.RateLimit != nil {
		if err := (*l.RateLimit).Validate(); err != nil {
			return err
		}
	}
	hasRemaining := k.Remaining != nil
	if l.Remaining != nil {
		hasRemaining = *l.Remaining != nil
		if r := *l.Remaining; r != nil && (*r < 0 || *r > latchkey.MaxKeyRemaining) {
			return latchkey.Errorf(latchkey.EInvalid, "remaining must be between 0 and %d", int64(latchkey.MaxKeyRemaining))
		}
		if !hasRemaining && l.Refill != nil && *l.Refill != nil {
			return latchkey.Errorf(latchkey.EInvalid, "refill needs remaining")
		}
	}
	if l.Refill != nil && *l.Refill != nil {
		if err := (*l.Refill).Validate(); err != nil {
			return err
		}
		if !hasRemaining {
			return latchkey.Errorf(latchkey.EInvalid, "refill needs remaining: set remaining too")
		}
	}
	if l.Meta != nil {
		if m := bytes.TrimSpace(*l.Meta); len(m) == 0 || string(m) == "null" {
			*l.Meta = nil
		} else {
			norm, err := jsonObject(m, "meta", latchkey.MaxKeyMetaBytes)
			if err != nil {
				return err
			}
			*l.Meta = norm
		}
	}
	return nil
}

// limitsAudit names what an update of limits changed, without the meta's content.
func limitsAudit(userID string, l latchkey.APIKeyLimits) map[string]string {
	d := map[string]string{"user_id": userID}
	set := func(name string, present, removed bool) {
		switch {
		case !present:
		case removed:
			d[name] = "removed"
		default:
			d[name] = "set"
		}
	}
	set("ratelimit", l.RateLimit != nil, l.RateLimit != nil && *l.RateLimit == nil)
	set("remaining", l.Remaining != nil, l.Remaining != nil && *l.Remaining == nil)
	set("refill", l.Refill != nil, l.Refill != nil && *l.Refill == nil)
	set("meta", l.Meta != nil, l.Meta != nil && *l.Meta == nil)
	return d
}

// FindUserAPIKeyUsage returns a user key's hourly usage, for an admin.
func (s *Verify) FindUserAPIKeyUsage(ctx context.Context, appID, userID, keyID string, from, to time.Time) ([]latchkey.KeyUsage, error) {
	_, u, err := s.adminUserKey(ctx, appID, userID, keyID)
	if err != nil {
		return nil, err
	}
	if _, err := s.store.FindAPIKey(ctx, u.ID, keyID); err != nil {
		return nil, keyNotFound(err)
	}
	return s.keyUsage(ctx, keyID, from, to)
}

// FindAPIKeyUsage returns the hourly usage of one of the caller's own keys.
func (s *Verify) FindAPIKeyUsage(ctx context.Context, id string, from, to time.Time) ([]latchkey.KeyUsage, error) {
	auth, err := s.ownKey(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, err := s.store.FindAPIKey(ctx, auth.User.ID, id); err != nil {
		return nil, keyNotFound(err)
	}
	return s.keyUsage(ctx, id, from, to)
}

// keyUsage returns the stored hourly counts of a key in [from, to) with what this node
// counted and has not written yet, so that a node reads its own counts at once.
func (s *core) keyUsage(ctx context.Context, keyID string, from, to time.Time) ([]latchkey.KeyUsage, error) {
	if !from.Before(to) {
		return nil, latchkey.Errorf(latchkey.EInvalid, "from must be before to")
	}
	stored, err := s.store.FindKeyUsage(ctx, keyID, from, to)
	if err != nil {
		return nil, err
	}
	byHour := make(map[int64]latchkey.KeyUsage, len(stored))
	for _, u := range stored {
		byHour[u.Hour.Unix()] = u
	}
	for _, p := range s.verify.usage.pending(keyID) {
		if p.Hour.Before(from.Truncate(time.Hour)) || !p.Hour.Before(to) {
			continue
		}
		c, ok := byHour[p.Hour.Unix()]
		if !ok {
			c = latchkey.KeyUsage{KeyID: keyID, Hour: p.Hour}
		}
		c.Valid += p.Valid
		c.RateLimited += p.RateLimited
		c.UsageExceeded += p.UsageExceeded
		c.Other += p.Other
		byHour[p.Hour.Unix()] = c
	}
	out := make([]latchkey.KeyUsage, 0, len(byHour))
	for _, u := range byHour {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Hour.Before(out[j].Hour) })
	return out, nil
}

// FlushKeyUsage writes the usage counts this node holds in memory now, rather than within
// the second.
func (s *Service) FlushKeyUsage(ctx context.Context) error { return s.verify.usage.flush(ctx) }

// DeleteOldKeyUsage deletes the usage counts past their retention, the rate windows that have
// ended and the change feed's old rows, and returns how many rows went.
func (s *Service) DeleteOldKeyUsage(ctx context.Context) (int64, error) {
	now := s.now()
	n1, err := s.store.DeleteKeyUsageBefore(ctx, now.Add(-latchkey.KeyUsageRetention))
	if err != nil {
		return n1, err
	}
	n2, err := s.store.DeleteRateWindowsBefore(ctx, now.Add(-latchkey.MaxRateLimitDuration))
	if err != nil {
		return n1 + n2, err
	}
	n3, err := s.store.DeleteAPIKeyChangesBefore(ctx, now.Add(-time.Hour))
	return n1 + n2 + n3, err
}
