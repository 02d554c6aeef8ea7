package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// This file serves key verification: the verify call of an app's backend, the limits an
// admin sets on a key, and the keys' usage.

// rateLimitJSON is a key's rate limit on the wire.
type rateLimitJSON struct {
	Limit      int64 `json:"limit"`
	DurationMS int64 `json:"duration_ms"`
}

type refillJSON struct {
	Amount   int64  `json:"amount"`
	Interval string `json:"interval"`
}

func newRateLimitJSON(rl *latchkey.KeyRateLimit) *rateLimitJSON {
	if rl == nil {
		return nil
	}
	return &rateLimitJSON{Limit: rl.Limit, DurationMS: rl.Duration.Milliseconds()}
}

// rateLimit is the limit as sent, unchecked; a duration past a day is kept just past it, so
// that no count of milliseconds overflows time.Duration before Validate refuses it.
func (j rateLimitJSON) rateLimit() *latchkey.KeyRateLimit {
	ms := min(max(j.DurationMS, 0), latchkey.MaxRateLimitDuration.Milliseconds()+1)
	return &latchkey.KeyRateLimit{Limit: j.Limit, Duration: time.Duration(ms) * time.Millisecond}
}

// limit is the limit as sent, checked.
func (j rateLimitJSON) limit() (*latchkey.KeyRateLimit, error) {
	rl := j.rateLimit()
	return rl, rl.Validate()
}

func newRefillJSON(r *latchkey.KeyRefill) *refillJSON {
	if r == nil {
		return nil
	}
	return &refillJSON{Amount: r.Amount, Interval: r.Interval}
}

// verifyRequest is the body of a verify call.
type verifyRequest struct {
	Key    optionalString `json:"key"`
	Scopes []string       `json:"scopes"`
	Cost   *int64         `json:"cost"`
}

type rateLimitStateJSON struct {
	Limit     int64  `json:"limit"`
	Remaining int64  `json:"remaining"`
	Reset     string `json:"reset"`
}

// verifyResponse is the answer to a verify call: a NOT_FOUND answer is valid and code alone
// (a nil embedded pointer leaves its fields out); the others carry the key's fields, null
// where the key has no such thing.
type verifyResponse struct {
	Valid bool   `json:"valid"`
	Code  string `json:"code"`
	*verifiedKey
}

type verifiedKey struct {
	KeyID     string              `json:"key_id"`
	UserID    string              `json:"user_id"`
	Name      string              `json:"name"`
	Scopes    []string            `json:"scopes"`
	ExpiresAt *string             `json:"expires_at"`
	Meta      json.RawMessage     `json:"meta"`
	Remaining *int64              `json:"remaining"`
	RateLimit *rateLimitStateJSON `json:"ratelimit"`
}

func newVerifyResponse(res *latchkey.VerifyResult) verifyResponse {
	out := verifyResponse{Valid: res.Valid, Code: res.Code}
	if res.KeyID == "" {
		return out
	}
	k := &verifiedKey{KeyID: res.KeyID, UserID: res.UserID, Name: res.Name, Scopes: res.Scopes,
		ExpiresAt: rfc3339(res.ExpiresAt), Meta: res.Meta, Remaining: res.Remaining}
	if k.Scopes == nil {
		k.Scopes = []string{}
	}
	if rl := res.RateLimit; rl != nil {
		k.RateLimit = &rateLimitStateJSON{Limit: rl.Limit, Remaining: rl.Remaining, Reset: rl.Reset.UTC().Format(time.RFC3339)}
	}
	out.verifiedKey = k
	return out
}

// handleVerifyAPIKey answers whether a user key of the app may be used. The caller is the
// app's backend: a server API key of the app as the bearer value, or the access token of a
// session opened with one.
func (s *Server) handleVerifyAPIKey(w http.ResponseWriter, r *http.Request) {
	app := appFrom(r)
	token, err := bearerToken(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var auth *latchkey.Auth
	if strings.Count(token, ".") == 2 {
		auth, err = s.auth.Authenticate(r.Context(), token, latchkey.AccessToken)
		if err == nil && auth.App.ID != app.ID {
			err = latchkey.Errorf(latchkey.EUnauthenticated, "invalid session")
		}
	} else {
		auth, err = s.verify.AuthenticateServerKey(r.Context(), app, token)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var req verifyRequest
	if err := decodeStrict(r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	if req.Key.Bad || !req.Key.Set {
		s.Error(w, r, latchkey.Errorf(latchkey.ERequired, "'key' is a required string"))
		return
	}
	in := latchkey.VerifyRequest{Key: req.Key.Value, Scopes: req.Scopes, Cost: 1}
	if req.Cost != nil {
		in.Cost = *req.Cost
	}
	res, err := s.verify.VerifyAPIKey(latchkey.NewContextWithAuth(r.Context(), auth), in)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newVerifyResponse(res))
}

// decodeStrict is decode for the calls that refuse fields they do not know: a typo in a
// limit must not pass for "unchanged". The body is parsed once when it is right; a wrong one
// is parsed again by decode for its usual message.
func decodeStrict(r *http.Request, v any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("trailing data")
	}
	if err == nil {
		if hasNUL(reflect.ValueOf(v)) {
			return latchkey.Errorf(latchkey.EBadRequest, "invalid JSON: strings may not contain NUL characters")
		}
		return nil
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return latchkey.Errorf(latchkey.EBadRequest, "unknown field %s", name)
	}
	if err := decodeBytes(body, v); err != nil {
		return err
	}
	return latchkey.Errorf(latchkey.EBadRequest, "malformed JSON body")
}

// keyLimitsRequest is an admin's change of a key's limits: a field left out stays as it is,
// a null removes it.
type keyLimitsRequest struct {
	RateLimit json.RawMessage `json:"ratelimit"`
	Remaining json.RawMessage `json:"remaining"`
	Refill    json.RawMessage `json:"refill"`
	Meta      json.RawMessage `json:"meta"`
}

// limits turns the request into the service's terms; decode has checked the JSON's syntax.
func (req keyLimitsRequest) limits() (latchkey.APIKeyLimits, error) {
	var l latchkey.APIKeyLimits
	field := func(name string, raw json.RawMessage, v any) (present, null bool, err error) {
		if raw == nil {
			return false, false, nil
		}
		if string(raw) == "null" {
			return true, true, nil
		}
		if err := json.Unmarshal(raw, v); err != nil {
			return true, false, latchkey.Errorf(latchkey.EBadRequest, "invalid JSON: %q has the wrong type", name)
		}
		return true, false, nil
	}
	var rl rateLimitJSON
	if present, null, err := field("ratelimit", req.RateLimit, &rl); err != nil {
		return l, err
	} else if present {
		var v *latchkey.KeyRateLimit
		if !null {
			if v, err = rl.limit(); err != nil {
				return l, err
			}
		}
		l.RateLimit = &v
	}
	var rem int64
	if present, null, err := field("remaining", req.Remaining, &rem); err != nil {
		return l, err
	} else if present {
		var v *int64
		if !null {
			v = &rem
		}
		l.Remaining = &v
	}
	var rf refillJSON
	if present, null, err := field("refill", req.Refill, &rf); err != nil {
		return l, err
	} else if present {
		var v *latchkey.KeyRefill
		if !null {
			v = &latchkey.KeyRefill{Amount: rf.Amount, Interval: rf.Interval}
		}
		l.Refill = &v
	}
	if req.Meta != nil {
		m := req.Meta
		l.Meta = &m
	}
	return l, nil
}

func (s *Server) handleSetUserAPIKeyLimits(w http.ResponseWriter, r *http.Request) {
	var req keyLimitsRequest
	if err := decodeStrict(r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	limits, err := req.limits()
	if err != nil {
		s.Error(w, r, err)
		return
	}
	k, err := s.verify.SetUserAPIKeyLimits(r.Context(), r.PathValue("appID"), r.PathValue("userID"), r.PathValue("keyID"), limits)
	writeResult(s, w, r, k, err, newAPIKeyResponse)
}

// usageJSON is one hour of a key's usage.
type usageJSON struct {
	Time          string `json:"time"`
	Valid         int64  `json:"valid"`
	RateLimited   int64  `json:"rate_limited"`
	UsageExceeded int64  `json:"usage_exceeded"`
	Other         int64  `json:"other"`
}

func newUsageJSON(u latchkey.KeyUsage) usageJSON {
	return usageJSON{Time: u.Hour.UTC().Format(time.RFC3339), Valid: u.Valid, RateLimited: u.RateLimited,
		UsageExceeded: u.UsageExceeded, Other: u.Other}
}

// usageRange reads the from and to query parameters: RFC 3339 times, by default the last
// 30 days (all that is kept) up to now.
func (s *Server) usageRange(r *http.Request) (from, to time.Time, err error) {
	to = s.now().Add(time.Hour).Truncate(time.Hour)
	from = to.Add(-latchkey.KeyUsageRetention - time.Hour)
	parse := func(name string, dst *time.Time) error {
		v := r.URL.Query().Get(name)
		if v == "" {
			return nil
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return latchkey.Errorf(latchkey.EBadRequest, "%s must be an RFC 3339 time", name)
		}
		*dst = t
		return nil
	}
	if err := parse("from", &from); err != nil {
		return from, to, err
	}
	if err := parse("to", &to); err != nil {
		return from, to, err
	}
	if !from.Before(to) {
		return from, to, latchkey.Errorf(latchkey.EInvalid, "from must be before to")
	}
	return from, to, nil
}

func (s *Server) handleFindUserAPIKeyUsage(w http.ResponseWriter, r *http.Request) {
	from, to, err := s.usageRange(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	usage, err := s.verify.FindUserAPIKeyUsage(r.Context(), r.PathValue("appID"), r.PathValue("userID"), r.PathValue("keyID"), from, to)
	writeList(s, w, r, usage, err, newUsageJSON)
}

func (s *Server) handleFindAPIKeyUsage(w http.ResponseWriter, r *http.Request) {
	from, to, err := s.usageRange(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	usage, err := s.verify.FindAPIKeyUsage(r.Context(), r.PathValue("id"), from, to)
	writeList(s, w, r, usage, err, newUsageJSON)
}
