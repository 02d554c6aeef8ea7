// Package testidp is a local identity provider for tests of the external providers: an RSA
// key whose JWK set it serves over loopback, which signs ID tokens and custom tokens, beside
// URLs that answer garbage or never answer.
package testidp

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// KeyID is the kid of the provider's key in its JWK set and in the tokens it signs.
const KeyID = "k1"

// Provider is a running identity provider. Its server answers GET /jwks with the key's JWK
// set, /garbage with text that is not JSON, and /hang never, until the test ends.
type Provider struct {
	Key *rsa.PrivateKey
	srv *httptest.Server
}

// New starts a provider with a fresh 2048-bit key; it stops when the test ends.
func New(t testing.TB) *Provider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{Key: key}
	hang := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "kid": KeyID, "use": "sig", "alg": "RS256",
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
		}}})
	})
	mux.HandleFunc("GET /garbage", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "not json") })
	mux.HandleFunc("GET /hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(func() { close(hang); p.srv.Close() })
	return p
}

// URL returns the address of one of the provider's paths, such as "/jwks".
func (p *Provider) URL(path string) string { return p.srv.URL + path }

// Sign signs claims with RS256, the provider's key and its kid.
func (p *Provider) Sign(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = KeyID
	s, err := tok.SignedString(p.Key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// PublicPEM returns the provider's public key in PEM, as a custom-token provider takes it.
func (p *Provider) PublicPEM(t testing.TB) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&p.Key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// SignHS signs claims with HS256 and the secret's bytes.
func SignHS(t testing.TB, secret string, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
