package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/webhook"
)

// now is the callers' clock: every call is stamped with it, and receivers verify against it.
var now = time.Unix(1700000000, 0)

const (
	secret  = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	payload = `{"username": "ann", "pin": "1234"}`
)

// request is what a receiver saw of one call.
type request struct {
	Method string
	Header http.Header
	Body   []byte
	// Verified is webhook.Verify's answer for the call, under the test's secret and clock.
	Verified error
}

// receiver is a webhook over loopback that records each call and answers with handle.
type receiver struct {
	URL  string
	mu   sync.Mutex
	reqs []request
}

func (r *receiver) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.reqs...)
}

// mustReceiver starts a receiver that verifies calls with the given secret.
func mustReceiver(t *testing.T, secret string, handle http.HandlerFunc) *receiver {
	t.Helper()
	rcv := &receiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read the call: %v", err)
		}
		rcv.mu.Lock()
		rcv.reqs = append(rcv.reqs, request{
			Method:   r.Method,
			Header:   r.Header.Clone(),
			Body:     body,
			Verified: webhook.Verify(secret, r.Header, body, now, 5*time.Minute),
		})
		rcv.mu.Unlock()
		handle(w, r)
	}))
	t.Cleanup(srv.Close)
	rcv.URL = srv.URL
	return rcv
}

// answer returns a handler that answers with status and body.
func answer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func newCaller(logger *slog.Logger) *webhook.Caller {
	return webhook.New(webhook.Config{Now: func() time.Time { return now }, Logger: logger, UserAgent: "Latchkey/test"})
}

func call(url string) latchkey.FunctionCall {
	return latchkey.FunctionCall{URL: url, Secret: secret, Timeout: 5 * time.Second, Payload: json.RawMessage(payload)}
}

// wantRefused checks that err is the EUnauthorized error with the given reason.
func wantRefused(t *testing.T, err error, reason string) {
	t.Helper()
	if got, want := latchkey.ErrorCode(err), latchkey.EUnauthorized; got != want {
		t.Fatalf("code = %q (%v), want %q", got, err, want)
	}
	if got, want := latchkey.ErrorMessage(err), "custom function authentication failed: "+reason; got != want {
		t.Fatalf("message = %q, want %q", got, want)
	}
}

func TestCallFunction(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		rcv := mustReceiver(t, secret, answer(200, `{"id": "ext-1", "name": "Ann", "email": "ann@example.com",
			"custom_data": { "plan" : "pro", "seats": [1, 2] }, "unknown": true}`))
		got, err := newCaller(nil).CallFunction(t.Context(), call(rcv.URL))
		if err != nil {
			t.Fatal(err)
		}
		want := &latchkey.FunctionResult{ID: "ext-1", Name: "Ann", Email: "ann@example.com",
			CustomData: json.RawMessage(`{"plan":"pro","seats":[1,2]}`)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("result (-want +got):\n%s", diff)
		}

		reqs := rcv.requests()
		if len(reqs) != 1 {
			t.Fatalf("%d calls, want 1", len(reqs))
		}
		r := reqs[0]
		if r.Verified != nil {
			t.Fatalf("Verify: %v", r.Verified)
		}
		if got, want := r.Method, "POST"; got != want {
			t.Errorf("method = %q, want %q", got, want)
		}
		if got, want := string(r.Body), payload; got != want {
			t.Errorf("body = %q, want the payload as given, %q", got, want)
		}
		for name, want := range map[string]string{
			"Content-Type":      "application/json",
			"User-Agent":        "Latchkey/test",
			"webhook-timestamp": "1700000000",
		} {
			if got := r.Header.Get(name); got != want {
				t.Errorf("%s = %q, want %q", name, got, want)
			}
		}
		if id := r.Header.Get("webhook-id"); !strings.HasPrefix(id, "msg_") || len(id) < 20 {
			t.Errorf("webhook-id = %q, want msg_ and a random id", id)
		}
	})

	t.Run("OKOnlyID", func(t *testing.T) {
		rcv := mustReceiver(t, secret, answer(200, `{"id": "ext-2", "name": null, "custom_data": null}`))
		got, err := newCaller(nil).CallFunction(t.Context(), call(rcv.URL))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(&latchkey.FunctionResult{ID: "ext-2"}, got); diff != "" {
			t.Fatalf("result (-want +got):\n%s", diff)
		}
	})

	t.Run("OKLongestID", func(t *testing.T) {
		id := strings.Repeat("é", webhook.MaxIDChars)
		rcv := mustReceiver(t, secret, answer(200, `{"id": "`+id+`"}`))
		got, err := newCaller(nil).CallFunction(t.Context(), call(rcv.URL))
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != id {
			t.Fatalf("id = %q, want %q", got.ID, id)
		}
	})

	t.Run("FreshIDs", func(t *testing.T) {
		rcv := mustReceiver(t, secret, answer(200, `{"id": "ext-1"}`))
		c := newCaller(nil)
		for range 2 {
			if _, err := c.CallFunction(t.Context(), call(rcv.URL)); err != nil {
				t.Fatal(err)
			}
		}
		reqs := rcv.requests()
		if a, b := reqs[0].Header.Get("webhook-id"), reqs[1].Header.Get("webhook-id"); a == b {
			t.Fatalf("two calls with the same webhook-id %q", a)
		}
	})

	t.Run("PlainSecret", func(t *testing.T) {
		const plain = "a plain secret of some 32 bytes!"
		rcv := mustReceiver(t, plain, answer(200, `{"id": "ext-1"}`))
		c := call(rcv.URL)
		c.Secret = plain
		if _, err := newCaller(nil).CallFunction(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		if err := rcv.requests()[0].Verified; err != nil {
			t.Fatalf("Verify: %v", err)
		}
	})

	t.Run("ErrWrongSecret", func(t *testing.T) {
		// The receiver holds another secret: the call reaches it, and its check fails.
		rcv := mustReceiver(t, "whsec_"+base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)), answer(200, `{"id": "ext-1"}`))
		if _, err := newCaller(nil).CallFunction(t.Context(), call(rcv.URL)); err != nil {
			t.Fatal(err)
		}
		if got, want := rcv.requests()[0].Verified, webhook.ErrSignature; got != want {
			t.Fatalf("Verify = %v, want %v", got, want)
		}
	})
}

// TestCallFunction_Signature pins the header's format: the receiver computes the HMAC itself
// from the spec's recipe, and Sign gives the spec's published test vector.
func TestCallFunction_Signature(t *testing.T) {
	t.Run("HandComputed", func(t *testing.T) {
		rcv := mustReceiver(t, secret, answer(200, `{"id": "ext-1"}`))
		if _, err := newCaller(nil).CallFunction(t.Context(), call(rcv.URL)); err != nil {
			t.Fatal(err)
		}
		r := rcv.requests()[0]
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		if err != nil {
			t.Fatal(err)
		}
		m := hmac.New(sha256.New, key)
		io.WriteString(m, r.Header.Get("webhook-id")+".1700000000."+payload)
		want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
		if got := r.Header.Get("webhook-signature"); got != want {
			t.Fatalf("webhook-signature = %q, want %q", got, want)
		}
	})

	t.Run("StandardWebhooksVector", func(t *testing.T) {
		got := webhook.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
			time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
		if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
			t.Fatalf("Sign = %q, want %q", got, want)
		}
	})

	t.Run("PlainSecretVector", func(t *testing.T) {
		// Computed with Python's hmac module: a secret without whsec_ is its bytes.
		got := webhook.Sign("plain-text-secret-of-32-bytes!!!", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
			time.Unix(1674087231, 0), []byte(`{"type":"login"}`))
		if want := "v1,zyuc+sPlzDoH6uNT6HhuG+ilxpbifxiQpG/5hjUy/88="; got != want {
			t.Fatalf("Sign = %q, want %q", got, want)
		}
	})
}

func TestCallFunction_Refused(t *testing.T) {
	long := strings.Repeat("x", 300)
	for _, tt := range []struct {
		name   string
		handle http.HandlerFunc
		reason string
	}{
		{"500", answer(500, `{"error": "boom"}`), "the webhook answered 500"},
		{"201", answer(201, `{"id": "ext-1"}`), "the webhook answered 201"},
		{"401", answer(401, ``), "the function refused the login"},
		{"401WithError", answer(401, `{"error": "  wrong\u0007 PIN\u202e "}`), "the function refused the login: wrong PIN"},
		{"403WithLongError", answer(403, `{"error": "`+long+`"}`), "the function refused the login: " + long[:200]},
		{"401ErrorNotAString", answer(401, `{"error": {"code": 1}}`), "the function refused the login"},
		{"422WithError", answer(422, `{"error": "unknown user"}`), "the webhook answered 422: unknown user"},
		{"404NotJSON", answer(404, `not found`), "the webhook answered 404"},
		{"Redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		}, "the webhook answered 302"},
		{"NotJSON", answer(200, `id=ext-1`), "the webhook's answer is not a JSON object"},
		{"Truncated", answer(200, `{"id": "ext-1"`), "the webhook's answer is not a JSON object"},
		{"TrailingData", answer(200, `{"id": "ext-1"} {}`), "the webhook's answer is not a JSON object"},
		{"Array", answer(200, `[{"id": "ext-1"}]`), "the webhook's answer is not a JSON object"},
		{"Null", answer(200, `null`), "the webhook's answer is not a JSON object"},
		{"String", answer(200, `"ext-1"`), "the webhook's answer is not a JSON object"},
		{"Empty", answer(200, ``), "the webhook's answer is not a JSON object"},
		{"MissingID", answer(200, `{"name": "Ann"}`), "the webhook's answer has no id"},
		{"NullID", answer(200, `{"id": null}`), "the webhook's answer has no id"},
		{"EmptyID", answer(200, `{"id": ""}`), "the webhook's answer has no id"},
		{"NumericID", answer(200, `{"id": 42}`), "id must be a string of at most 256 characters"},
		{"LongID", answer(200, `{"id": "`+strings.Repeat("é", 257)+`"}`), "id must be a string of at most 256 characters"},
		{"NULInID", answer(200, `{"id": "a\u0000b"}`), "id must be a string of at most 256 characters"},
		{"NumericName", answer(200, `{"id": "ext-1", "name": 1}`), "name must be a string of at most 256 characters"},
		{"ObjectEmail", answer(200, `{"id": "ext-1", "email": {}}`), "email must be a string of at most 256 characters"},
		{"CustomDataArray", answer(200, `{"id": "ext-1", "custom_data": [1]}`), "custom_data must be a JSON object"},
		{"CustomDataString", answer(200, `{"id": "ext-1", "custom_data": "{}"}`), "custom_data must be a JSON object"},
		{"Oversize", answer(200, `{"id": "ext-1", "pad": "`+strings.Repeat("a", webhook.MaxAnswerBytes)+`"}`), "the webhook's answer is over 64 KiB"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rcv := mustReceiver(t, secret, tt.handle)
			got, err := newCaller(nil).CallFunction(t.Context(), call(rcv.URL))
			wantRefused(t, err, tt.reason)
			if got != nil {
				t.Fatalf("result = %+v, want none", got)
			}
			if n := len(rcv.requests()); n != 1 {
				t.Fatalf("%d calls, want 1", n)
			}
		})
	}
}

func TestCallFunction_Unreachable(t *testing.T) {
	t.Run("ErrDown", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		_, err := newCaller(nil).CallFunction(t.Context(), call(url))
		wantRefused(t, err, "the webhook could not be reached")
	})

	t.Run("ErrBadURL", func(t *testing.T) {
		_, err := newCaller(nil).CallFunction(t.Context(), call("http://[::1"))
		wantRefused(t, err, "the webhook's URL is not valid")
	})

	t.Run("ErrSlow", func(t *testing.T) {
		rcv := mustSlowReceiver(t, "")
		c := call(rcv.URL)
		c.Timeout = 200 * time.Millisecond
		_, err := newCaller(nil).CallFunction(t.Context(), c)
		wantRefused(t, err, "the webhook did not answer in time")
	})

	t.Run("ErrCallerDeadline", func(t *testing.T) {
		// The caller's context bounds the call too, however long the provider's timeout.
		rcv := mustSlowReceiver(t, "")
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		_, err := newCaller(nil).CallFunction(ctx, call(rcv.URL))
		wantRefused(t, err, "the webhook did not answer in time")
	})

	t.Run("ErrSlowBody", func(t *testing.T) {
		// Headers in time, then a body that never ends.
		rcv := mustSlowReceiver(t, `{"id": `)
		c := call(rcv.URL)
		c.Timeout = 200 * time.Millisecond
		_, err := newCaller(nil).CallFunction(t.Context(), c)
		wantRefused(t, err, "the webhook did not answer in time")
	})
}

// mustSlowReceiver starts a receiver that writes answer, then blocks until the test has
// ended.
func mustSlowReceiver(t *testing.T, answer string) *receiver {
	t.Helper()
	done := make(chan struct{})
	rcv := mustReceiver(t, secret, func(w http.ResponseWriter, r *http.Request) {
		if answer != "" {
			w.WriteHeader(200)
			io.WriteString(w, answer)
			w.(http.Flusher).Flush()
		}
		<-done
	})
	// Cleanups run last first: this one before the server's Close, which waits for the
	// handler.
	t.Cleanup(func() { close(done) })
	return rcv
}

func TestCallFunction_NeverFollowsRedirects(t *testing.T) {
	target := mustReceiver(t, secret, answer(200, `{"id": "ext-1"}`))
	rcv := mustReceiver(t, secret, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
	})
	for _, tt := range []struct {
		name   string
		client *http.Client
	}{
		{"OwnClient", nil},
		{"GivenClient", &http.Client{}}, // one that would follow them
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := webhook.New(webhook.Config{HTTPClient: tt.client, Now: func() time.Time { return now }})
			_, err := c.CallFunction(t.Context(), call(rcv.URL))
			wantRefused(t, err, "the webhook answered 307")
			if n := len(target.requests()); n != 0 {
				t.Fatalf("the redirect's target got %d calls, want none", n)
			}
		})
	}
}

// TestCallFunction_Logs checks that a failure is logged at warn with the URL and status, and
// that neither the payload nor the secret is.
func TestCallFunction_Logs(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rcv := mustReceiver(t, secret, answer(401, `{"error": "wrong PIN"}`))
	c := call(rcv.URL + "/login?app=a")
	if _, err := newCaller(logger).CallFunction(t.Context(), c); err == nil {
		t.Fatal("no error")
	}
	var line struct {
		Level  string
		URL    string
		Status int
		Reason string
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("want one JSON log line, got %q: %v", buf.String(), err)
	}
	want := struct {
		Level  string
		URL    string
		Status int
		Reason string
	}{"WARN", c.URL, 401, "the function refused the login: wrong PIN"}
	if diff := cmp.Diff(want, line); diff != "" {
		t.Fatalf("log line (-want +got):\n%s", diff)
	}
	for _, s := range []string{secret, strings.TrimPrefix(secret, "whsec_"), "1234", "username"} {
		if strings.Contains(buf.String(), s) {
			t.Errorf("the log shows %q: %s", s, buf.String())
		}
	}

	t.Run("URLPassword", func(t *testing.T) {
		buf.Reset()
		c := call(strings.Replace(rcv.URL, "http://", "http://hook:hunter2@", 1))
		newCaller(logger).CallFunction(t.Context(), c)
		if strings.Contains(buf.String(), "hunter2") {
			t.Fatalf("the log shows the URL's password: %s", buf.String())
		}
	})
}
