package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey/client"
	"github.com/latchkey/latchkey/internal/testserver"
)

// verifyFixture is a server with an app that declares scopes, its admin, a server key of
// that app and a Verifier made with it, and an owner of user keys.
type verifyFixture struct {
	srv       *testserver.Server
	app       *client.App
	users     *client.AppUsers
	verifier  *client.Verifier
	serverKey string
	owner     *client.User
}

const verifyAppID = "verify-app"

func newVerifyFixture(t *testing.T) *verifyFixture {
	t.Helper()
	srv := newAdminServer(t)
	app := mustNewScopedApp(t, srv, verifyAppID)
	a := mustLogInAdmin(t, srv)
	sk, err := a.ServerAPIKeys(verifyAppID).Create(context.Background(), "backend")
	if err != nil {
		t.Fatal(err)
	}
	return &verifyFixture{
		srv: srv, app: app, users: a.Users(verifyAppID),
		verifier: client.NewVerifier(srv.URL, verifyAppID, sk.Value), serverKey: sk.Value,
		owner: mustRegister(t, app),
	}
}

// key creates a key of the owner with the options.
func (f *verifyFixture) key(t *testing.T, name string, opts ...client.KeyOption) client.APIKey {
	t.Helper()
	k, err := f.owner.APIKeys().Create(context.Background(), name, opts...)
	if err != nil {
		t.Fatalf("create key %q: %v", name, err)
	}
	return k
}

// limit sets limits on one of the owner's keys.
func (f *verifyFixture) limit(t *testing.T, k client.APIKey, limits client.KeyLimits) client.APIKey {
	t.Helper()
	got, err := f.users.SetAPIKeyLimits(context.Background(), f.owner.ID(), k.ID, limits)
	if err != nil {
		t.Fatalf("set limits of %s: %v", k.Name, err)
	}
	return got
}

// verify verifies value and fails the test on an error.
func (f *verifyFixture) verify(t *testing.T, value string, opts ...client.VerifyOption) *client.VerifyResult {
	t.Helper()
	res, err := f.verifier.Verify(context.Background(), value, opts...)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return res
}

// windowEnd returns the end of the rate limit window of d that holds now.
func windowEnd(now time.Time, d time.Duration) time.Time {
	ms := now.UnixMilli()
	return time.UnixMilli(ms - ms%d.Milliseconds() + d.Milliseconds()).UTC()
}

func sameJSON(t *testing.T, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Fatalf("JSON (-want +got):\n%s", diff)
	}
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	f := newVerifyFixture(t)

	t.Run("Valid", func(t *testing.T) {
		k := f.key(t, "ci", client.KeyScopes("read"))
		got := f.verify(t, k.Value)
		want := &client.VerifyResult{Valid: true, Code: client.VerifyValid, KeyID: k.ID, UserID: f.owner.ID(), Name: "ci", Scopes: []string{"read"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("Verify (-want +got):\n%s", diff)
		}
		if got := f.verify(t, k.Value, client.VerifyScopes("read")); got.Code != client.VerifyValid {
			t.Fatalf("Verify with a scope of the key = %+v", got)
		}
	})
	t.Run("InsufficientScopes", func(t *testing.T) {
		k := f.key(t, "reader", client.KeyScopes("read"))
		got := f.verify(t, k.Value, client.VerifyScopes("read", "write"))
		if got.Valid || got.Code != client.VerifyInsufficientScopes || got.KeyID != k.ID || got.UserID != f.owner.ID() {
			t.Fatalf("Verify with a scope the key lacks = %+v", got)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		other := mustRegister(t, mustNewApp(t, f.srv)) // a user of another app
		otherKey := mustCreateKey(t, other, "elsewhere")
		for _, value := range []string{"lk_nothing", "not a key", otherKey.Value} {
			got := f.verify(t, value)
			if diff := cmp.Diff(&client.VerifyResult{Code: client.VerifyNotFound}, got); diff != "" {
				t.Fatalf("Verify(%q) (-want +got):\n%s", value, diff)
			}
		}
	})
	t.Run("Disabled", func(t *testing.T) {
		k := f.key(t, "off")
		if err := f.owner.APIKeys().Disable(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		if got := f.verify(t, k.Value); got.Valid || got.Code != client.VerifyDisabled || got.KeyID != k.ID {
			t.Fatalf("Verify of a disabled key = %+v", got)
		}
	})
	t.Run("Remaining", func(t *testing.T) {
		k := f.key(t, "metered")
		f.limit(t, k, client.KeyLimits{Remaining: new(int64(2)), Meta: json.RawMessage(`{"plan":"pro"}`)})
		got := f.verify(t, k.Value)
		if !got.Valid || got.Remaining == nil || *got.Remaining != 1 || got.RateLimit != nil {
			t.Fatalf("first use = %+v", got)
		}
		sameJSON(t, got.Meta, `{"plan":"pro"}`)
		// Cost 0 checks without taking.
		if got := f.verify(t, k.Value, client.VerifyCost(0)); !got.Valid || *got.Remaining != 1 {
			t.Fatalf("a check of cost 0 = %+v", got)
		}
		if got := f.verify(t, k.Value, client.VerifyCost(2)); got.Code != client.VerifyUsageExceeded || *got.Remaining != 1 {
			t.Fatalf("a use of cost 2 with 1 left = %+v", got)
		}
		if got := f.verify(t, k.Value); !got.Valid || *got.Remaining != 0 {
			t.Fatalf("the last use = %+v", got)
		}
		got = f.verify(t, k.Value)
		if got.Valid || got.Code != client.VerifyUsageExceeded || got.Remaining == nil || *got.Remaining != 0 {
			t.Fatalf("a use with none left = %+v", got)
		}
	})
	t.Run("Errors", func(t *testing.T) {
		k := f.key(t, "any")
		for _, bad := range []string{"", "lk_nothing", k.Value} { // none, no key, a user's key
			_, err := client.NewVerifier(f.srv.URL, verifyAppID, bad).Verify(ctx, k.Value)
			wantError(t, err, 401, client.ErrInvalidSession)
		}
		_, err := f.verifier.Verify(ctx, k.Value, client.VerifyCost(1001))
		wantStatus(t, err, 400)
		_, err = f.verifier.Verify(ctx, k.Value, client.VerifyCost(-1))
		wantStatus(t, err, 400)
		// This app's server key, for another app.
		_, err = client.NewVerifier(f.srv.URL, f.srv.AppID, f.serverKey).Verify(ctx, k.Value)
		wantError(t, err, 401, client.ErrInvalidSession)
	})
}

// wantStatus fails the test unless err is an *Error of the status.
func wantStatus(t *testing.T, err error, status int) {
	t.Helper()
	var e *client.Error
	if !asError(err, &e) || e.StatusCode != status {
		t.Fatalf("err = %v, want a *client.Error of status %d", err, status)
	}
}

func asError(err error, e **client.Error) bool { return errors.As(err, e) }

func TestVerifyRateLimited(t *testing.T) {
	f := newVerifyFixture(t)
	f.srv.Clock.Freeze()
	k := f.key(t, "limited")
	f.limit(t, k, client.KeyLimits{RateLimit: &client.KeyRateLimit{Limit: 2, Duration: time.Minute}})
	reset := windowEnd(f.srv.Clock.Now(), time.Minute)

	for i, left := range []int64{1, 0} {
		got := f.verify(t, k.Value)
		want := &client.RateLimitState{Limit: 2, Remaining: left, Reset: reset}
		if !got.Valid || got.RateLimit == nil || !cmp.Equal(want, got.RateLimit) {
			t.Fatalf("use %d = %+v (rate limit %+v), want %+v", i+1, got, got.RateLimit, want)
		}
	}
	got := f.verify(t, k.Value)
	if want := (&client.RateLimitState{Limit: 2, Remaining: 0, Reset: reset}); got.Valid || got.Code != client.VerifyRateLimited || !cmp.Equal(want, got.RateLimit) {
		t.Fatalf("a use past the limit = %+v (rate limit %+v), want RATE_LIMITED with %+v", got, got.RateLimit, want)
	}
	// The next window starts afresh.
	f.srv.Clock.Advance(time.Minute)
	if got := f.verify(t, k.Value); !got.Valid || got.RateLimit.Remaining != 1 {
		t.Fatalf("a use in the next window = %+v", got)
	}
}

// middlewareAnswer is what the middleware's test handler or the middleware answered.
type middlewareAnswer struct {
	status     int
	retryAfter string
	www        string
	body       map[string]string
}

func callMiddleware(t *testing.T, url, authorization string) middlewareAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := middlewareAnswer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), www: resp.Header.Get("WWW-Authenticate")}
	if err := json.Unmarshal(b, &a.body); err != nil {
		t.Fatalf("answer %d is not a JSON object: %q", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("answer %d has Content-Type %q", resp.StatusCode, ct)
	}
	return a
}

func TestVerifierMiddleware(t *testing.T) {
	ctx := context.Background()
	f := newVerifyFixture(t)
	f.srv.Clock.Freeze()
	client.SetVerifierClock(f.verifier, f.srv.Clock.Now)

	if client.VerifyResultFromContext(ctx) != nil {
		t.Fatal("VerifyResultFromContext of a bare context is not nil")
	}
	calls := 0
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		res := client.VerifyResultFromContext(r.Context())
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"key_id": res.KeyID, "user_id": res.UserID, "code": res.Code})
	})
	backend := httptest.NewServer(f.verifier.Middleware(client.VerifyScopes("read"))(handler))
	defer backend.Close()

	reader := f.key(t, "reader", client.KeyScopes("read"))
	writer := f.key(t, "writer", client.KeyScopes("write"))
	metered := f.key(t, "metered", client.KeyScopes("read"))
	f.limit(t, metered, client.KeyLimits{Remaining: new(int64(0))})
	limited := f.key(t, "limited", client.KeyScopes("read"))
	f.limit(t, limited, client.KeyLimits{RateLimit: &client.KeyRateLimit{Limit: 1, Duration: time.Hour}})
	disabled := f.key(t, "disabled", client.KeyScopes("read"))
	if err := f.owner.APIKeys().Disable(ctx, disabled.ID); err != nil {
		t.Fatal(err)
	}

	t.Run("Valid", func(t *testing.T) {
		for _, scheme := range []string{"Bearer ", "bearer "} {
			got := callMiddleware(t, backend.URL, scheme+reader.Value)
			want := map[string]string{"key_id": reader.ID, "user_id": f.owner.ID(), "code": client.VerifyValid}
			if got.status != 200 || !cmp.Equal(want, got.body) {
				t.Fatalf("%q: %+v, want 200 with %v", scheme, got, want)
			}
		}
	})
	for _, c := range []struct {
		name, authorization string
		status              int
		code                string
	}{
		{"NoHeader", "", 401, client.MiddlewareMissingKey},
		{"NotBearer", "Basic " + reader.Value, 401, client.MiddlewareMissingKey},
		{"EmptyBearer", "Bearer ", 401, client.MiddlewareMissingKey},
		{"NotFound", "Bearer lk_nothing", 401, client.VerifyNotFound},
		{"Disabled", "Bearer " + disabled.Value, 401, client.VerifyDisabled},
		{"InsufficientScopes", "Bearer " + writer.Value, 403, client.VerifyInsufficientScopes},
		{"UsageExceeded", "Bearer " + metered.Value, 429, client.VerifyUsageExceeded},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := calls
			got := callMiddleware(t, backend.URL, c.authorization)
			if got.status != c.status || got.body["code"] != c.code || got.body["error"] == "" || got.retryAfter != "" {
				t.Fatalf("%+v, want %d with code %s and no Retry-After", got, c.status, c.code)
			}
			if (c.status == 401) != (got.www != "") {
				t.Fatalf("WWW-Authenticate %q on a %d", got.www, got.status)
			}
			if calls != before {
				t.Fatal("the handler ran for a refused request")
			}
		})
	}
	t.Run("RateLimited", func(t *testing.T) {
		if got := callMiddleware(t, backend.URL, "Bearer "+limited.Value); got.status != 200 {
			t.Fatalf("the first use: %+v", got)
		}
		now := f.srv.Clock.Now()
		wait := windowEnd(now, time.Hour).Sub(now)
		want := strconv.FormatInt(int64((wait+time.Second-1)/time.Second), 10)
		got := callMiddleware(t, backend.URL, "Bearer "+limited.Value)
		if got.status != 429 || got.body["code"] != client.VerifyRateLimited || got.retryAfter != want {
			t.Fatalf("a use past the limit: %+v, want 429 RATE_LIMITED with Retry-After %s", got, want)
		}
	})
	t.Run("Unavailable", func(t *testing.T) {
		for name, v := range map[string]*client.Verifier{
			"BadServerKey": client.NewVerifier(f.srv.URL, verifyAppID, "lk_nothing"),
			"NoServer":     client.NewVerifier(deadURL(t), verifyAppID, "lk_nothing"),
		} {
			down := httptest.NewServer(v.Middleware()(handler))
			before := calls
			got := callMiddleware(t, down.URL, "Bearer "+reader.Value)
			down.Close()
			if got.status != 503 || got.body["code"] != client.MiddlewareUnavailable || calls != before {
				t.Fatalf("%s: %+v, want 503 UNAVAILABLE without the handler", name, got)
			}
		}
	})
}

// deadURL returns the URL of a loopback port that nothing listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	s := httptest.NewServer(http.NotFoundHandler())
	url := s.URL
	s.Close()
	return url
}

func TestSetAPIKeyLimits(t *testing.T) {
	ctx := context.Background()
	f := newVerifyFixture(t)
	k := f.key(t, "ci")

	rl := &client.KeyRateLimit{Limit: 100, Duration: time.Minute}
	refill := &client.KeyRefill{Amount: 1000, Interval: client.RefillDaily}
	got := f.limit(t, k, client.KeyLimits{RateLimit: rl, Remaining: new(int64(1000)), Refill: refill, Meta: json.RawMessage(`{"plan":"pro"}`)})
	if got.ID != k.ID || !cmp.Equal(rl, got.RateLimit) || got.Remaining == nil || *got.Remaining != 1000 || !cmp.Equal(refill, got.Refill) {
		t.Fatalf("SetAPIKeyLimits = %+v", got)
	}
	sameJSON(t, got.Meta, `{"plan":"pro"}`)

	// A field left out stays; only meta changes.
	got = f.limit(t, k, client.KeyLimits{Meta: json.RawMessage(`{"plan":"team"}`)})
	if !cmp.Equal(rl, got.RateLimit) || *got.Remaining != 1000 || !cmp.Equal(refill, got.Refill) {
		t.Fatalf("after changing meta only = %+v", got)
	}
	sameJSON(t, got.Meta, `{"plan":"team"}`)

	// The admin's read and the owner's listing show the same limits.
	read, err := f.users.APIKey(ctx, f.owner.ID(), k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, read); diff != "" {
		t.Fatalf("admin read (-set +read):\n%s", diff)
	}
	owned, err := f.owner.APIKeys().Fetch(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(rl, owned.RateLimit) || *owned.Remaining != 1000 || !cmp.Equal(refill, owned.Refill) {
		t.Fatalf("the owner's read = %+v", owned)
	}
	sameJSON(t, owned.Meta, `{"plan":"team"}`)

	// Removing: the rate limit alone, then remaining (which takes the refill along), then meta.
	got = f.limit(t, k, client.KeyLimits{RemoveRateLimit: true})
	if got.RateLimit != nil || got.Remaining == nil || got.Refill == nil || got.Meta == nil {
		t.Fatalf("after removing the rate limit = %+v", got)
	}
	got = f.limit(t, k, client.KeyLimits{RemoveRemaining: true})
	if got.Remaining != nil || got.Refill != nil || got.Meta == nil {
		t.Fatalf("after removing remaining = %+v", got)
	}
	got = f.limit(t, k, client.KeyLimits{RemoveMeta: true})
	if got.RateLimit != nil || got.Remaining != nil || got.Refill != nil || got.Meta != nil || len(got.Extra) != 0 {
		t.Fatalf("after removing everything = %+v", got)
	}

	t.Run("Errors", func(t *testing.T) {
		_, err := f.users.SetAPIKeyLimits(ctx, f.owner.ID(), k.ID, client.KeyLimits{RateLimit: rl, RemoveRateLimit: true})
		if err == nil || err.Error() != "client: ratelimit is both set and removed" {
			t.Fatalf("set and removed: %v", err)
		}
		for name, l := range map[string]client.KeyLimits{
			"ZeroLimit":     {RateLimit: &client.KeyRateLimit{Limit: 0, Duration: time.Minute}},
			"ShortWindow":   {RateLimit: &client.KeyRateLimit{Limit: 1, Duration: time.Millisecond}},
			"LongWindow":    {RateLimit: &client.KeyRateLimit{Limit: 1, Duration: 25 * time.Hour}},
			"Negative":      {Remaining: new(int64(-1))},
			"BadInterval":   {Remaining: new(int64(1)), Refill: &client.KeyRefill{Amount: 1, Interval: "weekly"}},
			"RefillAlone":   {Refill: refill},
			"MetaNotObject": {Meta: json.RawMessage(`[1]`)},
			"MetaTooLarge":  {Meta: json.RawMessage(`{"a":"` + string(bytes.Repeat([]byte("x"), 4096)) + `"}`)},
		} {
			_, err := f.users.SetAPIKeyLimits(ctx, f.owner.ID(), k.ID, l)
			var e *client.Error
			if !asError(err, &e) || e.StatusCode != 400 {
				t.Errorf("%s: err = %v, want status 400", name, err)
			}
		}
		_, err = f.users.SetAPIKeyLimits(ctx, f.owner.ID(), "000000000000000000000000", client.KeyLimits{RemoveMeta: true})
		wantError(t, err, 404, client.ErrAPIKeyNotFound)
		// The refused changes left the key as it was.
		if read, err := f.users.APIKey(ctx, f.owner.ID(), k.ID); err != nil || read.RateLimit != nil || read.Remaining != nil || read.Meta != nil {
			t.Fatalf("the key after refused changes: %+v, %v", read, err)
		}
	})
}

func TestKeyLimitsJSON(t *testing.T) {
	for _, c := range []struct {
		name string
		v    any
		want string
	}{
		{"Nothing", client.KeyLimits{}, `{}`},
		{"Set", client.KeyLimits{
			RateLimit: &client.KeyRateLimit{Limit: 100, Duration: time.Minute}, Remaining: new(int64(5)),
			Refill: &client.KeyRefill{Amount: 5, Interval: client.RefillMonthly}, Meta: json.RawMessage(`{"plan":"pro"}`),
		}, `{"ratelimit":{"limit":100,"duration_ms":60000},"remaining":5,"refill":{"amount":5,"interval":"monthly"},"meta":{"plan":"pro"}}`},
		{"Removed", client.KeyLimits{RemoveRateLimit: true, RemoveRemaining: true, RemoveRefill: true, RemoveMeta: true},
			`{"ratelimit":null,"remaining":null,"refill":null,"meta":null}`},
		{"RemainingZero", client.KeyLimits{Remaining: new(int64(0))}, `{"remaining":0}`},
		{"SettingsNothing", client.AppSettingsUpdate{}, `{}`},
		{"SettingsSet", client.AppSettingsUpdate{AutoConfirm: new(false), KeyRateLimit: &client.KeyRateLimit{Limit: 5, Duration: time.Second}},
			`{"auto_confirm":false,"key_ratelimit":{"limit":5,"duration_ms":1000}}`},
		{"SettingsRemoved", client.AppSettingsUpdate{RemoveKeyRateLimit: true}, `{"key_ratelimit":null}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := json.Marshal(c.v)
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, b, c.want)
		})
	}
	if _, err := json.Marshal(client.AppSettingsUpdate{KeyRateLimit: &client.KeyRateLimit{}, RemoveKeyRateLimit: true}); err == nil {
		t.Fatal("a key rate limit both set and removed was marshalled")
	}
}

func TestAppKeyRateLimitSetting(t *testing.T) {
	ctx := context.Background()
	f := newVerifyFixture(t)
	a := mustLogInAdmin(t, f.srv)
	before := f.key(t, "before")

	rl := &client.KeyRateLimit{Limit: 5, Duration: 10 * time.Second}
	s, err := a.UpdateAppSettings(ctx, verifyAppID, client.AppSettingsUpdate{KeyRateLimit: rl})
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(rl, s.KeyRateLimit) {
		t.Fatalf("settings key_ratelimit = %+v, want %+v", s.KeyRateLimit, rl)
	}
	if s, err := a.AppSettings(ctx, verifyAppID); err != nil || !cmp.Equal(rl, s.KeyRateLimit) {
		t.Fatalf("settings read back: %+v, %v", s.KeyRateLimit, err)
	}
	after := f.key(t, "after")
	if !cmp.Equal(rl, after.RateLimit) {
		t.Fatalf("a new key's rate limit = %+v, want the app's %+v", after.RateLimit, rl)
	}
	if got := f.verify(t, after.Value); got.RateLimit == nil || got.RateLimit.Limit != 5 {
		t.Fatalf("verify of the new key = %+v", got)
	}
	if got, err := f.users.APIKey(ctx, f.owner.ID(), before.ID); err != nil || got.RateLimit != nil {
		t.Fatalf("a key made before the setting: %+v, %v", got, err)
	}

	// Other settings left alone keep the default; removing it leaves the keys theirs.
	if s, err := a.UpdateAppSettings(ctx, verifyAppID, client.AppSettingsUpdate{AutoConfirm: new(true)}); err != nil || !cmp.Equal(rl, s.KeyRateLimit) {
		t.Fatalf("after another setting: %+v, %v", s.KeyRateLimit, err)
	}
	s, err = a.UpdateAppSettings(ctx, verifyAppID, client.AppSettingsUpdate{RemoveKeyRateLimit: true})
	if err != nil || s.KeyRateLimit != nil {
		t.Fatalf("after removing: %+v, %v", s.KeyRateLimit, err)
	}
	if got := f.key(t, "later"); got.RateLimit != nil {
		t.Fatalf("a key made after the removal has %+v", got.RateLimit)
	}
	if got, err := f.users.APIKey(ctx, f.owner.ID(), after.ID); err != nil || !cmp.Equal(rl, got.RateLimit) {
		t.Fatalf("a key made with the default, after its removal: %+v, %v", got.RateLimit, err)
	}
	_, err = a.UpdateAppSettings(ctx, verifyAppID, client.AppSettingsUpdate{KeyRateLimit: &client.KeyRateLimit{Limit: 1, Duration: time.Millisecond}})
	wantStatus(t, err, 400)
	// CreateApp still sends the client app id beside the settings.
	created, err := a.CreateApp(ctx, "limited-app", client.AppSettingsUpdate{KeyRateLimit: rl})
	if err != nil || created.ClientAppID != "limited-app" {
		t.Fatalf("CreateApp: %+v, %v", created, err)
	}
	if s, err := a.AppSettings(ctx, "limited-app"); err != nil || !cmp.Equal(rl, s.KeyRateLimit) {
		t.Fatalf("the created app's key_ratelimit: %+v, %v", s.KeyRateLimit, err)
	}
}

// waitUsage reads usage until its counts add up to total, as the server writes them in
// batches, about once a second; it gives up after 10 seconds and returns the last read.
func waitUsage(t *testing.T, total int64, read func() ([]client.KeyUsage, error)) []client.KeyUsage {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		usage, err := read()
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		for _, u := range usage {
			sum += u.Valid + u.RateLimited + u.UsageExceeded + u.Other
		}
		if sum >= total || time.Now().After(deadline) {
			return usage
		}
	}
}

func TestAPIKeyUsage(t *testing.T) {
	ctx := context.Background()
	f := newVerifyFixture(t)
	f.srv.Clock.Freeze()
	k := f.key(t, "ci", client.KeyScopes("read"))
	f.limit(t, k, client.KeyLimits{RateLimit: &client.KeyRateLimit{Limit: 2, Duration: time.Hour}})
	for _, scopes := range [][]string{{"read"}, {"write"}, {}, {}} { // valid, other, valid, rate limited
		f.verify(t, k.Value, client.VerifyScopes(scopes...))
	}
	hour := f.srv.Clock.Now().UTC().Truncate(time.Hour)
	want := []client.KeyUsage{{Time: hour, Valid: 2, RateLimited: 1, Other: 1}}

	got := waitUsage(t, 4, func() ([]client.KeyUsage, error) {
		return f.users.APIKeyUsage(ctx, f.owner.ID(), k.ID, time.Time{}, time.Time{})
	})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("admin usage (-want +got):\n%s", diff)
	}
	owned, err := f.owner.APIKeys().Usage(ctx, k.ID, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, owned); diff != "" {
		t.Fatalf("owner usage (-want +got):\n%s", diff)
	}
	async := <-f.owner.APIKeys().UsageAsync(ctx, k.ID, hour, hour.Add(time.Hour))
	if async.Err != nil || !cmp.Equal(want, async.Value) {
		t.Fatalf("owner usage of the hour: %+v, %v", async.Value, async.Err)
	}
	// A range without the hour has nothing.
	if got, err := f.users.APIKeyUsage(ctx, f.owner.ID(), k.ID, hour.Add(-2*time.Hour), hour); err != nil || len(got) != 0 {
		t.Fatalf("usage before the hour: %+v, %v", got, err)
	}

	_, err = f.users.APIKeyUsage(ctx, f.owner.ID(), "000000000000000000000000", time.Time{}, time.Time{})
	wantError(t, err, 404, client.ErrAPIKeyNotFound)
	_, err = f.owner.APIKeys().Usage(ctx, "000000000000000000000000", time.Time{}, time.Time{})
	wantError(t, err, 404, client.ErrAPIKeyNotFound)
	// Another user's key is not the owner's to read.
	other := mustRegister(t, f.app)
	_, err = other.APIKeys().Usage(ctx, k.ID, time.Time{}, time.Time{})
	wantError(t, err, 404, client.ErrAPIKeyNotFound)
}
