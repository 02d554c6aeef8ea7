package jose_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/jose"
)

func jwkCheck(url string) latchkey.TokenCheck {
	return latchkey.TokenCheck{Algorithm: latchkey.AlgRS256, JWKURI: url}
}

func TestJWKSet(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		srv := newJWKServer(t, jwkOf(0), jwkOf(1))
		v := newVerifier(newClock())
		check := jwkCheck(srv.URL)
		got := mustVerify(t, v, signRS256(t, 1, true, claims()), check)
		if got["sub"] != "user-1" {
			t.Fatalf("claims = %v", got)
		}
		mustVerify(t, v, signRS256(t, 0, true, claims()), check)
		srv.mu.Lock()
		accept := srv.accept
		srv.mu.Unlock()
		if got, want := accept, "application/json"; got != want {
			t.Fatalf("Accept = %q, want %q", got, want)
		}
		t.Run("KidSelects", func(t *testing.T) {
			// Signed with key 1 but naming key 0: only key 0 is tried.
			wantRefused(t, v, sign(t, jwt.SigningMethodRS256, key(1), kidOf(0), claims()), check, "signature is invalid")
		})
		t.Run("NoKid", func(t *testing.T) {
			mustVerify(t, v, signRS256(t, 1, false, claims()), check)
		})
		t.Run("ErrNotInSet", func(t *testing.T) {
			wantRefused(t, v, signRS256(t, 2, false, claims()), check, "signature is invalid")
		})
		t.Run("ErrHSWithJWK", func(t *testing.T) {
			// An HS256 token with a kid of the set: never checked with the RSA key.
			wantRefused(t, v, sign(t, jwt.SigningMethodHS256, []byte("x"), kidOf(0), claims()), check, "unexpected signing method")
		})
		t.Run("Cached", func(t *testing.T) {
			if got, want := srv.requests.Load(), int64(1); got != want {
				t.Fatalf("requests = %d, want %d", got, want)
			}
		})
	})

	t.Run("Rotation", func(t *testing.T) {
		srv := newJWKServer(t, jwkOf(0))
		c := newClock()
		v := newVerifier(c)
		check := jwkCheck(srv.URL)
		mustVerify(t, v, signRS256(t, 0, true, claims()), check)

		srv.setKeys(t, jwkOf(1))
		c.Advance(jose.RefetchInterval)
		// The clock moved, not the tokens' times: they stay valid within an hour.
		mustVerify(t, v, signRS256(t, 1, true, claims()), check)
		if got, want := srv.requests.Load(), int64(2); got != want {
			t.Fatalf("requests = %d, want %d", got, want)
		}
		// Key 0 left the set.
		c.Advance(jose.RefetchInterval)
		wantRefused(t, v, signRS256(t, 0, true, claims()), check, "unknown key id")
	})

	t.Run("UnknownKidThrottled", func(t *testing.T) {
		srv := newJWKServer(t, jwkOf(0))
		c := newClock()
		v := newVerifier(c)
		check := jwkCheck(srv.URL)
		garbage := sign(t, jwt.SigningMethodRS256, key(0), "garbage", claims())
		for range 10 {
			wantRefused(t, v, garbage, check, "unknown key id")
		}
		if got, want := srv.requests.Load(), int64(1); got != want {
			t.Fatalf("requests = %d, want %d", got, want)
		}
		c.Advance(jose.RefetchInterval - time.Second)
		wantRefused(t, v, garbage, check, "unknown key id")
		if got, want := srv.requests.Load(), int64(1); got != want {
			t.Fatalf("requests within %v = %d, want %d", jose.RefetchInterval, got, want)
		}
		c.Advance(time.Second)
		for range 10 {
			wantRefused(t, v, garbage, check, "unknown key id")
		}
		if got, want := srv.requests.Load(), int64(2); got != want {
			t.Fatalf("requests after %v = %d, want %d", jose.RefetchInterval, got, want)
		}
		// Known keys keep working without a fetch.
		mustVerify(t, v, signRS256(t, 0, true, claims()), check)
		if got, want := srv.requests.Load(), int64(2); got != want {
			t.Fatalf("requests = %d, want %d", got, want)
		}
	})

	t.Run("TTL", func(t *testing.T) {
		srv := newJWKServer(t, jwkOf(0))
		c := newClock()
		v := newVerifier(c, func(cfg *jose.Config) { cfg.CacheTTL = time.Hour })
		token := signRS256(t, 0, true, claims(func(m jwt.MapClaims) { m["exp"] = t0.Add(3 * time.Hour).Unix() }))
		check := jwkCheck(srv.URL)
		mustVerify(t, v, token, check)
		c.Advance(time.Hour - time.Second)
		mustVerify(t, v, token, check)
		if got, want := srv.requests.Load(), int64(1); got != want {
			t.Fatalf("requests = %d, want %d", got, want)
		}
		c.Advance(time.Second)
		mustVerify(t, v, token, check)
		if got, want := srv.requests.Load(), int64(2); got != want {
			t.Fatalf("requests after the TTL = %d, want %d", got, want)
		}
	})

	t.Run("KeyFilters", func(t *testing.T) {
		srv := newJWKServer(t,
			jwkOf(0, func(k map[string]any) { k["use"] = "enc" }),
			jwkOf(1, func(k map[string]any) { k["alg"] = "RS512" }),
			jwkOf(2, func(k map[string]any) { k["kty"] = "EC" }),
			jwkOf(2, func(k map[string]any) { k["kid"] = "bad-n"; k["n"] = "!!" }),
			jwkOf(2, func(k map[string]any) { k["kid"] = "bad-e"; k["e"] = "AA" }),
			jwkOf(2, func(k map[string]any) { k["kid"] = "odd"; k["use"] = 5 }),
			jwkOf(2, func(k map[string]any) { delete(k, "use"); delete(k, "alg") }),
		)
		v := newVerifier(newClock())
		check := jwkCheck(srv.URL)
		for i := range 2 {
			wantRefused(t, v, signRS256(t, i, true, claims()), check, "unknown key id")
		}
		// Key 2 without use and alg is usable.
		mustVerify(t, v, signRS256(t, 2, true, claims()), check)
	})
}

// TestJWKSetFetchErrors checks that a set that cannot be fetched refuses the token within the
// fetch timeout, with a short reason, and that the failure is logged with the URL but never
// the token.
func TestJWKSetFetchErrors(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"Hang", 0, "", "timed out"},
		{"Status500", http.StatusInternalServerError, `{"keys":[]}`, "status 500"},
		{"Garbage", http.StatusOK, `<html>not json</html>`, "not a JWK set"},
		{"NoKeys", http.StatusOK, `{"keys":[{"kty":"EC","kid":"k0"}]}`, "no usable keys"},
		{"Oversize", http.StatusOK, `{"keys":[],"pad":"` + strings.Repeat("x", jose.MaxSetBytes) + `"}`, "the set is larger than 256 KiB"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newJWKServer(t)
			srv.set(tt.status, []byte(tt.body))
			var logs bytes.Buffer
			v := newVerifier(newClock(), func(cfg *jose.Config) {
				cfg.FetchTimeout = 200 * time.Millisecond
				cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			})
			token := signRS256(t, 0, true, claims())
			wantRefused(t, v, token, jwkCheck(srv.URL), "could not fetch the JWK set: "+tt.want)
			// The log line is written before the waiting caller is let go.
			log := logs.String()
			if !strings.Contains(log, "level=WARN") || !strings.Contains(log, srv.URL) {
				t.Fatalf("log = %q, want a warning with the URL", log)
			}
			if strings.Contains(log, token) || strings.Contains(log, "not json") {
				t.Fatalf("log = %q, holds the token or the body", log)
			}
		})
	}

	t.Run("Refused", func(t *testing.T) {
		srv := newJWKServer(t)
		url := srv.URL
		srv.Close()
		v := newVerifier(newClock())
		wantRefused(t, v, signRS256(t, 0, true, claims()), jwkCheck(url), "could not fetch the JWK set: request failed")
	})

	t.Run("CallerContext", func(t *testing.T) {
		// A fetch is bounded by the caller's context as well as by FetchTimeout.
		srv := newJWKServer(t)
		srv.set(0, nil)
		v := newVerifier(newClock())
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := v.VerifyToken(ctx, signRS256(t, 0, true, claims()), jwkCheck(srv.URL))
		if got, want := latchkey.ErrorMessage(err), "invalid custom auth token: could not fetch the JWK set: canceled"; got != want {
			t.Fatalf("message = %q, want %q", got, want)
		}
	})

	t.Run("StaleSetKept", func(t *testing.T) {
		// A set fetched before stays usable until its TTL when a refetch fails.
		srv := newJWKServer(t, jwkOf(0))
		c := newClock()
		v := newVerifier(c)
		check := jwkCheck(srv.URL)
		token := signRS256(t, 0, true, claims(func(m jwt.MapClaims) { m["exp"] = t0.Add(time.Hour).Unix() }))
		mustVerify(t, v, token, check)
		srv.set(http.StatusInternalServerError, nil)
		c.Advance(jose.RefetchInterval)
		wantRefused(t, v, signRS256(t, 1, true, claims()), check, "could not fetch the JWK set: status 500")
		mustVerify(t, v, token, check)
		c.Advance(jose.DefaultCacheTTL)
		wantRefused(t, v, token, check, "could not fetch the JWK set: status 500")
	})
}

// TestJWKSetCacheBounded checks that at most MaxSets sets are cached, the least recently
// used going first.
func TestJWKSetCacheBounded(t *testing.T) {
	srvs := []*jwkServer{newJWKServer(t, jwkOf(0)), newJWKServer(t, jwkOf(0)), newJWKServer(t, jwkOf(0))}
	v := newVerifier(newClock(), func(cfg *jose.Config) { cfg.MaxSets = 2 })
	token := signRS256(t, 0, true, claims())
	for _, s := range srvs {
		mustVerify(t, v, token, jwkCheck(s.URL))
	}
	mustVerify(t, v, token, jwkCheck(srvs[1].URL)) // cached; now more recently used than 2
	mustVerify(t, v, token, jwkCheck(srvs[0].URL)) // evicted: fetched again, and evicts 2
	mustVerify(t, v, token, jwkCheck(srvs[1].URL))
	mustVerify(t, v, token, jwkCheck(srvs[2].URL)) // evicted: fetched again
	for i, want := range []int64{2, 1, 2} {
		if got := srvs[i].requests.Load(); got != want {
			t.Errorf("set %d: requests = %d, want %d", i, got, want)
		}
	}
}

// TestJWKSetConcurrentFetch checks that verifies waiting for one cold set share one request.
func TestJWKSetConcurrentFetch(t *testing.T) {
	srv := newJWKServer(t, jwkOf(0))
	gate := make(chan struct{})
	srv.mu.Lock()
	srv.gate = gate
	srv.mu.Unlock()
	v := newVerifier(newClock())
	token := signRS256(t, 0, true, claims())

	const n = 20
	var wg sync.WaitGroup
	var finished atomic.Int64
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := v.VerifyToken(t.Context(), token, jwkCheck(srv.URL))
			errs <- err
			finished.Add(1)
		})
	}
	waitBlocked(t, n, &finished)
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got, want := srv.requests.Load(), int64(1); got != want {
		t.Fatalf("requests = %d, want %d", got, want)
	}
}
