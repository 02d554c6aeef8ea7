// Package jose verifies JWTs that other parties sign: custom tokens signed with an HS256
// secret or an RS256 key, and Google's and Apple's ID tokens signed with a key of a JWK set
// that it fetches over HTTP and caches.
//
// The algorithm is pinned by the check, never taken from the token: "none", and an HS256
// token where RS256 is configured (which would use the RSA public key as an HMAC secret), are
// refused. Fetches are bounded in time and size, the cache in sets and age, and an unknown key
// id refetches a set at most once per RefetchInterval.
package jose

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey"
)

var _ latchkey.TokenVerifier = (*Verifier)(nil)

// Defaults and bounds.
const (
	DefaultFetchTimeout = 3 * time.Second
	DefaultCacheTTL     = 10 * time.Minute
	DefaultMaxSets      = 64
	// RefetchInterval is how often a token with an unknown key id may refetch a set.
	RefetchInterval = 30 * time.Second
	// MaxSetBytes bounds a JWK set's body.
	MaxSetBytes = 256 << 10
	// Leeway is the clock skew allowed on exp, nbf and iat.
	Leeway = 30 * time.Second
	// MinRSABits is the smallest RSA key accepted.
	MinRSABits = 2048
)

// prefix opens every refusal's message, as App Services' did for custom tokens.
const prefix = "invalid custom auth token: "

// Config configures a Verifier. Zero values take the defaults.
type Config struct {
	// HTTPClient fetches JWK sets; nil means a client of the Verifier's own.
	HTTPClient *http.Client
	// Now is the clock for claims and the cache; nil means time.Now.
	Now func() time.Time
	// FetchTimeout bounds one fetch of a JWK set.
	FetchTimeout time.Duration
	// CacheTTL is how long a fetched set is used.
	CacheTTL time.Duration
	// MaxSets is how many sets are cached at most, by URL; the least recently used goes.
	MaxSets int
	Logger  *slog.Logger
}

// Verifier checks JWTs against a latchkey.TokenCheck. It is safe for concurrent use.
type Verifier struct {
	client       *http.Client
	now          func() time.Time
	fetchTimeout time.Duration
	logger       *slog.Logger
	sets         *setCache
}

// New returns a Verifier.
func New(cfg Config) *Verifier {
	v := &Verifier{
		client:       cfg.HTTPClient,
		now:          cfg.Now,
		fetchTimeout: cfg.FetchTimeout,
		logger:       cfg.Logger,
	}
	if v.client == nil {
		v.client = &http.Client{}
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.fetchTimeout <= 0 {
		v.fetchTimeout = DefaultFetchTimeout
	}
	if v.logger == nil {
		v.logger = slog.New(slog.DiscardHandler)
	}
	ttl, maxSets := cfg.CacheTTL, cfg.MaxSets
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	if maxSets <= 0 {
		maxSets = DefaultMaxSets
	}
	v.sets = newSetCache(ttl, maxSets)
	return v
}

// refuse returns the error of a token that fails a check.
func refuse(msg string) error {
	return latchkey.Errorf(latchkey.EUnauthorized, "%s%s", prefix, msg)
}

// VerifyToken checks token against check and returns its claims. An RS256 check with a
// JWKURI uses the set's keys, else its Keys. Every refusal is EUnauthorized with a message
// that never contains the token.
func (v *Verifier) VerifyToken(ctx context.Context, token string, check latchkey.TokenCheck) (map[string]any, error) {
	if check.Algorithm != latchkey.AlgHS256 && check.Algorithm != latchkey.AlgRS256 {
		return nil, refuse("unexpected signing method")
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{check.Algorithm}),
		jwt.WithTimeFunc(v.now),
		jwt.WithLeeway(Leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
	claims := jwt.MapClaims{}
	parsed, err := parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		return v.keys(ctx, t, check)
	})
	if err != nil {
		return nil, parseError(token, parsed, check.Algorithm, err)
	}
	if err := checkClaims(claims, check); err != nil {
		return nil, err
	}
	return claims, nil
}

// keys returns the keys that may have signed t: the check's HS256 secrets, its RS256 PEM
// keys, or the keys of its JWK set that match t's key id.
func (v *Verifier) keys(ctx context.Context, t *jwt.Token, check latchkey.TokenCheck) (any, error) {
	// WithValidMethods has refused any other algorithm; this keeps the key types pinned to
	// the configured one even so.
	if t.Method.Alg() != check.Algorithm {
		return nil, refuse("unexpected signing method")
	}
	var set jwt.VerificationKeySet
	switch {
	case check.Algorithm == latchkey.AlgHS256:
		for _, k := range check.Keys {
			if k != "" {
				set.Keys = append(set.Keys, []byte(k))
			}
		}
	case check.JWKURI != "":
		kid, _ := t.Header["kid"].(string)
		keys, err := v.setKeys(ctx, check.JWKURI, kid)
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			set.Keys = append(set.Keys, k)
		}
	default:
		for i, k := range check.Keys {
			pub, err := parsePEM(k)
			if err != nil {
				v.logger.DebugContext(ctx, "skip signing key", "key", i, "err", err)
				continue
			}
			set.Keys = append(set.Keys, pub)
		}
	}
	if len(set.Keys) == 0 {
		return nil, refuse("no usable signing key is configured")
	}
	return set, nil
}

// parsePEM parses an RSA public key in PEM as the provider's settings were validated with
// (latchkey.ParseRSAPublicKeyPEM), of at least MinRSABits.
func parsePEM(s string) (*rsa.PublicKey, error) {
	pub, err := latchkey.ParseRSAPublicKeyPEM(s)
	if err != nil {
		return nil, err
	}
	if pub.N.BitLen() < MinRSABits {
		return nil, errors.New("RSA key shorter than 2048 bits")
	}
	return pub, nil
}

// parseError turns the parser's error into a refusal. Refusals of our own (an unknown key
// id, a set that could not be fetched) pass through.
func parseError(token string, parsed *jwt.Token, alg string, err error) error {
	var e *latchkey.Error
	switch {
	case errors.As(err, &e):
		return e
	case parsed != nil && parsed.Method != nil && parsed.Method.Alg() != alg:
		return refuse("unexpected signing method")
	case errors.Is(err, jwt.ErrTokenMalformed):
		if strings.Count(token, ".") != 2 {
			return refuse("token contains an invalid number of segments")
		}
		return refuse("token is malformed")
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		// No or an unknown alg.
		return refuse("unexpected signing method")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return refuse("signature is invalid")
	case errors.Is(err, jwt.ErrTokenExpired):
		return refuse("token is expired")
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return refuse("token is not valid yet")
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return refuse("token used before issued")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return refuse("missing 'exp' claim")
	}
	return refuse("token has invalid claims")
}

// checkClaims checks what the parser does not: issuer, audience, nonce and subject.
func checkClaims(claims jwt.MapClaims, check latchkey.TokenCheck) error {
	if check.Issuer != "" {
		iss, _ := claims["iss"].(string)
		// Google issues both forms.
		google := check.Issuer == latchkey.GoogleIssuer && iss == strings.TrimPrefix(latchkey.GoogleIssuer, "https://")
		if iss != check.Issuer && !google {
			return refuse("issuer is not '" + check.Issuer + "'")
		}
	}
	if len(check.Audiences) > 0 {
		aud, err := claims.GetAudience()
		if err != nil || !containsAny(aud, check.Audiences) {
			return refuse("'" + strings.Join(check.Audiences, ", ") + "' not found in 'aud' claim")
		}
	}
	if check.Nonce != "" {
		nonce, _ := claims["nonce"].(string)
		// Apple's tokens carry the SHA-256 of the nonce the app gave, in hex.
		sum := sha256.Sum256([]byte(check.Nonce))
		if !equal(nonce, check.Nonce) && !equal(nonce, hex.EncodeToString(sum[:])) {
			return refuse("nonce does not match")
		}
	}
	if sub, _ := claims["sub"].(string); sub == "" {
		return refuse("missing 'sub' claim")
	}
	return nil
}

func containsAny(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if h == w {
				return true
			}
		}
	}
	return false
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
