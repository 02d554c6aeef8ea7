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

// gateStore is a store with hooks around some of its calls, so that a test can put a step of
// one request between the steps of another, as concurrent nodes do. A nil hook does nothing.
type gateStore struct {
	latchkey.Store
	beforeCreateSession func() // before a session is inserted: the login has read everything
	afterFindAPIKey     func() // after a rotation has read the key
	afterFindApps       func() // after a start has found no app
}

func (g *gateStore) CreateSession(ctx context.Context, s *latchkey.Session) error {
	if g.beforeCreateSession != nil {
		g.beforeCreateSession()
	}
	return g.Store.CreateSession(ctx, s)
}

func (g *gateStore) FindAPIKey(ctx context.Context, userID, id string) (*latchkey.APIKey, error) {
	k, err := g.Store.FindAPIKey(ctx, userID, id)
	if g.afterFindAPIKey != nil {
		g.afterFindAPIKey()
	}
	return k, err
}

func (g *gateStore) FindApps(ctx context.Context) ([]*latchkey.App, error) {
	apps, err := g.Store.FindApps(ctx)
	if g.afterFindApps != nil {
		g.afterFindApps()
	}
	return apps, err
}

// node returns a service over store with the fixture's clock: another node of the cluster.
func (f *fixture) node(t *testing.T, store latchkey.Store) *service.Service {
	t.Helper()
	svc, err := service.New(context.Background(), service.Config{Store: store, Now: f.Now, Issuer: "http://latchkey.test", SecretKey: secretKey})
	if err != nil {
		t.Fatalf("service: %v", err)
	}
	return svc
}

// pausedLogIn starts a login on a node whose session insert waits until between has run:
// the login has read the key or user before between, and inserts its session after.
func (f *fixture) pausedLogIn(t *testing.T, creds latchkey.Credentials, between func()) (*latchkey.Login, error) {
	t.Helper()
	read, resume := make(chan struct{}), make(chan struct{})
	var once sync.Once
	node := f.node(t, &gateStore{Store: f.store, beforeCreateSession: func() {
		once.Do(func() { close(read); <-resume })
	}})
	var (
		login *latchkey.Login
		err   error
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		login, err = node.Auth.LogIn(context.Background(), f.app, creds)
	}()
	select {
	case <-read:
		between()
		close(resume)
	case <-done:
		t.Fatalf("the login ended before its session insert: %v", err)
	}
	<-done
	return login, err
}

// A key login that read the key just before a rotation, and inserts its session just after,
// must not get a session: the leaked-key case, where an attacker logs in in a loop while the
// owner rotates.
func TestLogIn_RacesRotation(t *testing.T) {
	t.Run("NoGrace", func(t *testing.T) {
		f := newFixture(t, nil)
		ctx, _ := f.login(t, "ann@example.com")
		k, err := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "k"})
		if err != nil {
			t.Fatal(err)
		}
		login, err := f.pausedLogIn(t, latchkey.Credentials{Provider: latchkey.ProviderAPIKey, Key: k.Value}, func() {
			if _, err := f.svc.APIKeys.RotateAPIKey(ctx, k.ID, 0); err != nil {
				t.Errorf("rotate: %v", err)
			}
		})
		wantCode(t, err, latchkey.EUnauthorized)
		if login != nil {
			_, err := f.svc.Auth.Authenticate(context.Background(), login.RefreshToken, latchkey.RefreshToken)
			wantCode(t, err, latchkey.EUnauthenticated)
		}
	})

	// With a grace period the old value still works, but no session it opens outlives the
	// grace period.
	t.Run("Grace", func(t *testing.T) {
		f := newFixture(t, nil)
		ctx, _ := f.login(t, "ann@example.com")
		k, err := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "k"})
		if err != nil {
			t.Fatal(err)
		}
		graceEnd := f.Now().Add(time.Hour)
		login, err := f.pausedLogIn(t, latchkey.Credentials{Provider: latchkey.ProviderAPIKey, Key: k.Value}, func() {
			if _, err := f.svc.APIKeys.RotateAPIKey(ctx, k.ID, time.Hour); err != nil {
				t.Errorf("rotate: %v", err)
			}
		})
		if err == nil {
			auth, err := f.svc.Auth.Authenticate(context.Background(), login.RefreshToken, latchkey.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			if auth.Session.ExpiresAt.After(graceEnd) {
				t.Fatalf("session opened with the old value ends %v, after the grace period (%v)", auth.Session.ExpiresAt, graceEnd)
			}
		} else {
			wantCode(t, err, latchkey.EUnauthorized)
		}
		// A login now, with the old value known to be the previous one, works until the
		// grace period ends.
		if _, err := f.keyLogin(k.Value); err != nil {
			t.Fatalf("login with the previous value in its grace period: %v", err)
		}
	})
}

// A login that read its user just before the user is disabled, and inserts its session just
// after, must not get a session: disabling ends every session, also those being created.
func TestLogIn_RacesUserDisable(t *testing.T) {
	f := newFixture(t, nil)
	ctx, _ := f.login(t, "ann@example.com")
	k, err := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "k"})
	if err != nil {
		t.Fatal(err)
	}
	auth := latchkey.AuthFromContext(ctx)
	for _, tt := range []struct {
		name  string
		creds latchkey.Credentials
		code  string
	}{
		{"Userpass", latchkey.Credentials{Provider: latchkey.ProviderUserpass, Username: "ann@example.com", Password: "s3cretpass"}, latchkey.EUserDisabled},
		{"APIKey", latchkey.Credentials{Provider: latchkey.ProviderAPIKey, Key: k.Value}, latchkey.EUnauthorized},
	} {
		t.Run(tt.name, func(t *testing.T) {
			login, err := f.pausedLogIn(t, tt.creds, func() {
				if err := f.store.SetUserDisabled(context.Background(), f.app.ID, auth.User.ID, true); err != nil {
					t.Errorf("disable: %v", err)
				}
			})
			if err := f.store.SetUserDisabled(context.Background(), f.app.ID, auth.User.ID, false); err != nil {
				t.Fatal(err)
			}
			wantCode(t, err, tt.code)
			// Enabled again, the user has no session from before, and the racing login's
			// refresh token, had it got one, does not come back to life.
			stats, err := f.store.FindUserStats(context.Background(), auth.User.ID, f.Now())
			if err != nil {
				t.Fatal(err)
			} else if stats.Sessions != 0 {
				t.Fatalf("%d sessions left of the user disabled during the login", stats.Sessions)
			}
			if login != nil {
				_, err := f.svc.Auth.Authenticate(context.Background(), login.RefreshToken, latchkey.RefreshToken)
				wantCode(t, err, latchkey.EUnauthenticated)
			}
		})
	}
}

// Rotations of one key that all read it before any of them writes: each answered value works
// until the next rotation's grace period ends, so the last two work, and the original value,
// replaced first, never outlives its grace.
func TestRotateAPIKey_Concurrent(t *testing.T) {
	const rotations = 4
	f := newFixture(t, nil)
	ctx, _ := f.login(t, "ann@example.com")
	k, err := f.svc.APIKeys.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "k"})
	if err != nil {
		t.Fatal(err)
	}
	var read sync.WaitGroup
	read.Add(rotations)
	node := f.node(t, &gateStore{Store: f.store, afterFindAPIKey: func() { read.Done(); read.Wait() }})

	values := make([]string, rotations)
	var wg sync.WaitGroup
	for i := range rotations {
		wg.Go(func() {
			rot, err := node.APIKeys.RotateAPIKey(ctx, k.ID, time.Hour)
			if err != nil {
				t.Errorf("rotate: %v", err)
				return
			}
			values[i] = rot.Value
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	_, err = f.keyLogin(k.Value)
	wantCode(t, err, latchkey.EUnauthorized)
	working := 0
	for _, v := range values {
		if _, err := f.keyLogin(v); err == nil {
			working++
		} else {
			wantCode(t, err, latchkey.EUnauthorized)
		}
	}
	if working != 2 {
		t.Fatalf("%d of the %d answered values log in, want 2 (the last and, in its grace period, the one before)", working, rotations)
	}
}

// Nodes started together on an empty database, without a client app id, end with one app,
// which all of them serve.
func TestEnsureApp_Concurrent(t *testing.T) {
	const nodes = 4
	f := &fixture{now: time.Now().UTC().Truncate(time.Second), store: teststore.Open(t)}
	var read sync.WaitGroup
	read.Add(nodes)
	svcs := make([]*service.Service, nodes)
	for i := range svcs {
		svcs[i] = f.node(t, &gateStore{Store: f.store, afterFindApps: func() { read.Done(); read.Wait() }})
	}

	apps := make([]*latchkey.App, nodes)
	created := make([]bool, nodes)
	var wg sync.WaitGroup
	for i, svc := range svcs {
		wg.Go(func() {
			var err error
			if apps[i], created[i], err = svc.EnsureApp(context.Background(), ""); err != nil {
				t.Errorf("EnsureApp: %v", err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	stored, err := f.store.FindApps(context.Background())
	if err != nil {
		t.Fatal(err)
	} else if len(stored) != 1 {
		t.Fatalf("%d apps after %d nodes started at once, want 1", len(stored), nodes)
	}
	n := 0
	for i, app := range apps {
		if app.ClientAppID != stored[0].ClientAppID {
			t.Errorf("node %d serves %q, want %q", i, app.ClientAppID, stored[0].ClientAppID)
		}
		if created[i] {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d nodes report creating the app, want 1", n)
	}
}
