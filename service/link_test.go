package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/service"
)

// anonCaller logs in anonymously and returns the access-token caller and the login.
func (f *fixture) anonCaller(t *testing.T) (context.Context, *latchkey.Login) {
	t.Helper()
	login, err := f.svc.Auth.LogIn(context.Background(), f.app, latchkey.Credentials{Provider: latchkey.ProviderAnonymous})
	if err != nil {
		t.Fatal(err)
	}
	return f.caller(t, login.AccessToken, latchkey.AccessToken), login
}

// register registers an email user with the fixture's password, without logging it in.
func (f *fixture) register(t *testing.T, email string) {
	t.Helper()
	if err := f.svc.Userpass.Register(context.Background(), f.app, email, "s3cretpass"); err != nil {
		t.Fatalf("register: %v", err)
	}
}

func userpassCreds(email, password string) latchkey.Credentials {
	return latchkey.Credentials{Provider: latchkey.ProviderUserpass, Username: email, Password: password}
}

// wantAnonymous checks that the user of login is still only anonymous.
func (f *fixture) wantAnonymous(t *testing.T, login *latchkey.Login) {
	t.Helper()
	u, err := f.store.FindUserByID(context.Background(), f.app.ID, login.UserID)
	if err != nil || !u.IsAnonymous() || u.Email != "" {
		t.Fatalf("user = %+v, %v; want it still anonymous", u, err)
	}
}

func TestLink(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newFixture(t, nil)
		ctx, anon := f.anonCaller(t)
		f.register(t, "ann@example.com")

		login, err := f.svc.Auth.Link(ctx, userpassCreds(" Ann@Example.com", "s3cretpass"))
		if err != nil {
			t.Fatal(err)
		}
		if login.UserID != anon.UserID || login.DeviceID != anon.DeviceID || login.RefreshToken != "" {
			t.Fatalf("link = %+v; want the caller's user %s and device %s, no refresh token", login, anon.UserID, anon.DeviceID)
		}
		// The new access token is of the caller's session, and the user now has both
		// identities, in link order, and the email.
		linked := f.caller(t, login.AccessToken, latchkey.AccessToken)
		if got, want := latchkey.AuthFromContext(linked).SessionID, latchkey.AuthFromContext(ctx).SessionID; got != want {
			t.Fatalf("session = %s, want the caller's %s", got, want)
		}
		u, err := f.svc.Auth.Profile(linked)
		if err != nil {
			t.Fatal(err)
		}
		if len(u.Identities) != 2 || u.Identities[0].ProviderType != latchkey.ProviderAnonymous ||
			u.Identities[1].ProviderType != latchkey.ProviderUserpass || u.Email != "ann@example.com" || u.IsAnonymous() {
			t.Fatalf("profile = %+v %v; want anon-user then local-userpass, ann's email", u, u.Identities)
		}
		// The email logs in as the caller, and the old refresh token may now create keys.
		pw, err := f.svc.Auth.LogIn(context.Background(), f.app, userpassCreds("ann@example.com", "s3cretpass"))
		if err != nil || pw.UserID != anon.UserID {
			t.Fatalf("password login = %+v, %v; want user %s", pw, err, anon.UserID)
		}
		if _, err := f.svc.APIKeys.CreateAPIKey(f.caller(t, anon.RefreshToken, latchkey.RefreshToken), latchkey.APIKeyInput{Name: "k"}); err != nil {
			t.Fatalf("create key with the anonymous login's refresh token: %v", err)
		}
		// The registered user is gone, and the link is audited on the caller.
		if n, err := f.store.FindUsers(context.Background(), latchkey.UserFilter{AppID: f.app.ID}); err != nil || len(n) != 1 {
			t.Fatalf("users = %d, %v; want the one linked user", len(n), err)
		}
		if err := f.svc.FlushAudit(context.Background()); err != nil {
			t.Fatal(err)
		}
		events, err := f.store.FindAuditEvents(context.Background(), latchkey.AuditFilter{AppID: f.app.ID, Event: latchkey.EventIdentityLinked})
		if err != nil || len(events) != 1 {
			t.Fatalf("link events = %v, %v; want one", events, err)
		}
		e := events[0]
		if e.Outcome != latchkey.OutcomeSuccess || e.SubjectID != anon.UserID || e.ActorID != anon.UserID ||
			e.Details["provider"] != latchkey.ProviderUserpass || e.Details["email"] != "ann@example.com" || !latchkey.IsID(e.Details["linked_user_id"]) {
			t.Fatalf("event = %+v", e)
		}
	})

	for _, tt := range []struct {
		name  string
		edit  func(*latchkey.App)
		setup func(t *testing.T, f *fixture)
		creds latchkey.Credentials
		code  string
		msg   string
	}{
		{"ErrWrongPassword", nil, nil, userpassCreds("ann@example.com", "wrong-pass"), latchkey.EInvalidPassword, "invalid username/password"},
		{"ErrUnknownEmail", nil, nil, userpassCreds("nobody@example.com", "s3cretpass"), latchkey.EInvalidPassword, "invalid username/password"},
		{"ErrUnconfirmed", func(a *latchkey.App) { a.AutoConfirm = false }, nil, userpassCreds("ann@example.com", "s3cretpass"), latchkey.EUnauthorized, "user not confirmed"},
		{"ErrRegisteredUserDisabled", nil, func(t *testing.T, f *fixture) {
			u, err := f.store.FindUserByEmail(context.Background(), f.app.ID, "ann@example.com")
			if err != nil {
				t.Fatal(err)
			}
			if err := f.store.SetUserDisabled(context.Background(), f.app.ID, u.ID, true); err != nil {
				t.Fatal(err)
			}
		}, userpassCreds("ann@example.com", "s3cretpass"), latchkey.EUserDisabled, "user disabled"},
		{"ErrEmailUsed", nil, func(t *testing.T, f *fixture) { f.login(t, "ann@example.com") },
			userpassCreds("ann@example.com", "s3cretpass"), latchkey.EAccountNameInUse, "name already in use"},
		{"ErrAnonymousCredentials", nil, nil, latchkey.Credentials{Provider: latchkey.ProviderAnonymous},
			latchkey.EInternal, "linking an anonymous identity is not allowed"},
		{"ErrAPIKeyCredentials", nil, nil, latchkey.Credentials{Provider: latchkey.ProviderAPIKey, Key: "lk_whatever"},
			latchkey.EBadRequest, "API key credentials cannot be linked: a key logs in as its owner"},
		{"ErrUnknownProvider", nil, nil, latchkey.Credentials{Provider: "custom-function"},
			latchkey.EProviderDisabled, "authentication via 'custom-function' is unsupported"},
		{"ErrProviderDisabled", func(a *latchkey.App) { a.APIKeyEnabled = false }, nil, latchkey.Credentials{Provider: latchkey.ProviderAPIKey},
			latchkey.EProviderDisabled, "authentication via 'api-key' is unsupported"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.edit)
			ctx, anon := f.anonCaller(t)
			f.register(t, "ann@example.com")
			if tt.setup != nil {
				tt.setup(t, f)
			}
			_, err := f.svc.Auth.Link(ctx, tt.creds)
			wantCode(t, err, tt.code)
			if got := latchkey.ErrorMessage(err); got != tt.msg {
				t.Fatalf("message = %q, want %q", got, tt.msg)
			}
			f.wantAnonymous(t, anon)
		})
	}

	t.Run("ErrSecondUserpassIdentity", func(t *testing.T) {
		f := newFixture(t, nil)
		_, bob := f.login(t, "bob@example.com")
		f.register(t, "ann@example.com")
		_, err := f.svc.Auth.Link(f.caller(t, bob.AccessToken, latchkey.AccessToken), userpassCreds("ann@example.com", "s3cretpass"))
		wantCode(t, err, latchkey.EInternal)
		if got := latchkey.ErrorMessage(err); got != "linking a local-userpass identity is not allowed" {
			t.Fatalf("message = %q", got)
		}
		if _, err := f.svc.Auth.LogIn(context.Background(), f.app, userpassCreds("ann@example.com", "s3cretpass")); err != nil {
			t.Fatalf("ann's registration was touched: %v", err)
		}
	})
	t.Run("ErrKeySession", func(t *testing.T) {
		f := newFixture(t, nil)
		ctx, _ := f.login(t, "bob@example.com")
		k, err := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "k"})
		if err != nil {
			t.Fatal(err)
		}
		login, err := f.svc.Auth.LogIn(context.Background(), f.app, latchkey.Credentials{Provider: latchkey.ProviderAPIKey, Key: k.Value})
		if err != nil {
			t.Fatal(err)
		}
		f.register(t, "ann@example.com")
		_, err = f.svc.Auth.Link(f.caller(t, login.AccessToken, latchkey.AccessToken), userpassCreds("ann@example.com", "s3cretpass"))
		wantCode(t, err, latchkey.EForbidden)
	})
	t.Run("ErrRefreshToken", func(t *testing.T) {
		f := newFixture(t, nil)
		_, anon := f.anonCaller(t)
		f.register(t, "ann@example.com")
		_, err := f.svc.Auth.Link(f.caller(t, anon.RefreshToken, latchkey.RefreshToken), userpassCreds("ann@example.com", "s3cretpass"))
		wantCode(t, err, latchkey.EUnauthenticated)
		f.wantAnonymous(t, anon)
	})
	t.Run("ErrCallerDisabledDuringLink", func(t *testing.T) {
		f := newFixture(t, nil)
		ctx, anon := f.anonCaller(t)
		f.register(t, "ann@example.com")
		// Disabled after its token was checked: the store step refuses the link.
		if err := f.store.SetUserDisabled(context.Background(), f.app.ID, anon.UserID, true); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.Auth.Link(ctx, userpassCreds("ann@example.com", "s3cretpass"))
		wantCode(t, err, latchkey.EUnauthenticated)
		if _, err := f.svc.Auth.LogIn(context.Background(), f.app, userpassCreds("ann@example.com", "s3cretpass")); err != nil {
			t.Fatalf("ann's registration was touched: %v", err)
		}
	})
}

// TestLinkLockout checks that a link's password check counts toward the account's lockout,
// as a login's does: links cannot guess passwords faster than logins.
func TestLinkLockout(t *testing.T) {
	f := newLimitedFixture(t, service.Limits{LockoutFailures: 2, LockoutDuration: time.Minute})
	ctx, anon := f.anonCaller(t)
	ctx = latchkey.NewContextWithRequestMeta(ctx, latchkey.RequestMeta{IP: "192.0.2.1", RequestID: "0123456789abcdef01234567"})
	f.register(t, "ann@example.com")
	for range 2 {
		_, err := f.svc.Auth.Link(ctx, userpassCreds("ann@example.com", "wrong-pass"))
		wantCode(t, err, latchkey.EInvalidPassword)
	}
	_, err := f.svc.Auth.Link(ctx, userpassCreds("ann@example.com", "s3cretpass"))
	wantRetry(t, err, time.Minute)
	wantRetry(t, f.passwordLogin(fromIP("192.0.2.2"), "ann@example.com", "s3cretpass"), time.Minute)
	f.wantAnonymous(t, anon)
}
