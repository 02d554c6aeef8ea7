package httpapi_test

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/testserver"
	"github.com/latchkey/latchkey/service"
)

// newLimitedEnv starts a server with the given brute-force limits.
func newLimitedEnv(t *testing.T, limits service.Limits) *env {
	t.Helper()
	return &env{Server: testserver.New(t, testserver.Options{Limits: &limits})}
}

// wantTooManyRequests checks the contract's answer to a request over a limit.
func (r *response) wantTooManyRequests(t *testing.T) int {
	t.Helper()
	r.wantError(t, http.StatusTooManyRequests, "BadRequest", "too many requests")
	secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || secs < 1 {
		t.Errorf("%v: Retry-After = %q, want a whole number of seconds", r, r.Header.Get("Retry-After"))
	}
	return secs
}

// TestRateLimitEndpoints checks that every credential endpoint draws from the client
// address's bucket and answers 429 with Retry-After once it is empty.
func TestRateLimitEndpoints(t *testing.T) {
	t.Parallel()
	const tokenID = "0123456789abcdef01234567"
	for _, tt := range []struct {
		name, path string
		body       any
	}{
		{"LogInPassword", loginPath("test-app", "local-userpass"), map[string]string{"username": "ann@example.com", "password": "wrongpass"}},
		{"LogInAPIKey", loginPath("test-app", "api-key"), map[string]string{"key": "lk_nope"}},
		{"LogInAnonymous", loginPath("test-app", "anon-user"), nil},
		{"Register", userpassPath("test-app", "/register"), map[string]string{"email": "not an email", "password": "s3cretpass"}},
		{"Confirm", userpassPath("test-app", "/confirm"), map[string]string{"token": "x", "tokenId": tokenID}},
		{"ConfirmSend", userpassPath("test-app", "/confirm/send"), map[string]string{"email": "nobody@example.com"}},
		{"ResetSend", userpassPath("test-app", "/reset/send"), map[string]string{"email": "nobody@example.com"}},
		{"Reset", userpassPath("test-app", "/reset"), map[string]string{"password": "n3wpassword", "token": "x", "tokenId": tokenID}},
		{"AdminLogIn", adminLoginPath, map[string]string{"username": "root@example.com", "password": "wrongpassword"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newLimitedEnv(t, service.Limits{PerIP: service.Rate{N: 2, Per: time.Hour}})
			e.Clock.Freeze()
			for range 2 {
				if r := e.do(t, "POST", tt.path, "", tt.body); r.Status == http.StatusTooManyRequests {
					t.Fatalf("%v: refused within the limit", r)
				}
			}
			// One token per half hour; no time passed on the clock.
			if secs := e.do(t, "POST", tt.path, "", tt.body).wantTooManyRequests(t); secs != 1800 {
				t.Errorf("Retry-After = %d, want 1800", secs)
			}
			// Calls that present no credential are not limited.
			e.do(t, "GET", appPath("test-app", "/location"), "", nil).wantJSON(t, http.StatusOK, nil)
		})
	}
}

func TestRateLimitPerAccount(t *testing.T) {
	t.Parallel()
	e := newLimitedEnv(t, service.Limits{PerAccount: service.Rate{N: 3, Per: time.Minute}})
	u := e.newUser(t, e.AppID) // registration and login: two of the three
	e.loginPassword(t, e.AppID, u.Email, u.Password)
	e.do(t, "POST", loginPath(e.AppID, "local-userpass"), "", map[string]string{"username": u.Email, "password": u.Password}).
		wantTooManyRequests(t)
	e.do(t, "POST", userpassPath(e.AppID, "/reset/send"), "", map[string]string{"email": u.Email}).wantTooManyRequests(t)
	// Another account is not affected.
	e.newUser(t, e.AppID)
}

// TestLockoutParallelHTTP sends parallel wrong passwords for one account: no more of them
// are checked than the lockout allows, and then the account is locked.
func TestLockoutParallelHTTP(t *testing.T) {
	t.Parallel()
	e := newLimitedEnv(t, service.Limits{LockoutFailures: 3, LockoutDuration: 10 * time.Minute})
	e.Clock.Freeze()
	email, pw := e.newEmail(), e.newPassword()
	e.register(t, e.AppID, email, pw)

	responses := make([]*response, 30)
	var wg sync.WaitGroup
	for i := range responses {
		wg.Go(func() {
			req := e.newRequest(t, "POST", loginPath(e.AppID, "local-userpass"), map[string]string{"username": email, "password": "wrongpass"})
			r, err := e.trySend(req)
			if err != nil {
				t.Error(err)
				return
			}
			responses[i] = r
		})
	}
	wg.Wait()
	count := map[int]int{}
	for _, r := range responses {
		if r == nil {
			t.FailNow()
		}
		count[r.Status]++
		switch r.Status {
		case http.StatusUnauthorized:
			r.wantError(t, http.StatusUnauthorized, "InvalidPassword", "unauthorized")
		default:
			r.wantTooManyRequests(t)
		}
	}
	if count[http.StatusUnauthorized] != 3 || count[http.StatusTooManyRequests] != 27 {
		t.Fatalf("statuses %v, want 3 × 401 and 27 × 429", count)
	}
	// The right password waits out the lock too.
	r := e.do(t, "POST", loginPath(e.AppID, "local-userpass"), "", map[string]string{"username": email, "password": pw})
	if secs := r.wantTooManyRequests(t); secs != 600 {
		t.Errorf("Retry-After = %d, want 600", secs)
	}
	e.Clock.Advance(10 * time.Minute)
	e.loginPassword(t, e.AppID, email, pw)
}
