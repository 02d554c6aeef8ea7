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
		codes := make([]string, 50)
		var wg sync.WaitGroup
		for i := range codes {
			wg.Go(func() { codes[i] = latchkey.ErrorCode(ns.login(i%2, "wrongpass")) })
		}
		wg.Wait()
		count := map[string]int{}
		for _, c := range codes {
			count[c]++
		}
		if count[latchkey.EInvalidPassword] != threshold || count[latchkey.ETooManyRequests] != len(codes)-threshold {
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
