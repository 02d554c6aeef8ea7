package httpapi_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/testserver"
	"github.com/latchkey/latchkey/service"
)

// loopbackTrusted trusts the test client's own address, so that it plays a reverse proxy.
var loopbackTrusted = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}

// auditedIP sends an anonymous login with the headers and returns the client address its
// audit event names.
func (e *env) auditedIP(t *testing.T, headers http.Header) (ip, requestID string) {
	t.Helper()
	req := e.newRequest(t, "POST", loginPath(e.AppID, "anon-user"), nil)
	for k, vs := range headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	e.send(t, req).wantJSON(t, http.StatusOK, nil)
	if err := e.Service.FlushAudit(context.Background()); err != nil {
		t.Fatal(err)
	}
	events, err := e.Store.FindAuditEvents(context.Background(), latchkey.AuditFilter{Event: latchkey.EventLogin, Limit: 1})
	if err != nil || len(events) != 1 {
		t.Fatalf("audit events %v, %v; want the login's", events, err)
	}
	return events[0].IP, events[0].RequestID
}

// TestClientIP checks which address the audit log, the limits and the access log use: the
// peer's, or, from a trusted proxy only, the rightmost untrusted hop its headers name.
func TestClientIP(t *testing.T) {
	t.Parallel()
	trusting := &env{Server: testserver.New(t, testserver.Options{TrustedProxies: loopbackTrusted})}
	for _, tt := range []struct {
		name    string
		headers http.Header
		want    string
	}{
		{"NoHeader", nil, "127.0.0.1"},
		{"XForwardedFor", http.Header{"X-Forwarded-For": {"203.0.113.7"}}, "203.0.113.7"},
		{"XForwardedForChain", http.Header{"X-Forwarded-For": {"203.0.113.7, 127.0.0.1"}}, "203.0.113.7"},
		// What the client wrote to the left of the last untrusted hop is not believed.
		{"RightmostUntrusted", http.Header{"X-Forwarded-For": {"198.51.100.1, 203.0.113.7, 10.0.0.2"}}, "203.0.113.7"},
		{"SeveralHeaderLines", http.Header{"X-Forwarded-For": {"198.51.100.1", "203.0.113.7"}}, "203.0.113.7"},
		{"AllTrusted", http.Header{"X-Forwarded-For": {"10.0.0.5, 10.0.0.2"}}, "10.0.0.5"},
		{"MappedIPv4", http.Header{"X-Forwarded-For": {"::ffff:203.0.113.7"}}, "203.0.113.7"},
		{"IPv6WithPort", http.Header{"X-Forwarded-For": {"[2001:db8::1]:443"}}, "2001:db8::1"},
		{"Forwarded", http.Header{"Forwarded": {"for=203.0.113.7"}}, "203.0.113.7"},
		{"ForwardedQuotedIPv6Port", http.Header{"Forwarded": {`for="[2001:db8:cafe::17]:4711"`}}, "2001:db8:cafe::17"},
		{"ForwardedChain", http.Header{"Forwarded": {`for=192.0.2.60;proto=http;by=203.0.113.43, For="127.0.0.1:8080"`}}, "192.0.2.60"},
		{"XForwardedForBeforeForwarded", http.Header{"X-Forwarded-For": {"203.0.113.7"}, "Forwarded": {"for=198.51.100.1"}}, "203.0.113.7"},
		{"MalformedXForwardedFor", http.Header{"X-Forwarded-For": {"not-an-address"}}, "127.0.0.1"},
		{"MalformedRightmostHop", http.Header{"X-Forwarded-For": {"203.0.113.7, 203.0.113.999"}}, "127.0.0.1"},
		{"EmptyHop", http.Header{"X-Forwarded-For": {"203.0.113.7,"}}, "127.0.0.1"},
		{"ForwardedUnknown", http.Header{"Forwarded": {"for=unknown"}}, "127.0.0.1"},
		{"ForwardedObfuscated", http.Header{"Forwarded": {"for=_hidden"}}, "127.0.0.1"},
		{"ForwardedUnclosedQuote", http.Header{"Forwarded": {`for="[2001:db8::1]`}}, "127.0.0.1"},
		{"ForwardedWithoutFor", http.Header{"Forwarded": {"proto=https"}}, "127.0.0.1"},
		{"ForwardedNotAPair", http.Header{"Forwarded": {"203.0.113.7"}}, "127.0.0.1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := trusting.auditedIP(t, tt.headers); got != tt.want {
				t.Errorf("audited address = %q, want %q", got, tt.want)
			}
		})
	}

	t.Run("UntrustedPeer", func(t *testing.T) {
		// The peer, 127.0.0.1, is not in the list: nobody's headers count.
		for _, trusted := range [][]netip.Prefix{nil, {netip.MustParsePrefix("10.0.0.0/8")}} {
			e := &env{Server: testserver.New(t, testserver.Options{TrustedProxies: trusted})}
			for _, h := range []http.Header{
				{"X-Forwarded-For": {"203.0.113.7"}},
				{"Forwarded": {"for=203.0.113.7"}},
			} {
				if got, _ := e.auditedIP(t, h); got != "127.0.0.1" {
					t.Errorf("trusting %v, %v: audited address = %q, want the peer's", trusted, h, got)
				}
			}
		}
	})

	t.Run("AccessLog", func(t *testing.T) {
		var logs syncBuffer
		e := &env{Server: testserver.New(t, testserver.Options{TrustedProxies: loopbackTrusted, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})}
		_, id := e.auditedIP(t, http.Header{"X-Forwarded-For": {"203.0.113.7, 127.0.0.1"}})
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, id) && strings.Contains(l, `"msg":"request"`) {
				if !strings.Contains(l, `"ip":"203.0.113.7"`) {
					t.Errorf("access log line %s, want ip 203.0.113.7", l)
				}
				return
			}
		}
		t.Fatalf("no request line with id %s in\n%s", id, logs.String())
	})
}

// TestClientIPLimits checks that the per-address bucket is the forwarded client's behind a
// trusted proxy, and the peer's otherwise.
func TestClientIPLimits(t *testing.T) {
	t.Parallel()
	limits := service.Limits{PerIP: service.Rate{N: 1, Per: time.Hour}}
	anon := func(e *env, xff string) *response {
		req := e.newRequest(t, "POST", loginPath(e.AppID, "anon-user"), nil)
		req.Header.Set("X-Forwarded-For", xff)
		return e.send(t, req)
	}
	t.Run("TrustedProxy", func(t *testing.T) {
		e := &env{Server: testserver.New(t, testserver.Options{Limits: &limits, TrustedProxies: loopbackTrusted})}
		anon(e, "203.0.113.7, 127.0.0.1").wantJSON(t, http.StatusOK, nil)
		anon(e, "203.0.113.7").wantTooManyRequests(t)
		// Another client behind the same proxy has a bucket of its own.
		anon(e, "203.0.113.8").wantJSON(t, http.StatusOK, nil)
	})
	t.Run("UntrustedPeer", func(t *testing.T) {
		e := &env{Server: testserver.New(t, testserver.Options{Limits: &limits})}
		anon(e, "203.0.113.7").wantJSON(t, http.StatusOK, nil)
		// A made-up header does not buy a fresh bucket.
		anon(e, "203.0.113.8").wantTooManyRequests(t)
	})
}
