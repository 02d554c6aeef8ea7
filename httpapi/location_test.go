package httpapi_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLocation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("OK", func(t *testing.T) {
		var got map[string]any
		e.do(t, "GET", appPath(e.AppID, "/location"), "", nil).wantJSON(t, http.StatusOK, &got)
		loc, _ := got["location"].(string)
		if loc == "" {
			t.Errorf("location = %v, want a non-empty string", got["location"])
		}
		want := map[string]any{
			"deployment_model": "GLOBAL",
			"location":         loc,
			"hostname":         e.URL,
			"ws_hostname":      "ws://" + strings.TrimPrefix(e.URL, "http://"),
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("location (-want +got):\n%s", diff)
		}
	})

	t.Run("OtherApp", func(t *testing.T) {
		e.CreateApp(t, "second-app", nil)
		var got struct {
			Hostname string `json:"hostname"`
		}
		e.do(t, "GET", appPath("second-app", "/location"), "", nil).wantJSON(t, http.StatusOK, &got)
		if got.Hostname != e.URL {
			t.Errorf("hostname = %q, want %q", got.Hostname, e.URL)
		}
	})

	t.Run("ErrAppNotFound", func(t *testing.T) {
		e.do(t, "GET", appPath("no-such-app", "/location"), "", nil).
			wantError(t, http.StatusNotFound, "InvalidParameter", "cannot find app using Client App ID 'no-such-app'")
	})
}

// jwks is a JSON Web Key Set of EC keys.
type jwks struct {
	Keys []struct {
		Kty string `json:"kty"`
		Crv string `json:"crv"`
		X   string `json:"x"`
		Y   string `json:"y"`
		Kid string `json:"kid"`
		Alg string `json:"alg"`
	} `json:"keys"`
}

var jsonInteger = regexp.MustCompile(`^[0-9]+$`)

func TestJWKS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.Clock.Freeze() // iat is then exactly the clock's now
	u := e.newUser(t, e.AppID)

	var set jwks
	body := e.do(t, "GET", "/.well-known/jwks.json", "", nil)
	body.wantJSON(t, http.StatusOK, &set)

	t.Run("OK", func(t *testing.T) {
		if len(set.Keys) == 0 {
			t.Fatalf("jwks has no keys: %s", body.Body)
		}
		for _, k := range set.Keys {
			if k.Kty != "EC" || k.Crv != "P-256" || k.Kid == "" {
				t.Errorf("key = %+v, want an EC P-256 key with a kid", k)
			}
		}
	})

	t.Run("PerApp", func(t *testing.T) {
		got := e.do(t, "GET", appPath(e.AppID, "/.well-known/jwks.json"), "", nil)
		got.wantJSON(t, http.StatusOK, nil)
		if !bytes.Equal(got.Body, body.Body) {
			t.Errorf("per-app jwks = %s, want %s", got.Body, body.Body)
		}
	})

	t.Run("VerifiesAccessToken", func(t *testing.T) {
		claims := verifyJWT(t, set, u.AccessToken)
		for _, name := range []string{"iat", "exp"} {
			if !jsonInteger.Match(claims[name]) {
				t.Errorf("%s = %s, want an integer", name, claims[name])
			}
		}
		var c struct {
			IAT      int64           `json:"iat"`
			EXP      int64           `json:"exp"`
			Sub      string          `json:"sub"`
			Device   string          `json:"baas_device_id"`
			UserData json.RawMessage `json:"user_data"`
			Aud      any             `json:"aud"`
			Iss      string          `json:"iss"`
		}
		if err := json.Unmarshal(mustJSON(t, claims), &c); err != nil {
			t.Fatal(err)
		}
		iat, exp := c.IAT, c.EXP
		if got, want := exp-iat, int64(30*60); got != want {
			t.Errorf("exp - iat = %d, want %d", got, want)
		}
		if want := e.Clock.Now().Unix(); iat != want {
			t.Errorf("iat = %d, want the clock's now, %d", iat, want)
		}
		if got, want := c.Sub, u.UserID; got != want {
			t.Errorf("sub = %q, want %q", got, want)
		}
		if got, want := c.Device, u.DeviceID; got != want {
			t.Errorf("baas_device_id = %q, want %q", got, want)
		}
		if got, want := string(c.UserData), "{}"; got != want {
			t.Errorf("user_data = %s, want %s", got, want)
		}
		if got, want := c.Aud, any(e.AppID); got != want && !cmp.Equal(got, []any{e.AppID}) {
			t.Errorf("aud = %v, want %q", got, want)
		}
		if c.Iss == "" {
			t.Errorf("iss is empty")
		}
	})

	t.Run("RefreshTokenClaims", func(t *testing.T) {
		claims := jwtClaims(t, u.RefreshToken)
		for _, name := range []string{"iat", "exp"} {
			if !jsonInteger.Match(claims[name]) {
				t.Errorf("%s = %s, want an integer", name, claims[name])
			}
		}
		var iat, exp int64
		json.Unmarshal(claims["iat"], &iat)
		json.Unmarshal(claims["exp"], &exp)
		if got, want := exp-iat, int64(60*24*60*60); got != want {
			t.Errorf("exp - iat = %d, want %d (60 days)", got, want)
		}
		var sub string
		json.Unmarshal(claims["sub"], &sub)
		if got, want := sub, u.UserID; got != want {
			t.Errorf("sub = %q, want %q", got, want)
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jwtPart decodes one base64url part of a JWT.
func jwtPart(t *testing.T, token string, i int) []byte {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d parts, want 3", token, len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("token part %d: %v", i, err)
	}
	return b
}

// jwtClaims returns a token's claims, unverified.
func jwtClaims(t *testing.T, token string) map[string]json.RawMessage {
	t.Helper()
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(jwtPart(t, token, 1), &claims); err != nil {
		t.Fatalf("claims: %v", err)
	}
	return claims
}

// verifyJWT checks an ES256 token's signature with the set's key of its kid and returns the
// claims.
func verifyJWT(t *testing.T, set jwks, token string) map[string]json.RawMessage {
	t.Helper()
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(jwtPart(t, token, 0), &header); err != nil {
		t.Fatalf("header: %v", err)
	}
	if header.Alg != "ES256" {
		t.Fatalf("alg = %q, want ES256", header.Alg)
	}
	var pub *ecdsa.PublicKey
	for _, k := range set.Keys {
		if k.Kid != header.Kid {
			continue
		}
		x, errX := base64.RawURLEncoding.DecodeString(k.X)
		y, errY := base64.RawURLEncoding.DecodeString(k.Y)
		if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
			t.Fatalf("jwk %q: bad x or y", k.Kid)
		}
		var err error
		pub, err = ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			t.Fatalf("jwk %q: %v", k.Kid, err)
		}
	}
	if pub == nil {
		t.Fatalf("no jwk with kid %q", header.Kid)
	}
	sig := jwtPart(t, token, 2)
	if len(sig) != 64 {
		t.Fatalf("signature is %d bytes, want 64", len(sig))
	}
	signed := token[:strings.LastIndex(token, ".")]
	hash := sha256.Sum256([]byte(signed))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(pub, hash[:], r, s) {
		t.Fatalf("signature of %q does not verify", token)
	}
	return jwtClaims(t, token)
}
