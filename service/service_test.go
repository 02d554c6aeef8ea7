package service_test

import (
	"context"
	"crypto/sha256"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/teststore"
	"github.com/latchkey/latchkey/service"
)

// secretKey seals the signing keys of the services these tests start.
var secretKey = []byte("the service tests' secret key, 32+ bytes")

// fixture is a service over a real store (teststore.Open) with a clock the test moves.
type fixture struct {
	svc   *service.Service
	store latchkey.Store
	app   *latchkey.App
	now   time.Time
	mu    sync.Mutex
}

func (f *fixture) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func newFixture(t *testing.T, edit func(*latchkey.App)) *fixture {
	t.Helper()
	return newFixtureOn(t, teststore.Open(t), edit)
}

// newFixtureOn is newFixture over the given store, for a test that wraps a real store to
// count or steer its calls.
func newFixtureOn(t *testing.T, store latchkey.Store, edit func(*latchkey.App)) *fixture {
	t.Helper()
	f := &fixture{now: time.Now().UTC().Truncate(time.Second), store: store}
	f.svc = f.newService(t)
	f.bootstrap(t, edit)
	return f
}

// bootstrap creates the fixture's app, svc-test, changed by edit if it is not nil.
func (f *fixture) bootstrap(t *testing.T, edit func(*latchkey.App)) {
	t.Helper()
	f.app = service.NewDefaultApp("svc-test")
	if edit != nil {
		edit(f.app)
	}
	if err := f.svc.BootstrapApp(context.Background(), f.app); err != nil {
		t.Fatalf("create app: %v", err)
	}
}

// storeKey writes a key of the fixture's app for u straight to the store, past the service's
// rules, and returns it with its value.
func (f *fixture) storeKey(t *testing.T, u *latchkey.User) (*latchkey.APIKey, string) {
	t.Helper()
	now := f.Now()
	value := latchkey.NewKeyValue("lk")
	sum := sha256.Sum256([]byte(value))
	k := &latchkey.APIKey{ID: latchkey.NewID(now), AppID: f.app.ID, UserID: u.ID, Name: "k", Hash: sum[:], CreatedAt: now}
	if err := f.store.CreateAPIKey(context.Background(), k, latchkey.MaxAPIKeysPerUser); err != nil {
		t.Fatal(err)
	}
	return k, value
}

// newService makes another service over the same store, as a restart or a second node does.
func (f *fixture) newService(t *testing.T) *service.Service {
	t.Helper()
	svc, err := service.New(context.Background(), service.Config{Store: f.store, Now: f.Now, Issuer: "http://latchkey.test", SecretKey: secretKey})
	if err != nil {
		t.Fatalf("service: %v", err)
	}
	return svc
}

// login registers (if needed) and logs in an email user; it returns the refresh-token caller.
func (f *fixture) login(t *testing.T, email string) (context.Context, *latchkey.Login) {
	t.Helper()
	ctx := context.Background()
	err := f.svc.Userpass.Register(ctx, f.app, email, "s3cretpass")
	if err != nil && latchkey.ErrorCode(err) != latchkey.EAccountNameInUse {
		t.Fatalf("register: %v", err)
	}
	login, err := f.svc.Auth.LogIn(ctx, f.app, latchkey.Credentials{Provider: latchkey.ProviderUserpass, Username: email, Password: "s3cretpass"})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	return f.caller(t, login.RefreshToken, latchkey.RefreshToken), login
}

func (f *fixture) caller(t *testing.T, token string, typ latchkey.TokenType) context.Context {
	t.Helper()
	auth, err := f.svc.Auth.Authenticate(context.Background(), token, typ)
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	return latchkey.NewContextWithAuth(context.Background(), auth)
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := latchkey.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func TestCreateAPIKey(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newFixture(t, nil)
		ctx, _ := f.login(t, "ann@example.com")
		k, err := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "build-server"})
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^`+latchkey.KeyPattern+`$`).MatchString(k.Value) || !strings.HasPrefix(k.Value, "lk_") || !latchkey.CheckKeyValue(k.Value) {
			t.Fatalf("value %q is not an lk_ key with a valid checksum", k.Value)
		}
		if k.Start != k.Value[:7] {
			t.Fatalf("start = %q, want %q", k.Start, k.Value[:7])
		}
		sum := sha256.Sum256([]byte(k.Value))
		stored, err := f.svc.APIKeys.FindAPIKey(ctx, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.Value != "" || string(stored.Hash) != string(sum[:]) {
			t.Fatalf("stored key holds value %q and hash %x, want no value and the SHA-256 hash", stored.Value, stored.Hash)
		}
	})
	t.Run("ValuesDiffer", func(t *testing.T) {
		f := newFixture(t, nil)
		ctx, _ := f.login(t, "ann@example.com")
		a, _ := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "a"})
		b, _ := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "b"})
		if a.Value == b.Value {
			t.Fatal("two keys share a value")
		}
	})
	for _, tt := range []struct {
		name, keyName, code, message string
	}{
		{"ErrRequired", "", latchkey.ERequired, "'name' is a required string"},
		{"ErrInvalidCharacters", "my key", latchkey.EInvalid, "can only contain ASCII letters, numbers, underscores, and hyphens"},
		{"ErrNonASCII", "clé", latchkey.EInvalid, "can only contain ASCII letters, numbers, underscores, and hyphens"},
		{"ErrTooLong", strings.Repeat("k", 65), latchkey.EInvalid, "name must be at most 64 characters"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			ctx, _ := f.login(t, "ann@example.com")
			_, err := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: tt.keyName})
			wantCode(t, err, tt.code)
			if got := latchkey.ErrorMessage(err); got != tt.message {
				t.Fatalf("message = %q, want %q", got, tt.message)
			}
		})
	}
	t.Run("MaxLengthOK", func(t *testing.T) {
		f := newFixture(t, nil)
		ctx, _ := f.login(t, "ann@example.com")
		if _, err := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: strings.Repeat("k", 64)}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrLimitReached", func(t *testing.T) {
		f := newFixture(t, nil)
		ctx, _ := f.login(t, "ann@example.com")
		for i := range latchkey.MaxAPIKeysPerUser {
			if _, err := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "key-" + string(rune('a'+i))}); err != nil {
				t.Fatal(err)
			}
		}
		_, err := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "one-too-many"})
		wantCode(t, err, latchkey.ELimitReached)
	})
	t.Run("ErrExists", func(t *testing.T) {
		f := newFixture(t, nil)
		ctx, _ := f.login(t, "ann@example.com")
		f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "dup"})
		_, err := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "dup"})
		wantCode(t, err, latchkey.EAPIKeyExists)
	})
	t.Run("ErrAnonymous", func(t *testing.T) {
		f := newFixture(t, nil)
		login, err := f.svc.Auth.LogIn(context.Background(), f.app, latchkey.Credentials{Provider: latchkey.ProviderAnonymous})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.APIKeys.CreateAPIKey(f.caller(t, login.RefreshToken, latchkey.RefreshToken), latchkey.APIKeyInput{Name: "k"})
		wantCode(t, err, latchkey.EForbidden)
	})
	t.Run("ErrKeySession", func(t *testing.T) {
		f := newFixture(t, nil)
		ctx, _ := f.login(t, "ann@example.com")
		k, _ := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "k"})
		login, err := f.svc.Auth.LogIn(context.Background(), f.app, latchkey.Credentials{Provider: latchkey.ProviderAPIKey, Key: k.Value})
		if err != nil {
			t.Fatal(err)
		}
		keyCtx := f.caller(t, login.RefreshToken, latchkey.RefreshToken)
		_, err = f.svc.APIKeys.CreateAPIKey(keyCtx, latchkey.APIKeyInput{Name: "other"})
		wantCode(t, err, latchkey.EForbidden)
		_, err = f.svc.APIKeys.FindAPIKeys(keyCtx)
		wantCode(t, err, latchkey.EForbidden)
		wantCode(t, f.svc.APIKeys.DeleteAPIKey(keyCtx, k.ID), latchkey.EForbidden)
	})
	t.Run("ErrUnauthenticated", func(t *testing.T) {
		f := newFixture(t, nil)
		_, err := f.svc.APIKeys.CreateAPIKey(context.Background(), latchkey.APIKeyInput{Name: "k"})
		wantCode(t, err, latchkey.EUnauthenticated)
	})
	t.Run("ErrAccessToken", func(t *testing.T) {
		f := newFixture(t, nil)
		_, login := f.login(t, "ann@example.com")
		_, err := f.svc.APIKeys.CreateAPIKey(f.caller(t, login.AccessToken, latchkey.AccessToken), latchkey.APIKeyInput{Name: "k"})
		wantCode(t, err, latchkey.EUnauthenticated)
	})
}

func TestAPIKeyOwnership(t *testing.T) {
	f := newFixture(t, nil)
	ann, _ := f.login(t, "ann@example.com")
	bob, _ := f.login(t, "bob@example.com")
	k, _ := f.svc.APIKeys.CreateAPIKey(ann, latchkey.APIKeyInput{Name: "anns"})
	_, err := f.svc.APIKeys.FindAPIKey(bob, k.ID)
	wantCode(t, err, latchkey.EAPIKeyNotFound)
	wantCode(t, f.svc.APIKeys.DisableAPIKey(bob, k.ID), latchkey.EAPIKeyNotFound)
	wantCode(t, f.svc.APIKeys.EnableAPIKey(bob, k.ID), latchkey.EAPIKeyNotFound)
	wantCode(t, f.svc.APIKeys.DeleteAPIKey(bob, k.ID), latchkey.EAPIKeyNotFound)
	_, err = f.svc.APIKeys.FindAPIKey(ann, "not-an-id")
	wantCode(t, err, latchkey.EAPIKeyNotFound)
	keys, err := f.svc.APIKeys.FindAPIKeys(bob)
	if err != nil || len(keys) != 0 {
		t.Fatalf("bob's keys = %v, %v; want none", keys, err)
	}
}

func TestLogIn(t *testing.T) {
	t.Run("APIKeyActsAsOwner", func(t *testing.T) {
		f := newFixture(t, nil)
		ctx, pw := f.login(t, "ann@example.com")
		k, _ := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "k"})
		login, err := f.svc.Auth.LogIn(context.Background(), f.app, latchkey.Credentials{Provider: latchkey.ProviderAPIKey, Key: k.Value})
		if err != nil {
			t.Fatal(err)
		}
		if login.UserID != pw.UserID {
			t.Fatalf("key login user = %s, want owner %s", login.UserID, pw.UserID)
		}
		u, err := f.svc.Auth.Profile(f.caller(t, login.AccessToken, latchkey.AccessToken))
		if err != nil || !u.HasIdentity(latchkey.ProviderAPIKey) {
			t.Fatalf("profile after key login = %+v, %v; want an api-key identity", u, err)
		}
		got, _ := f.svc.APIKeys.FindAPIKey(ctx, k.ID)
		if got.LastUsedAt == nil {
			t.Fatal("last use was not recorded")
		}
	})
	t.Run("DisableEndsKeySessions", func(t *testing.T) {
		f := newFixture(t, nil)
		ctx, _ := f.login(t, "ann@example.com")
		k, _ := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "k"})
		login, _ := f.svc.Auth.LogIn(context.Background(), f.app, latchkey.Credentials{Provider: latchkey.ProviderAPIKey, Key: k.Value})
		if err := f.svc.APIKeys.DisableAPIKey(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.Auth.Authenticate(context.Background(), login.RefreshToken, latchkey.RefreshToken)
		wantCode(t, err, latchkey.EUnauthenticated)
		_, err = f.svc.Auth.LogIn(context.Background(), f.app, latchkey.Credentials{Provider: latchkey.ProviderAPIKey, Key: k.Value})
		wantCode(t, err, latchkey.EUnauthorized)
		if err := f.svc.APIKeys.EnableAPIKey(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Auth.LogIn(context.Background(), f.app, latchkey.Credentials{Provider: latchkey.ProviderAPIKey, Key: k.Value}); err != nil {
			t.Fatalf("login with re-enabled key: %v", err)
		}
	})
	for _, tt := range []struct {
		name     string
		creds    latchkey.Credentials
		register bool
		code     string
	}{
		{"ErrWrongPassword", latchkey.Credentials{Provider: latchkey.ProviderUserpass, Username: "ann@example.com", Password: "wrong-pass"}, true, latchkey.EInvalidPassword},
		{"ErrUnknownEmail", latchkey.Credentials{Provider: latchkey.ProviderUserpass, Username: "nobody@example.com", Password: "s3cretpass"}, true, latchkey.EInvalidPassword},
		{"ErrUnknownKey", latchkey.Credentials{Provider: latchkey.ProviderAPIKey, Key: "nope"}, false, latchkey.EUnauthorized},
		{"ErrEmptyKey", latchkey.Credentials{Provider: latchkey.ProviderAPIKey}, false, latchkey.EUnauthorized},
		{"ErrHugeKey", latchkey.Credentials{Provider: latchkey.ProviderAPIKey, Key: strings.Repeat("k", 10000)}, false, latchkey.EUnauthorized},
		{"ErrUnknownProvider", latchkey.Credentials{Provider: "custom-function"}, false, latchkey.EProviderDisabled},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			if tt.register {
				f.login(t, "ann@example.com")
			}
			_, err := f.svc.Auth.LogIn(context.Background(), f.app, tt.creds)
			wantCode(t, err, tt.code)
		})
	}
	t.Run("EmailIsCaseInsensitive", func(t *testing.T) {
		f := newFixture(t, nil)
		f.login(t, "ann@example.com")
		_, err := f.svc.Auth.LogIn(context.Background(), f.app, latchkey.Credentials{Provider: latchkey.ProviderUserpass, Username: "  ANN@Example.COM ", Password: "s3cretpass"})
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrProviderDisabled", func(t *testing.T) {
		f := newFixture(t, func(a *latchkey.App) { a.AnonymousEnabled = false })
		_, err := f.svc.Auth.LogIn(context.Background(), f.app, latchkey.Credentials{Provider: latchkey.ProviderAnonymous})
		wantCode(t, err, latchkey.EProviderDisabled)
	})
	t.Run("ErrUnconfirmed", func(t *testing.T) {
		f := newFixture(t, func(a *latchkey.App) { a.AutoConfirm = false })
		if err := f.svc.Userpass.Register(context.Background(), f.app, "ann@example.com", "s3cretpass"); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.Auth.LogIn(context.Background(), f.app, latchkey.Credentials{Provider: latchkey.ProviderUserpass, Username: "ann@example.com", Password: "s3cretpass"})
		wantCode(t, err, latchkey.EUnauthorized)
	})
	t.Run("ErrUserDisabled", func(t *testing.T) {
		f := newFixture(t, nil)
		now := f.Now()
		u := &latchkey.User{ID: latchkey.NewID(now), AppID: f.app.ID, Type: latchkey.UserTypeNormal, Disabled: true, Confirmed: true, CreatedAt: now}
		if err := f.store.CreateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
		_, value := f.storeKey(t, u)
		_, err := f.svc.Auth.LogIn(context.Background(), f.app, latchkey.Credentials{Provider: latchkey.ProviderAPIKey, Key: value})
		wantCode(t, err, latchkey.EUserDisabled)
	})
	t.Run("ErrKeyUserOfAnotherApp", func(t *testing.T) {
		// The store does not tie a key's app to its user's: a key whose user is not of the
		// app is refused like a key without a user, and the refusal names the key.
		f := newFixture(t, nil)
		other := service.NewDefaultApp("svc-other")
		if err := f.svc.BootstrapApp(context.Background(), other); err != nil {
			t.Fatal(err)
		}
		now := f.Now()
		u := &latchkey.User{ID: latchkey.NewID(now), AppID: other.ID, Type: latchkey.UserTypeNormal, Confirmed: true, CreatedAt: now}
		if err := f.store.CreateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
		k, value := f.storeKey(t, u)
		_, err := f.svc.Auth.LogIn(context.Background(), f.app, latchkey.Credentials{Provider: latchkey.ProviderAPIKey, Key: value})
		wantCode(t, err, latchkey.EUnauthorized)
		if err := f.svc.FlushAudit(context.Background()); err != nil {
			t.Fatal(err)
		}
		events, err := f.store.FindAuditEvents(context.Background(), latchkey.AuditFilter{AppID: f.app.ID, Event: latchkey.EventLogin})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 || events[0].Details["api_key_id"] != k.ID || events[0].SubjectID != "" {
			t.Fatalf("login events = %+v, want one naming key %s and no user", events, k.ID)
		}
	})
	t.Run("DeviceIDReused", func(t *testing.T) {
		f := newFixture(t, nil)
		device := latchkey.NewID(f.Now())
		login, err := f.svc.Auth.LogIn(context.Background(), f.app, latchkey.Credentials{Provider: latchkey.ProviderAnonymous, DeviceID: device})
		if err != nil || login.DeviceID != device {
			t.Fatalf("device = %q, %v; want %q", login.DeviceID, err, device)
		}
		login, _ = f.svc.Auth.LogIn(context.Background(), f.app, latchkey.Credentials{Provider: latchkey.ProviderAnonymous, DeviceID: latchkey.ZeroID})
		if !latchkey.IsID(login.DeviceID) || login.DeviceID == latchkey.ZeroID {
			t.Fatalf("device = %q, want a minted id", login.DeviceID)
		}
	})
}

func TestAuthenticate(t *testing.T) {
	t.Run("ErrWrongType", func(t *testing.T) {
		f := newFixture(t, nil)
		_, login := f.login(t, "ann@example.com")
		_, err := f.svc.Auth.Authenticate(context.Background(), login.AccessToken, latchkey.RefreshToken)
		wantCode(t, err, latchkey.EUnauthenticated)
		_, err = f.svc.Auth.Authenticate(context.Background(), login.RefreshToken, latchkey.AccessToken)
		wantCode(t, err, latchkey.EUnauthenticated)
	})
	t.Run("AccessTokenExpires", func(t *testing.T) {
		f := newFixture(t, nil)
		_, login := f.login(t, "ann@example.com")
		f.advance(29 * time.Minute)
		if _, err := f.svc.Auth.Authenticate(context.Background(), login.AccessToken, latchkey.AccessToken); err != nil {
			t.Fatalf("at 29 minutes: %v", err)
		}
		f.advance(2 * time.Minute)
		_, err := f.svc.Auth.Authenticate(context.Background(), login.AccessToken, latchkey.AccessToken)
		wantCode(t, err, latchkey.EUnauthenticated)
	})
	t.Run("RefreshTokenExpires", func(t *testing.T) {
		f := newFixture(t, func(a *latchkey.App) { a.RefreshTokenLifetime = time.Hour })
		_, login := f.login(t, "ann@example.com")
		f.advance(61 * time.Minute)
		_, err := f.svc.Auth.Authenticate(context.Background(), login.RefreshToken, latchkey.RefreshToken)
		wantCode(t, err, latchkey.EUnauthenticated)
	})
	t.Run("LogOutEndsSession", func(t *testing.T) {
		f := newFixture(t, nil)
		ctx, login := f.login(t, "ann@example.com")
		if err := f.svc.Auth.LogOut(ctx); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.Auth.Authenticate(context.Background(), login.RefreshToken, latchkey.RefreshToken)
		wantCode(t, err, latchkey.EUnauthenticated)
		if !strings.Contains(latchkey.ErrorMessage(err), "failed to find refresh token") {
			t.Fatalf("message = %q, want it to say the refresh token was not found", latchkey.ErrorMessage(err))
		}
	})
	t.Run("ErrTampered", func(t *testing.T) {
		f := newFixture(t, nil)
		_, login := f.login(t, "ann@example.com")
		tok := login.AccessToken
		tampered := tok[:len(tok)-4] + strings.Map(func(r rune) rune {
			if r == 'A' {
				return 'B'
			}
			return 'A'
		}, tok[len(tok)-4:])
		_, err := f.svc.Auth.Authenticate(context.Background(), tampered, latchkey.AccessToken)
		wantCode(t, err, latchkey.EUnauthenticated)
		_, err = f.svc.Auth.Authenticate(context.Background(), "not.a.jwt", latchkey.AccessToken)
		wantCode(t, err, latchkey.EUnauthenticated)
	})
	t.Run("ErrOtherApp", func(t *testing.T) {
		f := newFixture(t, nil)
		other := service.NewDefaultApp("other-app")
		if err := f.svc.BootstrapApp(context.Background(), other); err != nil {
			t.Fatal(err)
		}
		_, login := f.login(t, "ann@example.com")
		auth, err := f.svc.Auth.Authenticate(context.Background(), login.AccessToken, latchkey.AccessToken)
		if err != nil || auth.App.ID != f.app.ID {
			t.Fatalf("token's app = %v, %v; want %s", auth, err, f.app.ClientAppID)
		}
	})
	t.Run("DeletedUser", func(t *testing.T) {
		f := newFixture(t, nil)
		_, login := f.login(t, "ann@example.com")
		if err := f.svc.Auth.DeleteUser(f.caller(t, login.AccessToken, latchkey.AccessToken)); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.Auth.Authenticate(context.Background(), login.AccessToken, latchkey.AccessToken)
		wantCode(t, err, latchkey.EUnauthenticated)
		_, err = f.svc.Auth.Authenticate(context.Background(), login.RefreshToken, latchkey.RefreshToken)
		wantCode(t, err, latchkey.EUnauthenticated)
		_, err = f.svc.Auth.LogIn(context.Background(), f.app, latchkey.Credentials{Provider: latchkey.ProviderUserpass, Username: "ann@example.com", Password: "s3cretpass"})
		wantCode(t, err, latchkey.EInvalidPassword)
	})
}

// sessionUserStore is a real store that counts the reads of a session or a user, and passes
// what FindSessionAndUser returns through edit, to fake rows the store would not hold.
type sessionUserStore struct {
	latchkey.Store
	edit  func(*latchkey.Session, *latchkey.User)
	reads atomic.Int64
}

func (s *sessionUserStore) FindSession(ctx context.Context, id string) (*latchkey.Session, error) {
	s.reads.Add(1)
	return s.Store.FindSession(ctx, id)
}

func (s *sessionUserStore) FindUserByID(ctx context.Context, appID, id string) (*latchkey.User, error) {
	s.reads.Add(1)
	return s.Store.FindUserByID(ctx, appID, id)
}

func (s *sessionUserStore) FindSessionAndUser(ctx context.Context, id string) (*latchkey.Session, *latchkey.User, error) {
	s.reads.Add(1)
	sess, u, err := s.Store.FindSessionAndUser(ctx, id)
	if err == nil && s.edit != nil {
		s.edit(sess, u)
	}
	return sess, u, err
}

// TestAuthenticateSession checks that a token's session and user are one read, for refresh
// and access tokens alike, and that a session or user that does not match the token, or has
// ended, refuses both.
func TestAuthenticateSession(t *testing.T) {
	store := &sessionUserStore{Store: teststore.Open(t)}
	f := newFixtureOn(t, store, nil)
	_, login := f.login(t, "ann@example.com")
	tokens := []struct {
		typ   latchkey.TokenType
		token string
		ended string // the message when the session has ended
	}{
		{latchkey.RefreshToken, login.RefreshToken, "invalid session: failed to find refresh token"},
		{latchkey.AccessToken, login.AccessToken, "invalid session"},
	}

	for _, tok := range tokens {
		t.Run(string(tok.typ), func(t *testing.T) {
			t.Run("OK", func(t *testing.T) {
				store.reads.Store(0)
				auth, err := f.svc.Auth.Authenticate(context.Background(), tok.token, tok.typ)
				if err != nil {
					t.Fatal(err)
				}
				if auth.Session == nil || auth.User == nil || auth.User.ID != login.UserID ||
					auth.Session.UserID != login.UserID || auth.DeviceID != login.DeviceID {
					t.Fatalf("auth = %+v, want the session and user of login %+v", auth, login)
				}
				if len(auth.User.Identities) != 1 || auth.User.Identities[0].ProviderType != latchkey.ProviderUserpass {
					t.Fatalf("identities = %+v, want the user's email/password identity", auth.User.Identities)
				}
				if got := store.reads.Load(); got != 1 {
					t.Fatalf("%d session and user reads, want 1", got)
				}
			})

			const invalid = "invalid session"
			for _, tc := range []struct {
				name string
				edit func(*latchkey.Session, *latchkey.User)
				want string
			}{
				{"ErrSessionOfOtherApp", func(s *latchkey.Session, _ *latchkey.User) { s.AppID = latchkey.NewID(f.Now()) }, tok.ended},
				{"ErrSessionOfOtherUser", func(s *latchkey.Session, _ *latchkey.User) { s.UserID = latchkey.NewID(f.Now()) }, tok.ended},
				{"ErrSessionExpired", func(s *latchkey.Session, _ *latchkey.User) { s.ExpiresAt = f.Now() }, tok.ended},
				{"ErrUserOfOtherApp", func(_ *latchkey.Session, u *latchkey.User) { u.AppID = latchkey.NewID(f.Now()) }, invalid},
				{"ErrOtherUser", func(_ *latchkey.Session, u *latchkey.User) { u.ID = latchkey.NewID(f.Now()) }, invalid},
				{"ErrUserDisabled", func(_ *latchkey.Session, u *latchkey.User) { u.Disabled = true }, invalid},
			} {
				t.Run(tc.name, func(t *testing.T) {
					store.edit = tc.edit
					defer func() { store.edit = nil }()
					_, err := f.svc.Auth.Authenticate(context.Background(), tok.token, tok.typ)
					wantCode(t, err, latchkey.EUnauthenticated)
					if got := latchkey.ErrorMessage(err); got != tc.want {
						t.Fatalf("message = %q, want %q", got, tc.want)
					}
				})
			}
		})
	}

	// A logout ends the session: its access token is refused with its refresh token.
	t.Run("ErrLoggedOut", func(t *testing.T) {
		if err := f.svc.Auth.LogOut(f.caller(t, login.RefreshToken, latchkey.RefreshToken)); err != nil {
			t.Fatal(err)
		}
		for _, tok := range tokens {
			_, err := f.svc.Auth.Authenticate(context.Background(), tok.token, tok.typ)
			wantCode(t, err, latchkey.EUnauthenticated)
			if got := latchkey.ErrorMessage(err); got != tok.ended {
				t.Fatalf("%s: message = %q, want %q", tok.typ, got, tok.ended)
			}
		}
	})
}

func TestTokensSurviveRestart(t *testing.T) {
	f := newFixture(t, nil)
	_, login := f.login(t, "ann@example.com")
	restarted := f.newService(t)
	if _, err := restarted.Auth.Authenticate(context.Background(), login.RefreshToken, latchkey.RefreshToken); err != nil {
		t.Fatalf("refresh token after restart: %v", err)
	}
	if _, err := restarted.Auth.Authenticate(context.Background(), login.AccessToken, latchkey.AccessToken); err != nil {
		t.Fatalf("access token after restart: %v", err)
	}
}

func TestJWKS(t *testing.T) {
	f := newFixture(t, nil)
	a, _ := f.svc.Auth.JWKS(context.Background())
	b, _ := f.newService(t).Auth.JWKS(context.Background())
	if string(a) != string(b) || !strings.Contains(string(a), `"crv":"P-256"`) {
		t.Fatalf("JWKS of two services over one store:\n%s\n%s", a, b)
	}
}

func TestUserpass(t *testing.T) {
	t.Run("ErrAccountNameInUse", func(t *testing.T) {
		f := newFixture(t, nil)
		f.login(t, "ann@example.com")
		wantCode(t, f.svc.Userpass.Register(context.Background(), f.app, " Ann@example.com", "s3cretpass"), latchkey.EAccountNameInUse)
	})
	for _, tt := range []struct{ name, email, password, message string }{
		{"ErrShortPassword", "ann@example.com", "12345", "password must be between 6 and 128 characters"},
		{"ErrLongPassword", "ann@example.com", strings.Repeat("p", 129), "password must be between 6 and 128 characters"},
		{"ErrEmail", "not-an-email", "s3cretpass", "email invalid"},
		{"ErrEmailWithName", "Ann <ann@example.com>", "s3cretpass", "email invalid"},
		{"ErrEmailBidi", "ann\u202Emoc.elpmaxe@evil.example", "s3cretpass", "email invalid"},
		{"ErrEmailLRM", "ann\u200E@example.com", "s3cretpass", "email invalid"},
		{"ErrEmailArabicMark", "ann\u061C@example.com", "s3cretpass", "email invalid"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			err := f.svc.Userpass.Register(context.Background(), f.app, tt.email, tt.password)
			wantCode(t, err, latchkey.EBadRequest)
			if got := latchkey.ErrorMessage(err); got != tt.message {
				t.Fatalf("message = %q, want %q", got, tt.message)
			}
		})
	}
	t.Run("ErrInvalidToken", func(t *testing.T) {
		f := newFixture(t, nil)
		wantCode(t, f.svc.Userpass.Confirm(context.Background(), f.app, "abc", latchkey.NewID(f.Now())), latchkey.EBadRequest)
		wantCode(t, f.svc.Userpass.Confirm(context.Background(), f.app, "", ""), latchkey.EBadRequest)
		wantCode(t, f.svc.Userpass.ResetPassword(context.Background(), f.app, "n3wpassword", "abc", "zz"), latchkey.EBadRequest)
	})
	t.Run("ErrUserNotFound", func(t *testing.T) {
		f := newFixture(t, nil)
		wantCode(t, f.svc.Userpass.SendPasswordReset(context.Background(), f.app, "nobody@example.com"), latchkey.EUserNotFound)
		wantCode(t, f.svc.Userpass.ResendConfirmation(context.Background(), f.app, "nobody@example.com"), latchkey.EUserNotFound)
	})
	t.Run("ErrEmailBidiSend", func(t *testing.T) {
		// Every door an email comes in by refuses one that would show as another.
		f := newFixture(t, nil)
		const spoof = "ann\u202Emoc.elpmaxe@evil.example"
		wantCode(t, f.svc.Userpass.SendPasswordReset(context.Background(), f.app, spoof), latchkey.EBadRequest)
		wantCode(t, f.svc.Userpass.ResendConfirmation(context.Background(), f.app, spoof), latchkey.EBadRequest)
		_, err := f.svc.Admins.CreateAdmin(context.Background(), spoof, "s3cretpassword")
		wantCode(t, err, latchkey.EBadRequest)
	})
	t.Run("ErrAlreadyConfirmed", func(t *testing.T) {
		f := newFixture(t, nil)
		f.login(t, "ann@example.com")
		wantCode(t, f.svc.Userpass.ResendConfirmation(context.Background(), f.app, "ann@example.com"), latchkey.EAlreadyConfirmed)
	})
}

// TestDeleteUser checks who may delete the caller's account: only a session of the user's own
// email/password or anonymous identity. A key acts for its owner but must not end the account,
// and an access token of a disabled user or an ended session is refused outright.
func TestDeleteUser(t *testing.T) {
	// keySession logs in with a new key of the user at ctx (with scopes, if any) and returns the
	// key session's access-token caller.
	keySession := func(t *testing.T, f *fixture, ctx context.Context, scopes ...string) context.Context {
		t.Helper()
		k, err := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "k" + strconv.Itoa(len(scopes)), Scopes: scopes})
		if err != nil {
			t.Fatal(err)
		}
		login, err := f.svc.Auth.LogIn(context.Background(), f.app, latchkey.Credentials{Provider: latchkey.ProviderAPIKey, Key: k.Value})
		if err != nil {
			t.Fatal(err)
		}
		return f.caller(t, login.AccessToken, latchkey.AccessToken)
	}
	// wantUser checks that the user of login still logs in (its account was not deleted).
	wantUser := func(t *testing.T, f *fixture, email string) {
		t.Helper()
		if _, err := f.svc.Auth.LogIn(context.Background(), f.app, latchkey.Credentials{Provider: latchkey.ProviderUserpass, Username: email, Password: "s3cretpass"}); err != nil {
			t.Fatalf("the account is gone: %v", err)
		}
	}

	t.Run("OK", func(t *testing.T) {
		f := newFixture(t, nil)
		_, login := f.login(t, "ann@example.com")
		if err := f.svc.Auth.DeleteUser(f.caller(t, login.AccessToken, latchkey.AccessToken)); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.Auth.LogIn(context.Background(), f.app, latchkey.Credentials{Provider: latchkey.ProviderUserpass, Username: "ann@example.com", Password: "s3cretpass"})
		wantCode(t, err, latchkey.EInvalidPassword)
	})
	t.Run("OKAnonymous", func(t *testing.T) {
		f := newFixture(t, nil)
		login, err := f.svc.Auth.LogIn(context.Background(), f.app, latchkey.Credentials{Provider: latchkey.ProviderAnonymous})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Auth.DeleteUser(f.caller(t, login.AccessToken, latchkey.AccessToken)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrKeySession", func(t *testing.T) {
		f := newFixture(t, nil)
		ctx, _ := f.login(t, "ann@example.com")
		err := f.svc.Auth.DeleteUser(keySession(t, f, ctx))
		wantCode(t, err, latchkey.EForbidden)
		if got := latchkey.ErrorMessage(err); got != "API key sessions cannot delete their user" {
			t.Fatalf("message = %q", got)
		}
		wantUser(t, f, "ann@example.com")
	})
	t.Run("ErrScopedKeySession", func(t *testing.T) {
		f := newFixture(t, func(app *latchkey.App) { app.Scopes = []string{"read"} })
		ctx, _ := f.login(t, "ann@example.com")
		wantCode(t, f.svc.Auth.DeleteUser(keySession(t, f, ctx, "read")), latchkey.EForbidden)
		wantUser(t, f, "ann@example.com")
	})
	// adminContext is an admin's caller, for the admin's side of the rules.
	adminContext := func(t *testing.T, f *fixture) context.Context {
		t.Helper()
		a, err := f.svc.Admins.CreateAdmin(context.Background(), "root@example.com", "rootpassword1")
		if err != nil {
			t.Fatal(err)
		}
		return latchkey.NewContextWithAdmin(context.Background(), &latchkey.AdminAuth{Admin: a, TokenType: latchkey.AdminAccessToken})
	}

	t.Run("ErrServerKeyUser", func(t *testing.T) {
		f := newFixture(t, nil)
		admin := adminContext(t, f)
		k, err := f.svc.ServerKeys.CreateServerAPIKey(admin, f.app.ID, latchkey.APIKeyInput{Name: "backend"})
		if err != nil {
			t.Fatal(err)
		}
		login, err := f.svc.Auth.LogIn(context.Background(), f.app, latchkey.Credentials{Provider: latchkey.ProviderAPIKey, Key: k.Value})
		if err != nil {
			t.Fatal(err)
		}
		err = f.svc.Auth.DeleteUser(f.caller(t, login.AccessToken, latchkey.AccessToken))
		wantCode(t, err, latchkey.EForbidden)
		if got := latchkey.ErrorMessage(err); got != "server API key users cannot delete their user" {
			t.Fatalf("message = %q", got)
		}
		if _, err := f.svc.ServerKeys.FindServerAPIKey(admin, f.app.ID, k.ID); err != nil {
			t.Fatalf("the server key is gone: %v", err)
		}
	})
	t.Run("ErrDisabledUser", func(t *testing.T) {
		f := newFixture(t, nil)
		_, login := f.login(t, "ann@example.com")
		if err := f.svc.Users.SetUserDisabled(adminContext(t, f), f.app.ID, login.UserID, true); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.Auth.Authenticate(context.Background(), login.AccessToken, latchkey.AccessToken)
		wantCode(t, err, latchkey.EUnauthenticated)
	})
	t.Run("ErrEndedSession", func(t *testing.T) {
		f := newFixture(t, nil)
		_, login := f.login(t, "ann@example.com")
		if err := f.svc.Auth.LogOut(f.caller(t, login.RefreshToken, latchkey.RefreshToken)); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.Auth.Authenticate(context.Background(), login.AccessToken, latchkey.AccessToken)
		wantCode(t, err, latchkey.EUnauthenticated)
		wantUser(t, f, "ann@example.com")
	})
}
