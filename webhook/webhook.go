// Package webhook calls custom functions' webhooks: the custom-function provider's logins are
// POSTed, as JSON, to a URL the app's admin configured, and the webhook answers with the
// user's external id. Each call is signed as the Standard Webhooks spec says
// (https://www.standardwebhooks.com/): the webhook-id, webhook-timestamp and
// webhook-signature headers carry a fresh id, the time and an HMAC-SHA256 of both and the
// body under the provider's secret, so that the webhook can tell the call came from Latchkey
// and is not a replay. Verify checks a call as a receiver should.
//
// A call is bounded in time (the provider's timeout and the caller's context) and in size
// (the answer is read up to 64 KiB), and never follows a redirect. Any failure is
// EUnauthorized with a short, fixed reason; it is logged at warn with the URL and status,
// never with the payload or the secret.
package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/latchkey/latchkey"
)

// Bounds of a webhook's answer.
const (
	MaxAnswerBytes  = 64 << 10
	MaxIDChars      = 256
	maxFieldChars   = 256
	maxMessageChars = 200
)

// Config is what New needs. Every field is optional.
type Config struct {
	// HTTPClient makes the calls; nil is a client of the package's own. Either way, redirects
	// are not followed.
	HTTPClient *http.Client
	// Now is the clock of the webhook-timestamp header; nil is time.Now.
	Now func() time.Time
	// Logger gets a warning for each failed call; nil discards them.
	Logger *slog.Logger
	// UserAgent is sent as the User-Agent header when set.
	UserAgent string
}

// Caller calls custom functions' webhooks.
type Caller struct {
	client    *http.Client
	now       func() time.Time
	logger    *slog.Logger
	userAgent string
}

var _ latchkey.FunctionCaller = (*Caller)(nil)

// New returns a Caller.
func New(cfg Config) *Caller {
	var client http.Client
	if cfg.HTTPClient != nil {
		client = *cfg.HTTPClient
	} else {
		client.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	// A redirect would send the signed login somewhere the admin did not configure.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c := &Caller{client: &client, now: cfg.Now, logger: cfg.Logger, userAgent: cfg.UserAgent}
	if c.now == nil {
		c.now = time.Now
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// CallFunction posts call.Payload, signed with call.Secret, to call.URL, and reads the
// answer: a 200 with a JSON object holding at least a non-empty string id. The whole call
// is bounded by call.Timeout (DefaultFunctionTimeout when not set) and by ctx. Errors:
// EUnauthorized, "custom function authentication failed: " and the reason.
func (c *Caller) CallFunction(ctx context.Context, call latchkey.FunctionCall) (*latchkey.FunctionResult, error) {
	timeout := call.Timeout
	if timeout <= 0 {
		timeout = latchkey.DefaultFunctionTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	status := 0
	res, reason := c.call(ctx, call, &status)
	if reason != "" {
		c.logger.WarnContext(ctx, "custom function failed", "url", redacted(call.URL), "status", status, "reason", reason)
		return nil, latchkey.Errorf(latchkey.EUnauthorized, "custom function authentication failed: %s", reason)
	}
	return res, nil
}

// call makes the call and returns its result, or the reason it failed; status is set to the
// answer's status once there is one.
func (c *Caller) call(ctx context.Context, call latchkey.FunctionCall, status *int) (*latchkey.FunctionResult, string) {
	const (
		late        = "the webhook did not answer in time"
		unreachable = "the webhook could not be reached"
	)
	body := []byte(call.Payload)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, call.URL, bytes.NewReader(body))
	if err != nil {
		return nil, "the webhook's URL is not valid"
	}
	id := "msg_" + rand.Text()
	now := c.now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set(HeaderID, id)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, Sign(call.Secret, id, now, body))
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}

	resp, err := c.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, late
		}
		return nil, unreachable
	}
	defer resp.Body.Close()
	*status = resp.StatusCode
	answer, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswerBytes+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, late
		}
		return nil, "the webhook's answer could not be read"
	}
	if len(answer) > MaxAnswerBytes {
		return nil, fmt.Sprintf("the webhook's answer is over %d KiB", MaxAnswerBytes>>10)
	}

	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, withMessage("the function refused the login", answer)
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		return nil, withMessage(fmt.Sprintf("the webhook answered %d", resp.StatusCode), answer)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Sprintf("the webhook answered %d", resp.StatusCode)
	}
	return result(answer)
}

// result reads a 200's answer.
func result(answer []byte) (*latchkey.FunctionResult, string) {
	var a struct {
		ID         json.RawMessage `json:"id"`
		Name       json.RawMessage `json:"name"`
		Email      json.RawMessage `json:"email"`
		CustomData json.RawMessage `json:"custom_data"`
	}
	// Unmarshal refuses what is not JSON; isObject, JSON that is not an object (such as null).
	if !isObject(answer) || json.Unmarshal(answer, &a) != nil {
		return nil, "the webhook's answer is not a JSON object"
	}
	if absent(a.ID) {
		return nil, "the webhook's answer has no id"
	}
	var r latchkey.FunctionResult
	var ok bool
	if r.ID, ok = text(a.ID, MaxIDChars); !ok {
		return nil, fmt.Sprintf("id must be a string of at most %d characters", MaxIDChars)
	} else if r.ID == "" {
		return nil, "the webhook's answer has no id"
	}
	if r.Name, ok = text(a.Name, maxFieldChars); !ok {
		return nil, fmt.Sprintf("name must be a string of at most %d characters", maxFieldChars)
	}
	if r.Email, ok = text(a.Email, maxFieldChars); !ok {
		return nil, fmt.Sprintf("email must be a string of at most %d characters", maxFieldChars)
	}
	if !absent(a.CustomData) {
		if !isObject(a.CustomData) {
			return nil, "custom_data must be a JSON object"
		}
		var b bytes.Buffer
		if err := json.Compact(&b, a.CustomData); err != nil {
			return nil, "custom_data must be a JSON object"
		}
		r.CustomData = json.RawMessage(b.Bytes())
	}
	return &r, ""
}

// absent reports whether a field of the answer is missing or null.
func absent(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// text decodes a string field of at most limit characters that a store can hold; a missing or
// null one is "".
func text(raw json.RawMessage, limit int) (string, bool) {
	if absent(raw) {
		return "", true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, latchkey.IsText(s) && utf8.RuneCountInString(s) <= limit
}

// isObject reports whether b, once known to be JSON, is an object: whether it opens with '{'.
func isObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}

// withMessage appends the string "error" of a refusal's JSON answer, if it has one, so that
// an app can tell its user why: without hidden characters and cut to 200 characters.
func withMessage(reason string, answer []byte) string {
	var a struct {
		Error any `json:"error"`
	}
	if json.Unmarshal(answer, &a) != nil {
		return reason
	}
	msg, _ := a.Error.(string)
	msg = strings.TrimSpace(strings.Map(func(r rune) rune {
		if latchkey.Hidden(r) {
			return -1
		}
		return r
	}, msg))
	if msg == "" {
		return reason
	}
	if utf8.RuneCountInString(msg) > maxMessageChars {
		msg = string([]rune(msg)[:maxMessageChars])
	}
	return reason + ": " + msg
}

// redacted returns a URL for the logs, without a password it may carry.
func redacted(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(not a URL)"
	}
	return u.Redacted()
}
