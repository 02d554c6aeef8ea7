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

// countCodes makes n calls of login at once, numbered from 0, and counts the error codes
// they end with ("" for a success).
func countCodes(n int, login func(i int) error) map[string]int {
	codes := make([]string, n)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Go(func() { codes[i] = latchkey.ErrorCode(login(i)) })
	}
	wg.Wait()
	count := map[string]int{}
	for _, c := range codes {
		count[c]++
	}
	return count
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
	const n = 50
	count := countCodes(n, func(int) error {
		return f.passwordLogin(fromIP("192.0.2.1"), "ann@example.com", "wrongpass")
	})
	if count[latchkey.EInvalidPassword] != threshold || count[latchkey.ETooManyRequests] != n-threshold {
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

// nodes are Services over one database, each with its own store, as `latchkey serve`
// processes behind a load balancer are; they share one clock.
type nodes struct {
	f      *fixture // the clock and the app
	limits service.Limits
	stores []latchkey.Store
	svcs   []*service.Service
}

// newNodes starts n nodes with the limits over a fresh database.
func newNodes(t *testing.T, n int, limits service.Limits) *nodes {
	t.Helper()
	ns := &nodes{f: &fixture{now: time.Now().UTC().Truncate(time.Second)}, limits: limits, stores: teststore.OpenNodes(t, n)}
	for _, store := range ns.stores {
		ns.svcs = append(ns.svcs, ns.start(t, store))
	}
	ns.f.app = service.NewDefaultApp("svc-test")
	if err := ns.svcs[0].BootstrapApp(context.Background(), ns.f.app); err != nil {
		t.Fatalf("create app: %v", err)
	}
	if err := ns.svcs[0].Userpass.Register(context.Background(), ns.f.app, "ann@example.com", "s3cretpass"); err != nil {
		t.Fatal(err)
	}
	return ns
}

// start starts a node over the store.
func (ns *nodes) start(t *testing.T, store latchkey.Store) *service.Service {
	t.Helper()
	svc, err := service.New(context.Background(), service.Config{Store: store, Now: ns.f.Now, Issuer: "http://latchkey.test", Limits: &ns.limits, SecretKey: secretKey})
	if err != nil {
		t.Fatalf("service: %v", err)
	}
	t.Cleanup(func() { svc.Close() })
	return svc
}

// restart stops every node and starts them again over their stores: nothing in memory
// survives.
func (ns *nodes) restart(t *testing.T) {
	t.Helper()
	for i, svc := range ns.svcs {
		svc.Close()
		ns.svcs[i] = ns.start(t, ns.stores[i])
	}
}

// login logs in ann on node i.
func (ns *nodes) login(i int, password string) error {
	_, err := ns.svcs[i].Auth.LogIn(fromIP("192.0.2.1"), ns.f.app, latchkey.Credentials{Provider: latchkey.ProviderUserpass, Username: "ann@example.com", Password: password})
	return err
}

// TestLimitsAcrossNodes checks that the per-account limits and the lockout are kept in the
// database: every node over it counts together, and a restart of every node forgets nothing.
func TestLimitsAcrossNodes(t *testing.T) {
	t.Run("LockoutSpreadOverNodes", func(t *testing.T) {
		ns := newNodes(t, 3, service.Limits{LockoutFailures: 10, LockoutDuration: 15 * time.Minute})
		for i := range 10 {
			wantCode(t, ns.login(i%3, "wrongpass"), latchkey.EInvalidPassword)
		}
		for i := range 3 {
			wantRetry(t, ns.login(i, "s3cretpass"), 15*time.Minute)
		}

		ns.restart(t)
		ns.f.advance(5 * time.Minute)
		for i := range 3 {
			wantRetry(t, ns.login(i, "s3cretpass"), 10*time.Minute)
		}
		ns.f.advance(10 * time.Minute)
		if err := ns.login(1, "s3cretpass"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("StreakSurvivesRestart", func(t *testing.T) {
		ns := newNodes(t, 2, service.Limits{LockoutFailures: 4, LockoutDuration: time.Minute})
		for i := range 3 {
			wantCode(t, ns.login(i%2, "wrongpass"), latchkey.EInvalidPassword)
		}
		ns.restart(t)
		wantCode(t, ns.login(1, "wrongpass"), latchkey.EInvalidPassword)
		wantRetry(t, ns.login(0, "s3cretpass"), time.Minute)
		// The doubling, too, is shared.
		ns.f.advance(time.Minute)
		for i := range 4 {
			wantCode(t, ns.login(i%2, "wrongpass"), latchkey.EInvalidPassword)
		}
		wantRetry(t, ns.login(1, "s3cretpass"), 2*time.Minute)
	})

	t.Run("ParallelOverTwoNodes", func(t *testing.T) {
		const threshold = 5
		ns := newNodes(t, 2, service.Limits{LockoutFailures: threshold, LockoutDuration: time.Hour})
		const n = 50
		count := countCodes(n, func(i int) error { return ns.login(i%2, "wrongpass") })
		if count[latchkey.EInvalidPassword] != threshold || count[latchkey.ETooManyRequests] != n-threshold {
			t.Fatalf("outcomes %v, want %d wrong passwords and the rest refused", count, threshold)
		}
		for i := range 2 {
			wantRetry(t, ns.login(i, "s3cretpass"), time.Hour)
		}
	})

	t.Run("PerAccountSharedByNodes", func(t *testing.T) {
		ns := newNodes(t, 3, service.Limits{PerAccount: service.Rate{N: 3, Per: time.Minute}})
		ns.f.advance(time.Minute) // past the registration's token
		for i := range 3 {
			if err := ns.login(i, "s3cretpass"); err != nil {
				t.Fatalf("login on node %d: %v", i, err)
			}
		}
		for i := range 3 {
			wantRetry(t, ns.login(i, "s3cretpass"), 20*time.Second)
		}
		ns.restart(t)
		wantRetry(t, ns.svcs[2].Userpass.SendPasswordReset(fromIP("192.0.2.9"), ns.f.app, "ann@example.com"), 20*time.Second)
		ns.f.advance(20 * time.Second)
		if err := ns.login(0, "s3cretpass"); err != nil {
			t.Fatal(err)
		}
		wantRetry(t, ns.login(1, "s3cretpass"), 20*time.Second)
	})

	t.Run("LostCheckGivenUp", func(t *testing.T) {
		// A node that dies while checking leaves its reservation; it holds a minute, then
		// no longer counts.
		ns := newNodes(t, 2, service.Limits{LockoutFailures: 1, LockoutDuration: time.Hour})
		done, err := service.BeginPasswordCheckForTest(context.Background(), ns.svcs[0], ns.f.app, "ann@example.com")
		if err != nil {
			t.Fatal(err)
		}
		_ = done // never called: the node died
		wantRetry(t, ns.login(1, "s3cretpass"), time.Second)
		ns.f.advance(time.Minute)
		if err := ns.login(1, "s3cretpass"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("SuccessLeavesNothing", func(t *testing.T) {
		// A login that ends no streak gives its reservation back and leaves no row; a
		// streak's row goes with the success that ends it.
		ns := newNodes(t, 2, service.Limits{LockoutFailures: 3, LockoutDuration: time.Minute})
		if err := ns.login(0, "s3cretpass"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, ns.login(1, "wrongpass"), latchkey.EInvalidPassword)
		if err := ns.login(0, "s3cretpass"); err != nil {
			t.Fatal(err)
		}
		// The sweep deletes every row with nothing to keep: none is left to delete.
		if n, err := ns.stores[0].DeleteIdleLimits(context.Background(), ns.f.Now(), ns.f.Now().Add(time.Hour)); err != nil || n != 0 {
			t.Fatalf("DeleteIdleLimits = %d, %v; want no row left", n, err)
		}
		// A failure's row is kept, and swept a day after it.
		wantCode(t, ns.login(1, "wrongpass"), latchkey.EInvalidPassword)
		if n, err := ns.svcs[0].DeleteIdleLimits(context.Background()); err != nil || n != 0 {
			t.Fatalf("DeleteIdleLimits = %d, %v; want the streak kept", n, err)
		}
		ns.f.advance(25 * time.Hour)
		if n, err := ns.svcs[0].DeleteIdleLimits(context.Background()); err != nil || n != 1 {
			t.Fatalf("DeleteIdleLimits a day on = %d, %v; want the streak's row", n, err)
		}
	})

	t.Run("OutcomeRecordedAfterClientGone", func(t *testing.T) {
		// The client hangs up while its password is checked: the failure counts all the same.
		ns := newNodes(t, 2, service.Limits{LockoutFailures: 1, LockoutDuration: time.Hour})
		ctx, cancel := context.WithCancel(fromIP("192.0.2.1"))
		done, err := service.BeginPasswordCheckForTest(ctx, ns.svcs[0], ns.f.app, "ann@example.com")
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		done(latchkey.Errorf(latchkey.EInvalidPassword, "unauthorized"))
		wantRetry(t, ns.login(1, "s3cretpass"), time.Hour)
	})
}
