package jose_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey"
)

func TestVerifyTokenHS256(t *testing.T) {
	v := newVerifier(newClock())
	check := latchkey.TokenCheck{Algorithm: latchkey.AlgHS256, Keys: []string{"first secret", "second secret"}}

	t.Run("OK", func(t *testing.T) {
		// Signed with the second secret: each is tried.
		token := sign(t, jwt.SigningMethodHS256, []byte("second secret"), "", claims(func(c jwt.MapClaims) { c["name"] = "Ann" }))
		got := mustVerify(t, v, token, check)
		if got["sub"] != "user-1" || got["name"] != "Ann" {
			t.Fatalf("claims = %v", got)
		}
	})
	t.Run("ErrWrongSecret", func(t *testing.T) {
		token := sign(t, jwt.SigningMethodHS256, []byte("other secret"), "", claims())
		wantRefused(t, v, token, check, "signature is invalid")
	})
	t.Run("ErrTampered", func(t *testing.T) {
		token := sign(t, jwt.SigningMethodHS256, []byte("first secret"), "", claims())
		other := sign(t, jwt.SigningMethodHS256, []byte("first secret"), "", claims(func(c jwt.MapClaims) { c["sub"] = "admin" }))
		// The second token's claims under the first token's signature.
		wantRefused(t, v, other[:strings.LastIndex(other, ".")]+token[strings.LastIndex(token, "."):], check, "signature is invalid")
	})
	t.Run("ErrHS384", func(t *testing.T) {
		token := sign(t, jwt.SigningMethodHS384, []byte("first secret"), "", claims())
		wantRefused(t, v, token, check, "unexpected signing method")
	})
	t.Run("ErrNoSecrets", func(t *testing.T) {
		token := sign(t, jwt.SigningMethodHS256, []byte("first secret"), "", claims())
		wantRefused(t, v, token, latchkey.TokenCheck{Algorithm: latchkey.AlgHS256}, "no usable signing key is configured")
	})
}

func TestVerifyTokenRS256Keys(t *testing.T) {
	v := newVerifier(newClock())
	token := signRS256(t, 0, false, claims())

	t.Run("OK", func(t *testing.T) {
		for name, pem := range map[string]string{
			"PKIX":        pemPKIX(t, &key(0).PublicKey),
			"PKCS1":       pemPKCS1(&key(0).PublicKey),
			"Certificate": pemCert(t, key(0)),
		} {
			t.Run(name, func(t *testing.T) {
				// A key that does not parse, and another key, come first.
				check := latchkey.TokenCheck{Algorithm: latchkey.AlgRS256, Keys: []string{"not a key", pemPKIX(t, &key(1).PublicKey), pem}}
				mustVerify(t, v, token, check)
			})
		}
	})
	t.Run("ErrOtherKey", func(t *testing.T) {
		check := latchkey.TokenCheck{Algorithm: latchkey.AlgRS256, Keys: []string{pemPKIX(t, &key(1).PublicKey)}}
		wantRefused(t, v, token, check, "signature is invalid")
	})
	t.Run("ErrNoUsableKey", func(t *testing.T) {
		short, err := rsa.GenerateKey(rand.Reader, 1024)
		if err != nil {
			t.Fatal(err)
		}
		check := latchkey.TokenCheck{Algorithm: latchkey.AlgRS256, Keys: []string{"-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----", pemPKIX(t, &short.PublicKey)}}
		wantRefused(t, v, sign(t, jwt.SigningMethodRS256, short, "", claims()), check, "no usable signing key is configured")
	})
}

// TestVerifyTokenAlgorithmPinned checks that only the check's algorithm is accepted, whatever
// the token's header says.
func TestVerifyTokenAlgorithmPinned(t *testing.T) {
	v := newVerifier(newClock())
	pubPEM := pemPKIX(t, &key(0).PublicKey)
	rs256 := latchkey.TokenCheck{Algorithm: latchkey.AlgRS256, Keys: []string{pubPEM}}

	t.Run("ErrNone", func(t *testing.T) {
		token := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", claims())
		wantRefused(t, v, token, rs256, "unexpected signing method")
		wantRefused(t, v, token, latchkey.TokenCheck{Algorithm: latchkey.AlgHS256, Keys: []string{"secret"}}, "unexpected signing method")
	})
	t.Run("ErrHSWithRSAPublicKey", func(t *testing.T) {
		// The classic confusion: an HS256 token whose secret is the RSA public key, which an
		// attacker knows, where RS256 is configured with that key.
		token := sign(t, jwt.SigningMethodHS256, []byte(pubPEM), "", claims())
		wantRefused(t, v, token, rs256, "unexpected signing method")
	})
	t.Run("ErrRS512", func(t *testing.T) {
		token := sign(t, jwt.SigningMethodRS512, key(0), "", claims())
		wantRefused(t, v, token, rs256, "unexpected signing method")
	})
	t.Run("ErrRSWhereHS", func(t *testing.T) {
		token := signRS256(t, 0, false, claims())
		wantRefused(t, v, token, latchkey.TokenCheck{Algorithm: latchkey.AlgHS256, Keys: []string{pubPEM}}, "unexpected signing method")
	})
	t.Run("ErrUnknownAlg", func(t *testing.T) {
		// {"alg":"XX256","typ":"JWT"}
		token := "eyJhbGciOiJYWDI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2ln"
		wantRefused(t, v, token, rs256, "unexpected signing method")
	})
	t.Run("ErrCheckAlgorithm", func(t *testing.T) {
		token := signRS256(t, 0, false, claims())
		wantRefused(t, v, token, latchkey.TokenCheck{Keys: []string{pubPEM}}, "unexpected signing method")
	})
}

func TestVerifyTokenMalformed(t *testing.T) {
	v := newVerifier(newClock())
	check := latchkey.TokenCheck{Algorithm: latchkey.AlgHS256, Keys: []string{"secret"}}
	wantRefused(t, v, "", check, "token contains an invalid number of segments")
	wantRefused(t, v, "abc.def", check, "token contains an invalid number of segments")
	wantRefused(t, v, "a.b.c.d", check, "token contains an invalid number of segments")
	wantRefused(t, v, "!!!.def.ghi", check, "token is malformed")
}

func TestVerifyTokenClaims(t *testing.T) {
	v := newVerifier(newClock())
	const secret = "secret"
	check := latchkey.TokenCheck{Algorithm: latchkey.AlgHS256, Keys: []string{secret}}
	hs := func(t *testing.T, edits ...func(jwt.MapClaims)) string {
		return sign(t, jwt.SigningMethodHS256, []byte(secret), "", claims(edits...))
	}
	with := func(edit func(*latchkey.TokenCheck)) latchkey.TokenCheck {
		ch := check
		edit(&ch)
		return ch
	}

	t.Run("Expiry", func(t *testing.T) {
		c := newClock()
		v := newVerifier(c)
		token := hs(t, func(m jwt.MapClaims) { m["exp"] = t0.Add(time.Minute).Unix() })
		mustVerify(t, v, token, check)
		c.Advance(time.Minute + 20*time.Second) // within the leeway
		mustVerify(t, v, token, check)
		c.Advance(20 * time.Second)
		wantRefused(t, v, token, check, "token is expired")
	})
	t.Run("ErrNoExp", func(t *testing.T) {
		wantRefused(t, v, hs(t, func(m jwt.MapClaims) { delete(m, "exp") }), check, "missing 'exp' claim")
	})
	t.Run("ErrExpNotANumber", func(t *testing.T) {
		wantRefused(t, v, hs(t, func(m jwt.MapClaims) { m["exp"] = "tomorrow" }), check, "token has invalid claims")
	})
	t.Run("ErrNotBefore", func(t *testing.T) {
		mustVerify(t, v, hs(t, func(m jwt.MapClaims) { m["nbf"] = t0.Add(20 * time.Second).Unix() }), check)
		wantRefused(t, v, hs(t, func(m jwt.MapClaims) { m["nbf"] = t0.Add(time.Minute).Unix() }), check, "token is not valid yet")
	})
	t.Run("ErrIssuedInTheFuture", func(t *testing.T) {
		mustVerify(t, v, hs(t, func(m jwt.MapClaims) { m["iat"] = t0.Add(20 * time.Second).Unix() }), check)
		wantRefused(t, v, hs(t, func(m jwt.MapClaims) { m["iat"] = t0.Add(time.Minute).Unix() }), check, "token used before issued")
	})

	t.Run("Audience", func(t *testing.T) {
		aud := with(func(ch *latchkey.TokenCheck) { ch.Audiences = []string{"app-1", "app-2"} })
		mustVerify(t, v, hs(t, func(m jwt.MapClaims) { m["aud"] = "app-2" }), aud)
		t.Run("Array", func(t *testing.T) {
			mustVerify(t, v, hs(t, func(m jwt.MapClaims) { m["aud"] = []string{"other", "app-1"} }), aud)
		})
		t.Run("ErrWrong", func(t *testing.T) {
			wantRefused(t, v, hs(t, func(m jwt.MapClaims) { m["aud"] = "other" }), aud, "'app-1, app-2' not found in 'aud' claim")
			wantRefused(t, v, hs(t, func(m jwt.MapClaims) { m["aud"] = []string{"other", "app-3"} }), aud, "'app-1, app-2' not found in 'aud' claim")
		})
		t.Run("ErrMissing", func(t *testing.T) {
			wantRefused(t, v, hs(t), aud, "'app-1, app-2' not found in 'aud' claim")
			wantRefused(t, v, hs(t, func(m jwt.MapClaims) { m["aud"] = 7 }), aud, "'app-1, app-2' not found in 'aud' claim")
		})
		t.Run("NotChecked", func(t *testing.T) {
			mustVerify(t, v, hs(t, func(m jwt.MapClaims) { m["aud"] = "anything" }), check)
		})
	})

	t.Run("Issuer", func(t *testing.T) {
		iss := with(func(ch *latchkey.TokenCheck) { ch.Issuer = "https://issuer.example.com" })
		mustVerify(t, v, hs(t, func(m jwt.MapClaims) { m["iss"] = "https://issuer.example.com" }), iss)
		t.Run("ErrMismatch", func(t *testing.T) {
			wantRefused(t, v, hs(t, func(m jwt.MapClaims) { m["iss"] = "https://evil.example.com" }), iss, "issuer is not 'https://issuer.example.com'")
			wantRefused(t, v, hs(t), iss, "issuer is not 'https://issuer.example.com'")
			// The scheme-less form is Google's alone.
			wantRefused(t, v, hs(t, func(m jwt.MapClaims) { m["iss"] = "issuer.example.com" }), iss, "issuer is not 'https://issuer.example.com'")
		})
		t.Run("Google", func(t *testing.T) {
			google := with(func(ch *latchkey.TokenCheck) { ch.Issuer = latchkey.GoogleIssuer })
			mustVerify(t, v, hs(t, func(m jwt.MapClaims) { m["iss"] = "https://accounts.google.com" }), google)
			mustVerify(t, v, hs(t, func(m jwt.MapClaims) { m["iss"] = "accounts.google.com" }), google)
			wantRefused(t, v, hs(t, func(m jwt.MapClaims) { m["iss"] = "http://accounts.google.com" }), google, "issuer is not 'https://accounts.google.com'")
		})
	})

	t.Run("Nonce", func(t *testing.T) {
		nonce := with(func(ch *latchkey.TokenCheck) { ch.Nonce = "n-0S6_WzA2Mj" })
		mustVerify(t, v, hs(t, func(m jwt.MapClaims) { m["nonce"] = "n-0S6_WzA2Mj" }), nonce)
		t.Run("Hashed", func(t *testing.T) {
			sum := sha256.Sum256([]byte("n-0S6_WzA2Mj"))
			mustVerify(t, v, hs(t, func(m jwt.MapClaims) { m["nonce"] = hex.EncodeToString(sum[:]) }), nonce)
		})
		t.Run("ErrMismatch", func(t *testing.T) {
			wantRefused(t, v, hs(t, func(m jwt.MapClaims) { m["nonce"] = "other" }), nonce, "nonce does not match")
			wantRefused(t, v, hs(t), nonce, "nonce does not match")
		})
		t.Run("NotChecked", func(t *testing.T) {
			mustVerify(t, v, hs(t, func(m jwt.MapClaims) { m["nonce"] = "anything" }), check)
		})
	})

	t.Run("ErrMissingSub", func(t *testing.T) {
		wantRefused(t, v, hs(t, func(m jwt.MapClaims) { delete(m, "sub") }), check, "missing 'sub' claim")
		wantRefused(t, v, hs(t, func(m jwt.MapClaims) { m["sub"] = "" }), check, "missing 'sub' claim")
		wantRefused(t, v, hs(t, func(m jwt.MapClaims) { m["sub"] = 42 }), check, "missing 'sub' claim")
	})
}
