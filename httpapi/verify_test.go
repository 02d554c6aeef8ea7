package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// verifyAnswer is the answer to a verify call.
type verifyAnswer struct {
	Valid     bool            `json:"valid"`
	Code      string          `json:"code"`
	KeyID     string          `json:"key_id"`
	UserID    string          `json:"user_id"`
	Name      string          `json:"name"`
	Scopes    []string        `json:"scopes"`
	ExpiresAt *string         `json:"expires_at"`
	Meta      json.RawMessage `json:"meta"`
	Remaining *int64          `json:"remaining"`
	RateLimit *struct {
		Limit     int64  `json:"limit"`
		Remaining int64  `json:"remaining"`
		Reset     string `json:"reset"`
	} `json:"ratelimit"`
}

// limitedKey is a key object with the limits an admin sets.
type limitedKey struct {
	ID        string          `json:"_id"`
	Name      string          `json:"name"`
	RateLimit *rateLimit      `json:"ratelimit"`
	Remaining *int64          `json:"remaining"`
	Refill    *refill         `json:"refill"`
	Meta      json.RawMessage `json:"meta"`
}

type rateLimit struct {
	Limit      int64 `json:"limit"`
	DurationMS int64 `json:"duration_ms"`
}

type refill struct {
	Amount   int64  `json:"amount"`
	Interval string `json:"interval"`
}

type usageRow struct {
	Time          string `json:"time"`
	Valid         int64  `json:"valid"`
	RateLimited   int64  `json:"rate_limited"`
	UsageExceeded int64  `json:"usage_exceeded"`
	Other         int64  `json:"other"`
}

// verifyEnv is a server with an admin, an app with the scopes read and write, a server key
// of the app (the backend's credential) and a user who makes keys.
type verifyEnv struct {
	*env
	admin     string // admin access token
	serverKey string // value
	user      user
}

func newVerifyEnv(t *testing.T) *verifyEnv {
	t.Helper()
	e, admin := newAdminEnv(t)
	e.patchSettings(t, admin.AccessToken, e.AppID, map[string]any{"scopes": []string{"read", "write"}})
	v := &verifyEnv{env: e, admin: admin.AccessToken}
	v.serverKey = e.createServerKey(t, admin.AccessToken, e.App.ID, "backend").Key
	v.user = e.newUser(t, e.AppID)
	return v
}

func verifyPath(app string) string { return appPath(app, "/auth/api_keys/verify") }

// verify calls verify with the server key and returns the answer, which must be a 200.
func (v *verifyEnv) verify(t *testing.T, body map[string]any) verifyAnswer {
	t.Helper()
	var a verifyAnswer
	v.do(t, "POST", verifyPath(v.AppID), v.serverKey, body).wantJSON(t, http.StatusOK, &a)
	return a
}

func (v *verifyEnv) wantCode(t *testing.T, key string, body map[string]any, code string) verifyAnswer {
	t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	body["key"] = key
	a := v.verify(t, body)
	if a.Code != code || a.Valid != (code == latchkey.VerifyValid) {
		t.Fatalf("verify: valid %v code %s, want %s", a.Valid, a.Code, code)
	}
	return a
}

func (v *verifyEnv) keyPath(userID, keyID string) string {
	return groupAppPath(v.AppID, "/users/"+userID+"/api_keys/"+keyID)
}

// setLimits PATCHes a user key's limits as the admin.
func (v *verifyEnv) setLimits(t *testing.T, userID, keyID string, body map[string]any) limitedKey {
	t.Helper()
	var k limitedKey
	v.do(t, "PATCH", v.keyPath(userID, keyID), v.admin, body).wantJSON(t, http.StatusOK, &k)
	return k
}

// newKey creates a key of the env's user with the given create body.
func (v *verifyEnv) newKey(t *testing.T, body map[string]any) keyObject {
	t.Helper()
	if body["name"] == nil {
		body["name"] = fmt.Sprintf("k%d", v.seq.Add(1))
	}
	return v.createKeyWith(t, v.user.RefreshToken, body)
}

func TestVerifyCodes(t *testing.T) {
	v := newVerifyEnv(t)
	t.Run("Valid", func(t *testing.T) {
		k := v.newKey(t, map[string]any{"scopes": []string{"read"}})
		a := v.wantCode(t, k.Key, nil, latchkey.VerifyValid)
		if a.KeyID != k.ID || a.UserID != v.user.UserID || a.Name != k.Name || strings.Join(a.Scopes, ",") != "read" {
			t.Fatalf("answer %+v, want the key's id, user, name and scopes", a)
		}
		if a.ExpiresAt != nil || string(a.Meta) != "null" || a.Remaining != nil || a.RateLimit != nil {
			t.Fatalf("answer %+v: a key without expiry, meta or limits answers nulls", a)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		other := v.CreateApp(t, "verify-other", nil)
		stranger := v.newUser(t, other.ClientAppID)
		otherKey := v.createKey(t, stranger.RefreshToken, "theirs")
		for name, value := range map[string]string{
			"Unknown":       latchkey.NewKeyValue("lk"),
			"Malformed":     "not a key",
			"Empty":         "",
			"OtherAppsKey":  otherKey.Key,
			"TheServerKey":  v.serverKey,
			"BadChecksum":   badChecksum(v.newKey(t, map[string]any{}).Key),
			"VeryLongValue": strings.Repeat("a", 10_000),
		} {
			t.Run(name, func(t *testing.T) {
				a := v.wantCode(t, value, nil, latchkey.VerifyNotFound)
				if a.KeyID != "" || a.UserID != "" || a.Name != "" {
					t.Fatalf("NOT_FOUND answer %+v tells something about a key", a)
				}
			})
		}
	})
	t.Run("Disabled", func(t *testing.T) {
		k := v.newKey(t, map[string]any{})
		v.do(t, "PUT", keyPath(k.ID)+"/disable", v.user.RefreshToken, nil).wantEmpty(t, http.StatusNoContent)
		if a := v.wantCode(t, k.Key, nil, latchkey.VerifyDisabled); a.KeyID != k.ID {
			t.Fatalf("DISABLED answer names key %q, want %q", a.KeyID, k.ID)
		}
	})
	t.Run("Expired", func(t *testing.T) {
		k := v.newKey(t, map[string]any{"expires_in": 60})
		a := v.wantCode(t, k.Key, nil, latchkey.VerifyValid)
		if a.ExpiresAt == nil || *a.ExpiresAt != *k.ExpiresAt {
			t.Fatalf("expires_at %v, want %v", a.ExpiresAt, *k.ExpiresAt)
		}
		v.Clock.Advance(60 * time.Second)
		v.wantCode(t, k.Key, nil, latchkey.VerifyExpired)
	})
	t.Run("UserDisabled", func(t *testing.T) {
		u := v.newUser(t, v.AppID)
		k := v.createKey(t, u.RefreshToken, "k")
		v.do(t, "PUT", groupAppPath(v.AppID, "/users/"+u.UserID+"/disable"), v.admin, nil).wantEmpty(t, http.StatusNoContent)
		v.wantCode(t, k.Key, nil, latchkey.VerifyUserDisabled)
	})
	t.Run("InsufficientScopes", func(t *testing.T) {
		k := v.newKey(t, map[string]any{"scopes": []string{"read"}})
		v.wantCode(t, k.Key, map[string]any{"scopes": []string{"read", "write"}}, latchkey.VerifyInsufficientScopes)
		v.wantCode(t, k.Key, map[string]any{"scopes": []string{"undeclared"}}, latchkey.VerifyInsufficientScopes)
		v.wantCode(t, k.Key, map[string]any{"scopes": []string{"read"}}, latchkey.VerifyValid)
		v.wantCode(t, k.Key, map[string]any{"scopes": []string{}}, latchkey.VerifyValid)
	})
	t.Run("UsageExceeded", func(t *testing.T) {
		k := v.newKey(t, map[string]any{})
		v.setLimits(t, v.user.UserID, k.ID, map[string]any{"remaining": 2})
		for want := int64(1); want >= 0; want-- {
			if a := v.wantCode(t, k.Key, nil, latchkey.VerifyValid); a.Remaining == nil || *a.Remaining != want {
				t.Fatalf("remaining %v, want %d", a.Remaining, want)
			}
		}
		if a := v.wantCode(t, k.Key, nil, latchkey.VerifyUsageExceeded); a.Remaining == nil || *a.Remaining != 0 {
			t.Fatalf("USAGE_EXCEEDED remaining %v, want 0", a.Remaining)
		}
	})
	t.Run("RateLimited", func(t *testing.T) {
		k := v.newKey(t, map[string]any{})
		v.setLimits(t, v.user.UserID, k.ID, map[string]any{"ratelimit": map[string]any{"limit": 2, "duration_ms": 60_000}})
		_, end := (&latchkey.KeyRateLimit{Limit: 2, Duration: time.Minute}).Window(v.Clock.Now())
		for want := int64(1); want >= 0; want-- {
			if a := v.wantCode(t, k.Key, nil, latchkey.VerifyValid); a.RateLimit == nil || a.RateLimit.Remaining != want || a.RateLimit.Limit != 2 {
				t.Fatalf("ratelimit %+v, want limit 2 remaining %d", a.RateLimit, want)
			}
		}
		a := v.wantCode(t, k.Key, nil, latchkey.VerifyRateLimited)
		if a.RateLimit == nil || a.RateLimit.Remaining != 0 || a.RateLimit.Reset != end.Format(time.RFC3339) {
			t.Fatalf("RATE_LIMITED ratelimit %+v, want remaining 0 and reset %s", a.RateLimit, end.Format(time.RFC3339))
		}
		v.Clock.Advance(end.Sub(v.Clock.Now()))
		v.wantCode(t, k.Key, nil, latchkey.VerifyValid)
	})
}

// TestVerifyOrder gives one key every reason to be refused and takes them away one at a
// time, in the contract's order: each answer names the first reason left.
func TestVerifyOrder(t *testing.T) {
	v := newVerifyEnv(t)
	u := v.newUser(t, v.AppID)
	k := v.createKeyWith(t, u.RefreshToken, map[string]any{"name": "all", "scopes": []string{"read"}, "expires_in": 60})
	v.setLimits(t, u.UserID, k.ID, map[string]any{"remaining": 0, "ratelimit": map[string]any{"limit": 1, "duration_ms": 86_400_000}})
	body := map[string]any{"scopes": []string{"write"}}
	// Spend the rate limit first, with a key that has uses left.
	v.setLimits(t, u.UserID, k.ID, map[string]any{"remaining": 1})
	v.do(t, "PUT", keyPath(k.ID)+"/disable", u.RefreshToken, nil).wantEmpty(t, http.StatusNoContent)
	v.do(t, "PUT", groupAppPath(v.AppID, "/users/"+u.UserID+"/disable"), v.admin, nil).wantEmpty(t, http.StatusNoContent)
	v.Clock.Advance(time.Minute)

	v.wantCode(t, k.Key, body, latchkey.VerifyDisabled)
	v.do(t, "PUT", groupAppPath(v.AppID, "/users/"+u.UserID+"/api_keys/"+k.ID+"/enable"), v.admin, nil).wantEmpty(t, http.StatusNoContent)
	v.wantCode(t, k.Key, body, latchkey.VerifyExpired)
	v.Clock.Advance(-time.Minute)
	v.wantCode(t, k.Key, body, latchkey.VerifyUserDisabled)
	v.do(t, "PUT", groupAppPath(v.AppID, "/users/"+u.UserID+"/enable"), v.admin, nil).wantEmpty(t, http.StatusNoContent)
	v.wantCode(t, k.Key, body, latchkey.VerifyInsufficientScopes)
	body["scopes"] = []string{"read"}
	v.wantCode(t, k.Key, body, latchkey.VerifyValid) // spends the one use and the rate limit
	// Both limits are spent: the remaining uses are checked first.
	v.wantCode(t, k.Key, body, latchkey.VerifyUsageExceeded)
	v.setLimits(t, u.UserID, k.ID, map[string]any{"remaining": 5})
	a := v.wantCode(t, k.Key, body, latchkey.VerifyRateLimited)
	// A refused call takes nothing.
	v.setLimits(t, u.UserID, k.ID, map[string]any{"ratelimit": nil})
	if a = v.wantCode(t, k.Key, body, latchkey.VerifyValid); *a.Remaining != 4 {
		t.Fatalf("remaining %d after refusals, want 4", *a.Remaining)
	}
}

func TestVerifyCost(t *testing.T) {
	v := newVerifyEnv(t)
	k := v.newKey(t, map[string]any{})
	v.setLimits(t, v.user.UserID, k.ID, map[string]any{"remaining": 10, "ratelimit": map[string]any{"limit": 100, "duration_ms": 60_000}})
	a := v.wantCode(t, k.Key, map[string]any{"cost": 0}, latchkey.VerifyValid)
	if *a.Remaining != 10 || a.RateLimit.Remaining != 100 {
		t.Fatalf("cost 0 took something: remaining %d, ratelimit %d", *a.Remaining, a.RateLimit.Remaining)
	}
	a = v.wantCode(t, k.Key, map[string]any{"cost": 7}, latchkey.VerifyValid)
	if *a.Remaining != 3 || a.RateLimit.Remaining != 93 {
		t.Fatalf("cost 7: remaining %d, ratelimit %d, want 3 and 93", *a.Remaining, a.RateLimit.Remaining)
	}
	// More than is left: refused, nothing taken, and the answer says what is left.
	a = v.wantCode(t, k.Key, map[string]any{"cost": 4}, latchkey.VerifyUsageExceeded)
	if *a.Remaining != 3 {
		t.Fatalf("remaining %d, want 3", *a.Remaining)
	}
	a = v.wantCode(t, k.Key, map[string]any{"cost": 3}, latchkey.VerifyValid)
	if *a.Remaining != 0 || a.RateLimit.Remaining != 90 {
		t.Fatalf("remaining %d, ratelimit %d, want 0 and 90", *a.Remaining, a.RateLimit.Remaining)
	}
	v.wantCode(t, k.Key, map[string]any{"cost": 0}, latchkey.VerifyUsageExceeded)
}

func TestVerifyRefill(t *testing.T) {
	v := newVerifyEnv(t)
	k := v.newKey(t, map[string]any{})
	got := v.setLimits(t, v.user.UserID, k.ID, map[string]any{"remaining": 1, "refill": map[string]any{"amount": 5, "interval": "daily"}})
	if got.Refill == nil || *got.Refill != (refill{5, "daily"}) || *got.Remaining != 1 {
		t.Fatalf("key %+v, want remaining 1 and refill 5 daily", got)
	}
	v.wantCode(t, k.Key, nil, latchkey.VerifyValid)
	v.wantCode(t, k.Key, nil, latchkey.VerifyUsageExceeded)
	now := v.Clock.Now().UTC()
	midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
	v.Clock.Advance(midnight.Sub(now) - time.Second)
	v.wantCode(t, k.Key, nil, latchkey.VerifyUsageExceeded)
	v.Clock.Advance(time.Second)
	if a := v.wantCode(t, k.Key, nil, latchkey.VerifyValid); *a.Remaining != 4 {
		t.Fatalf("remaining %d after the refill, want 4", *a.Remaining)
	}
}

func TestVerifyRotatedKey(t *testing.T) {
	v := newVerifyEnv(t)
	k := v.newKey(t, map[string]any{})
	var rotated keyObject
	v.do(t, "POST", keyPath(k.ID)+"/rotate", v.user.RefreshToken, map[string]any{"grace_period": 60}).wantJSON(t, http.StatusOK, &rotated)
	v.remember(&v.keys, rotated.Key)
	a := v.wantCode(t, k.Key, nil, latchkey.VerifyValid)
	if a.ExpiresAt == nil {
		t.Fatal("a previous value's answer has no expires_at: it ends with its grace period")
	}
	v.wantCode(t, rotated.Key, nil, latchkey.VerifyValid)
	v.Clock.Advance(61 * time.Second)
	v.wantCode(t, k.Key, nil, latchkey.VerifyNotFound)
	v.wantCode(t, rotated.Key, nil, latchkey.VerifyValid)
}

func TestVerifyCallers(t *testing.T) {
	v := newVerifyEnv(t)
	k := v.newKey(t, map[string]any{})
	body := map[string]any{"key": k.Key}
	other := v.CreateApp(t, "verify-other", nil)
	otherServerKey := v.createServerKey(t, v.admin, other.ID, "theirs").Key
	disabled := v.createServerKey(t, v.admin, v.App.ID, "disabled")
	v.do(t, "PUT", adminAppPath(v.App.ID, "/api_keys/"+disabled.ID+"/disable"), v.admin, nil).wantEmpty(t, http.StatusNoContent)
	for name, token := range map[string]string{
		"NoToken":            "",
		"UserKey":            k.Key,
		"UserAccessToken":    v.user.AccessToken,
		"UserRefreshToken":   v.user.RefreshToken,
		"AdminAccessToken":   v.admin,
		"OtherAppsServerKey": otherServerKey,
		"DisabledServerKey":  disabled.Key,
		"MadeUpServerKey":    latchkey.NewKeyValue("lk"),
	} {
		t.Run(name, func(t *testing.T) {
			r := v.do(t, "POST", verifyPath(v.AppID), token, body)
			r.wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
		})
	}
	t.Run("ServerKeySessionAccessToken", func(t *testing.T) {
		l := v.loginKey(t, v.AppID, v.serverKey)
		var a verifyAnswer
		v.do(t, "POST", verifyPath(v.AppID), l.AccessToken, body).wantJSON(t, http.StatusOK, &a)
		if a.Code != latchkey.VerifyValid {
			t.Fatalf("code %s, want VALID", a.Code)
		}
		// The same token on another app's path is refused.
		v.do(t, "POST", verifyPath(other.ClientAppID), l.AccessToken, body).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
	})
	t.Run("UnknownApp", func(t *testing.T) {
		v.do(t, "POST", verifyPath("no-such-app"), v.serverKey, body).wantErrorBody(t, http.StatusNotFound, noCodeOrAny)
	})
}

func TestVerifyBadInput(t *testing.T) {
	v := newVerifyEnv(t)
	k := v.newKey(t, map[string]any{})
	for _, tt := range []struct {
		name   string
		body   any
		status int
	}{
		{"NoBody", nil, 400},
		{"KeyMissing", map[string]any{"cost": 1}, 400},
		{"KeyNumber", map[string]any{"key": 5}, 400},
		{"KeyNull", map[string]any{"key": nil}, 400},
		{"CostNegative", map[string]any{"key": k.Key, "cost": -1}, 400},
		{"CostHuge", map[string]any{"key": k.Key, "cost": 1001}, 400},
		{"CostBeyondInt64", `{"key": "x", "cost": 1e300}`, 400},
		{"CostFraction", `{"key": "x", "cost": 1.5}`, 400},
		{"CostString", map[string]any{"key": k.Key, "cost": "1"}, 400},
		{"ScopesNotArray", map[string]any{"key": k.Key, "scopes": "read"}, 400},
		{"ScopeNotString", map[string]any{"key": k.Key, "scopes": []any{1}}, 400},
		{"ScopeMalformed", map[string]any{"key": k.Key, "scopes": []string{"no spaces"}}, 400},
		{"TooManyScopes", map[string]any{"key": k.Key, "scopes": strings.Split(strings.Repeat("a,", 33)+"a", ",")}, 400},
		{"UnknownField", map[string]any{"key": k.Key, "costs": 2}, 400},
		{"Array", []any{k.Key}, 400},
		{"NotJSON", `{"key":`, 400},
		{"NUL", map[string]any{"key": "lk_\x00"}, 400},
		{"TooLarge", map[string]any{"key": strings.Repeat("a", 70<<10)}, 413},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := v.do(t, "POST", verifyPath(v.AppID), v.serverKey, tt.body)
			r.wantErrorBody(t, tt.status, noCodeOrAny)
		})
	}
	// None of it touched the key.
	if a := v.wantCode(t, k.Key, nil, latchkey.VerifyValid); a.KeyID != k.ID {
		t.Fatal("the key does not verify after the bad calls")
	}
}

func TestKeyLimits(t *testing.T) {
	v := newVerifyEnv(t)
	k := v.newKey(t, map[string]any{})
	path := v.keyPath(v.user.UserID, k.ID)
	got := v.setLimits(t, v.user.UserID, k.ID, map[string]any{
		"ratelimit": map[string]any{"limit": 100, "duration_ms": 60_000}, "remaining": 1000,
		"refill": map[string]any{"amount": 1000, "interval": "monthly"}, "meta": map[string]any{"plan": "pro"},
	})
	want := limitedKey{ID: k.ID, Name: k.Name, RateLimit: &rateLimit{100, 60_000}, Remaining: ptrTo(int64(1000)),
		Refill: &refill{1000, "monthly"}, Meta: json.RawMessage(`{"plan":"pro"}`)}
	sameKey := func(t *testing.T, got, want limitedKey) {
		t.Helper()
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Fatalf("key %s, want %s", g, w)
		}
	}
	sameKey(t, got, want)
	t.Run("AdminRead", func(t *testing.T) {
		var read limitedKey
		v.do(t, "GET", path, v.admin, nil).wantJSON(t, http.StatusOK, &read)
		sameKey(t, read, want)
	})
	t.Run("OwnerSeesThemReadOnly", func(t *testing.T) {
		var mine limitedKey
		v.do(t, "GET", keyPath(k.ID), v.user.RefreshToken, nil).wantJSON(t, http.StatusOK, &mine)
		sameKey(t, mine, want)
		var list []limitedKey
		v.do(t, "GET", keysPath, v.user.RefreshToken, nil).wantJSON(t, http.StatusOK, &list)
		if len(list) != 1 {
			t.Fatalf("%d keys listed, want 1", len(list))
		}
		sameKey(t, list[0], want)
	})
	t.Run("FieldLeftOutStays", func(t *testing.T) {
		got := v.setLimits(t, v.user.UserID, k.ID, map[string]any{"meta": map[string]any{"plan": "free"}})
		want.Meta = json.RawMessage(`{"plan":"free"}`)
		sameKey(t, got, want)
	})
	t.Run("NullRemoves", func(t *testing.T) {
		got := v.setLimits(t, v.user.UserID, k.ID, map[string]any{"ratelimit": nil, "meta": nil})
		want.RateLimit, want.Meta = nil, nil
		sameKey(t, got, want)
		// Removing the remaining uses removes their refill.
		got = v.setLimits(t, v.user.UserID, k.ID, map[string]any{"remaining": nil})
		want.Remaining, want.Refill = nil, nil
		sameKey(t, got, want)
	})
	errCases := []struct {
		name string
		body any
	}{
		{"RefillWithoutRemaining", map[string]any{"refill": map[string]any{"amount": 5, "interval": "daily"}}},
		{"RefillBadInterval", map[string]any{"remaining": 1, "refill": map[string]any{"amount": 5, "interval": "weekly"}}},
		{"RefillZero", map[string]any{"remaining": 1, "refill": map[string]any{"amount": 0, "interval": "daily"}}},
		{"RemainingNegative", map[string]any{"remaining": -1}},
		{"RemainingHuge", map[string]any{"remaining": 1e300}},
		{"RemainingString", map[string]any{"remaining": "5"}},
		{"LimitZero", map[string]any{"ratelimit": map[string]any{"limit": 0, "duration_ms": 60_000}}},
		{"DurationShort", map[string]any{"ratelimit": map[string]any{"limit": 1, "duration_ms": 999}}},
		{"DurationLong", map[string]any{"ratelimit": map[string]any{"limit": 1, "duration_ms": 86_400_001}}},
		{"DurationMissing", map[string]any{"ratelimit": map[string]any{"limit": 1}}},
		{"MetaTooLarge", map[string]any{"meta": map[string]any{"x": strings.Repeat("a", 4096)}}},
		{"MetaNotObject", map[string]any{"meta": []any{1}}},
		{"MetaString", map[string]any{"meta": "pro"}},
		{"MetaNUL", `{"meta": {"x": "a\u0000b"}}`},
		{"MetaNumberPastFloat", `{"meta": {"x": 1e400}}`},
		{"UnknownField", map[string]any{"rate_limit": nil}},
		{"NotObject", []any{}},
	}
	for _, tt := range errCases {
		t.Run("Err"+tt.name, func(t *testing.T) {
			v.do(t, "PATCH", path, v.admin, tt.body).wantErrorBody(t, http.StatusBadRequest, noCodeOrAny)
		})
	}
	// None of the refused changes was written.
	var read limitedKey
	v.do(t, "GET", path, v.admin, nil).wantJSON(t, http.StatusOK, &read)
	sameKey(t, read, want)
	t.Run("NotAUserKey", func(t *testing.T) {
		sk := v.createServerKey(t, v.admin, v.App.ID, "other-backend")
		r := v.do(t, "GET", adminAppPath(v.App.ID, "/api_keys/"+sk.ID), v.admin, nil)
		var server struct {
			UserID string `json:"user_id"`
		}
		mustUnmarshal(t, r.Body, &server)
		v.do(t, "PATCH", v.keyPath(v.user.UserID, sk.ID), v.admin, map[string]any{"remaining": 1}).wantErrorBody(t, http.StatusNotFound, "APIKeyNotFound")
	})
	t.Run("AppDefaultRateLimit", func(t *testing.T) {
		s := v.patchSettings(t, v.admin, v.AppID, map[string]any{"key_ratelimit": map[string]any{"limit": 10, "duration_ms": 1000}})
		if s.KeyRateLimit == nil || *s.KeyRateLimit != (rateLimit{10, 1000}) {
			t.Fatalf("settings key_ratelimit %+v, want 10 per 1000 ms", s.KeyRateLimit)
		}
		var created limitedKey
		v.do(t, "POST", keysPath, v.user.RefreshToken, map[string]any{"name": "defaulted"}).wantJSON(t, http.StatusCreated, &created)
		if created.RateLimit == nil || *created.RateLimit != (rateLimit{10, 1000}) {
			t.Fatalf("new key's ratelimit %+v, want the app's default", created.RateLimit)
		}
		s = v.patchSettings(t, v.admin, v.AppID, map[string]any{"key_ratelimit": nil})
		if s.KeyRateLimit != nil {
			t.Fatalf("settings key_ratelimit %+v after null, want none", s.KeyRateLimit)
		}
		v.do(t, "PATCH", groupAppPath(v.AppID, "/settings"), v.admin, map[string]any{"key_ratelimit": map[string]any{"limit": 0, "duration_ms": 1000}}).
			wantErrorBody(t, http.StatusBadRequest, noCodeOrAny)
	})
}

func ptrTo[T any](v T) *T { return &v }

// atOnce makes n verify calls at the same time, call(i) the i-th, and counts the answers by
// code.
func atOnce(n int, call func(i int) verifyAnswer) map[string]int {
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		codes = map[string]int{}
	)
	for i := range n {
		wg.Go(func() {
			a := call(i)
			mu.Lock()
			defer mu.Unlock()
			codes[a.Code]++
		})
	}
	wg.Wait()
	return codes
}

// badChecksum changes the last character of a key value, which the checksum covers.
func badChecksum(value string) string {
	last := value[len(value)-1]
	if last == 'A' {
		return value[:len(value)-1] + "B"
	}
	return value[:len(value)-1] + "A"
}

func TestKeyUsage(t *testing.T) {
	v := newVerifyEnv(t)
	k := v.newKey(t, map[string]any{"scopes": []string{"read"}})
	v.setLimits(t, v.user.UserID, k.ID, map[string]any{"ratelimit": map[string]any{"limit": 3, "duration_ms": 86_400_000}})
	for range 3 {
		v.wantCode(t, k.Key, nil, latchkey.VerifyValid)
	}
	v.wantCode(t, k.Key, nil, latchkey.VerifyRateLimited)
	v.wantCode(t, k.Key, map[string]any{"scopes": []string{"write"}}, latchkey.VerifyInsufficientScopes)
	hour := v.Clock.Now().UTC().Truncate(time.Hour).Format(time.RFC3339)
	want := []usageRow{{Time: hour, Valid: 3, RateLimited: 1, Other: 1}}
	check := func(t *testing.T, path, token string) {
		t.Helper()
		var rows []usageRow
		v.do(t, "GET", path, token, nil).wantJSON(t, http.StatusOK, &rows)
		if len(rows) != 1 || rows[0] != want[0] {
			t.Fatalf("usage %+v, want %+v", rows, want)
		}
	}
	t.Run("Admin", func(t *testing.T) { check(t, v.keyPath(v.user.UserID, k.ID)+"/usage", v.admin) })
	t.Run("Owner", func(t *testing.T) { check(t, keyPath(k.ID)+"/usage", v.user.RefreshToken) })
	t.Run("WrittenInBatches", func(t *testing.T) {
		// Once flushed, the counts are the store's, and the same.
		if err := v.Service.FlushKeyUsage(t.Context()); err != nil {
			t.Fatal(err)
		}
		usage, err := v.Store.FindKeyUsage(t.Context(), k.ID, v.Clock.Now().Add(-time.Hour), v.Clock.Now().Add(time.Hour))
		if err != nil || len(usage) != 1 || usage[0].Valid != 3 || usage[0].RateLimited != 1 || usage[0].Other != 1 {
			t.Fatalf("stored usage %+v, %v; want 3 valid, 1 rate limited, 1 other", usage, err)
		}
		stored, err := v.Store.FindAPIKey(t.Context(), v.user.UserID, k.ID)
		if err != nil || stored.LastUsedAt == nil {
			t.Fatalf("last use of a verified key: %v, %v", stored, err)
		}
	})
	t.Run("Range", func(t *testing.T) {
		var rows []usageRow
		next := v.Clock.Now().UTC().Truncate(time.Hour).Add(time.Hour)
		query := "?from=" + next.Format(time.RFC3339) + "&to=" + next.Add(time.Hour).Format(time.RFC3339)
		v.do(t, "GET", keyPath(k.ID)+"/usage"+query, v.user.RefreshToken, nil).wantJSON(t, http.StatusOK, &rows)
		if len(rows) != 0 {
			t.Fatalf("usage from the next hour: %+v, want none", rows)
		}
		v.do(t, "GET", keyPath(k.ID)+"/usage?from=yesterday", v.user.RefreshToken, nil).wantErrorBody(t, http.StatusBadRequest, noCodeOrAny)
	})
	t.Run("OtherUsersKey", func(t *testing.T) {
		other := v.newUser(t, v.AppID)
		v.do(t, "GET", keyPath(k.ID)+"/usage", other.RefreshToken, nil).wantErrorBody(t, http.StatusNotFound, "APIKeyNotFound")
	})
}

// TestVerifyRemainingExact sends 50 verifies at once for a key with 30 uses: exactly 30 are
// valid.
func TestVerifyRemainingExact(t *testing.T) {
	v := newVerifyEnv(t)
	k := v.newKey(t, map[string]any{})
	v.setLimits(t, v.user.UserID, k.ID, map[string]any{"remaining": 30, "ratelimit": map[string]any{"limit": 1000, "duration_ms": 60_000}})
	codes := atOnce(50, func(int) verifyAnswer { return v.verify(t, map[string]any{"key": k.Key}) })
	if codes[latchkey.VerifyValid] != 30 || codes[latchkey.VerifyUsageExceeded] != 20 {
		t.Fatalf("codes %v, want 30 VALID and 20 USAGE_EXCEEDED", codes)
	}
	if a := v.wantCode(t, k.Key, map[string]any{"cost": 0}, latchkey.VerifyUsageExceeded); a.Remaining == nil || *a.Remaining != 0 {
		t.Fatalf("remaining %v, want 0", a.Remaining)
	}
}
