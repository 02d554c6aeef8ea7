package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The outcomes of a verify call (VerifyResult.Code). Only VerifyValid is a valid key; the
// server checks the others in this order and answers with the first that applies.
const (
	VerifyValid              = "VALID"
	VerifyNotFound           = "NOT_FOUND" // an unknown or malformed value, or a key of another app
	VerifyDisabled           = "DISABLED"
	VerifyExpired            = "EXPIRED"
	VerifyUserDisabled       = "USER_DISABLED"       // the key's owner is disabled
	VerifyInsufficientScopes = "INSUFFICIENT_SCOPES" // a scope the call asked for is not on the key
	VerifyUsageExceeded      = "USAGE_EXCEEDED"      // no remaining uses left
	VerifyRateLimited        = "RATE_LIMITED"        // the key's rate limit window is used up
)

// Verifier checks the user API keys of one app on behalf of the app's own backend: "whose
// key is this, may it do X, is it over its limit?", without logging in (no session is
// written). It calls the server as one of the app's server API keys, which an admin makes
// (Admin.ServerAPIKeys). A Verifier is safe for concurrent use.
type Verifier struct {
	url       string // of the verify endpoint
	serverKey string
	http      *http.Client
	now       func() time.Time // for Retry-After; time.Now but in tests
}

// NewVerifier returns a verifier of the keys of the app with the client app id clientAppID
// on the server at baseURL (e.g. "http://127.0.0.1:9090"), which calls the server with the
// server API key value serverKey. Of the options only WithHTTPClient applies. It sends no
// request.
func NewVerifier(baseURL, clientAppID, serverKey string, opts ...Option) *Verifier {
	o := newOptions(opts)
	return &Verifier{
		url:       strings.TrimRight(baseURL, "/") + apiPrefix + "/app/" + url.PathEscape(clientAppID) + "/auth/api_keys/verify",
		serverKey: serverKey,
		http:      o.http,
		now:       time.Now,
	}
}

// VerifyResult is the server's answer about one key. Valid is true only with Code
// VerifyValid. For VerifyNotFound nothing else is set; for the other codes the key's fields
// are.
type VerifyResult struct {
	Valid     bool            `json:"valid"`
	Code      string          `json:"code"`
	KeyID     string          `json:"key_id,omitempty"`
	UserID    string          `json:"user_id,omitempty"` // the key's owner
	Name      string          `json:"name,omitempty"`
	Scopes    []string        `json:"scopes,omitempty"`
	ExpiresAt *time.Time      `json:"expires_at,omitempty"` // nil: never
	Meta      json.RawMessage `json:"meta,omitempty"`       // the JSON object an admin set on the key; nil: none
	// Remaining is how many uses the key has left after this call; nil: the key has no
	// such limit. A USAGE_EXCEEDED answer has 0.
	Remaining *int64 `json:"remaining,omitempty"`
	// RateLimit is where the key stands in its rate limit's current window; nil: the key
	// has no rate limit. A RATE_LIMITED answer has Remaining 0 and the window's end in Reset.
	RateLimit *RateLimitState `json:"ratelimit,omitempty"`
}

// RateLimitState is a key's rate limit window as a verify call left it.
type RateLimitState struct {
	Limit     int64     `json:"limit"`     // uses per window
	Remaining int64     `json:"remaining"` // uses left in the window
	Reset     time.Time `json:"reset"`     // the end of the window
}

// VerifyOption changes what a verify call asks: see VerifyScopes and VerifyCost.
type VerifyOption struct{ apply func(*verifyRequest) }

// verifyRequest is the body of a verify call; scopes and cost are left out unless set, so
// that the server's defaults (none, and 1) apply.
type verifyRequest struct {
	Key    string   `json:"key"`
	Scopes []string `json:"scopes,omitempty"`
	Cost   *int64   `json:"cost,omitempty"`
}

// VerifyScopes asks that every one of scopes be on the key; otherwise the answer is
// VerifyInsufficientScopes.
func VerifyScopes(scopes ...string) VerifyOption {
	scopes = slices.Clone(scopes)
	return VerifyOption{func(r *verifyRequest) { r.Scopes = scopes }}
}

// VerifyCost makes the call take n (0 to 1000; default 1) from the key's rate limit and
// remaining uses; 0 checks the key without taking anything.
func VerifyCost(n int64) VerifyOption {
	return VerifyOption{func(r *verifyRequest) { r.Cost = &n }}
}

// Verify asks the server about key. Any key gets an answer, valid or not, with its code;
// the error is for a call that failed: ErrInvalidSession (401: the server key is not one of
// the app's live server keys), ErrBadRequest or ErrInvalidParameter (400: a cost out of
// range, bad scopes), a server error or a network error. A valid answer counts as a use of
// the key, and takes the cost from its limits; a refused one takes nothing.
func (v *Verifier) Verify(ctx context.Context, key string, opts ...VerifyOption) (*VerifyResult, error) {
	req := verifyRequest{Key: key}
	for _, opt := range opts {
		opt.apply(&req)
	}
	var res VerifyResult
	if err := roundTrip(ctx, v.http, http.MethodPost, v.url, v.serverKey, req, &res); err != nil {
		return nil, err
	}
	if res.Code == "" {
		return nil, errors.New("client: verify: the server's answer has no code")
	}
	if string(res.Meta) == "null" {
		res.Meta = nil
	}
	return &res, nil
}

// resultKey is the context key of the VerifyResult that Middleware passes on.
type resultKey struct{}

// VerifyResultFromContext returns the answer about the request's key that Verifier.Middleware
// put in the request's context, or nil.
func VerifyResultFromContext(ctx context.Context) *VerifyResult {
	r, _ := ctx.Value(resultKey{}).(*VerifyResult)
	return r
}

// The codes of the middleware's own refusals, beside the verify codes.
const (
	// MiddlewareMissingKey: the request has no "Authorization: Bearer <key>" header.
	MiddlewareMissingKey = "MISSING_KEY"
	// MiddlewareUnavailable: the key could not be verified (the server failed or could not
	// be reached, or refused the Verifier's server key).
	MiddlewareUnavailable = "UNAVAILABLE"
)

// Middleware returns net/http middleware that lets through only requests that carry a valid
// key of the app in "Authorization: Bearer <key>", verified with opts (VerifyScopes,
// VerifyCost), and answers the others by itself with a small JSON body {"error", "code"}:
//
//   - 401 with "WWW-Authenticate: Bearer" for a missing or malformed header (code
//     MISSING_KEY) and for NOT_FOUND, DISABLED, EXPIRED and USER_DISABLED;
//   - 403 for INSUFFICIENT_SCOPES;
//   - 429 for RATE_LIMITED, with Retry-After: the seconds, rounded up, to the end of the
//     key's rate limit window; 429 without Retry-After for USAGE_EXCEEDED, which waits for
//     an admin or a refill;
//   - 503 when the verify call itself fails (code UNAVAILABLE); the error is not shown.
//
// A valid request reaches next with the answer in its context: VerifyResultFromContext.
func (v *Verifier) Middleware(opts ...VerifyOption) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key, ok := bearer(r.Header.Get("Authorization"))
			if !ok {
				w.Header().Set("WWW-Authenticate", "Bearer")
				refuse(w, http.StatusUnauthorized, MiddlewareMissingKey, "an API key is required: Authorization: Bearer <key>")
				return
			}
			res, err := v.Verify(r.Context(), key, opts...)
			if err != nil {
				refuse(w, http.StatusServiceUnavailable, MiddlewareUnavailable, "the API key could not be verified; try again later")
				return
			}
			switch res.Code {
			case VerifyValid:
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), resultKey{}, res)))
			case VerifyInsufficientScopes:
				refuse(w, http.StatusForbidden, res.Code, "the API key lacks a scope this needs")
			case VerifyRateLimited:
				if res.RateLimit != nil {
					w.Header().Set("Retry-After", retryAfterSeconds(res.RateLimit.Reset, v.now()))
				}
				refuse(w, http.StatusTooManyRequests, res.Code, "the API key's rate limit is reached; try again later")
			case VerifyUsageExceeded:
				refuse(w, http.StatusTooManyRequests, res.Code, "the API key has no uses left")
			default:
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
				refuse(w, http.StatusUnauthorized, res.Code, "the API key is not valid")
			}
		})
	}
}

// bearer returns the credentials of an "Authorization: Bearer <key>" header; the scheme's
// case does not matter (RFC 9110).
func bearer(h string) (string, bool) {
	scheme, key, ok := strings.Cut(h, " ")
	key = strings.TrimSpace(key)
	if !ok || !strings.EqualFold(scheme, "Bearer") || key == "" || strings.ContainsAny(key, " \t") {
		return "", false
	}
	return key, true
}

// retryAfterSeconds is the whole seconds, rounded up, from now to reset; at least 1, so that
// a client never retries at once.
func retryAfterSeconds(reset, now time.Time) string {
	secs := int64((reset.Sub(now) + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(secs, 1), 10)
}

// refuse writes the middleware's JSON refusal.
func refuse(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}{msg, code})
}
