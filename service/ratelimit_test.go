package service_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/teststore"
	"github.com/latchkey/latchkey/service"
)

// newLimitedFixture is newFixture with the given limits.
func newLimitedFixture(t *testing.T, limits service.Limits) *fixture {
	t.Helper()
	f := &fixture{now: time.Now().UTC().Truncate(time.Second), store: teststore.Open(t)}
	svc, err := service.New(context.Background(), service.Config{Store: f.store, Now: f.Now, Issuer: "http://latchkey.test", SecretKey: secretKey, Limits: &limits})
	if err != nil {
		t.Fatalf("service: %v", err)
	}
	t.Cleanup(func() { svc.Close() })
	f.svc = svc
	f.bootstrap(t, nil)
	return f
}

// fromIP is a request context from a client address.
func fromIP(ip string) context.Context {
	return latchkey.NewContextWithRequestMeta(context.Background(), latchkey.RequestMeta{IP: ip, RequestID: "0123456789abcdef01234567"})
}

func (f *fixture) passwordLogin(ctx context.Context, email, password string) error {
	_, err := f.svc.Auth.LogIn(ctx, f.app, latchkey.Credentials{Provider: latchkey.ProviderUserpass, Username: email, Password: password})
	return err
}

func (f *fixture) anonLogin(ctx context.Context) error {
	_, err := f.svc.Auth.LogIn(ctx, f.app, latchkey.Credentials{Provider: latchkey.ProviderAnonymous})
	return err
}

// wantRetry checks a refusal by a limit and the wait it gives.
func wantRetry(t *testing.T, err error, want time.Duration) {
	t.Helper()
	wantCode(t, err, latchkey.ETooManyRequests)
	if got := latchkey.ErrorMessage(err); got != "too many requests" {
		t.Errorf("message = %q, want too many requests", got)
	}
	if got, ok := latchkey.RetryAfter(err); !ok || got != want {
		t.Errorf("retry after = %v, %v; want %v", got, ok, want)
	}
}

func TestLimitPerIP(t *testing.T) {
	f := newLimitedFixture(t, service.Limits{PerIP: service.Rate{N: 3, Per: time.Minute}})
	a := fromIP("192.0.2.1")
	for range 3 {
		if err := f.anonLogin(a); err != nil {
			t.Fatal(err)
		}
	}
	wantRetry(t, f.anonLogin(a), 20*time.Second)
	// Every credential endpoint draws from the same bucket.
	wantRetry(t, f.svc.Userpass.Register(a, f.app, "ann@example.com", "s3cretpass"), 20*time.Second)
	wantRetry(t, f.svc.Userpass.SendPasswordReset(a, f.app, "ann@example.com"), 20*time.Second)

	t.Run("OtherAddress", func(t *testing.T) {
		if err := f.anonLogin(fromIP("192.0.2.2")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("IPv6CountsPer64", func(t *testing.T) {
		for i := range 3 {
			if err := f.anonLogin(fromIP("2001:db8:1:2::" + string(rune('a'+i)))); err != nil {
				t.Fatal(err)
			}
		}
		wantRetry(t, f.anonLogin(fromIP("2001:db8:1:2:ffff::1")), 20*time.Second)
		if err := f.anonLogin(fromIP("2001:db8:1:3::1")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("Refills", func(t *testing.T) {
		f.advance(20 * time.Second)
		if err := f.anonLogin(a); err != nil {
			t.Fatal(err)
		}
		wantRetry(t, f.anonLogin(a), 20*time.Second)
	})
	t.Run("NotFromTheNetwork", func(t *testing.T) {
		// Calls without a client address (the CLI, tests) draw from no address bucket.
		if err := f.anonLogin(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestLimitPerAccount(t *testing.T) {
	f := newLimitedFixture(t, service.Limits{PerAccount: service.Rate{N: 3, Per: time.Minute}})
	if err := f.svc.Userpass.Register(fromIP("192.0.2.1"), f.app, "ann@example.com", "s3cretpass"); err != nil {
		t.Fatal(err)
	}
	// Each request comes from another address: the account's bucket still runs dry.
	for i, ip := range []string{"192.0.2.2", "192.0.2.3"} {
		if err := f.passwordLogin(fromIP(ip), " ANN@example.com", "s3cretpass"); err != nil {
			t.Fatalf("login %d: %v", i, err)
		}
	}
	wantRetry(t, f.passwordLogin(fromIP("192.0.2.4"), "ann@example.com", "s3cretpass"), 20*time.Second)
	wantRetry(t, f.svc.Userpass.SendPasswordReset(fromIP("192.0.2.5"), f.app, "ann@example.com"), 20*time.Second)
	wantRetry(t, f.svc.Userpass.Register(fromIP("192.0.2.5"), f.app, "ann@example.com", "s3cretpass"), 20*time.Second)

	t.Run("OtherAccount", func(t *testing.T) {
		if err := f.svc.Userpass.Register(fromIP("192.0.2.4"), f.app, "bob@example.com", "s3cretpass"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("APIKeyValue", func(t *testing.T) {
		f.advance(time.Minute)
		ctx, _ := f.login(t, "ann@example.com")
		k, err := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "k"})
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := f.svc.Auth.LogIn(fromIP("192.0.2.6"), f.app, latchkey.Credentials{Provider: latchkey.ProviderAPIKey, Key: k.Value}); err != nil {
				t.Fatal(err)
			}
		}
		_, err = f.svc.Auth.LogIn(fromIP("192.0.2.7"), f.app, latchkey.Credentials{Provider: latchkey.ProviderAPIKey, Key: k.Value})
		wantRetry(t, err, 20*time.Second)
	})
	t.Run("Token", func(t *testing.T) {
		for range 3 {
			wantCode(t, f.svc.Userpass.Confirm(fromIP("192.0.2.8"), f.app, "x", "0123456789abcdef01234567"), latchkey.EBadRequest)
		}
		wantRetry(t, f.svc.Userpass.Confirm(fromIP("192.0.2.9"), f.app, "x", "0123456789abcdef01234567"), 20*time.Second)
		wantRetry(t, f.svc.Userpass.ResetPassword(fromIP("192.0.2.9"), f.app, "n3wpassword", "x", "0123456789abcdef01234567"), 20*time.Second)
	})
}

func TestLockout(t *testing.T) {
	f := newLimitedFixture(t, service.Limits{LockoutFailures: 3, LockoutDuration: time.Minute})
	ctx := fromIP("192.0.2.1")
	if err := f.svc.Userpass.Register(ctx, f.app, "ann@example.com", "s3cretpass"); err != nil {
		t.Fatal(err)
	}
	fail := func(email string) {
		t.Helper()
		wantCode(t, f.passwordLogin(ctx, email, "wrongpass"), latchkey.EInvalidPassword)
	}

	t.Run("LocksAfterFailures", func(t *testing.T) {
		fail("ann@example.com")
		fail("ann@example.com")
		fail("Ann@example.com")
		// Even the right password waits now.
		wantRetry(t, f.passwordLogin(ctx, "ann@example.com", "s3cretpass"), time.Minute)
		f.advance(30 * time.Second)
		wantRetry(t, f.passwordLogin(ctx, "ann@example.com", "s3cretpass"), 30*time.Second)
		// Other accounts are not affected.
		if err := f.svc.Userpass.Register(ctx, f.app, "bob@example.com", "s3cretpass"); err != nil {
			t.Fatal(err)
		}
		if err := f.passwordLogin(ctx, "bob@example.com", "s3cretpass"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("Unlocks", func(t *testing.T) {
		f.advance(30 * time.Second)
		if err := f.passwordLogin(ctx, "ann@example.com", "s3cretpass"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("SuccessResetsTheStreak", func(t *testing.T) {
		fail("ann@example.com")
		fail("ann@example.com")
		if err := f.passwordLogin(ctx, "ann@example.com", "s3cretpass"); err != nil {
			t.Fatal(err)
		}
		fail("ann@example.com")
		fail("ann@example.com")
		if err := f.passwordLogin(ctx, "ann@example.com", "s3cretpass"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("RepeatedLocksDouble", func(t *testing.T) {
		for _, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute} {
			fail("ann@example.com")
			fail("ann@example.com")
			fail("ann@example.com")
			wantRetry(t, f.passwordLogin(ctx, "ann@example.com", "s3cretpass"), want)
			f.advance(want)
		}
	})
	t.Run("UnknownEmailLocksAlike", func(t *testing.T) {
		// Otherwise a lock would tell which emails have accounts.
		fail("nobody@example.com")
		fail("nobody@example.com")
		fail("nobody@example.com")
		wantRetry(t, f.passwordLogin(ctx, "nobody@example.com", "wrongpass"), time.Minute)
	})
	t.Run("Audited", func(t *testing.T) {
		if err := f.svc.FlushAudit(context.Background()); err != nil {
			t.Fatal(err)
		}
		events, err := f.store.FindAuditEvents(context.Background(), latchkey.AuditFilter{Event: latchkey.EventAccountLocked})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 5 {
			t.Fatalf("%d account_locked events, want 5", len(events))
		}
		if e := events[0]; e.Details["email"] != "nobody@example.com" || e.IP != "192.0.2.1" || e.Details["until"] == "" {
			t.Errorf("event = %+v, want the email, the address and the end of the lock", e)
		}
	})
}

// TestLockoutParallel checks that parallel requests cannot run more password checks than
// the lockout allows: each check is counted before the password is verified.
func TestLockoutParallel(t *testing.T) {
	const threshold = 5
	f := newLimitedFixture(t, service.Limits{LockoutFailures: threshold, LockoutDuration: time.Hour})
	if err := f.svc.Userpass.Register(context.Background(), f.app, "ann@example.com", "s3cretpass"); err != nil {
		t.Fatal(err)
	}
	codes := make([]string, 50)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Go(func() {
			codes[i] = latchkey.ErrorCode(f.passwordLogin(fromIP("192.0.2.1"), "ann@example.com", "wrongpass"))
		})
	}
	wg.Wait()
	count := map[string]int{}
	for _, c := range codes {
		count[c]++
	}
	if count[latchkey.EInvalidPassword] != threshold || count[latchkey.ETooManyRequests] != len(codes)-threshold {
		t.Fatalf("outcomes %v, want %d wrong passwords and the rest refused", count, threshold)
	}
	wantCode(t, f.passwordLogin(fromIP("192.0.2.2"), "ann@example.com", "s3cretpass"), latchkey.ETooManyRequests)
}

func TestAdminLockout(t *testing.T) {
	f := newLimitedFixture(t, service.Limits{LockoutFailures: 2, LockoutDuration: time.Minute})
	if _, err := f.svc.Admins.CreateAdmin(context.Background(), "root@example.com", "rootpassword1"); err != nil {
		t.Fatal(err)
	}
	ctx := fromIP("192.0.2.1")
	for range 2 {
		_, err := f.svc.Admins.LogInAdmin(ctx, "root@example.com", "wrongpassword")
		wantCode(t, err, latchkey.EInvalidPassword)
	}
	_, err := f.svc.Admins.LogInAdmin(ctx, "root@example.com", "rootpassword1")
	wantRetry(t, err, time.Minute)
	// An app user with the same email is another account.
	if err := f.svc.Userpass.Register(ctx, f.app, "root@example.com", "s3cretpass"); err != nil {
		t.Fatal(err)
	}
	if err := f.passwordLogin(ctx, "root@example.com", "s3cretpass"); err != nil {
		t.Fatal(err)
	}
	f.advance(time.Minute)
	if _, err := f.svc.Admins.LogInAdmin(ctx, "root@example.com", "rootpassword1"); err != nil {
		t.Fatal(err)
	}
}
