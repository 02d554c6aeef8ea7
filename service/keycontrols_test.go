package service_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/teststore"
	"github.com/latchkey/latchkey/service"
)

func (f *fixture) keyLogin(value string) (*latchkey.Login, error) {
	return f.svc.Auth.LogIn(context.Background(), f.app, latchkey.Credentials{Provider: latchkey.ProviderAPIKey, Key: value})
}

func ptr[T any](v T) *T { return &v }

func TestKeyExpiry(t *testing.T) {
	t.Run("ExpiresIn", func(t *testing.T) {
		f := newFixture(t, nil)
		ctx, _ := f.login(t, "ann@example.com")
		k, err := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "k", ExpiresIn: ptr(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if want := f.Now().Add(time.Hour); k.ExpiresAt == nil || !k.ExpiresAt.Equal(want) {
			t.Fatalf("expires at %v, want %v", k.ExpiresAt, want)
		}
		login, err := f.keyLogin(k.Value)
		if err != nil {
			t.Fatalf("login before expiry: %v", err)
		}
		f.advance(time.Hour)
		_, err = f.keyLogin(k.Value)
		wantCode(t, err, latchkey.EUnauthorized)
		// The session opened with the key ended with it.
		_, err = f.svc.Auth.Authenticate(context.Background(), login.RefreshToken, latchkey.RefreshToken)
		wantCode(t, err, latchkey.EUnauthenticated)
	})
	t.Run("AccessTokenEndsWithKey", func(t *testing.T) {
		f := newFixture(t, nil)
		ctx, _ := f.login(t, "ann@example.com")
		k, _ := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "k", ExpiresIn: ptr(10 * time.Minute)})
		login, _ := f.keyLogin(k.Value)
		if c := claimsOf(t, login.AccessToken); c["exp"].(float64) != float64(k.ExpiresAt.Unix()) {
			t.Fatalf("access token exp = %v, want the key's expiry %d", c["exp"], k.ExpiresAt.Unix())
		}
	})
	for _, tt := range []struct {
		name string
		in   latchkey.APIKeyInput
	}{
		{"ErrBoth", latchkey.APIKeyInput{Name: "k", ExpiresIn: ptr(time.Hour), ExpiresAt: ptr(time.Now().Add(time.Hour))}},
		{"ErrPast", latchkey.APIKeyInput{Name: "k", ExpiresAt: ptr(time.Now().Add(-time.Minute))}},
		{"ErrOverAppMaximum", latchkey.APIKeyInput{Name: "k", ExpiresIn: ptr(48 * time.Hour)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(a *latchkey.App) { a.MaxKeyLifetime = 24 * time.Hour })
			ctx, _ := f.login(t, "ann@example.com")
			_, err := f.svc.APIKeys.CreateAPIKey(ctx, tt.in)
			wantCode(t, err, latchkey.EInvalid)
		})
	}
	t.Run("AppMaximumIsTheDefault", func(t *testing.T) {
		f := newFixture(t, func(a *latchkey.App) { a.MaxKeyLifetime = 24 * time.Hour })
		ctx, _ := f.login(t, "ann@example.com")
		k, err := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "k"})
		if err != nil {
			t.Fatal(err)
		}
		if want := f.Now().Add(24 * time.Hour); k.ExpiresAt == nil || !k.ExpiresAt.Equal(want) {
			t.Fatalf("expires at %v, want the app maximum %v", k.ExpiresAt, want)
		}
	})
}

func TestRotateAPIKey(t *testing.T) {
	t.Run("GracePeriod", func(t *testing.T) {
		f := newFixture(t, nil)
		ctx, _ := f.login(t, "ann@example.com")
		old, _ := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "k"})
		oldSession, _ := f.keyLogin(old.Value)
		k, err := f.svc.APIKeys.RotateAPIKey(ctx, old.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if k.ID != old.ID || k.Name != old.Name || k.Value == old.Value || !latchkey.CheckKeyValue(k.Value) {
			t.Fatalf("rotated key %+v: want same id and name, a new valid value", k)
		}
		if _, err := f.keyLogin(k.Value); err != nil {
			t.Fatalf("new value: %v", err)
		}
		f.advance(59 * time.Minute)
		if _, err := f.keyLogin(old.Value); err != nil {
			t.Fatalf("old value within the grace period: %v", err)
		}
		if _, err := f.svc.Auth.Authenticate(context.Background(), oldSession.RefreshToken, latchkey.RefreshToken); err != nil {
			t.Fatalf("session from before the rotation, within the grace period: %v", err)
		}
		f.advance(2 * time.Minute)
		_, err = f.keyLogin(old.Value)
		wantCode(t, err, latchkey.EUnauthorized)
		_, err = f.svc.Auth.Authenticate(context.Background(), oldSession.RefreshToken, latchkey.RefreshToken)
		wantCode(t, err, latchkey.EUnauthenticated)
		if _, err := f.keyLogin(k.Value); err != nil {
			t.Fatalf("new value after the grace period: %v", err)
		}
	})
	t.Run("NoGrace", func(t *testing.T) {
		f := newFixture(t, nil)
		ctx, _ := f.login(t, "ann@example.com")
		old, _ := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "k"})
		if _, err := f.svc.APIKeys.RotateAPIKey(ctx, old.ID, 0); err != nil {
			t.Fatal(err)
		}
		_, err := f.keyLogin(old.Value)
		wantCode(t, err, latchkey.EUnauthorized)
	})
	t.Run("ErrGraceTooLong", func(t *testing.T) {
		f := newFixture(t, nil)
		ctx, _ := f.login(t, "ann@example.com")
		k, _ := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "k"})
		_, err := f.svc.APIKeys.RotateAPIKey(ctx, k.ID, 7*24*time.Hour+time.Second)
		wantCode(t, err, latchkey.EInvalid)
	})
	t.Run("ErrNotOwner", func(t *testing.T) {
		f := newFixture(t, nil)
		ann, _ := f.login(t, "ann@example.com")
		bob, _ := f.login(t, "bob@example.com")
		k, _ := f.svc.APIKeys.CreateAPIKey(ann, latchkey.APIKeyInput{Name: "k"})
		_, err := f.svc.APIKeys.RotateAPIKey(bob, k.ID, 0)
		wantCode(t, err, latchkey.EAPIKeyNotFound)
	})
	t.Run("ErrKeySession", func(t *testing.T) {
		f := newFixture(t, nil)
		ctx, _ := f.login(t, "ann@example.com")
		k, _ := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "k"})
		login, _ := f.keyLogin(k.Value)
		_, err := f.svc.APIKeys.RotateAPIKey(f.caller(t, login.RefreshToken, latchkey.RefreshToken), k.ID, 0)
		wantCode(t, err, latchkey.EForbidden)
	})
}

// touchCounter counts the writes of last use that reach the store.
type touchCounter struct {
	latchkey.Store
	touches atomic.Int64
}

func (c *touchCounter) TouchAPIKey(ctx context.Context, id string, t time.Time) error {
	c.touches.Add(1)
	return c.Store.TouchAPIKey(ctx, id, t)
}

func TestLastUseCoalesced(t *testing.T) {
	counter := &touchCounter{Store: teststore.Open(t)}
	f := newFixtureOn(t, counter, nil)
	ctx, _ := f.login(t, "ann@example.com")
	k, _ := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "k"})
	for range 20 {
		if _, err := f.keyLogin(k.Value); err != nil {
			t.Fatal(err)
		}
	}
	if got := counter.touches.Load(); got != 1 {
		t.Fatalf("20 logins within a minute wrote last use %d times, want 1", got)
	}
	f.advance(time.Minute)
	f.keyLogin(k.Value)
	if got := counter.touches.Load(); got != 2 {
		t.Fatalf("a login a minute later: %d writes in all, want 2", got)
	}
	got, _ := f.svc.APIKeys.FindAPIKey(ctx, k.ID)
	if got.LastUsedAt == nil || !got.LastUsedAt.Equal(f.Now()) {
		t.Fatalf("last used at %v, want %v", got.LastUsedAt, f.Now())
	}
}

// claimsOf decodes a token's payload without verifying it.
func claimsOf(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestScopes(t *testing.T) {
	f := newFixture(t, func(a *latchkey.App) { a.Scopes = []string{"read", "write", "billing"} })
	ctx, pw := f.login(t, "ann@example.com")
	k, err := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "k", Scopes: []string{"read", "billing"}})
	if err != nil {
		t.Fatal(err)
	}
	login, _ := f.keyLogin(k.Value)
	if got := claimsOf(t, login.AccessToken)["scope"]; got != "read billing" {
		t.Fatalf("scope claim = %v, want \"read billing\"", got)
	}
	refreshed, err := f.svc.Auth.Refresh(f.caller(t, login.RefreshToken, latchkey.RefreshToken))
	if err != nil || claimsOf(t, refreshed)["scope"] != "read billing" {
		t.Fatalf("refreshed token scope = %v (%v), want \"read billing\"", claimsOf(t, refreshed)["scope"], err)
	}
	if _, ok := claimsOf(t, pw.AccessToken)["scope"]; ok {
		t.Fatal("a password session's token carries a scope claim; it should act with full rights")
	}
	_, err = f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "bad", Scopes: []string{"admin"}})
	wantCode(t, err, latchkey.EInvalid)
	_, err = f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "dup", Scopes: []string{"read", "read"}})
	wantCode(t, err, latchkey.EInvalid)
}

func TestReportLeakedKeys(t *testing.T) {
	f := newFixture(t, nil)
	ctx, _ := f.login(t, "ann@example.com")
	live, _ := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "live"})
	rotated, _ := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "rotated"})
	oldValue := rotated.Value
	rotated, _ = f.svc.APIKeys.RotateAPIKey(ctx, rotated.ID, time.Hour)
	session, _ := f.keyLogin(live.Value)

	found, err := f.svc.Leaks.ReportLeakedKeys(context.Background(), f.app, []string{live.Value, oldValue, latchkey.NewKeyValue("lk"), "garbage"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []bool{true, true, false, false}; !slices.Equal(found, want) {
		t.Fatalf("found = %v, want %v", found, want)
	}
	_, err = f.keyLogin(live.Value)
	wantCode(t, err, latchkey.EUnauthorized)
	_, err = f.svc.Auth.Authenticate(context.Background(), session.RefreshToken, latchkey.RefreshToken)
	wantCode(t, err, latchkey.EUnauthenticated)
	_, err = f.keyLogin(oldValue)
	wantCode(t, err, latchkey.EUnauthorized)
	if _, err := f.keyLogin(rotated.Value); err != nil {
		t.Fatalf("the rotated key's new value must keep working: %v", err)
	}
	wantCode(t, f.svc.Leaks.CheckLeakSecret(context.Background(), f.app, "anything"), latchkey.EUnauthenticated)
}

func TestServerAPIKeyControls(t *testing.T) {
	f := newFixture(t, func(a *latchkey.App) {
		a.MaxKeyLifetime = 24 * time.Hour
		a.Scopes = []string{"read", "write"}
	})
	a, err := f.svc.Admins.CreateAdmin(context.Background(), "root@example.com", "rootpassword1")
	if err != nil {
		t.Fatal(err)
	}
	ctx := latchkey.NewContextWithAdmin(context.Background(), &latchkey.AdminAuth{Admin: a, TokenType: latchkey.AdminAccessToken})
	k, err := f.svc.ServerKeys.CreateServerAPIKey(ctx, f.app.ID, latchkey.APIKeyInput{Name: "backend", Scopes: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := f.Now().Add(24 * time.Hour); k.ExpiresAt == nil || !k.ExpiresAt.Equal(want) || !slices.Equal(k.Scopes, []string{"read"}) {
		t.Fatalf("server key expires %v with scopes %v; want the app maximum %v and [read]", k.ExpiresAt, k.Scopes, want)
	}
	login, err := f.keyLogin(k.Value)
	if err != nil || claimsOf(t, login.AccessToken)["scope"] != "read" {
		t.Fatalf("server key login: %v, scope %v", err, claimsOf(t, login.AccessToken)["scope"])
	}
	_, err = f.svc.ServerKeys.CreateServerAPIKey(ctx, f.app.ID, latchkey.APIKeyInput{Name: "long", ExpiresIn: ptr(48 * time.Hour)})
	wantCode(t, err, latchkey.EInvalid)
	_, err = f.svc.ServerKeys.CreateServerAPIKey(ctx, f.app.ID, latchkey.APIKeyInput{Name: "bad", Scopes: []string{"admin"}})
	wantCode(t, err, latchkey.EInvalid)
}

func TestAppScopesUnique(t *testing.T) {
	app := service.NewDefaultApp("dup-scopes")
	app.Name, app.Scopes = "dup-scopes", []string{"read", "read"}
	wantCode(t, app.Validate(), latchkey.EInvalid)
}

// rotatingStore is a real store that, once armed, runs rotate right after its next read of a
// key by hash: a rotation that commits while a leak report is under way.
type rotatingStore struct {
	latchkey.Store
	rotate func()
}

func (s *rotatingStore) FindAPIKeyByHash(ctx context.Context, appID string, hash []byte) (*latchkey.APIKey, error) {
	k, err := s.Store.FindAPIKeyByHash(ctx, appID, hash)
	if rotate := s.rotate; rotate != nil {
		s.rotate = nil
		rotate()
	}
	return k, err
}

// TestReportLeakedKeys_RacesRotation reports a leaked previous value while its owner rotates
// the key again: the report ends the leaked value, and the values the rotation answered keep
// working (the new one, and the one before it for its grace period).
func TestReportLeakedKeys_RacesRotation(t *testing.T) {
	store := &rotatingStore{Store: teststore.Open(t)}
	f := newFixtureOver(t, store)
	ctx, _ := f.login(t, "ann@example.com")
	k, err := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	leaked := k.Value
	first, err := f.svc.APIKeys.RotateAPIKey(ctx, k.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var second *latchkey.APIKey
	store.rotate = func() {
		if second, err = f.svc.APIKeys.RotateAPIKey(ctx, k.ID, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	found, err := f.svc.Leaks.ReportLeakedKeys(context.Background(), f.app, []string{leaked})
	if err != nil || !slices.Equal(found, []bool{true}) {
		t.Fatalf("ReportLeakedKeys = %v, %v; want the leaked value found", found, err)
	}
	if second == nil {
		t.Fatal("the rotation did not run during the report")
	}
	_, err = f.keyLogin(leaked)
	wantCode(t, err, latchkey.EUnauthorized)
	for _, v := range []string{second.Value, first.Value} {
		if _, err := f.keyLogin(v); err != nil {
			t.Errorf("a value the racing rotation answered no longer logs in: %v", err)
		}
	}
}
