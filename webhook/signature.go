package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// The headers of a signed call, as the Standard Webhooks spec names them.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix marks a secret in the Standard Webhooks form: the base64 of the key follows it.
const SecretPrefix = latchkey.WebhookSecretPrefix

// ValidSecret reports whether s may be a custom function's webhook secret, by the rule an
// admin's provider settings are validated with (latchkey.ValidWebhookSecret): either
// "whsec_" and the standard base64 of a key of 24 to 64 bytes, or any other text of 24 to
// 512 bytes, used as the key as it is. The error is EInvalid and never shows s.
func ValidSecret(s string) error { return latchkey.ValidWebhookSecret(s) }

// key returns the HMAC key of a secret: the decoded rest of a whsec_ secret, and any other
// secret's bytes. A whsec_ secret whose rest does not decode, which ValidSecret refuses, is
// also used as its bytes, so that signing never fails.
func key(secret string) []byte {
	if rest, ok := strings.CutPrefix(secret, SecretPrefix); ok {
		if k, err := base64.StdEncoding.DecodeString(rest); err == nil {
			return k
		}
	}
	return []byte(secret)
}

// Sign returns the webhook-signature header of a call with the given id, timestamp and body:
// "v1," and the standard base64 of HMAC-SHA256(key, id + "." + unix seconds + "." + body).
func Sign(secret, id string, ts time.Time, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(mac(key(secret), id, strconv.FormatInt(ts.Unix(), 10), body))
}

func mac(key []byte, id, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Errors of Verify.
var (
	ErrMissingHeaders = errors.New("webhook: missing webhook-id, webhook-timestamp or webhook-signature")
	ErrTimestamp      = errors.New("webhook: the timestamp is not unix seconds within the tolerance")
	ErrSignature      = errors.New("webhook: no signature matches")
)

// Verify checks a signed call as a receiver would: the headers are all there, the timestamp
// is within tolerance of now either way, and one of the space-separated signatures of the
// webhook-signature header is the v1 signature of the id, timestamp and body under secret,
// compared in constant time. Signatures of other versions are passed over.
func Verify(secret string, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	id, ts, sigs := header.Get(HeaderID), header.Get(HeaderTimestamp), header.Get(HeaderSignature)
	if id == "" || ts == "" || sigs == "" {
		return ErrMissingHeaders
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrTimestamp
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrTimestamp
	}
	want := mac(key(secret), id, ts, body)
	for _, sig := range strings.Fields(sigs) {
		b64, ok := strings.CutPrefix(sig, "v1,")
		if !ok {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			continue
		}
		if hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrSignature
}
