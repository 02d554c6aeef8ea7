package webhook_test

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/webhook"
)

// signed returns the headers of a call signed with the test's secret at ts.
func signed(id string, ts time.Time, body string) http.Header {
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	h.Set("webhook-signature", webhook.Sign(secret, id, ts, []byte(body)))
	return h
}

func TestVerify(t *testing.T) {
	const body = `{"username": "ann"}`
	const tolerance = 5 * time.Minute

	t.Run("OK", func(t *testing.T) {
		if err := webhook.Verify(secret, signed("msg_1", now, body), []byte(body), now, tolerance); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("OKStandardWebhooksVector", func(t *testing.T) {
		h := http.Header{}
		h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
		h.Set("webhook-timestamp", "1614265330")
		h.Set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
		if err := webhook.Verify(secret, h, []byte(`{"test": 2432232314}`), time.Unix(1614265330, 0), tolerance); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("OKOneOfSeveral", func(t *testing.T) {
		// A sender in the middle of a secret rotation signs with both secrets; other
		// versions are passed over.
		h := signed("msg_1", now, body)
		other := webhook.Sign("another secret of at least 24 bytes", "msg_1", now, []byte(body))
		h.Set("webhook-signature", "v1a,abc "+other+" v1,!!! "+h.Get("webhook-signature"))
		if err := webhook.Verify(secret, h, []byte(body), now, tolerance); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("OKWithinTolerance", func(t *testing.T) {
		for _, d := range []time.Duration{-tolerance, tolerance} {
			if err := webhook.Verify(secret, signed("msg_1", now.Add(d), body), []byte(body), now, tolerance); err != nil {
				t.Fatalf("signed %v from now: %v", d, err)
			}
		}
	})

	for _, tt := range []struct {
		name   string
		header func() http.Header
		body   string
		want   error
	}{
		{"ErrWrongSignature", func() http.Header {
			h := signed("msg_1", now, body)
			sig := []byte(h.Get("webhook-signature"))
			sig[5] ^= 1
			h.Set("webhook-signature", string(sig))
			return h
		}, body, webhook.ErrSignature},
		{"ErrWrongSecret", func() http.Header {
			h := signed("msg_1", now, body)
			h.Set("webhook-signature", webhook.Sign("another secret of at least 24 bytes", "msg_1", now, []byte(body)))
			return h
		}, body, webhook.ErrSignature},
		{"ErrOtherVersionOnly", func() http.Header {
			h := signed("msg_1", now, body)
			h.Set("webhook-signature", strings.Replace(h.Get("webhook-signature"), "v1,", "v2,", 1))
			return h
		}, body, webhook.ErrSignature},
		{"ErrTamperedBody", func() http.Header { return signed("msg_1", now, body) }, `{"username": "bob"}`, webhook.ErrSignature},
		{"ErrOtherID", func() http.Header {
			h := signed("msg_1", now, body)
			h.Set("webhook-id", "msg_2")
			return h
		}, body, webhook.ErrSignature},
		{"ErrStale", func() http.Header { return signed("msg_1", now.Add(-tolerance-time.Second), body) }, body, webhook.ErrTimestamp},
		{"ErrFuture", func() http.Header { return signed("msg_1", now.Add(tolerance+time.Second), body) }, body, webhook.ErrTimestamp},
		{"ErrTimestampNotSeconds", func() http.Header {
			h := signed("msg_1", now, body)
			h.Set("webhook-timestamp", now.Format(time.RFC3339))
			return h
		}, body, webhook.ErrTimestamp},
		{"ErrTimestampChanged", func() http.Header {
			// A replay with a fresh timestamp but the old signature.
			h := signed("msg_1", now.Add(-time.Hour), body)
			h.Set("webhook-timestamp", "1700000000")
			return h
		}, body, webhook.ErrSignature},
		{"ErrNoSignature", func() http.Header {
			h := signed("msg_1", now, body)
			h.Del("webhook-signature")
			return h
		}, body, webhook.ErrMissingHeaders},
		{"ErrNoID", func() http.Header {
			h := signed("msg_1", now, body)
			h.Del("webhook-id")
			return h
		}, body, webhook.ErrMissingHeaders},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := webhook.Verify(secret, tt.header(), []byte(tt.body), now, tolerance); got != tt.want {
				t.Fatalf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidSecret(t *testing.T) {
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
	for _, tt := range []struct {
		name   string
		secret string
		ok     bool
	}{
		{"OKStandard", secret, true},
		{"OK64Bytes", "whsec_" + b64(64), true},
		{"OKPlain", strings.Repeat("s", 24), true},
		{"ErrNotBase64", "whsec_not base64!", false},
		{"ErrURLBase64", "whsec_" + strings.Repeat("-_", 16), false},
		{"ErrShortKey", "whsec_" + b64(23), false},
		{"ErrLongKey", "whsec_" + b64(65), false},
		{"ErrEmpty", "", false},
		{"ErrShortPlain", strings.Repeat("s", 23), false},
		{"ErrLongPlain", strings.Repeat("s", 513), false},
		{"ErrNUL", strings.Repeat("s", 24) + "\x00", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := webhook.ValidSecret(tt.secret)
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if got, want := latchkey.ErrorCode(err), latchkey.EInvalid; got != want {
				t.Fatalf("code = %q (%v), want %q", got, err, want)
			}
			if strings.Contains(latchkey.ErrorMessage(err), tt.secret) && tt.secret != "" {
				t.Fatalf("the message shows the secret: %q", latchkey.ErrorMessage(err))
			}
		})
	}
}
